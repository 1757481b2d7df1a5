package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestEvictingRedis: the server refuses to start on a Redis whose
// maxmemory-policy may evict keys, and says how to override it; with the
// override it runs and says so in its metrics; and a policy changed at
// runtime fails /readyz with the reason, and shows in the metrics, until it
// is noeviction again.
func TestEvictingRedis(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	evicting, err := redistest.Start("--maxmemory-policy", "allkeys-lru")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(evicting.Stop) // after the servers on it stopped
	if _, err := tryStart(t, clock, "--addr", "127.0.0.1:0", "--redis-url", evicting.URL); err == nil ||
		!strings.Contains(err.Error(), "allkeys-lru") || !strings.Contains(err.Error(), "PULSEBOARD_REDIS_ALLOW_EVICTION") {
		t.Fatalf("start on allkeys-lru: %v, want a refusal that names the policy and the override", err)
	}
	m := start(t, clock, "--redis-url", evicting.URL, "--redis-allow-eviction")
	c := client{t: t, base: "http://" + m.Addr()}
	if r := c.get("/readyz"); r.status != 200 {
		t.Errorf("readyz with eviction allowed: %d %s", r.status, r.raw)
	}
	if r := c.get("/metrics"); !strings.Contains(r.raw, "pulseboard_redis_eviction_policy_ok 0") {
		t.Errorf("metrics do not show the evicting policy:\n%s", grepLines(r.raw, "eviction"))
	}

	srv := redistest.Private(t)
	m = start(t, clock, "--redis-url", srv.URL)
	c = client{t: t, base: "http://" + m.Addr()}
	metric := regexp.MustCompile(`(?m)^pulseboard_redis_eviction_policy_ok (\S+)$`)
	if r := c.get("/metrics"); metric.FindStringSubmatch(r.raw) == nil || metric.FindStringSubmatch(r.raw)[1] != "1" {
		t.Errorf("metrics on noeviction:\n%s", grepLines(r.raw, "eviction"))
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	set := func(policy string) {
		if err := rdb.ConfigSet(context.Background(), "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Second) // the policy is read again at most every 10 s
	}
	set("volatile-ttl")
	r := c.get("/readyz")
	if r.status != 503 || !strings.Contains(r.raw, "maxmemory-policy is volatile-ttl") {
		t.Errorf("readyz after CONFIG SET volatile-ttl: %d %s", r.status, r.raw)
	}
	if r := c.get("/metrics"); metric.FindStringSubmatch(r.raw)[1] != "0" {
		t.Errorf("metrics after CONFIG SET volatile-ttl:\n%s", grepLines(r.raw, "eviction"))
	}
	// Ingest goes on: the policy is a risk to report, not an outage.
	if r := c.post(`{"id":"ev1","score":9,"channel":"phone"}`, "application/json"); r.status != 202 {
		t.Errorf("ingest on volatile-ttl: %d %s", r.status, r.raw)
	}
	set("noeviction")
	if r := c.get("/readyz"); r.status != 200 {
		t.Errorf("readyz after noeviction again: %d %s", r.status, r.raw)
	}
}
