package main

import (
	"encoding/json"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
)

// Bounds of TestRedisStalled. The server's Redis deadline is its default
// (redis_timeout, 3 s); slack covers decoding, scheduling and the race
// detector on a busy 2-core machine.
const (
	stallFor        = 8 * time.Second
	redisDeadline   = 3 * time.Second
	answerSlack     = time.Second
	readyFollows    = 2500 * time.Millisecond // readiness follows Redis both ways
	staleWithin     = 6 * time.Second         // boards say "stale" after Redis went silent
	freshWithin     = 7 * time.Second         // and recover after it answers again
	goroutineGrowth = 150
	heapGrowth      = 64 << 20
)

// TestRedisStalled stops a real redis-server with SIGSTOP for 8 s under
// steady ingest: silence, not refusals, as in a VM pause or a network
// partition. Every ingest request must answer within the Redis deadline
// (202, or 503 with Retry-After), /readyz must follow Redis within about
// 2 s both ways, boards must say "stale" within a few seconds and recover by
// themselves, the goroutine count must stay bounded, and every batch
// acknowledged (producers resend a 503 batch with the same ids) must be
// counted exactly once.
func TestRedisStalled(t *testing.T) {
	srv := redistest.Private(t)
	m, _ := startNow(t, "--redis-url", srv.URL, "--admin-tokens", adminToken)
	base := "http://" + m.Addr()
	// A client that waits far longer than the bound, so a hang is measured
	// rather than cut short.
	hc := &http.Client{Timeout: 40 * time.Second}
	t0 := time.Now()
	since := func() time.Duration { return time.Since(t0) }

	var (
		mu       sync.Mutex
		readies  []timed
		boards   []timed
		queue    []timed
		maxGor   int
		maxHeap  uint64
		stopLoad = make(chan struct{})
		wg       sync.WaitGroup
	)
	load := startTimedLoad(base, hc, t0, "s", 4, 20)
	defer load.Stop()
	probe := func(path string, into *[]timed, parse func([]byte, *timed)) {
		defer wg.Done()
		for {
			select {
			case <-stopLoad:
				return
			case <-time.After(100 * time.Millisecond):
			}
			began := since()
			req, _ := http.NewRequest(http.MethodGet, base+path, nil)
			req.Header.Set("Authorization", "Bearer "+adminToken) // the follow-up API's; the others ignore it
			res, err := hc.Do(req)
			r := timed{at: began, took: since() - began, err: err}
			if err == nil {
				raw, _ := io.ReadAll(res.Body)
				res.Body.Close()
				r.status = res.StatusCode
				if parse != nil {
					parse(raw, &r)
				}
			}
			mu.Lock()
			*into = append(*into, r)
			mu.Unlock()
		}
	}
	wg.Add(4)
	go probe("/readyz", &readies, nil)
	go probe("/api/v1/followups", &queue, nil)
	go probe("/api/v1/boards/floor", &boards, func(raw []byte, r *timed) {
		var b struct {
			Stale bool `json:"stale"`
		}
		_ = json.Unmarshal(raw, &b)
		r.stale = b.Stale
	})
	baseline, baseHeap := 0, uint64(0)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			select {
			case <-stopLoad:
				return
			case <-time.After(100 * time.Millisecond):
			}
			n := runtime.NumGoroutine()
			runtime.ReadMemStats(&ms)
			mu.Lock()
			maxGor, maxHeap = max(maxGor, n), max(maxHeap, ms.HeapInuse)
			mu.Unlock()
		}
	}()

	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	baseline, maxGor, baseHeap, maxHeap = maxGor, 0, maxHeap, 0
	mu.Unlock()
	paused := since()
	if err := srv.Pause(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(stallFor)
	if err := srv.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := since()
	time.Sleep(freshWithin + time.Second)
	close(stopLoad)
	wg.Wait()
	load.Stop()

	// Every ingest request answered within the bound, 202 or 503 with
	// Retry-After.
	ingests := load.record()
	for _, e := range badAnswers(ingests) {
		t.Error(e)
	}
	var slow, unavailable int
	var slowest time.Duration
	for _, r := range ingests {
		slowest = max(slowest, r.took)
		if r.took > redisDeadline+answerSlack {
			slow++
		}
		if r.status == http.StatusServiceUnavailable {
			unavailable++
		}
	}
	t.Logf("%d ingest requests, %d answered 503, slowest %v; paused at %v, resumed at %v", len(ingests), unavailable, slowest, paused, resumed)
	if slow > 0 {
		t.Errorf("%d ingest requests took longer than %v (slowest %v)", slow, redisDeadline+answerSlack, slowest)
	}
	if unavailable == 0 {
		t.Errorf("no ingest request saw the stall")
	}

	// The follow-up API (the alert engine's own Redis calls) is bounded too:
	// 200, or 503 within the deadline.
	var queueSlowest time.Duration
	for _, r := range queue {
		queueSlowest = max(queueSlowest, r.took)
		if r.err != nil || (r.status != http.StatusOK && r.status != http.StatusServiceUnavailable) || r.took > redisDeadline+answerSlack {
			t.Errorf("GET /api/v1/followups at %v: %d after %v (%v)", r.at, r.status, r.took, r.err)
		}
	}
	t.Logf("%d follow-up listings, slowest %v", len(queue), queueSlowest)

	// Readiness follows Redis: 503 within about 2 s of the stop, 200 again
	// within about 2 s of SIGCONT, and each probe answers within its 1 s.
	down, up := firstAfter(readies, paused, func(r timed) bool { return r.err == nil && r.status == http.StatusServiceUnavailable }),
		settledAfter(readies, resumed, func(r timed) bool { return r.err == nil && r.status == http.StatusOK })
	t.Logf("/readyz: 503 %v after the stop, 200 for good %v after SIGCONT", down, up)
	if down < 0 || down > readyFollows {
		t.Errorf("/readyz failed %v after Redis stopped, want within %v", down, readyFollows)
	}
	if up > readyFollows {
		t.Errorf("/readyz passed for good %v after Redis resumed, want within %v", up, readyFollows)
	}
	for _, r := range readies {
		if r.took > 1500*time.Millisecond {
			t.Errorf("/readyz at %v took %v", r.at, r.took)
		}
	}

	// Boards say stale within a few seconds, and recover by themselves.
	stale := firstAfter(boards, paused, func(r timed) bool { return r.err == nil && r.stale })
	fresh := settledAfter(boards, resumed, func(r timed) bool { return r.err == nil && r.status == http.StatusOK && !r.stale })
	t.Logf("boards: stale %v after the stop, fresh for good %v after SIGCONT", stale, fresh)
	if stale < 0 || stale > staleWithin {
		t.Errorf("boards said stale %v after Redis stopped, want within %v", stale, staleWithin)
	}
	if fresh > freshWithin {
		t.Errorf("boards fresh again %v after Redis resumed, want within %v", fresh, freshWithin)
	}

	t.Logf("goroutines: %d under load before the stall, at most %d during and after; heap in use %d KiB before, at most %d KiB during and after",
		baseline, maxGor, baseHeap>>10, maxHeap>>10)
	if maxGor > baseline+goroutineGrowth {
		t.Errorf("goroutines grew from %d to %d during the stall", baseline, maxGor)
	}
	if maxHeap > baseHeap+heapGrowth {
		t.Errorf("heap in use grew from %d KiB to %d KiB during the stall", baseHeap>>10, maxHeap>>10)
	}

	// Nothing acknowledged is lost or counted twice.
	c := client{t: t, base: base}
	if n, _ := c.overall("window=15m"); int64(n) != load.acked.Load() {
		t.Errorf("the store holds %v responses, %d were acknowledged", n, load.acked.Load())
	}
}

// firstAfter is how long after from the first request that started after
// from and satisfies ok answered; -1 when none did.
func firstAfter(rs []timed, from time.Duration, ok func(timed) bool) time.Duration {
	for _, r := range rs {
		if r.at >= from && ok(r) {
			return r.at + r.took - from
		}
	}
	return -1
}

// settledAfter is how long after from the probe settled: the answer time
// of the last request after from that does not satisfy ok (0 when none).
func settledAfter(rs []timed, from time.Duration, ok func(timed) bool) time.Duration {
	var last time.Duration
	for _, r := range rs {
		if r.at+r.took >= from && !ok(r) {
			last = max(last, r.at+r.took-from)
		}
	}
	return last
}
