package redisstore

import (
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

func BenchmarkRecord(b *testing.B) { storetest.BenchRecordSizes(b, newBenchStore) }

func BenchmarkQuery(b *testing.B) { storetest.BenchQueries(b, newBenchStore) }

func newBenchStore(t testing.TB, opts store.Options) store.Store { return newTestStore(t, opts) }
