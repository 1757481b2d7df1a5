package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// feedBlock is how long the feed tests let a Tail wait when nothing comes:
// long enough to tell waiting from returning at once, short enough to run
// often.
const feedBlock = 300 * time.Millisecond

// testFeed checks the change log half of store.Feed, the part readers
// build on: what one entry holds, order and positions, History against
// Tail, waiting, waking on a write, and the gap error.
func testFeed(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	ctx := context.Background()
	at := Start.Add(-5 * time.Minute)
	d := store.Dims{Channel: "phone", Team: "alpha"}

	// An empty log: History has nothing, and Tail from the start waits its
	// block out and returns nothing, not a gap.
	if hist, err := h.s.History(ctx, 5); err != nil || len(hist) != 0 {
		t.Fatalf("history of an empty log: %d entries, %v", len(hist), err)
	}
	began := time.Now()
	if entries, err := h.s.Tail(ctx, store.Position{}, feedBlock); err != nil || len(entries) != 0 {
		t.Fatalf("tail of an empty log: %d entries, %v", len(entries), err)
	}
	if took := time.Since(began); took < feedBlock*3/4 {
		t.Fatalf("tail of an empty log returned after %v; it must wait up to its block (%v)", took, feedBlock)
	}

	// Four batches; the second only repeats, so it writes no entry.
	h.record([]store.Response{resp("a", 3, at, d), resp("b", 9, at, d)})
	h.record([]store.Response{resp("a", 3, at, d)})
	h.record([]store.Response{resp("a", 8, at, d)})
	var many []store.Response
	for i := range 40 {
		many = append(many, resp(fmt.Sprintf("m%02d", i), i%11, at, d))
	}
	h.record(many)
	h.record([]store.Response{resp("c", 0, at, d)})

	all := tailAll(t, h.s, store.Position{})
	if len(all) != 4 {
		t.Fatalf("the log holds %d entries, want 4 (a batch of duplicates writes none)", len(all))
	}
	checkChanges(t, all[0], []string{"a", "b"}, nil)
	checkChanges(t, all[1], []string{"a"}, map[string]int{"a": 3})
	if n := len(all[2].Changes); n != 40 {
		t.Fatalf("the third entry holds %d changes, want the batch's 40", n)
	}
	checkChanges(t, all[3], []string{"c"}, nil)
	if all[1].Changes[0].New.Score != 8 {
		t.Fatalf("the update's new score is %d, want 8", all[1].Changes[0].New.Score)
	}

	// Tail from any entry's position goes on with the next one.
	for i, e := range all[:len(all)-1] {
		next := tailAll(t, h.s, e.Pos)
		if len(next) != len(all)-1-i || next[0].Pos != all[i+1].Pos {
			t.Fatalf("tail from entry %d (%v): %d entries, want %d from %v", i, e.Pos, len(next), len(all)-1-i, all[i+1].Pos)
		}
	}

	// History: the newest n, oldest first, at the positions Tail gave.
	for _, n := range []int{1, 2, 4, 10} {
		hist, err := h.s.History(ctx, n)
		if err != nil {
			t.Fatalf("history(%d): %v", n, err)
		}
		want := all[max(0, len(all)-n):]
		if len(hist) != len(want) {
			t.Fatalf("history(%d): %d entries, want %d", n, len(hist), len(want))
		}
		for i := range want {
			if hist[i].Pos != want[i].Pos || len(hist[i].Changes) != len(want[i].Changes) {
				t.Fatalf("history(%d)[%d] at %v with %d changes, want %v with %d", n, i, hist[i].Pos, len(hist[i].Changes), want[i].Pos, len(want[i].Changes))
			}
		}
	}

	// At the end of the log, Tail waits; a write wakes it before its block
	// ends.
	last := all[len(all)-1].Pos
	began = time.Now()
	if entries, err := h.s.Tail(ctx, last, feedBlock); err != nil || len(entries) != 0 {
		t.Fatalf("tail at the end: %d entries, %v", len(entries), err)
	}
	if took := time.Since(began); took < feedBlock*3/4 {
		t.Fatalf("tail at the end returned after %v; it must wait up to its block (%v)", took, feedBlock)
	}
	type result struct {
		entries []store.LogEntry
		err     error
		took    time.Duration
	}
	done := make(chan result, 1)
	const long = 20 * time.Second
	go func() {
		began := time.Now()
		entries, err := h.s.Tail(ctx, last, long)
		done <- result{entries, err, time.Since(began)}
	}()
	time.Sleep(50 * time.Millisecond) // the reader is most likely waiting by now
	h.record([]store.Response{resp("d", 1, at, d)})
	r := <-done
	if r.err != nil || len(r.entries) != 1 || !r.entries[0].Pos.After(last) {
		t.Fatalf("a waiting tail after a write: %d entries, %v", len(r.entries), r.err)
	}
	checkChanges(t, r.entries[0], []string{"d"}, nil)
	if r.took > long/2 {
		t.Fatalf("a write woke a waiting tail only after %v", r.took)
	}

	// A position the log never reached is a gap: the reader must re-warm.
	far := r.entries[0].Pos
	far.Seq += 1000
	far.Ms += 1000
	if _, err := h.s.Tail(ctx, far, 10*time.Millisecond); !errors.Is(err, store.ErrLogGap) {
		t.Fatalf("tail from a position past the log: %v, want ErrLogGap", err)
	}
}

// tailAll reads the log after pos until a read returns nothing (an engine
// may cap one read), checking that positions only grow.
func tailAll(t *testing.T, s store.Store, pos store.Position) []store.LogEntry {
	t.Helper()
	var out []store.LogEntry
	for {
		entries, err := s.Tail(context.Background(), pos, 10*time.Millisecond)
		if err != nil {
			t.Fatalf("tail from %v: %v", pos, err)
		}
		if len(entries) == 0 {
			return out
		}
		for _, e := range entries {
			if !e.Pos.After(pos) {
				t.Fatalf("tail returned %v after %v: positions must grow", e.Pos, pos)
			}
			pos = e.Pos
		}
		out = append(out, entries...)
	}
}

// checkChanges checks one entry's changes: their response ids in order,
// read from the payload, and the old score of each update (ids not in old
// are new responses, with no old entry).
func checkChanges(t *testing.T, e store.LogEntry, ids []string, old map[string]int) {
	t.Helper()
	if len(e.Changes) != len(ids) {
		t.Fatalf("entry %v holds %d changes, want %d", e.Pos, len(e.Changes), len(ids))
	}
	for i, c := range e.Changes {
		var p store.Payload
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			t.Fatalf("entry %v change %d: payload %q: %v", e.Pos, i, c.Payload, err)
		}
		if p.ID != ids[i] || p.Score != c.New.Score {
			t.Fatalf("entry %v change %d: payload %+v with new score %d, want id %s", e.Pos, i, p, c.New.Score, ids[i])
		}
		score, updated := old[p.ID]
		switch {
		case updated && (c.Old == nil || c.Old.Score != score):
			t.Fatalf("entry %v: the update of %s has old entry %+v, want score %d", e.Pos, p.ID, c.Old, score)
		case !updated && c.Old != nil:
			t.Fatalf("entry %v: the new response %s has an old entry %+v", e.Pos, p.ID, c.Old)
		}
	}
}
