package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// timed is one request's outcome, relative to the test's start.
type timed struct {
	at, took   time.Duration
	status     int
	retryAfter string
	err        error
	stale      bool
}

// timedLoad posts NDJSON batches of fresh ids from several workers while a
// test breaks Redis, and resend a batch that got 503 with the same ids
// until it is acknowledged, as a producer must. Every request is recorded.
type timedLoad struct {
	base   string
	hc     *http.Client
	t0     time.Time
	prefix string
	batch  int

	mu       sync.Mutex
	requests []timed
	acked    atomic.Int64
	last202  atomic.Int64 // unix nanos of the latest 202
	stop     chan struct{}
	wg       sync.WaitGroup
}

// startTimedLoad starts workers posting batches of batch responses with ids
// under prefix. hc should wait far longer than any bound the test checks,
// so a hang is measured rather than cut short.
func startTimedLoad(base string, hc *http.Client, t0 time.Time, prefix string, workers, batch int) *timedLoad {
	p := &timedLoad{base: base, hc: hc, t0: t0, prefix: prefix, batch: batch, stop: make(chan struct{})}
	for w := range workers {
		p.wg.Add(1)
		go p.run(w)
	}
	return p
}

func (p *timedLoad) run(w int) {
	defer p.wg.Done()
	for n := 0; ; n++ {
		select {
		case <-p.stop:
			return
		default:
		}
		var body strings.Builder
		for i := range p.batch {
			fmt.Fprintf(&body, `{"id":"%s%d-%d-%d","score":%d,"channel":"phone","team":"alpha"}`+"\n", p.prefix, w, n, i, i%11)
		}
		for {
			r := p.post(body.String())
			p.mu.Lock()
			p.requests = append(p.requests, r)
			p.mu.Unlock()
			if r.status == http.StatusAccepted {
				p.acked.Add(int64(p.batch))
				p.last202.Store(time.Now().UnixNano())
				break
			}
			if r.err != nil || r.status != http.StatusServiceUnavailable {
				break // the test reports it from the record
			}
			time.Sleep(150 * time.Millisecond)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func (p *timedLoad) post(body string) timed {
	req, _ := http.NewRequest("POST", p.base+"/api/v1/responses", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("Authorization", "Bearer "+token)
	began := time.Since(p.t0)
	res, err := p.hc.Do(req)
	r := timed{at: began, took: time.Since(p.t0) - began, err: err}
	if err == nil {
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		r.status, r.retryAfter = res.StatusCode, res.Header.Get("Retry-After")
	}
	return r
}

// Stop stops the workers and waits for them; it may be called twice.
func (p *timedLoad) Stop() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.wg.Wait()
}

// record returns every request made so far.
func (p *timedLoad) record() []timed {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]timed(nil), p.requests...)
}

// badAnswers lists the requests that did not answer 202, or 503 with
// Retry-After.
func badAnswers(rs []timed) []string {
	var out []string
	for _, r := range rs {
		switch {
		case r.err != nil:
			out = append(out, fmt.Sprintf("ingest at %v: %v", r.at, r.err))
		case r.status == http.StatusServiceUnavailable && r.retryAfter == "":
			out = append(out, fmt.Sprintf("ingest at %v: 503 without Retry-After", r.at))
		case r.status != http.StatusAccepted && r.status != http.StatusServiceUnavailable:
			out = append(out, fmt.Sprintf("ingest at %v: status %d", r.at, r.status))
		}
	}
	return out
}
