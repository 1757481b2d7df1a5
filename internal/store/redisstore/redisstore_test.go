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
func newTestStore(t *testing.T, opts store.Options) *Store {
	rdb := redistest.Client(t)
	ns := redistest.Namespace(t)
	s := New(redistest.Client(t), opts, Config{Tenant: ns})
	redistest.CleanupKeys(t, rdb, s.keys.pattern())
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return newTestStore(t, opts)
	})
}
