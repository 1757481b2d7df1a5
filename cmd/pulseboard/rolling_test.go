package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redistest"
)

// Rolling restart figures: ingest modest enough for a loaded two-core
// machine, screens enough that every node holds some, and the bound the
// issue sets on how soon every board is right again.
const (
	rollingWorkers   = 3
	rollingBatch     = 20
	rollingPause     = 25 * time.Millisecond
	rollingScreens   = 6
	rollingRecovery  = 5 * time.Second
	rollingSteadyFor = 1500 * time.Millisecond
)

// TestRollingRestart runs three server processes on one Redis behind a
// load balancer, with steady ingest from producers that retry with the same
// ids until acknowledged, and screens connected through the balancer.
// Each node in turn gets SIGTERM and is started again. Every screen that
// loses its node reconnects to a live one and starts from a snapshot; within
// 5 s of each restart every screen shows at least every response
// acknowledged so far, and never more than were sent. In the end the store
// counts every acknowledged response exactly once, by team, and every
// screen and node agrees.
//
// It runs on one Redis and on the three-master Redis Cluster.
func TestRollingRestart(t *testing.T) {
	t.Run("redis", func(t *testing.T) { rollingRestart(t, redistest.URL(t)) })
	t.Run("cluster", func(t *testing.T) { rollingRestart(t, redistest.ClusterURL(t)) })
}

func rollingRestart(t *testing.T, redisURL string) {
	env := []string{"PULSEBOARD_INGEST_TOKENS=" + token, "PULSEBOARD_REDIS_URL=" + redisURL,
		"PULSEBOARD_TENANT=" + redistest.Namespace(t), "PULSEBOARD_TIMEZONE=" + middayZone(time.Now())}
	nodes := make([]*process, 3)
	addrs := make([]string, 3)
	for i := range nodes {
		nodes[i] = startProcess(t, env)
		addrs[i] = nodes[i].addr
	}
	lb := startBalancer(t, addrs)
	for i := range nodes {
		lb.waitUp(t, i, 5*time.Second)
	}

	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	// Screens connect one after another, so round robin gives each node two.
	screens := make([]*watcher, rollingScreens)
	var screensDone sync.WaitGroup
	for i := range screens {
		screens[i] = &watcher{t: t, url: "ws://" + lb.addr + "/boards/floor/live"}
		screens[i].connected = make(chan struct{})
		screensDone.Add(1)
		go func() { defer screensDone.Done(); screens[i].run(ctx) }()
		<-screens[i].connected
	}
	defer screensDone.Wait()
	defer stop()

	in := &producers{t: t, base: "http://" + lb.addr, acked: map[string]*nps.Distribution{}}
	// stopIngest ends the load after the batches in flight are
	// acknowledged; abort (on a failed test) ends their retries too.
	ingestCtx, stopIngest := context.WithCancel(ctx)
	abortCtx, abort := context.WithCancel(context.Background())
	var ingestDone sync.WaitGroup
	defer ingestDone.Wait()
	defer abort()
	for w := range rollingWorkers {
		ingestDone.Add(1)
		go func() { defer ingestDone.Done(); in.run(ingestCtx, abortCtx, w) }()
	}
	time.Sleep(rollingSteadyFor)

	for i, n := range nodes {
		before := totalConnects(screens)
		began := time.Now()
		if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := n.cmd.Wait(); err != nil {
			t.Fatalf("node %d after SIGTERM: %v", i, err)
		}
		stopped := time.Since(began)
		nodes[i] = startProcess(t, env, "--addr", addrs[i])
		lb.waitUp(t, i, 5*time.Second)
		restarted := time.Now()
		floor := in.ackedCount()
		waitScreens(t, screens, fmt.Sprintf("after restarting node %d", i), restarted.Add(rollingRecovery), func(n int64) bool {
			return n >= floor && n <= in.sent.Load()
		})
		took := time.Since(restarted)
		reconnects := totalConnects(screens) - before
		if reconnects < rollingScreens/len(nodes) {
			t.Errorf("restart of node %d: %d screens reconnected, want at least its %d", i, reconnects, rollingScreens/len(nodes))
		}
		t.Logf("node %d: stopped in %s, back and ready; %d screens reconnected; every screen at ≥ %d acknowledged within %s",
			i, stopped.Round(time.Millisecond), reconnects, floor, took.Round(time.Millisecond))
		time.Sleep(rollingSteadyFor)
	}
	stopIngest()
	ingestDone.Wait()

	acked := in.ackedCount()
	if acked < 4*rollingWorkers*rollingBatch {
		t.Fatalf("only %d responses acknowledged: the load did not run", acked)
	}
	waitScreens(t, screens, "after the load", time.Now().Add(rollingRecovery), func(n int64) bool { return n == acked })
	for i, n := range nodes {
		var total int64
		for team, got := range (client{t: t, base: "http://" + n.addr}).byTeam("today") {
			total += got.Responses()
			if want := in.acked[team]; want == nil || got != *want {
				t.Errorf("node %d, team %s: store %v, acknowledged %v", i, team, got, want)
			}
		}
		if total != acked {
			t.Errorf("node %d counts %d responses, %d were acknowledged", i, total, acked)
		}
	}
	t.Logf("%d responses acknowledged exactly once, %d requests retried, %d screen connections in all",
		acked, in.retries.Load(), totalConnects(screens))
}

// middayZone picks a fixed-offset zone where it is near noon, so "today"
// cannot roll over during the test.
func middayZone(now time.Time) string {
	best, bestDist := 0, 24
	for off := -12; off <= 14; off++ {
		h := ((now.UTC().Hour()+off)%24 + 24) % 24
		if d := max(h-12, 12-h); d < bestDist {
			best, bestDist = off, d
		}
	}
	// Etc/GMT-N is N hours east of UTC: the sign is the POSIX one.
	switch {
	case best > 0:
		return fmt.Sprintf("Etc/GMT-%d", best)
	case best < 0:
		return fmt.Sprintf("Etc/GMT+%d", -best)
	}
	return "Etc/UTC"
}

// producers post batches of new responses and retry each batch with the
// same ids until it is acknowledged, as a producer must; acked holds the
// acknowledged distribution per team, sent the responses posted at least
// once.
type producers struct {
	t       *testing.T
	base    string
	mu      sync.Mutex
	acked   map[string]*nps.Distribution
	count   int64
	sent    atomic.Int64
	retries atomic.Int64
}

func (p *producers) ackedCount() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.count
}

func (p *producers) run(ctx, abort context.Context, worker int) {
	teams := []string{"alpha", "bravo", "charlie"}
	rng := rand.New(rand.NewPCG(uint64(worker), 11))
	hc := &http.Client{Timeout: 5 * time.Second}
	for n := 0; ctx.Err() == nil; n++ {
		var body strings.Builder
		local := map[string]*nps.Distribution{}
		for i := range rollingBatch {
			score, team := rng.IntN(11), teams[rng.IntN(len(teams))]
			fmt.Fprintf(&body, `{"id":"w%d-%d-%d","score":%d,"channel":"phone","team":%q}`+"\n", worker, n, i, score, team)
			if local[team] == nil {
				local[team] = &nps.Distribution{}
			}
			local[team][score]++
		}
		p.sent.Add(rollingBatch)
		// Once sent, a batch is retried until acknowledged, even after the
		// test stops the load: it may already be recorded.
		for attempt := 0; ; attempt++ {
			if abort.Err() != nil {
				return
			}
			if attempt > 0 {
				p.retries.Add(1)
				time.Sleep(50 * time.Millisecond)
			}
			status, err := p.post(hc, body.String())
			if err == nil && status == http.StatusAccepted {
				break
			}
			if err == nil && status != http.StatusServiceUnavailable && status != http.StatusBadGateway {
				p.t.Errorf("ingest answered %d", status)
				return
			}
		}
		p.mu.Lock()
		for team, d := range local {
			if p.acked[team] == nil {
				p.acked[team] = &nps.Distribution{}
			}
			*p.acked[team] = p.acked[team].Add(*d)
		}
		p.count += rollingBatch
		p.mu.Unlock()
		time.Sleep(rollingPause)
	}
}

func (p *producers) post(hc *http.Client, body string) (int, error) {
	req, err := http.NewRequest(http.MethodPost, p.base+"/api/v1/responses", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// watcher is a screen that stays connected through the balancer: when its
// socket closes it reconnects at once (the browser script backs off from
// 0.5 s; the test is impatient), and takes the snapshot a new connection
// starts with. The test client's seq check fails the test on a gap within
// an epoch.
type watcher struct {
	t         *testing.T
	url       string
	connected chan struct{} // closed after the first snapshot

	mu        sync.Mutex
	shown     int64 // responses on the board's count tile
	live      bool  // connected and past its snapshot
	connects  int
	goingAway int
}

func (w *watcher) run(ctx context.Context) {
	first := true
	for ctx.Err() == nil {
		conn, _, err := websocket.DefaultDialer.DialContext(ctx, w.url, nil)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		stopClose := context.AfterFunc(ctx, func() { conn.Close() })
		s := &screen{t: w.t, conn: conn, tiles: map[string]board.TileView{}}
		w.mu.Lock()
		w.connects++
		w.mu.Unlock()
		for {
			_, err := s.next(10 * time.Second)
			if err != nil {
				w.mu.Lock()
				w.live = false
				if websocket.IsCloseError(err, websocket.CloseGoingAway) {
					w.goingAway++
				}
				w.mu.Unlock()
				break
			}
			w.mu.Lock()
			w.live = true
			if f := s.tiles["responses"].Figure; f != nil {
				w.shown = f.Responses
			}
			w.mu.Unlock()
			if first {
				first = false
				close(w.connected)
			}
		}
		stopClose()
		conn.Close()
	}
}

func (w *watcher) state() (shown int64, live bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.shown, w.live
}

func totalConnects(ws []*watcher) int {
	n := 0
	for _, w := range ws {
		w.mu.Lock()
		n += w.connects
		w.mu.Unlock()
	}
	return n
}

// waitScreens waits until every screen is live and its count satisfies ok,
// failing at the deadline with what each one shows.
func waitScreens(t *testing.T, ws []*watcher, what string, deadline time.Time, ok func(int64) bool) {
	t.Helper()
	for {
		var bad []string
		for i, w := range ws {
			if n, live := w.state(); !live || !ok(n) {
				bad = append(bad, fmt.Sprintf("screen %d: %d (live %v)", i, n, live))
			}
		}
		if len(bad) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(errors.New(what + ": " + strings.Join(bad, "; ")))
		}
		time.Sleep(20 * time.Millisecond)
	}
}
