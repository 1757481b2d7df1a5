package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// evictionServer starts a private redis-server with extra arguments.
func evictionServer(t *testing.T, args ...string) *redistest.Server {
	t.Helper()
	srv, err := redistest.Start(args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

func openOn(t *testing.T, url string, clock *storetest.Clock, cfg Config) (*Store, error) {
	t.Helper()
	cfg.Tenant = redistest.Namespace(t)
	return Open(context.Background(), redistest.ClientAt(t, url), storetest.Options(t, clock), cfg)
}

func configSet(t *testing.T, addr, policy string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	if err := rdb.ConfigSet(context.Background(), "maxmemory-policy", policy).Err(); err != nil {
		t.Fatalf("CONFIG SET maxmemory-policy %s on %s: %v", policy, addr, err)
	}
}

// TestEvictionPolicy: a Redis that may evict keys is refused at start
// unless allowed, a policy changed at runtime fails Ping (so /readyz) with
// the reason within evictionRecheck, and a server that hides CONFIG is
// read through INFO, or accepted as unknown when it hides both.
func TestEvictionPolicy(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())

	t.Run("refused at start", func(t *testing.T) {
		srv := evictionServer(t, "--maxmemory-policy", "allkeys-lru")
		_, err := openOn(t, srv.URL, clock, Config{})
		if err == nil || !strings.Contains(err.Error(), "maxmemory-policy is allkeys-lru") ||
			!strings.Contains(err.Error(), "PULSEBOARD_REDIS_ALLOW_EVICTION") {
			t.Fatalf("open on allkeys-lru: %v", err)
		}
		s, err := openOn(t, srv.URL, clock, Config{AllowEviction: true})
		if err != nil {
			t.Fatalf("open with eviction allowed: %v", err)
		}
		if st := s.EvictionState(); st != EvictionUnsafe {
			t.Errorf("eviction state %d, want %d", st, EvictionUnsafe)
		}
	})

	t.Run("changed at runtime", func(t *testing.T) {
		srv := evictionServer(t)
		s, err := openOn(t, srv.URL, clock, Config{})
		if err != nil {
			t.Fatal(err)
		}
		if st := s.EvictionState(); st != EvictionSafe {
			t.Fatalf("eviction state %d, want %d", st, EvictionSafe)
		}
		configSet(t, srv.Addr, "volatile-lru")
		clock.Advance(evictionRecheck)
		err = s.Ping(context.Background())
		if err == nil || !strings.Contains(err.Error(), "maxmemory-policy is volatile-lru") {
			t.Fatalf("ping after CONFIG SET volatile-lru: %v", err)
		}
		if st := s.EvictionState(); st != EvictionUnsafe {
			t.Errorf("eviction state %d, want %d", st, EvictionUnsafe)
		}
		configSet(t, srv.Addr, "noeviction")
		clock.Advance(evictionRecheck)
		if err := s.Ping(context.Background()); err != nil || s.EvictionState() != EvictionSafe {
			t.Errorf("after noeviction again: %v, state %d", err, s.EvictionState())
		}
	})

	t.Run("CONFIG disabled", func(t *testing.T) {
		srv := evictionServer(t, "--maxmemory-policy", "allkeys-lfu", "--rename-command", "CONFIG", "")
		if _, err := openOn(t, srv.URL, clock, Config{}); err == nil || !strings.Contains(err.Error(), "maxmemory-policy is allkeys-lfu") {
			t.Fatalf("open with CONFIG disabled: %v, want the policy read from INFO", err)
		}
		srv = evictionServer(t, "--maxmemory-policy", "allkeys-lfu", "--rename-command", "CONFIG", "", "--rename-command", "INFO", "")
		s, err := openOn(t, srv.URL, clock, Config{})
		if err != nil {
			t.Fatalf("open with CONFIG and INFO disabled: %v", err)
		}
		if st := s.EvictionState(); st != EvictionUnknown {
			t.Errorf("eviction state %d, want %d", st, EvictionUnknown)
		}
	})

	t.Run("one cluster master", func(t *testing.T) {
		c, err := redistest.StartCluster()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Stop()
		if _, err := openOn(t, c.URL, clock, Config{}); err != nil {
			t.Fatalf("open on a noeviction cluster: %v", err)
		}
		configSet(t, c.Addrs[2], "allkeys-random")
		if _, err := openOn(t, c.URL, clock, Config{}); err == nil || !strings.Contains(err.Error(), "allkeys-random") {
			t.Fatalf("open with one master on allkeys-random: %v", err)
		}
	})
}
