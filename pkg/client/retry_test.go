package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pulseboard/pulseboard/pkg/client"
)

// localServer is a server of its own for a test of how the client treats
// replies the real server gives only in trouble (503s, proxies' pages):
// handle answers the n-th request (from 1).
func localServer(t *testing.T, handle func(w http.ResponseWriter, r *http.Request, n int)) string {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(w, r, int(n.Add(1)))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// unavailableThenOK answers 503 with retryAfter to the first `fails`
// requests, then 202 with counts; it counts the requests in calls.
func unavailableThenOK(t *testing.T, fails int, retryAfter func() string, calls *atomic.Int64) string {
	return localServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		calls.Store(int64(n))
		if n <= fails {
			if v := retryAfter(); v != "" {
				w.Header().Set("Retry-After", v)
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"type":"urn:pulseboard:problem:unavailable","title":"Service Unavailable","status":503,"detail":"the store is unavailable"}`)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, `{"accepted":1,"updated":0,"duplicates":0}`)
	})
}

func send(c *client.Client, ctx context.Context) (client.Recorded, error) {
	return c.SendResponse(ctx, client.Response{ID: "a", Score: 9, Channel: "phone"})
}

// TestRetryAfterSeconds: after a 503 with Retry-After: 3 the client waits
// exactly 3 s on its clock, no less, then tries again.
func TestRetryAfterSeconds(t *testing.T) {
	var calls atomic.Int64
	url := unavailableThenOK(t, 1, func() string { return "3" }, &calls)
	clock := clockwork.NewFakeClock()
	c, _ := newClient(t, url, ingestToken, client.WithClock(clock))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		rec client.Recorded
		err error
	}
	done := make(chan result, 1)
	go func() {
		rec, err := send(c, ctx)
		done <- result{rec, err}
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(3*time.Second - time.Millisecond)
	select {
	case r := <-done:
		t.Fatalf("tried again before Retry-After: %+v", r)
	case <-time.After(50 * time.Millisecond):
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls before the wait ended", calls.Load())
	}
	clock.Advance(time.Millisecond)
	r := <-done
	if r.err != nil || r.rec.Accepted != 1 || calls.Load() != 2 {
		t.Fatalf("%+v after %d calls", r, calls.Load())
	}
}

// TestRetryAfterDate: an HTTP date is read against the client's clock.
func TestRetryAfterDate(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC))
	var calls atomic.Int64
	url := unavailableThenOK(t, 2, func() string {
		if calls.Load() == 1 {
			return clock.Now().Add(7 * time.Second).Format(http.TimeFormat)
		}
		return clock.Now().Add(-time.Hour).Format(http.TimeFormat) // past: at once
	}, &calls)
	var waits []time.Duration
	c, _ := newClient(t, url, ingestToken, client.WithClock(clock), client.WithRetry(client.Retry{OnRetry: func(e client.RetryEvent) { waits = append(waits, e.Wait) }}))
	done := make(chan error, 1)
	go func() { _, err := send(c, context.Background()); done <- err }()
	if err := clock.BlockUntilContext(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(7 * time.Second)
	// The second wait, to a date past, ends at once.
	if err := <-done; err != nil || calls.Load() != 3 || fmt.Sprint(waits) != "[7s 0s]" {
		t.Fatalf("err %v after %d calls, waits %v", err, calls.Load(), waits)
	}
}

// TestRetryAfterRealClock: with the real clock, Retry-After: 1 is a wait
// of at least a second. The upper bound is loose: the machine is shared.
func TestRetryAfterRealClock(t *testing.T) {
	var calls atomic.Int64
	url := unavailableThenOK(t, 1, func() string { return "1" }, &calls)
	c, _ := newClient(t, url, ingestToken)
	began := time.Now()
	rec, err := send(c, context.Background())
	took := time.Since(began)
	if err != nil || rec.Accepted != 1 || calls.Load() != 2 {
		t.Fatalf("%+v, %v after %d calls", rec, err, calls.Load())
	}
	if took < time.Second || took > 5*time.Second {
		t.Errorf("took %s, want a wait of 1s", took)
	}
}

// TestBackoff: without Retry-After the waits double from MinBackoff, each
// drawn between half and all of its step, up to MaxBackoff.
func TestBackoff(t *testing.T) {
	var calls atomic.Int64
	url := unavailableThenOK(t, 5, func() string { return "" }, &calls)
	var waits []time.Duration
	c, _ := newClient(t, url, ingestToken, client.WithClock(instant{}),
		client.WithRetry(client.Retry{Attempts: 6, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond,
			OnRetry: func(e client.RetryEvent) { waits = append(waits, e.Wait) }}))
	if _, err := send(c, context.Background()); err != nil || len(waits) != 5 {
		t.Fatalf("err %v, waits %v", err, waits)
	}
	for i, step := range []time.Duration{100, 200, 400, 400, 400} {
		step *= time.Millisecond
		if waits[i] < step/2 || waits[i] > step {
			t.Errorf("wait %d: %s, want %s to %s", i+1, waits[i], step/2, step)
		}
	}
}

// instant is a clock whose waits end at once.
type instant struct{}

func (instant) Now() time.Time { return time.Now() }
func (instant) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Now()
	return ch
}

// TestGivesUp: retries stop after Attempts, with the last error.
func TestGivesUp(t *testing.T) {
	var calls atomic.Int64
	url := unavailableThenOK(t, 100, func() string { return "0" }, &calls)
	var events []string
	c, _ := newClient(t, url, ingestToken, client.WithRetry(client.Retry{Attempts: 3, OnRetry: func(e client.RetryEvent) {
		events = append(events, fmt.Sprintf("%s %s %d/%d %s", e.Method, e.Path, e.Attempt, e.Attempts, e.Err))
	}}))
	_, err := send(c, context.Background())
	if err == nil || err.Error() != "giving up after 3 attempts: POST /api/v1/responses: 503 Service Unavailable: the store is unavailable" || calls.Load() != 3 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
	if e := asError(t, err); e.Code() != "unavailable" || e.RetryAfter != 0 {
		t.Errorf("last error %+v", e)
	}
	want := "[POST /api/v1/responses 2/3 POST /api/v1/responses: 503 Service Unavailable: the store is unavailable " +
		"POST /api/v1/responses 3/3 POST /api/v1/responses: 503 Service Unavailable: the store is unavailable]"
	if fmt.Sprint(events) != want {
		t.Errorf("events\n%s\nwant\n%s", events, want)
	}
}

// TestCancelStopsRetries: a context cancelled during the wait ends it at
// once, with the cause and the last attempt's error.
func TestCancelStopsRetries(t *testing.T) {
	var calls atomic.Int64
	url := unavailableThenOK(t, 100, func() string { return "20" }, &calls)
	c, _ := newClient(t, url, ingestToken)
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("shutting down")
	ctx = client.WithRetryHook(ctx, func(client.RetryEvent) { cancel(stop) })
	began := time.Now()
	_, err := send(c, ctx)
	if !errors.Is(err, stop) || asError(t, err).StatusCode != 503 || calls.Load() != 1 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("took %s: the wait of 20s was not cut short", took)
	}
}

// TestDeadlineBeforeRetry: a Retry-After that ends past the context's
// deadline returns the error at once instead of waiting for the deadline;
// so does one longer than MaxWait.
func TestDeadlineBeforeRetry(t *testing.T) {
	var calls atomic.Int64
	url := unavailableThenOK(t, 100, func() string { return "5" }, &calls)
	c, _ := newClient(t, url, ingestToken)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	began := time.Now()
	_, err := send(c, ctx)
	if e := asError(t, err); e.StatusCode != 503 || e.RetryAfter != 5*time.Second || calls.Load() != 1 || time.Since(began) > time.Second {
		t.Fatalf("err %v after %d calls and %s", err, calls.Load(), time.Since(began))
	}
	c, _ = newClient(t, url, ingestToken, client.WithRetry(client.Retry{MaxWait: 4 * time.Second}))
	_, err = send(c, context.Background())
	if e := asError(t, err); e.RetryAfter != 5*time.Second || calls.Load() != 2 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
}

// TestWhatIsRetried: ingest and GETs are retried on 429, 502, 503, 504 and
// a broken connection; follow-up actions only on 429 and a connection
// that could not be made, never on a 503 or a connection broken after the
// request went out (the change may have been made).
func TestWhatIsRetried(t *testing.T) {
	var mu sync.Mutex
	status := 0 // 0: break the connection
	url := localServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		mu.Lock()
		st := status
		mu.Unlock()
		if st == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(st)
	})
	ctx := context.Background()
	calls := map[string]func(*client.Client) error{
		"ingest":  func(c *client.Client) error { _, err := send(c, ctx); return err },
		"nps":     func(c *client.Client) error { _, err := c.NPS(ctx, client.NPSQuery{}); return err },
		"claim":   func(c *client.Client) error { _, err := c.ClaimFollowUp(ctx, "f1", ""); return err },
		"resolve": func(c *client.Client) error { _, err := c.ResolveFollowUp(ctx, "f1", "", ""); return err },
		"reassign": func(c *client.Client) error {
			_, err := c.ReassignFollowUp(ctx, "f1", client.Reassignment{Queue: "q"})
			return err
		},
	}
	idempotent := map[string]bool{"ingest": true, "nps": true}
	for _, st := range []int{0, 429, 502, 503, 504, 500, 409} {
		mu.Lock()
		status = st
		mu.Unlock()
		for name, call := range calls {
			c, tr := newClient(t, url, ingestToken, client.WithClock(instant{}), client.WithRetry(client.Retry{Attempts: 3}))
			if err := call(c); err == nil {
				t.Fatalf("%s with %d: no error", name, st)
			}
			want := int64(1)
			if (st == 429) || (idempotent[name] && (st == 0 || st == 502 || st == 503 || st == 504)) {
				want = 3
			}
			if n := tr.n.Load(); n != want {
				t.Errorf("%s answered %d: %d attempts, want %d", name, st, n, want)
			}
		}
	}
	// A connection that cannot be made: nothing was sent, so every call is
	// tried again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for name, call := range calls {
		var retries int
		c, tr := newClient(t, closed, ingestToken, client.WithClock(instant{}),
			client.WithRetry(client.Retry{Attempts: 3, OnRetry: func(client.RetryEvent) { retries++ }}))
		err := call(c)
		if err == nil || !strings.Contains(err.Error(), "connection refused") || tr.n.Load() != 3 || retries != 2 {
			t.Errorf("%s to a closed port: %v after %d attempts", name, err, tr.n.Load())
		}
	}
}
