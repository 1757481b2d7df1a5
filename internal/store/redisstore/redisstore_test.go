package redisstore

import (
	"fmt"
	"github.com/pulseboard/pulseboard/internal/window"
	"testing"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// newTestStore gives each test its own tenant on the shared test Redis, so
// keys never collide, and deletes the tenant's keys afterwards.
func newTestStore(t testing.TB, opts store.Options) *Store {
	rdb := redistest.Client(t)
	ns := redistest.Namespace(t)
	s := New(redistest.Client(t), opts, Config{Tenant: ns})
	redistest.CleanupKeys(t, rdb, s.keys.pattern())
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, opts store.Options) store.Store {
		return newTestStore(t, opts)
	})
}

func BenchmarkRecord(b *testing.B) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			storetest.BenchRecord(b, newBenchStore, size)
		})
	}
}

func BenchmarkQuery(b *testing.B) {
	cases := []struct {
		w  window.Window
		by []store.Dimension
	}{
		{window.Rolling1h, nil},
		{window.Rolling1h, []store.Dimension{store.Team}},
		{window.Rolling30d, []store.Dimension{store.Team}},
		{window.Rolling30d, []store.Dimension{store.Agent}},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("window=%s/by=%v", c.w.Name, c.by), func(b *testing.B) {
			storetest.BenchQuery(b, newBenchStore, c.w, c.by, 50_000)
		})
	}
}

func newBenchStore(t testing.TB, opts store.Options) store.Store { return newTestStore(t, opts) }
