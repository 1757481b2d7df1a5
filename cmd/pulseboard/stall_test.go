package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
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
)

// timed is one request's outcome, relative to the test's start.
type timed struct {
	at, took   time.Duration
	status     int
	retryAfter string
	err        error
	stale      bool
}

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
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock, "--redis-url", srv.URL)
	base := "http://" + m.Addr()
	// A client that waits far longer than the bound, so a hang is measured
	// rather than cut short.
	hc := &http.Client{Timeout: 40 * time.Second}
	t0 := time.Now()
	since := func() time.Duration { return time.Since(t0) }

	var (
		mu       sync.Mutex
		ingests  []timed
		readies  []timed
		boards   []timed
		maxGor   int
		acked    atomic.Int64
		stopLoad = make(chan struct{})
		wg       sync.WaitGroup
	)
	post := func(body string) timed {
		req, _ := http.NewRequest("POST", base+"/api/v1/responses", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+token)
		began := since()
		res, err := hc.Do(req)
		r := timed{at: began, took: since() - began, err: err}
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			r.status, r.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
		}
		return r
	}
	const workers, batch = 4, 20
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				var body strings.Builder
				for i := range batch {
					fmt.Fprintf(&body, `{"id":"s%d-%d-%d","score":%d,"channel":"phone","team":"alpha"}`+"\n", w, n, i, i%11)
				}
				// A producer resends a batch with the same ids until it is
				// acknowledged.
				for {
					r := post(body.String())
					mu.Lock()
					ingests = append(ingests, r)
					mu.Unlock()
					if r.status == http.StatusAccepted {
						acked.Add(batch)
						break
					}
					if r.err != nil || r.status != http.StatusServiceUnavailable {
						break // reported below
					}
					time.Sleep(200 * time.Millisecond)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	probe := func(path string, into *[]timed, parse func([]byte, *timed)) {
		defer wg.Done()
		for {
			select {
			case <-stopLoad:
				return
			case <-time.After(100 * time.Millisecond):
			}
			began := since()
			res, err := hc.Get(base + path)
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
	wg.Add(3)
	go probe("/readyz", &readies, nil)
	go probe("/api/v1/boards/floor", &boards, func(raw []byte, r *timed) {
		var b struct {
			Stale bool `json:"stale"`
		}
		_ = json.Unmarshal(raw, &b)
		r.stale = b.Stale
	})
	baseline := 0
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stopLoad:
				return
			case <-time.After(50 * time.Millisecond):
			}
			n := runtime.NumGoroutine()
			mu.Lock()
			maxGor = max(maxGor, n)
			mu.Unlock()
		}
	}()

	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	baseline, maxGor = maxGor, 0
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

	// Every ingest request answered within the bound, 202 or 503 with
	// Retry-After.
	var slow, bad, unavailable int
	var slowest time.Duration
	for _, r := range ingests {
		slowest = max(slowest, r.took)
		switch {
		case r.err != nil:
			bad++
			t.Errorf("ingest at %v: %v", r.at, r.err)
		case r.took > redisDeadline+answerSlack:
			slow++
		case r.status == http.StatusServiceUnavailable && r.retryAfter == "":
			bad++
			t.Errorf("ingest at %v: 503 without Retry-After", r.at)
		case r.status != http.StatusAccepted && r.status != http.StatusServiceUnavailable:
			bad++
			t.Errorf("ingest at %v: status %d", r.at, r.status)
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

	t.Logf("goroutines: %d under load before the stall, at most %d during and after", baseline, maxGor)
	if maxGor > baseline+goroutineGrowth {
		t.Errorf("goroutines grew from %d to %d during the stall", baseline, maxGor)
	}

	// Nothing acknowledged is lost or counted twice.
	c := client{t: t, base: base}
	if n, _ := c.overall("window=15m"); int64(n) != acked.Load() {
		t.Errorf("the store holds %v responses, %d were acknowledged", n, acked.Load())
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
