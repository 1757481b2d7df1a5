package memstore_test

import (
	"fmt"
	"github.com/pulseboard/pulseboard/internal/window"
	"testing"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, opts store.Options) store.Store {
		return memstore.New(opts)
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

func newBenchStore(t testing.TB, opts store.Options) store.Store { return memstore.New(opts) }
