package redisurl_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/redisurl"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// TestClusterClientFollowsAKilledMaster kills the master of a key's slot
// (SIGKILL) on a real cluster with replicas, and checks that a client from
// NewClient serves commands, pipelines, MULTI, PING and XREAD BLOCK again soon after
// the replica is promoted. go-redis alone keeps dialing the dead address
// until its periodic slot-map reload (60 s).
func TestClusterClientFollowsAKilledMaster(t *testing.T) {
	c := redistest.PrivateCluster(t, redistest.ClusterConfig{Replicas: 1, NodeTimeout: time.Second})
	rdb, err := redisurl.NewClient(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx := context.Background()
	const key = "{failover}:k"
	if err := rdb.Set(ctx, key, "before", 0).Err(); err != nil {
		t.Fatal(err)
	}
	master, _, err := c.MasterOf(ctx, key)
	if err != nil {
		t.Fatal(err)
	}

	// Every kind of traffic, as the program sends it, keeps running through
	// the failover; each records when it last failed.
	ops := map[string]func(ctx context.Context) error{
		"command": func(ctx context.Context) error { return rdb.Set(ctx, key, "after", 0).Err() },
		"multi": func(ctx context.Context) error {
			_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.Incr(ctx, key+":n")
				p.Get(ctx, key)
				return nil
			})
			return err
		},
		"pipeline": func(ctx context.Context) error {
			_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Get(ctx, key)
				return nil
			})
			return err
		},
		"ping": func(ctx context.Context) error { return rdb.Ping(ctx).Err() },
		// The change-log readers block on XREAD.
		"xread": func(ctx context.Context) error {
			err := rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{key + ":log", "$"}, Block: 100 * time.Millisecond}).Err()
			if errors.Is(err, redis.Nil) {
				return nil
			}
			return err
		},
	}
	var mu sync.Mutex
	lastFail := map[string]time.Time{}
	lastErr := map[string]error{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for name, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				octx, cancel := context.WithTimeout(ctx, 2*time.Second)
				err := op(octx)
				cancel()
				if err != nil {
					mu.Lock()
					lastFail[name], lastErr[name] = time.Now(), err
					mu.Unlock()
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()

	time.Sleep(200 * time.Millisecond)
	if err := c.Kill(master); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if _, err := c.WaitMaster(ctx, key, func(a string) bool { return a != master }, 15*time.Second); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	t.Logf("replica promoted %v after the kill", promoted.Sub(killed).Round(time.Millisecond))

	// Recovered: no operation failed during the last second, within 5 s of
	// the promotion.
	const within = 5 * time.Second
	deadline := promoted.Add(within + 10*time.Second)
	for {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		var failing []string
		var last time.Time
		for name := range ops {
			if f := lastFail[name]; time.Since(f) < time.Second {
				failing = append(failing, name+": "+errString(lastErr[name]))
			}
			if lastFail[name].After(last) {
				last = lastFail[name]
			}
		}
		mu.Unlock()
		if len(failing) == 0 {
			outage := last.Sub(promoted)
			t.Logf("last failure %v after the promotion", outage.Round(time.Millisecond))
			if outage > within {
				t.Errorf("failed until %v after the promotion, want within %v", outage, within)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing %v after the promotion: %v", time.Since(promoted).Round(time.Millisecond), failing)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return "redis: " + err.Error()
	}
	return err.Error()
}
