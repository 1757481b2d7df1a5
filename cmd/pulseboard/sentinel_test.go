package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestSentinelFailover runs the server on a Redis behind Sentinel (a
// master, a replica, three real sentinels) and SIGKILLs the master under
// steady ingest. Every request answers 202, or 503 with Retry-After; the
// sentinels promote the replica, and ingest answers 202 again within 10 s
// of the promotion without a restart; readiness and boards recover too.
// Replication is asynchronous, so responses acknowledged in the last
// moments before the kill may not have reached the replica: the test
// measures and reports them.
func TestSentinelFailover(t *testing.T) {
	sen, err := redistest.StartSentinel()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sen.Stop)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock, "--redis-url", sen.URL, "--tenant", redistest.Namespace(t))
	base := "http://" + m.Addr()
	hc := &http.Client{Timeout: 30 * time.Second}

	var (
		acked, failures atomic.Int64
		last202         atomic.Int64 // unix nanos of the latest 202
		stop            = make(chan struct{})
		wg              sync.WaitGroup
	)
	const workers, batch = 3, 10
	for w := range workers {
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
					fmt.Fprintf(&body, `{"id":"f%d-%d-%d","score":%d,"channel":"phone","team":"alpha"}`+"\n", w, n, i, i%11)
				}
				for {
					req, _ := http.NewRequest("POST", base+"/api/v1/responses", strings.NewReader(body.String()))
					req.Header.Set("Content-Type", "application/x-ndjson")
					req.Header.Set("Authorization", "Bearer "+token)
					res, err := hc.Do(req)
					if err != nil {
						t.Errorf("ingest: %v", err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode == http.StatusAccepted {
						acked.Add(batch)
						last202.Store(time.Now().UnixNano())
						break
					}
					if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
						t.Errorf("ingest: status %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
						return
					}
					failures.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
				time.Sleep(10 * time.Millisecond)
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

	time.Sleep(time.Second)
	old := sen.Master.Addr
	ackedBefore := acked.Load()
	sen.Master.Kill()
	killed := time.Now()

	// The sentinels promote the replica.
	var promoted time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := sen.MasterAddr(ctx)
		cancel()
		if err == nil && addr != old {
			promoted = time.Now()
			break
		}
		if time.Since(killed) > 30*time.Second {
			t.Fatalf("no promotion 30 s after the master was killed (%v, %s)", err, addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Ingest answers 202 again within 10 s of the promotion.
	for last202.Load() < promoted.UnixNano() {
		if time.Since(promoted) > 10*time.Second {
			t.Fatalf("ingest not back 10 s after the promotion (%d retried requests)", failures.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
	back := time.Unix(0, last202.Load())
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	t.Logf("master killed; promotion after %v; ingest 202 again %v after the promotion; %d requests answered 503 and were resent; %d responses acknowledged (%d before the kill)",
		promoted.Sub(killed).Round(time.Millisecond), back.Sub(promoted).Round(time.Millisecond), failures.Load(), acked.Load(), ackedBefore)
	if failures.Load() == 0 {
		t.Error("no request saw the failover")
	}

	c := client{t: t, base: base}
	deadline := time.Now().Add(10 * time.Second)
	for c.get("/readyz").status != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("/readyz not back 10 s after the failover")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Every response acknowledged after the promotion is there; those
	// acknowledged by the old master in its last moments may not have been
	// replicated (asynchronous replication): measured, and bounded by what
	// was in flight when it died.
	n, _ := c.overall("window=15m")
	lost := acked.Load() - int64(n)
	t.Logf("the new master holds %v of %d acknowledged responses: %d lost with the old master", n, acked.Load(), lost)
	if lost < 0 || lost > workers*batch {
		t.Errorf("the new master holds %v responses, %d were acknowledged", n, acked.Load())
	}
	// The node's board follows the new master by itself.
	deadline = time.Now().Add(10 * time.Second)
	for {
		v, st, err := m.live.View("floor")
		if err == nil && !st.Stale {
			if f := v.Tiles[len(v.Tiles)-1].Figure; f != nil && f.Responses == int64(n) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the floor board does not show the new master's %v responses 10 s after the failover (%v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
