package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/window"
)

const testSecret = "test-alert-secret-0123456789"

// receiver is a real HTTP endpoint that checks every delivery's signature
// and records it; it fails the first `fail` attempts of each delivery.
type receiver struct {
	t    *testing.T
	srv  *httptest.Server
	fail int

	mu       sync.Mutex
	attempts map[string]int // by delivery id
	bodies   map[string][]byte
	events   []string
	times    map[string][]time.Time
}

func newReceiver(t *testing.T, fail int) *receiver {
	r := &receiver{t: t, fail: fail, attempts: map[string]int{}, bodies: map[string][]byte{}, times: map[string][]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := Verify([]byte(testSecret), req.Header.Get(HeaderSignature), body, time.Now(), DefaultTolerance); err != nil {
		r.t.Errorf("receiver: %v (header %q)", err, req.Header.Get(HeaderSignature))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("receiver: content type %q", req.Header.Get("Content-Type"))
	}
	id := req.Header.Get(HeaderDelivery)
	r.mu.Lock()
	r.attempts[id]++
	n := r.attempts[id]
	r.times[id] = append(r.times[id], time.Now())
	failing := n <= r.fail
	if !failing {
		r.bodies[id] = body
		r.events = append(r.events, req.Header.Get(HeaderEvent))
	}
	r.mu.Unlock()
	if failing {
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// received counts the deliveries taken (2xx) so far, a delivery sent again
// counting again.
func (r *receiver) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// delivered returns the bodies taken (2xx) so far.
func (r *receiver) delivered() map[string][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]byte{}
	for k, v := range r.bodies {
		out[k] = v
	}
	return out
}

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type harness struct {
	svc   *Service
	store store.Store
	eng   Engine
	// second makes another node's view of the same state: a Service over
	// its own engine on the same Redis (the same Memory on one node).
	second func(Config) *Service
}

// startService runs a Service over a store until the test ends.
func startService(t *testing.T, st store.Store, eng Engine, changes Changes, cfg Config) *Service {
	cal := window.MustCalendar(time.UTC)
	svc := New(Options{Config: cfg, Secret: testSecret, Engine: eng, Changes: changes, Querier: st,
		Calendar: cal, Rollups: store.DefaultRollups(), Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return svc
}

func memHarness(t *testing.T, cfg Config) harness {
	st := memstore.New(store.Options{Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(time.UTC), Retention: store.DefaultRetention()})
	changes, err := NewFeedChanges(context.Background(), st, slog.New(slog.DiscardHandler))
	must(t, err)
	eng := NewMemory()
	return harness{svc: startService(t, st, eng, changes, cfg), store: st, eng: eng, second: func(c Config) *Service {
		return New(Options{Config: c, Engine: eng, Calendar: window.MustCalendar(time.UTC)})
	}}
}

func record(t *testing.T, st store.Store, rs ...store.Response) {
	t.Helper()
	for i := range rs {
		if rs[i].At.IsZero() {
			rs[i].At = time.Now()
		}
		rs[i].AtGiven = true
	}
	if _, err := st.Record(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

func fastConfig(urls ...string) Config {
	c := DefaultConfig()
	c.Webhooks = urls
	c.Backoff, c.MaxBackoff, c.Timeout = 50*time.Millisecond, 200*time.Millisecond, 2*time.Second
	c.AllowPrivateReceivers = true // the receivers are httptest servers on loopback
	return c
}

// TestDetractorWebhook: a detractor reaches a real receiver signed, with
// its payload, after two failed attempts (retried with backoff, same
// delivery id); a promoter, an old answer and a detractor updated to
// another detractor fire nothing; an answer updated into a detractor does.
func TestDetractorWebhook(t *testing.T) {
	rcv := newReceiver(t, 2)
	h := memHarness(t, fastConfig(rcv.srv.URL))
	record(t, h.store,
		store.Response{ID: "d1", Score: 3, Dims: store.Dims{Channel: "phone", Team: "billing", Agent: "ana"}, Comment: "waited 40 minutes"},
		store.Response{ID: "p1", Score: 10, Dims: store.Dims{Channel: "email"}},
		store.Response{ID: "old", Score: 0, Dims: store.Dims{Channel: "email"}, At: time.Now().Add(-3 * time.Hour)},
		store.Response{ID: "u1", Score: 8, Dims: store.Dims{Channel: "chat"}},
	)
	eventually(t, "the detractor delivered", 5*time.Second, func() bool { return len(rcv.delivered()) == 1 })
	var id string
	var body []byte
	for k, v := range rcv.delivered() {
		id, body = k, v
	}
	var ev DetractorEvent
	must(t, json.Unmarshal(body, &ev))
	if ev.Event != EventDetractor || ev.Response.ID != "d1" || ev.Response.Score != 3 || ev.Response.Team != "billing" ||
		ev.Response.Comment != "waited 40 minutes" || ev.FollowUp.Status != Open || ev.FollowUp.ID != "d1" {
		t.Errorf("payload %s", body)
	}
	rcv.mu.Lock()
	attempts, times := rcv.attempts[id], rcv.times[id]
	rcv.mu.Unlock()
	if attempts != 3 {
		t.Errorf("attempts %d, want 3 (two failures, then 2xx)", attempts)
	}
	if len(times) == 3 && times[1].Sub(times[0]) < 40*time.Millisecond {
		t.Errorf("retried after %v, before the 50 ms backoff (-20%%)", times[1].Sub(times[0]))
	}

	// Updates: u1 8 → 2 becomes a detractor; d1 3 → 1 was one already.
	u1 := store.Dims{Channel: "chat", Journey: "pharma"}
	u1.Set("region", "north")
	record(t, h.store,
		store.Response{ID: "u1", Score: 2, Dims: u1},
		store.Response{ID: "d1", Score: 1, Dims: store.Dims{Channel: "phone", Team: "billing", Agent: "ana"}, Comment: "waited 40 minutes"},
	)
	eventually(t, "the updated answer delivered", 5*time.Second, func() bool { return len(rcv.delivered()) == 2 })
	time.Sleep(300 * time.Millisecond)
	if n := len(rcv.delivered()); n != 2 {
		t.Errorf("%d deliveries, want 2 (d1 and u1 only)", n)
	}
	fus, _, err := h.eng.Unresolved(context.Background(), 0)
	must(t, err)
	if len(fus) != 2 || fus[0].ID != "d1" || fus[1].ID != "u1" {
		t.Errorf("follow-ups %+v", fus)
	} else if fus[1].Journey != "pharma" || fus[1].Dims() != u1 {
		t.Errorf("the follow-up lost the journey or region: %+v", fus[1])
	}
	if d := fus[0].Due; !d.Equal(window.MustCalendar(time.UTC).End(window.Day, window.MustCalendar(time.UTC).Bucket(window.Day, fus[0].At))) {
		t.Errorf("same-day SLA: due %s for an answer at %s", d, fus[0].At)
	}
}

// waitDeadLetters waits for n dead letters and returns them.
func waitDeadLetters(t *testing.T, h harness, n int) []Delivery {
	t.Helper()
	var dead []Delivery
	eventually(t, fmt.Sprintf("%d dead letters", n), 5*time.Second, func() bool {
		dead, _ = h.svc.DeadLetters(context.Background(), 10)
		return len(dead) == n
	})
	return dead
}

// TestDeadLetter: a receiver that never answers 2xx gets Retries attempts;
// then the delivery is a dead letter and nothing more is sent, until an
// admin redrives it once the receiver works again.
func TestDeadLetter(t *testing.T) {
	rcv := newReceiver(t, 1000)
	cfg := fastConfig(rcv.srv.URL)
	cfg.Retries = 3
	h := memHarness(t, cfg)
	record(t, h.store, store.Response{ID: "d1", Score: 0, Dims: store.Dims{Channel: "phone"}})
	dead := waitDeadLetters(t, h, 1)
	if d := dead[0]; d.Attempts != 3 || d.Event != EventDetractor || d.LastError == "" || d.Buried == nil {
		t.Errorf("dead letter %+v", d)
	}
	time.Sleep(400 * time.Millisecond)
	rcv.mu.Lock()
	for id, n := range rcv.attempts {
		if n != 3 {
			t.Errorf("%s attempted %d times, want 3", id, n)
		}
	}
	rcv.fail = 0 // the receiver is fixed
	rcv.mu.Unlock()
	must(t, h.svc.Redrive(context.Background(), dead[0].ID))
	eventually(t, "the redriven delivery", 5*time.Second, func() bool { return len(rcv.delivered()) == 1 })
	if dead, _ := h.svc.DeadLetters(context.Background(), 10); len(dead) != 0 {
		t.Errorf("dead letters after redrive: %+v", dead)
	}
}

// TestCrashBetweenRecordAndDelivery: on Redis, a node that read a detractor
// from the change log and died before acknowledging it leaves the entry
// pending; another node claims it and delivers.
func TestCrashBetweenRecordAndDelivery(t *testing.T) {
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	st := redisstore.New(rdb, store.Options{Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(time.UTC),
		Retention: store.DefaultRetention()}, redisstore.Config{Tenant: ns})
	ctx := context.Background()

	// The node that dies: it creates the group, reads the entry, and stops.
	dead := redisstore.NewGroup(rdb, ns, "alerts", "dead-node", 200*time.Millisecond)
	if _, err := dead.Read(ctx, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	record(t, st, store.Response{ID: "d1", Score: 2, Dims: store.Dims{Channel: "phone"}})
	got, err := dead.Read(ctx, time.Second)
	must(t, err)
	if len(got) != 1 {
		t.Fatalf("the dying node read %d entries", len(got))
	}

	rcv := newReceiver(t, 0)
	eng := NewRedis(rdb, ns, time.Hour)
	startService(t, st, eng, redisstore.NewGroup(rdb, ns, "alerts", "live-node", 200*time.Millisecond), fastConfig(rcv.srv.URL))
	eventually(t, "the other node delivers the orphaned detractor", 5*time.Second, func() bool { return len(rcv.delivered()) == 1 })
	fus, _, err := eng.Unresolved(ctx, 0)
	must(t, err)
	if len(fus) != 1 || fus[0].ID != "d1" {
		t.Errorf("follow-ups %+v", fus)
	}
}

// TestBackoff: the wait doubles from Backoff up to MaxBackoff, ±20%.
func TestBackoff(t *testing.T) {
	c := DefaultConfig()
	c.Backoff, c.MaxBackoff = time.Second, 10*time.Second
	s := New(Options{Config: c})
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 30: 10 * time.Second} {
		for range 50 {
			if got := s.backoff(n); got < want*8/10 || got > want*12/10 {
				t.Fatalf("backoff(%d) = %v, want %v ±20%%", n, got, want)
			}
		}
	}
}

// noChanges is a change log with nothing in it.
type noChanges struct{}

func (noChanges) Read(ctx context.Context, block time.Duration) ([]store.LogEntry, error) {
	sleep(ctx, block)
	return nil, nil
}

func (noChanges) Ack(context.Context, ...store.Position) error { return nil }

// TestOneSendPerDelivery: two nodes share one outbox, on both engines, and
// a receiver takes almost the whole timeout to answer each request. Every
// delivery reaches it exactly once: no lease ends while its delivery waits
// to be sent, or while it is being sent.
func TestOneSendPerDelivery(t *testing.T) {
	const hang, timeout, deliveries = 2200 * time.Millisecond, 3 * time.Second, 20
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	for name, pair := range map[string][2]Engine{
		"memory": func() [2]Engine { m := NewMemory(); return [2]Engine{m, m} }(),
		"redis":  {NewRedis(rdb, ns, time.Hour), NewRedis(rdb, ns, time.Hour)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			hits := map[string]int{}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hits[r.Header.Get(HeaderDelivery)]++
				mu.Unlock()
				time.Sleep(hang)
				w.WriteHeader(http.StatusNoContent)
			}))
			t.Cleanup(srv.Close)
			cfg := fastConfig(srv.URL)
			cfg.Timeout = timeout
			ctx := context.Background()
			began := time.Now()
			for i := range deliveries {
				must(t, pair[0].Enqueue(ctx, Delivery{ID: fmt.Sprintf("%s-%d", name, i), Event: EventDetractor, URL: srv.URL, Body: []byte(`{}`), Created: began}))
			}
			for _, e := range pair {
				startService(t, nil, e, noChanges{}, cfg)
			}
			eventually(t, "every delivery sent and settled", 30*time.Second, func() bool {
				n, _, err := pair[0].Pending(ctx)
				mu.Lock()
				defer mu.Unlock()
				return err == nil && n == 0 && len(hits) == deliveries
			})
			// Past the end of every lease the first claims could have taken.
			time.Sleep(time.Until(began.Add(timeout + 5*time.Second + hang)))
			mu.Lock()
			defer mu.Unlock()
			for id, n := range hits {
				if n != 1 {
					t.Errorf("%s sent %d times, want once", id, n)
				}
			}
		})
	}
}

// redisHarness runs a Service on the Redis engine, reading the change log
// in a consumer group created before the test records anything.
func redisHarness(t *testing.T, cfg Config) harness {
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	st := redisstore.New(rdb, store.Options{Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(time.UTC),
		Retention: store.DefaultRetention()}, redisstore.Config{Tenant: ns})
	group := redisstore.NewGroup(rdb, ns, "alerts", "node", 200*time.Millisecond)
	if _, err := group.Read(context.Background(), 10*time.Millisecond); err != nil { // creates the group at the log's end
		t.Fatal(err)
	}
	eng := NewRedis(rdb, ns, time.Hour)
	return harness{svc: startService(t, st, eng, group, cfg), store: st, eng: eng, second: func(c Config) *Service {
		return New(Options{Config: c, Engine: NewRedis(rdb, ns, time.Hour), Calendar: window.MustCalendar(time.UTC)})
	}}
}

// TestLateUpdateIntoDetractor: on both engines, an answer given hours ago
// and updated into a detractor now alerts (the update is news when it is
// recorded), while an answer first recorded hours after it was given (an
// import, a backfill) does not.
func TestLateUpdateIntoDetractor(t *testing.T) {
	for name, start := range map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness} {
		t.Run(name, func(t *testing.T) {
			rcv := newReceiver(t, 0)
			h := start(t, fastConfig(rcv.srv.URL))
			answered := time.Now().Add(-3 * time.Hour)
			// First recorded within the hour: news, but a promoter.
			record(t, h.store, store.Response{ID: "late", Score: 9, Dims: store.Dims{Channel: "phone"}, At: time.Now().Add(-30 * time.Minute)})
			// First recorded three hours after it was given: history.
			record(t, h.store, store.Response{ID: "backfill", Score: 1, Dims: store.Dims{Channel: "phone"}, At: answered})
			record(t, h.store, store.Response{ID: "old-promoter", Score: 10, Dims: store.Dims{Channel: "email"}, At: answered})
			time.Sleep(300 * time.Millisecond)
			// Updates into detractors, recorded now: one answered 30 minutes
			// ago, one answered three hours ago.
			record(t, h.store,
				store.Response{ID: "late", Score: 2, Dims: store.Dims{Channel: "phone"}, At: time.Now().Add(-30 * time.Minute)},
				store.Response{ID: "old-promoter", Score: 3, Dims: store.Dims{Channel: "email"}, At: answered},
			)
			eventually(t, "both updates delivered", 5*time.Second, func() bool { return len(rcv.delivered()) == 2 })
			time.Sleep(300 * time.Millisecond)
			fus, _, err := h.eng.Unresolved(context.Background(), 0)
			must(t, err)
			ids := map[string]bool{}
			for _, f := range fus {
				ids[f.ID] = true
			}
			if len(fus) != 2 || !ids["late"] || !ids["old-promoter"] {
				t.Errorf("follow-ups %+v, want late and old-promoter (not the backfill)", fus)
			}
			if n := len(rcv.delivered()); n != 2 {
				t.Errorf("%d deliveries, want 2", n)
			}
		})
	}
}

// TestDetractorUpdatedOut: an answer updated from a detractor's score to a
// passive or promoter one (README's case-1002, from 3 to 8) resolves its
// follow-up "by update", also when someone had claimed it, on both engines;
// one that was already resolved by a person stays as they left it.
func TestDetractorUpdatedOut(t *testing.T) {
	for name, start := range map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness} {
		t.Run(name, func(t *testing.T) {
			rcv := newReceiver(t, 0)
			h := start(t, fastConfig(rcv.srv.URL))
			ctx := context.Background()
			at := time.Now().Add(-10 * time.Minute)
			for _, id := range []string{"case-1002", "claimed", "done"} {
				record(t, h.store, store.Response{ID: id, Score: 3, Dims: store.Dims{Channel: "email"}, At: at})
			}
			eventually(t, "three follow-ups and their alerts", 5*time.Second, func() bool {
				fus, _, err := h.eng.Unresolved(ctx, 0)
				return err == nil && len(fus) == 3 && rcv.received() == 3
			})
			_, err := h.eng.Update(ctx, "claimed", func(f *FollowUp) error { return f.Claim("ana", time.Now()) })
			must(t, err)
			_, err = h.eng.Update(ctx, "done", func(f *FollowUp) error { return f.Resolve("ben", "called back", time.Now()) })
			must(t, err)
			record(t, h.store,
				store.Response{ID: "case-1002", Score: 8, Dims: store.Dims{Channel: "email"}, At: at},
				store.Response{ID: "claimed", Score: 10, Dims: store.Dims{Channel: "email"}, At: at},
				store.Response{ID: "done", Score: 9, Dims: store.Dims{Channel: "email"}, At: at},
			)
			eventually(t, "the updated answers' follow-ups resolved", 5*time.Second, func() bool {
				fus, _, err := h.eng.Unresolved(ctx, 0)
				return err == nil && len(fus) == 0
			})
			resolved, err := h.eng.ResolvedSince(ctx, time.Now().Add(-time.Hour))
			must(t, err)
			got := map[string]FollowUp{}
			for _, f := range resolved {
				got[f.ID] = f
			}
			if f := got["case-1002"]; f.ResolvedBy != ResolvedByUpdate || f.Note != "resolved by update: the customer changed the score from 3 to 8" {
				t.Errorf("case-1002: %+v", f)
			}
			if f := got["claimed"]; f.ResolvedBy != ResolvedByUpdate || f.ClaimedBy != "ana" || !strings.Contains(f.Note, "claimed by ana") {
				t.Errorf("claimed: %+v", f)
			}
			if f := got["done"]; f.ResolvedBy != "ben" || f.Note != "called back" {
				t.Errorf("a follow-up a person resolved changed: %+v", f)
			}
			// Back down again: a detractor once more, alerted and open as new.
			before := rcv.received()
			record(t, h.store, store.Response{ID: "case-1002", Score: 2, Dims: store.Dims{Channel: "email"}, At: at})
			eventually(t, "the follow-up open again", 5*time.Second, func() bool {
				fus, _, err := h.eng.Unresolved(ctx, 0)
				return err == nil && len(fus) == 1 && fus[0].ID == "case-1002" && fus[0].Score == 2 && fus[0].Status == Open && fus[0].ResolvedAt == nil
			})
			eventually(t, "a second detractor alert", 5*time.Second, func() bool { return rcv.received() == before+1 })
		})
	}
}
