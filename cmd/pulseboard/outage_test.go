package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redistest"
)

// TestRedisKilledUnderLoad posts 100,000 responses from clients that retry
// each batch with the same ids until it is acknowledged, while Redis (AOF,
// appendfsync always) is killed with SIGKILL three times and restarted.
// Afterwards every window and breakdown counts each response exactly once:
// none lost, none counted twice; and the node's board is correct again
// within 5 s of Redis returning.
func TestRedisKilledUnderLoad(t *testing.T) {
	srv, err := redistest.Start("--appendonly", "yes", "--appendfsync", "always")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	m, c := startNow(t, "--redis-url", srv.URL)

	const total, batch, workers = 100_000, 250, 4
	teams := []string{"alpha", "bravo", "charlie"}
	want := map[string]*nps.Distribution{}
	var wantMu sync.Mutex
	var acked, retries atomic.Int64
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for {
				start := next.Add(batch) - batch
				if start >= total {
					return
				}
				var body strings.Builder
				local := map[string]*nps.Distribution{}
				for i := start; i < start+batch; i++ {
					score, team := rng.IntN(11), teams[rng.IntN(len(teams))]
					fmt.Fprintf(&body, `{"id":"k%d","score":%d,"channel":"phone","team":%q}`+"\n", i, score, team)
					if local[team] == nil {
						local[team] = &nps.Distribution{}
					}
					local[team][score]++
				}
				// Retry with the same ids until acknowledged, as a producer must.
				for {
					r := c.do("POST", "/api/v1/responses", "application/x-ndjson", token, strings.NewReader(body.String()))
					if r.status == 202 {
						break
					}
					if r.status != 503 {
						t.Errorf("unexpected status %d: %s", r.status, r.raw)
						return
					}
					retries.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
				acked.Add(batch)
				wantMu.Lock()
				for team, d := range local {
					if want[team] == nil {
						want[team] = &nps.Distribution{}
					}
					*want[team] = want[team].Add(*d)
				}
				wantMu.Unlock()
			}
		}()
	}
	// Kill Redis three times at random moments while the load runs.
	rng := rand.New(rand.NewPCG(9, 9))
	for kill := range 3 {
		target := int64((kill + 1) * total / 4)
		target += int64(rng.IntN(total / 10))
		for acked.Load() < target {
			time.Sleep(5 * time.Millisecond)
		}
		srv.Kill()
		time.Sleep(time.Duration(1200+rng.IntN(600)) * time.Millisecond) // longer than go-redis's own retries
		if err := srv.Restart(); err != nil {
			t.Fatalf("restart redis: %v", err)
		}
	}
	back := time.Now()
	wg.Wait()
	if retries.Load() == 0 {
		t.Fatal("no request saw Redis down: the kills missed the load")
	}

	// Every response exactly once, overall and by team.
	var all nps.Distribution
	for _, d := range want {
		all = all.Add(*d)
	}
	if all.Responses() != total {
		t.Fatalf("the clients' record holds %d responses", all.Responses())
	}
	for team, got := range c.byTeam("1h") {
		if got != *want[team] {
			t.Errorf("team %s: store %v, acknowledged %v", team, got, *want[team])
		}
	}
	for _, w := range []string{"15m", "today", "7d"} {
		if n, _ := c.overall("window=" + w); n != total {
			t.Errorf("window %s holds %v responses, want %d", w, n, total)
		}
	}
	if t.Failed() {
		// Which rollups disagree: each query below reads another rollup's
		// buckets (overall, channel, segment, team, channel and team).
		for _, q := range []string{"", "&channel=phone", "&by=segment", "&by=team", "&by=channel,team"} {
			r := c.get("/api/v1/nps?window=15m" + q)
			var n float64
			for _, g := range r.body["groups"].([]any) {
				n += g.(map[string]any)["responses"].(float64)
			}
			t.Logf("15m%s: %v responses in %d groups", q, n, len(r.body["groups"].([]any)))
		}
	}
	// The board (this node's replica) agrees within 5 s of Redis's return.
	deadline := back.Add(5 * time.Second)
	for {
		v, _, err := m.boards.View("floor", m.Now())
		if err == nil {
			if f := v.Tiles[len(v.Tiles)-1].Figure; f != nil && f.Responses == total {
				break
			}
		}
		if time.Now().After(deadline) && acked.Load() == total {
			t.Fatalf("the floor board does not show %d responses 5 s after Redis returned (%v)", total, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%d responses, %d retried requests across 3 Redis kills", total, retries.Load())
}

// byTeam reads the distribution of every team in a window.
func (c client) byTeam(window string) map[string]nps.Distribution {
	c.t.Helper()
	r := c.get("/api/v1/nps?window=" + window + "&by=team")
	if r.status != 200 {
		c.t.Fatalf("GET nps by team: %d %s", r.status, r.raw)
	}
	out := map[string]nps.Distribution{}
	for _, g := range r.body["groups"].([]any) {
		g := g.(map[string]any)
		var d nps.Distribution
		for i, v := range g["distribution"].([]any) {
			d[i] = int64(v.(float64))
		}
		out[g["key"].(map[string]any)["team"].(string)] = d
	}
	return out
}
