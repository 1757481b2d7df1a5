package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Reopener opens an engine over the data s holds with other options, as a
// node restarted with a changed configuration would. The suite closes only
// the engine it returns, after closing s.
type Reopener func(t testing.TB, s store.Store, opts store.Options) store.Store

// RunRollupChange checks what docs/OPERATIONS.md promises about changing the
// rollups of a running deployment: responses are recorded under rollup set
// A, then the engine is reopened under set B, which keeps some rollups, adds
// some (over journey and a custom dimension) and drops others, and updates
// many of the same ids. An update retracts from the groups its entry
// remembers, so afterwards
//   - a rollup kept from A to B equals brute force over every response;
//   - a rollup new in B equals brute force over the responses written under
//     B only: it fills from the moment it is configured;
//   - a rollup dropped in B is not answered.
func RunRollupChange(t *testing.T, newStore Factory, reopen Reopener) {
	clock := &Clock{}
	clock.Set(Start)
	base := withRegion(t, Options(t, clock))
	schema := base.Schema
	optsA, optsB := base, base
	optsA.Rollups = mustRollups(t, schema, "all", "team", "channel", "journey+region")
	optsB.Rollups = mustRollups(t, schema, "all", "team", "journey", "channel+journey", "region")
	ctx := context.Background()

	a := newStore(t, optsA)
	all := newModel(base.Themes)
	rng := rand.New(rand.NewPCG(15, 1))
	g := &generator{rng: rng}
	record := func(s store.Store, batch []store.Response) {
		t.Helper()
		got, err := s.Record(ctx, batch)
		if err != nil {
			t.Fatalf("record: %v", err)
		}
		if want := all.record(batch); got != want {
			t.Fatalf("record result = %+v, want %+v", got, want)
		}
	}
	var sentA []store.Response
	for range 20 {
		batch := make([]store.Response, 50)
		for i := range batch {
			g.next++
			batch[i] = store.Response{ID: fmt.Sprintf("r%05d", g.next), Score: rng.IntN(11), Dims: g.dims(),
				At: g.at(clock.Now()), AtGiven: true}
		}
		record(a, batch)
		sentA = append(sentA, batch...)
	}

	clock.Advance(3 * time.Minute)
	b := reopen(t, a, optsB)
	if err := a.Close(); err != nil {
		t.Fatalf("close the engine under A: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	// Under B: every write applies (changed content or a new id), so the
	// responses written under B are exactly these ids' latest versions.
	writtenB := map[string]bool{}
	for range 10 {
		batch := make([]store.Response, 0, 60)
		for range 60 {
			var r store.Response
			if rng.IntN(3) > 0 {
				r = all.latest[sentA[rng.IntN(len(sentA))].ID]
				if writtenB[r.ID] || inBatch(batch, r.ID) {
					continue
				}
				r.Score = (r.Score + 1 + rng.IntN(10)) % 11
				if rng.IntN(2) == 0 {
					r.Dims = g.dims()
				}
			} else {
				g.next++
				r = store.Response{ID: fmt.Sprintf("r%05d", g.next), Score: rng.IntN(11), Dims: g.dims(),
					At: g.at(clock.Now()), AtGiven: true}
			}
			batch = append(batch, r)
			writtenB[r.ID] = true
		}
		record(b, batch)
	}
	if len(writtenB) < 300 {
		t.Fatalf("only %d responses written under B", len(writtenB))
	}
	onlyB := newModel(base.Themes)
	for id := range writtenB {
		onlyB.latest[id] = all.latest[id]
	}

	check := func(m *model, w window.Window, by []store.Dimension, filters map[store.Dimension]string) {
		t.Helper()
		q := store.Query{By: by, Filters: filters, Span: optsB.Calendar.Span(w, clock.Now())}
		got, err := b.Query(ctx, q)
		if err != nil {
			t.Fatalf("query %s by %v %v: %v", w.Name, by, filters, err)
		}
		if g, w2 := render(got), render(m.query(q)); g != w2 {
			t.Fatalf("window %s by %v filters %v:\n got: %s\nwant: %s", w.Name, by, filters, g, w2)
		}
	}
	for _, w := range window.All {
		// Kept: every response, the updates of A's entries retracted.
		check(all, w, nil, nil)
		check(all, w, []store.Dimension{store.Team}, nil)
		// New: only what was written since B.
		check(onlyB, w, []store.Dimension{store.Journey}, nil)
		check(onlyB, w, []store.Dimension{store.Channel, store.Journey}, nil)
		check(onlyB, w, []store.Dimension{region}, nil)
		check(onlyB, w, nil, map[store.Dimension]string{region: regions[0]})
	}
	// Dropped: journey+region is A's only rollup holding both.
	if _, err := b.Query(ctx, store.Query{By: []store.Dimension{store.Journey, region}, Span: optsB.Calendar.Span(window.Rolling1h, clock.Now())}); err == nil {
		t.Fatal("a dropped rollup still answers")
	}
}

func inBatch(batch []store.Response, id string) bool {
	for _, r := range batch {
		if r.ID == id {
			return true
		}
	}
	return false
}
