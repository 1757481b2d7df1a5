package redisstore

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// newTestStore gives each test its own tenant on the shared test Redis, so
// keys never collide, and deletes the tenant's keys afterwards.
func newTestStore(t testing.TB, opts store.Options) *Store {
	return newStoreOn(t, redistest.Client, opts)
}

// newClusterStore does the same on the shared three-master Redis Cluster:
// each test's random tenant lands in its own hash slot, so the suite's
// tenants spread over all masters.
func newClusterStore(t testing.TB, opts store.Options) *Store {
	return newStoreOn(t, redistest.ClusterClient, opts)
}

// newStoreOn makes the store on a client it does not own, as in the
// program, where every Redis user shares one client; the tenant's keys are
// deleted with that client before it closes.
func newStoreOn(t testing.TB, client func(testing.TB) redis.UniversalClient, opts store.Options) *Store {
	rdb := client(t)
	return New(rdb, opts, Config{Tenant: redistest.Tenant(t, rdb)})
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, opts store.Options) store.Store {
		return newTestStore(t, opts)
	})
}

// TestConformanceCluster runs the same suite on a real Redis Cluster: every
// script and MULTI must stay in the tenant's slot (a cross-slot one fails
// with CROSSSLOT), and the change log must be followed from that slot's
// master.
func TestConformanceCluster(t *testing.T) {
	storetest.Run(t, func(t testing.TB, opts store.Options) store.Store {
		return newClusterStore(t, opts)
	})
}

func BenchmarkRecord(b *testing.B) { storetest.BenchRecordSizes(b, newBenchStore) }

func BenchmarkQuery(b *testing.B) { storetest.BenchQueries(b, newBenchStore) }

func newBenchStore(t testing.TB, opts store.Options) store.Store { return newTestStore(t, opts) }

// TestRollupChange: a node restarted with other rollups over the same Redis
// keys retracts updates from the groups the entries remember (see
// storetest.RunRollupChange), on Redis and on Redis Cluster.
func TestRollupChange(t *testing.T) {
	for name, client := range map[string]func(testing.TB) redis.UniversalClient{"redis": redistest.Client, "cluster": redistest.ClusterClient} {
		t.Run(name, func(t *testing.T) {
			storetest.RunRollupChange(t, func(t testing.TB, opts store.Options) store.Store { return newStoreOn(t, client, opts) },
				func(t testing.TB, s store.Store, opts store.Options) store.Store {
					old := s.(*Store)
					return New(old.rdb, opts, old.cfg)
				})
		})
	}
}
