package alert

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// engines returns both implementations, the Redis one in a namespace of its
// own that is deleted after the test.
func engines(t *testing.T) map[string]Engine {
	rdb := redistest.Client(t)
	ns := redistest.Namespace(t)
	redistest.CleanupKeys(t, rdb, "pb:{"+ns+"}:*")
	return map[string]Engine{"memory": NewMemory(), "redis": NewRedis(rdb, ns, time.Hour)}
}

var t0 = time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

// TestEngine is the one conformance suite of the shared state.
func TestEngine(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("outbox", func(t *testing.T) { testOutbox(t, e) })
			t.Run("followups", func(t *testing.T) { testFollowUps(t, e) })
			t.Run("actives", func(t *testing.T) { testActives(t, e) })
			t.Run("sweep", func(t *testing.T) { testSweep(t, e) })
		})
	}
}

func testOutbox(t *testing.T, e Engine) {
	ctx := context.Background()
	d1 := Delivery{ID: "a", Event: EventDetractor, URL: "http://x", Body: []byte(`{"n":1}`), Created: t0}
	d2 := Delivery{ID: "b", Event: EventDetractor, URL: "http://x", Body: []byte(`{"n":2}`), Created: t0.Add(time.Second)}
	must(t, e.Enqueue(ctx, d1, d2))
	must(t, e.Enqueue(ctx, Delivery{ID: "a", Body: []byte(`{"n":99}`), Created: t0})) // queued already: ignored
	if got := claimIDs(t, e, t0, time.Minute); got != "[a]" {
		t.Fatalf("claim at t0: %s, want [a] (b is not due yet)", got)
	}
	if got := claimIDs(t, e, t0.Add(2*time.Second), time.Minute); got != "[b]" {
		t.Fatalf("claim at t0+2s: %s, want [b] (a is leased)", got)
	}
	// The lease of a ends: a is due again, as if its node had died.
	ds, err := e.Claim(ctx, t0.Add(63*time.Second), time.Minute, 10)
	must(t, err)
	if len(ds) != 2 || string(ds[0].Body) != `{"n":1}` {
		t.Fatalf("after the leases: %+v", ds)
	}
	ds[0].Attempts, ds[0].LastError = 1, "boom"
	must(t, e.Retry(ctx, ds[0], t0.Add(5*time.Minute)))
	must(t, e.Delivered(ctx, "b"))
	n, oldest, err := e.Pending(ctx)
	must(t, err)
	if n != 1 || !oldest.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("pending %d, oldest %s", n, oldest)
	}
	ds, err = e.Claim(ctx, t0.Add(5*time.Minute), time.Minute, 10)
	must(t, err)
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].LastError != "boom" {
		t.Fatalf("retried delivery %+v", ds)
	}
	buried := t0.Add(6 * time.Minute)
	ds[0].Buried = &buried
	must(t, e.Bury(ctx, ds[0]))
	if got := claimIDs(t, e, t0.Add(time.Hour), time.Minute); got != "[]" {
		t.Fatalf("claim after bury: %s", got)
	}
	dead, err := e.DeadLetters(ctx, 10)
	must(t, err)
	if len(dead) != 1 || dead[0].ID != "a" || dead[0].Buried == nil {
		t.Fatalf("dead letters %+v", dead)
	}
	if err := e.Redrive(ctx, "nope", t0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("redrive unknown: %v", err)
	}
	must(t, e.Redrive(ctx, "a", t0.Add(2*time.Hour)))
	if dead, _ := e.DeadLetters(ctx, 10); len(dead) != 0 {
		t.Fatalf("dead letters after redrive %+v", dead)
	}
	ds, err = e.Claim(ctx, t0.Add(2*time.Hour), time.Minute, 10)
	must(t, err)
	if len(ds) != 1 || ds[0].ID != "a" || ds[0].Attempts != 0 || ds[0].Buried != nil || string(ds[0].Body) != `{"n":1}` {
		t.Fatalf("redriven %+v", ds)
	}
	must(t, e.Delivered(ctx, "a"))
	// Concurrent claims never hand out one delivery twice.
	for i := range 50 {
		must(t, e.Enqueue(ctx, Delivery{ID: fmt.Sprintf("c%d", i), Body: []byte(`{}`), Created: t0}))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ds, err := e.Claim(ctx, t0.Add(2*time.Hour), time.Hour, 3)
				if err != nil || len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					seen[d.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != 50 {
		t.Fatalf("claimed %d of 50", len(seen))
	}
	for id, k := range seen {
		if k != 1 {
			t.Errorf("%s claimed %d times", id, k)
		}
	}
}

func claimIDs(t *testing.T, e Engine, now time.Time, lease time.Duration) string {
	t.Helper()
	ds, err := e.Claim(context.Background(), now, lease, 10)
	must(t, err)
	ids := []string{}
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return fmt.Sprint(ids)
}

func testFollowUps(t *testing.T, e Engine) {
	ctx := context.Background()
	f := FollowUp{ID: "r1", Score: 3, Team: "billing", At: t0, Opened: t0, Due: t0.Add(10 * time.Hour), Status: Open}
	added, err := e.Open(ctx, f)
	must(t, err)
	if !added {
		t.Fatal("first open not added")
	}
	g := f
	g.ID, g.Opened = "r2", t0.Add(time.Minute)
	_, err = e.Open(ctx, g)
	must(t, err)
	if added, _ := e.Open(ctx, f); added {
		t.Fatal("second open of r1 added")
	}
	if _, err := e.Update(ctx, "nope", func(*FollowUp) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update unknown: %v", err)
	}
	// Read the queue first: a claim changes a follow-up without changing
	// which ones are open, and the next read must still show it.
	_, _, err = e.Unresolved(ctx, 0)
	must(t, err)
	got, err := e.Update(ctx, "r1", func(f *FollowUp) error { return f.Claim("dana", t0.Add(time.Hour)) })
	must(t, err)
	if got.Status != Claimed || got.ClaimedBy != "dana" {
		t.Fatalf("claimed %+v", got)
	}
	if list, _, err := e.Unresolved(ctx, 0); err != nil || len(list) != 2 || list[0].Status != Claimed || list[0].ClaimedBy != "dana" {
		t.Fatalf("unresolved after a claim: %+v, %v", list, err)
	}
	if _, err := e.Update(ctx, "r1", func(f *FollowUp) error { return f.Claim("lee", t0.Add(time.Hour)) }); !errors.Is(err, ErrConflict) {
		t.Fatalf("claim by another: %v", err)
	}
	// Concurrent claims by different people: exactly one wins.
	var wins sync.WaitGroup
	var mu sync.Mutex
	winners := 0
	for i := range 8 {
		wins.Add(1)
		go func() {
			defer wins.Done()
			if _, err := e.Update(ctx, "r2", func(f *FollowUp) error { return f.Claim(fmt.Sprint("agent", i), t0) }); err == nil {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}()
	}
	wins.Wait()
	if winners != 1 {
		t.Fatalf("%d concurrent claims won, want 1", winners)
	}
	list, total, err := e.Unresolved(ctx, 0)
	must(t, err)
	if len(list) != 2 || total != 2 || list[0].ID != "r1" || list[1].ID != "r2" {
		t.Fatalf("unresolved %+v (%d in all)", list, total)
	}
	// A limit keeps the oldest, and still counts them all.
	list, total, err = e.Unresolved(ctx, 1)
	must(t, err)
	if len(list) != 1 || total != 2 || list[0].ID != "r1" {
		t.Fatalf("unresolved, limit 1: %+v (%d in all)", list, total)
	}
	got, err = e.Update(ctx, "r1", func(f *FollowUp) error { return f.Resolve("dana", "called back, refund issued", t0.Add(2*time.Hour)) })
	must(t, err)
	if got.Status != Resolved || got.Note == "" || !got.InSLA() {
		t.Fatalf("resolved %+v", got)
	}
	if _, err := e.Update(ctx, "r1", func(f *FollowUp) error { return f.Resolve("dana", "again", t0.Add(3*time.Hour)) }); !errors.Is(err, ErrConflict) {
		t.Fatalf("resolve twice: %v", err)
	}
	list, _, err = e.Unresolved(ctx, 0)
	must(t, err)
	if len(list) != 1 || list[0].ID != "r2" {
		t.Fatalf("unresolved after resolve %+v", list)
	}
	done, err := e.ResolvedSince(ctx, t0.Add(time.Hour))
	must(t, err)
	if len(done) != 1 || done[0].ID != "r1" {
		t.Fatalf("resolved since %+v", done)
	}
	done, err = e.ResolvedSince(ctx, t0.Add(3*time.Hour))
	must(t, err)
	if len(done) != 0 {
		t.Fatalf("resolved since later %+v", done)
	}
}

func testActives(t *testing.T, e Engine) {
	ctx := context.Background()
	a := Active{ID: "phone", Rule: "phone", Filters: map[store.Dimension]string{store.Channel: "phone"}, NPS: -12, Responses: 40, Since: t0, Updated: t0}
	fresh, err := e.Raise(ctx, a)
	must(t, err)
	if !fresh {
		t.Fatal("first raise not fresh")
	}
	a.NPS, a.Since, a.Updated = -20, t0.Add(time.Minute), t0.Add(time.Minute)
	fresh, err = e.Raise(ctx, a)
	must(t, err)
	if fresh {
		t.Fatal("second raise fresh")
	}
	list, err := e.Active(ctx)
	must(t, err)
	if len(list) != 1 || list[0].NPS != -20 || !list[0].Since.Equal(t0) || list[0].Filters[store.Channel] != "phone" {
		t.Fatalf("active %+v", list)
	}
	ok, err := e.Clear(ctx, "phone")
	must(t, err)
	if !ok {
		t.Fatal("clear said not raised")
	}
	if ok, _ := e.Clear(ctx, "phone"); ok {
		t.Fatal("second clear said raised")
	}
}

func testSweep(t *testing.T, e Engine) {
	ctx := context.Background()
	old := t0.Add(-48 * time.Hour)
	_, err := e.Open(ctx, FollowUp{ID: "stale", At: old, Opened: old, Due: old, Status: Open})
	must(t, err)
	_, err = e.Open(ctx, FollowUp{ID: "done", At: old, Opened: old, Due: old, Status: Open})
	must(t, err)
	_, err = e.Update(ctx, "done", func(f *FollowUp) error { return f.Resolve("x", "", old) })
	must(t, err)
	must(t, e.Bury(ctx, Delivery{ID: "olddead", Buried: &old}))
	if _, err := e.Sweep(ctx, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.Unresolved(ctx, 0)
	must(t, err)
	for _, f := range list {
		if f.ID == "stale" {
			t.Error("stale follow-up kept")
		}
	}
	done, err := e.ResolvedSince(ctx, old.Add(-time.Hour))
	must(t, err)
	for _, f := range done {
		if f.ID == "done" {
			t.Error("old resolved follow-up kept")
		}
	}
	dead, err := e.DeadLetters(ctx, 100)
	must(t, err)
	for _, d := range dead {
		if d.ID == "olddead" {
			t.Error("old dead letter kept")
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
