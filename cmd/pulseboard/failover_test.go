package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestClusterFailover runs two real programs on a Redis Cluster with
// replicas (cluster-node-timeout 1 s) under steady ingest from
// both, fails the master of the tenant's slot over gracefully (CLUSTER
// FAILOVER), then kills the new master with SIGKILL. Ingest must answer
// 202 again within 10 s of the promotion, both nodes' boards must leave
// "stale" by themselves and agree with the store, and with
// PULSEBOARD_REDIS_MIN_REPLICAS=1 every acknowledged response must be
// counted on both nodes. Without it the loss is measured and logged (see
// docs/OPERATIONS.md, Failover).
func TestClusterFailover(t *testing.T) {
	for _, minReplicas := range []int{1, 0} {
		t.Run(fmt.Sprintf("min-replicas=%d", minReplicas), func(t *testing.T) { failover(t, minReplicas) })
	}
}

// answer is one ingest request as the producer saw it.
type answer struct {
	sent, at time.Time // when the request was sent, and answered
	status   int
}

func failover(t *testing.T, minReplicas int) {
	// A master that WAITs for N replicas needs N+1 of them to keep taking
	// batches after one of them has been promoted.
	cl := redistest.PrivateCluster(t, redistest.ClusterConfig{Replicas: minReplicas + 1, NodeTimeout: time.Second})
	ctx := context.Background()
	tenant := redistest.Namespace(t)
	slotKey := rediskeys.For(tenant).ChangeLog()
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	var nodes []*Main
	for range 2 {
		nodes = append(nodes, start(t, clock, "--redis-url", cl.URL, "--tenant", tenant,
			"--redis-min-replicas", fmt.Sprint(minReplicas), "--redis-min-replicas-timeout", "500ms"))
	}

	// Steady ingest, one producer per node. Each batch has fresh ids and is
	// resent with the same ids until it is acknowledged, as producers must.
	const batch = 20
	var (
		mu      sync.Mutex
		answers []answer
		acked   atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	for p, m := range nodes {
		c := client{t: t, base: "http://" + m.Addr()}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				var body strings.Builder
				for i := range batch {
					fmt.Fprintf(&body, `{"id":"p%d-%d-%d","score":%d,"channel":"phone","team":"t%d"}`+"\n", p, n, i, (n+i)%11, i%3)
				}
				for {
					sent := time.Now()
					r := c.do("POST", "/api/v1/responses", "application/x-ndjson", token, strings.NewReader(body.String()))
					mu.Lock()
					answers = append(answers, answer{sent: sent, at: time.Now(), status: r.status})
					mu.Unlock()
					if r.status == 202 {
						acked.Add(batch)
						break
					}
					if r.status != 503 {
						t.Errorf("ingest answered %d: %s", r.status, r.raw)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	defer func() {
		select {
		case <-stop:
		default:
			close(stop)
		}
		wg.Wait()
	}()
	// refusedSince counts the refusals answered since from, and finds the
	// first 202 to a request sent since then (one sent before may have
	// been served by the master before it died).
	refusedSince := func(from time.Time) (refused int, firstOK time.Time) {
		mu.Lock()
		defer mu.Unlock()
		for _, a := range answers {
			if a.status != 202 && !a.at.Before(from) {
				refused++
			}
			if a.status == 202 && !a.sent.Before(from) && (firstOK.IsZero() || a.at.Before(firstOK)) {
				firstOK = a.at
			}
		}
		return refused, firstOK
	}
	waitAcked := func(more int64) {
		t.Helper()
		target, deadline := acked.Load()+more, time.Now().Add(10*time.Second)
		for acked.Load() < target {
			if time.Now().After(deadline) {
				t.Fatalf("ingest stalled: %d acknowledged, want %d", acked.Load(), target)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitAcked(1000)

	// A graceful failover: the master pauses writes until its replica has
	// caught up, then the replica takes over.
	master, replicas, err := cl.MasterOf(ctx, slotKey)
	if err != nil || len(replicas) != minReplicas+1 {
		t.Fatalf("master of the tenant's slot: %s %v, %v", master, replicas, err)
	}
	graceful := time.Now()
	if err := cl.Failover(ctx, replicas[0], slotKey, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	waitAcked(1000)
	gracefulRefused, _ := refusedSince(graceful)
	t.Logf("graceful failover %s → %s: %d refused requests", master, replicas[0], gracefulRefused)
	// The old master is the new one's replica now; it must have caught up
	// before the new one dies, or the cluster cannot promote it.
	if err := cl.WaitReady(15 * time.Second); err != nil {
		t.Fatal(err)
	}

	// A crash: SIGKILL of the master that serves the tenant's slot.
	master, _, err = cl.MasterOf(ctx, slotKey)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	if err := cl.Kill(master); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.WaitMaster(ctx, slotKey, func(a string) bool { return a != master }, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	promoted := time.Now()
	waitAcked(1000)
	refused, firstOK := refusedSince(killed)
	outage := firstOK.Sub(promoted)
	t.Logf("SIGKILL of %s: promoted after %v; first 202 %v after the kill, %v after the promotion; %d refused requests",
		master, promoted.Sub(killed).Round(time.Millisecond), firstOK.Sub(killed).Round(time.Millisecond), outage.Round(time.Millisecond), refused)
	if outage > 10*time.Second {
		t.Errorf("ingest answered 202 again %v after the promotion, want within 10 s", outage)
	}
	close(stop)
	wg.Wait()

	// Both nodes: the store's count, and each node's board, which must have
	// left "stale" by itself and caught up with the store.
	total := acked.Load()
	for i, m := range nodes {
		c := client{t: t, base: "http://" + m.Addr()}
		stored, _ := c.overall("window=15m")
		lost := total - int64(stored)
		t.Logf("node %d: %d acknowledged, %d stored, %d lost", i, total, int64(stored), lost)
		if lost < 0 {
			t.Errorf("node %d counts %v responses, more than the %d acknowledged", i, stored, total)
		}
		if minReplicas > 0 && lost != 0 {
			t.Errorf("node %d: %d acknowledged responses lost with PULSEBOARD_REDIS_MIN_REPLICAS=%d", i, lost, minReplicas)
		}
		if r := c.get("/readyz"); r.status != 200 {
			t.Errorf("node %d: /readyz answers %d after the failover: %s", i, r.status, r.raw)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			v, st, err := m.boards.View("floor", m.Now())
			var shown int64 = -1
			if err == nil {
				if f := v.Tiles[len(v.Tiles)-1].Figure; f != nil {
					shown = int64(f.Responses)
				}
			}
			if err == nil && !st.Stale && shown == int64(stored) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %d: board stale=%v shows %d responses, store holds %v (%v)", i, st.Stale, shown, stored, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
