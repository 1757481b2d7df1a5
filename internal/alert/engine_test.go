package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// engines returns both implementations, the Redis one in a namespace of its
// own that is deleted after the test.
func engines(t *testing.T) map[string]Engine {
	rdb := redistest.Client(t)
	cluster := redistest.ClusterClient(t)
	ns := redistest.Tenant(t, rdb, cluster)
	// The cluster shows any key outside the tenant's slot: a script or an
	// MGET naming one fails with CROSSSLOT.
	return map[string]Engine{"memory": NewMemory(), "redis": NewRedis(rdb, ns, time.Hour), "redis-cluster": NewRedis(cluster, ns, time.Hour)}
}

var t0 = time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)

// TestEngine is the one conformance suite of the shared state.
func TestEngine(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			t.Run("outbox", func(t *testing.T) { testOutbox(t, e) })
			t.Run("leases", func(t *testing.T) { testLeases(t, e) })
			t.Run("followups", func(t *testing.T) { testFollowUps(t, e) })
			t.Run("actives", func(t *testing.T) { testActives(t, e) })
			t.Run("sweep", func(t *testing.T) { testSweep(t, e) })
			t.Run("hostile ids", func(t *testing.T) { testHostileIDs(t, e) })
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
	must(t, e.Delivered(ctx, ds[1]))
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
	must(t, e.Delivered(ctx, ds[0]))
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

// testLeases: only the latest claim of a delivery settles it. A node whose
// lease ended (another claim took the delivery over) can neither complete,
// retry nor bury it, and a late retry cannot bring back a delivery the
// other node completed.
func testLeases(t *testing.T, e Engine) {
	ctx := context.Background()
	at := t0.Add(-10 * time.Hour) // before the other subtests' deliveries are due
	before, _, err := e.Pending(ctx)
	must(t, err)
	must(t, e.Enqueue(ctx, Delivery{ID: "L", Event: EventDetractor, URL: "http://x", Body: []byte(`{"n":1}`), Created: at}))
	claim := func(now time.Time) Delivery {
		t.Helper()
		ds, err := e.Claim(ctx, now, time.Minute, 10)
		must(t, err)
		if len(ds) != 1 || ds[0].ID != "L" || ds[0].Lease == "" {
			t.Fatalf("claim at %s: %+v", now, ds)
		}
		return ds[0]
	}
	first := claim(at)
	second := claim(at.Add(2 * time.Minute)) // the first lease ended: a node took it over
	if first.Lease == second.Lease {
		t.Fatalf("two claims with one lease %q", first.Lease)
	}
	stale := first
	stale.Attempts, stale.LastError = 1, "timeout"
	if err := e.Delivered(ctx, first); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("delivered by the lost lease: %v, want ErrLeaseLost", err)
	}
	if err := e.Retry(ctx, stale, at.Add(3*time.Minute)); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("retry by the lost lease: %v, want ErrLeaseLost", err)
	}
	if err := e.Bury(ctx, stale); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("bury by the lost lease: %v, want ErrLeaseLost", err)
	}
	// The second claim still holds it: not due before its lease ends.
	if got := claimIDs(t, e, at.Add(2*time.Minute+30*time.Second), time.Minute); got != "[]" {
		t.Errorf("claimable during the second lease: %s", got)
	}
	if dead, _ := e.DeadLetters(ctx, 1000); len(dead) > 0 && dead[0].ID == "L" {
		t.Errorf("buried by the lost lease: %+v", dead[0])
	}
	must(t, e.Delivered(ctx, second))
	// Late outcomes of either lease change nothing now.
	if err := e.Retry(ctx, stale, at.Add(3*time.Minute)); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("retry after completion: %v, want ErrLeaseLost", err)
	}
	if err := e.Retry(ctx, second, at.Add(3*time.Minute)); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("retry by the completed lease: %v, want ErrLeaseLost", err)
	}
	if err := e.Delivered(ctx, second); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("delivered twice: %v, want ErrLeaseLost", err)
	}
	if n, _, err := e.Pending(ctx); err != nil || n != before {
		t.Errorf("pending after completion: %d, %v; want %d as before", n, err, before)
	}
	if got := claimIDs(t, e, at.Add(time.Hour), time.Minute); got != "[]" {
		t.Errorf("claimable after completion: %s", got)
	}
	// A retry by the holding lease keeps its attempt, and the next claim
	// hands out a new lease.
	must(t, e.Enqueue(ctx, Delivery{ID: "M", Body: []byte(`{}`), Created: at}))
	ds, err := e.Claim(ctx, at, time.Minute, 10)
	must(t, err)
	if len(ds) != 1 {
		t.Fatalf("claim M: %+v", ds)
	}
	m := ds[0]
	m.Attempts = 1
	must(t, e.Retry(ctx, m, at.Add(time.Second)))
	if err := e.Delivered(ctx, m); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("delivered by a lease that retried: %v, want ErrLeaseLost", err)
	}
	ds, err = e.Claim(ctx, at.Add(time.Second), time.Minute, 10)
	must(t, err)
	if len(ds) != 1 || ds[0].Attempts != 1 || ds[0].Lease == m.Lease {
		t.Fatalf("claim of the retried M: %+v", ds)
	}
	must(t, e.Delivered(ctx, ds[0]))
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
	// An emerging theme keeps its figures in the shared state, and its
	// first Since.
	th := Active{ID: "theme:billing/team=billing", Rule: EmergingRule, Title: "Billing errors · billing", Filters: map[store.Dimension]string{store.Team: "billing"},
		Window: "2h", Responses: 50, Since: t0, Updated: t0, Theme: &ThemeAlert{Theme: "billing", Label: "Billing errors", Window: "2h", BaselineSpan: "7d",
			Recent: ThemeShare{From: t0.Add(-2 * time.Hour), To: t0, Mentions: 19, Detractors: 50, Share: 0.38, Low: 0.17, High: 0.65}}}
	_, err = e.Raise(ctx, th)
	must(t, err)
	th.Since = t0.Add(time.Minute)
	_, err = e.Raise(ctx, th)
	must(t, err)
	list, err = e.Active(ctx)
	must(t, err)
	got, ok := themeAlertOf(list[0])
	if len(list) != 1 || !ok || got.ID != th.ID || !got.Since.Equal(t0) || got.Recent.Mentions != 19 || got.Recent.Share != 0.38 || !got.Recent.From.Equal(t0.Add(-2*time.Hour)) || got.Filters[store.Team] != "billing" {
		t.Fatalf("theme alert %+v", list)
	}
	_, err = e.Clear(ctx, th.ID)
	must(t, err)
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
	must(t, e.Enqueue(ctx, Delivery{ID: "olddead", Body: []byte(`{}`), Created: old}))
	ds, err := e.Claim(ctx, old, time.Minute, 1)
	must(t, err)
	if len(ds) != 1 || ds[0].ID != "olddead" {
		t.Fatalf("claimed %+v", ds)
	}
	ds[0].Buried = &old
	must(t, e.Bury(ctx, ds[0]))
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

// hostileIDs are response ids the API accepts that look like key names,
// index names, escapes, hash tags or paths.
var hostileIDs = []string{"unresolved", "resolved", "version", "a%41", "100%", "x:y", "{t}", "../etc",
	"idx:unresolved", "id:x", "}{", "{", "}", "fu:unresolved", "followups:unresolved", "r1"}

// testHostileIDs: follow-ups whose ids equal or resemble the engine's own
// key names open, list, claim and resolve like any other, and none of them
// disturbs the others or the indexes.
func testHostileIDs(t *testing.T, e Engine) {
	ctx := context.Background()
	base := t0.Add(24 * time.Hour) // after the follow-ups of the other subtests
	// The queue may be empty at first: an id that names an index must not
	// create that index as something else.
	open, _, err := e.Unresolved(ctx, 0)
	must(t, err)
	for _, f := range open {
		by := f.ClaimedBy
		if by == "" {
			by = "x"
		}
		_, err := e.Update(ctx, f.ID, func(f *FollowUp) error { return f.Resolve(by, "", base.Add(-time.Minute)) })
		must(t, err)
	}
	for i, id := range hostileIDs {
		f := FollowUp{ID: "h-" + id, Score: 2, At: base, Opened: base.Add(time.Duration(i) * time.Second), Due: base.Add(time.Hour), Status: Open}
		if id != "r1" {
			f.ID = id
		}
		added, err := e.Open(ctx, f)
		if err != nil || !added {
			t.Fatalf("open %q: added %v, %v", f.ID, added, err)
		}
	}
	want := map[string]bool{}
	for _, id := range hostileIDs {
		if id == "r1" {
			id = "h-r1"
		}
		want[id] = true
	}
	list, total, err := e.Unresolved(ctx, 0)
	must(t, err)
	if total != len(want) || len(list) != len(want) {
		t.Fatalf("unresolved: %d listed, %d in all, want %d: %+v", len(list), total, len(want), list)
	}
	for _, f := range list {
		if !want[f.ID] || f.Status != Open {
			t.Errorf("listed %q (%s)", f.ID, f.Status)
		}
	}
	for id := range want {
		got, err := e.Update(ctx, id, func(f *FollowUp) error { return f.Claim("dana", base.Add(time.Minute)) })
		if err != nil || got.ID != id || got.Status != Claimed {
			t.Fatalf("claim %q: %+v, %v", id, got, err)
		}
	}
	// A claim shows in the next listing, on every id.
	list, _, err = e.Unresolved(ctx, 0)
	must(t, err)
	for _, f := range list {
		if f.Status != Claimed || f.ClaimedBy != "dana" {
			t.Errorf("after claims, %q is %s by %q", f.ID, f.Status, f.ClaimedBy)
		}
	}
	for id := range want {
		got, err := e.Update(ctx, id, func(f *FollowUp) error { return f.Resolve("dana", "called "+id, base.Add(2*time.Minute)) })
		if err != nil || got.ID != id || got.Status != Resolved || got.Note != "called "+id {
			t.Fatalf("resolve %q: %+v, %v", id, got, err)
		}
	}
	list, total, err = e.Unresolved(ctx, 0)
	must(t, err)
	if len(list) != 0 || total != 0 {
		t.Errorf("unresolved after resolving them all: %d, %d in all", len(list), total)
	}
	done, err := e.ResolvedSince(ctx, base)
	must(t, err)
	if len(done) != len(want) {
		t.Errorf("resolved since: %d, want %d", len(done), len(want))
	}
	for _, f := range done {
		if !want[f.ID] || f.Note != "called "+f.ID {
			t.Errorf("resolved %q with note %q", f.ID, f.Note)
		}
	}
	// The queue keeps working for an ordinary id after all of them.
	if added, err := e.Open(ctx, FollowUp{ID: "after", At: base, Opened: base.Add(time.Hour), Due: base.Add(2 * time.Hour), Status: Open}); err != nil || !added {
		t.Fatalf("open after: %v, %v", added, err)
	}
	if _, err := e.Update(ctx, "after", func(f *FollowUp) error { return f.Claim("lee", base.Add(time.Hour)) }); err != nil {
		t.Fatalf("claim after: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrateOldLayout: follow-ups stored under the old key layout
// (fu:<id> next to fu:unresolved, fu:resolved, fu:version), including one
// whose id "unresolved" overwrote the old index, move to the current layout
// with their indexes and TTLs, on one Redis and on a cluster; a second run
// finds nothing to do.
func TestMigrateOldLayout(t *testing.T) {
	for name, rdb := range map[string]redis.UniversalClient{"redis": redistest.Client(t), "redis-cluster": redistest.ClusterClient(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ns := redistest.Tenant(t, rdb)
			old := func(s string) string { return "pb:{" + ns + "}:fu:" + s }
			put := func(f FollowUp, ttl time.Duration) {
				b, err := json.Marshal(f)
				must(t, err)
				must(t, rdb.Set(ctx, old(f.ID), b, ttl).Err())
			}
			open1 := FollowUp{ID: "r-1", Score: 2, At: t0, Opened: t0, Due: t0.Add(time.Hour), Status: Open}
			claimed := open1
			claimed.ID, claimed.Opened, claimed.Status, claimed.ClaimedBy = "x:{y}", t0.Add(time.Second), Claimed, "dana"
			done := open1
			resolvedAt := t0.Add(time.Minute)
			done.ID, done.Status, done.ResolvedBy, done.ResolvedAt = "r-2", Resolved, "lee", &resolvedAt
			put(open1, 0)
			put(claimed, 0)
			put(done, time.Hour)
			must(t, rdb.ZAdd(ctx, old("unresolved"), redis.Z{Score: float64(open1.Opened.UnixMilli()), Member: open1.ID},
				redis.Z{Score: float64(claimed.Opened.UnixMilli()), Member: claimed.ID},
				redis.Z{Score: 1, Member: "expired"}).Err())
			must(t, rdb.ZAdd(ctx, old("resolved"), redis.Z{Score: float64(resolvedAt.UnixMilli()), Member: done.ID}).Err())
			must(t, rdb.Set(ctx, old("version"), "7", 0).Err())
			e := NewRedis(rdb, ns, time.Hour)
			n, err := e.Migrate(ctx)
			must(t, err)
			if n != 3 {
				t.Errorf("moved %d, want 3", n)
			}
			list, total, err := e.Unresolved(ctx, 0)
			must(t, err)
			if total != 2 || len(list) != 2 || list[0].ID != "r-1" || list[1].ID != "x:{y}" || list[1].ClaimedBy != "dana" {
				t.Fatalf("unresolved after migrating: %+v (%d in all)", list, total)
			}
			res, err := e.ResolvedSince(ctx, t0)
			must(t, err)
			if len(res) != 1 || res[0].ID != "r-2" {
				t.Fatalf("resolved after migrating: %+v", res)
			}
			if ttl := rdb.TTL(ctx, e.keys.FollowUp("r-2")).Val(); ttl <= 0 || ttl > time.Hour {
				t.Errorf("resolved follow-up's TTL %s, want kept (≤ 1h)", ttl)
			}
			for _, k := range []string{"unresolved", "resolved", "version", "r-1", "x:{y}", "r-2"} {
				if rdb.Exists(ctx, old(k)).Val() != 0 {
					t.Errorf("old key fu:%s left", k)
				}
			}
			if n, err := e.Migrate(ctx); err != nil || n != 0 {
				t.Errorf("second migration moved %d, %v", n, err)
			}
			// The old layout's bug: a detractor "unresolved", opened while
			// the queue was empty, was written over the index's key.
			overwrote := open1
			overwrote.ID, overwrote.Opened = "unresolved", t0.Add(2*time.Second)
			put(overwrote, 0)
			if n, err := e.Migrate(ctx); err != nil || n != 1 {
				t.Errorf("migrating the follow-up over the old index moved %d, %v", n, err)
			}
			if list, _, err := e.Unresolved(ctx, 0); err != nil || len(list) != 3 || list[2].ID != "unresolved" {
				t.Fatalf("unresolved after migrating the overwritten index: %+v, %v", list, err)
			}
			// Migrated follow-ups take transitions like any other.
			if _, err := e.Update(ctx, "unresolved", func(f *FollowUp) error { return f.Resolve("kim", "done", t0.Add(time.Hour)) }); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Update(ctx, "x:{y}", func(f *FollowUp) error { return f.Claim("lee", t0.Add(time.Hour)) }); !errors.Is(err, ErrConflict) {
				t.Errorf("claim of a migrated claimed follow-up by another: %v", err)
			}
		})
	}
}

// TestThemeAlertsOutOfOldNodesSight: on Redis, emerging themes live in a
// hash of their own, so a node of a version before them (a rolling
// upgrade), which reads alert:active, neither shows one as a threshold
// banner nor resolves it as a rule it does not know.
func TestThemeAlertsOutOfOldNodesSight(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	e := NewRedis(rdb, ns, time.Hour)
	for _, a := range []Active{
		{ID: "phone", Rule: "phone", Since: t0, Updated: t0},
		{ID: "theme:billing", Rule: EmergingRule, Since: t0, Updated: t0, Theme: &ThemeAlert{Theme: "billing"}},
	} {
		_, err := e.Raise(ctx, a)
		must(t, err)
	}
	keys := rediskeys.For(ns)
	if ids, err := rdb.HKeys(ctx, keys.AlertActive()).Result(); err != nil || !slices.Equal(ids, []string{"phone"}) {
		t.Errorf("alert:active holds %v, %v", ids, err)
	}
	if list, err := e.Active(ctx); err != nil || len(list) != 2 {
		t.Errorf("active %+v, %v", list, err)
	}
	if ok, err := e.Clear(ctx, "theme:billing"); !ok || err != nil {
		t.Errorf("clear the theme: %v, %v", ok, err)
	}
}
