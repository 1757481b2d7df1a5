package boards

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// fakeSource answers every query with no responses, remembers the latest
// span it was asked for, and turns ready once queried, so a test can tell
// whether the status was read before or after computing.
type fakeSource struct {
	mu    sync.Mutex
	ready bool
	last  window.Span
}

func (s *fakeSource) Query(q store.Query) ([]store.Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last, s.ready = q.Span, true
	if len(q.By) == 0 {
		return []store.Group{{}}, nil // a total: one group, as an engine answers
	}
	return nil, nil
}

func (s *fakeSource) Recent(int, func(store.Answer) bool) []store.Answer { return nil }

func (s *fakeSource) Status() aggregate.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return aggregate.Status{Epoch: "e-1", Ready: s.ready}
}

func shipped(t *testing.T) []board.Board {
	t.Helper()
	defs, err := board.Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	return defs
}

func newRegistry(t *testing.T) (*Registry, *fakeSource) {
	src := &fakeSource{}
	return New(src, board.Computer{Calendar: window.MustCalendar(time.UTC), MinSample: 30}, shipped(t)), src
}

// The registry is the one owner of the definitions: Set replaces them all,
// lookups see the new set at once, and what a caller was handed before
// stays as it was.
func TestRegistryHoldsTheCurrentSet(t *testing.T) {
	r, _ := newRegistry(t)
	before := r.Boards()
	if got := board.Names(before); !slices.Equal(got, []string{"floor", "supervisor", "team-billing"}) {
		t.Fatalf("boards %v", got)
	}
	if d, ok := r.Board("supervisor"); !ok || d.Name != "supervisor" {
		t.Fatalf("Board(supervisor) = %v, %v", d.Name, ok)
	}
	if _, ok := r.Board("lobby"); ok {
		t.Fatal("Board(lobby) found a board that does not exist")
	}

	before[0].Title = "changed by a caller"
	if d, _ := r.Board("floor"); d.Title == "changed by a caller" {
		t.Fatal("a caller's copy changed the registry")
	}

	next := slices.Clone(before[1:])
	next[0].Title = "Supervisors"
	r.Set(next)
	next[0].Title = "changed after Set"
	if _, ok := r.Board("floor"); ok {
		t.Fatal("floor is still there after a set without it")
	}
	if d, _ := r.Board("supervisor"); d.Title != "Supervisors" {
		t.Fatalf("supervisor title %q, want the set's", d.Title)
	}
	if got := board.Names(before); got[0] != "floor" {
		t.Fatalf("a slice handed out before Set changed: %v", got)
	}
}

// Every subscriber is told of a Set; signals coalesce, and the set read
// after one is the newest.
func TestRegistrySignalsSubscribers(t *testing.T) {
	r, _ := newRegistry(t)
	a, b := r.Subscribe(), r.Subscribe()
	select {
	case <-a:
		t.Fatal("a signal before any Set")
	default:
	}
	defs := r.Boards()
	r.Set(defs[:2])
	r.Set(defs[:1])
	for name, c := range map[string]<-chan struct{}{"a": a, "b": b} {
		select {
		case <-c:
		default:
			t.Fatalf("subscriber %s got no signal", name)
		}
		select {
		case <-c:
			t.Fatalf("subscriber %s got two signals for two quick sets; they coalesce", name)
		default:
		}
	}
	if got := board.Names(r.Boards()); !slices.Equal(got, []string{"floor"}) {
		t.Fatalf("after the signal: %v, want the newest set", got)
	}
}

// Views are computed at the caller's time, with the status read before the
// computation, and a name the registry does not hold is ErrNoBoard.
func TestRegistryComputesViews(t *testing.T) {
	r, src := newRegistry(t)
	now := time.Date(2026, 11, 23, 15, 32, 41, 0, time.UTC)
	v, st, err := r.View("floor", now)
	if err != nil {
		t.Fatal(err)
	}
	if v.Board != "floor" || len(v.Tiles) == 0 {
		t.Fatalf("view of %q with %d tiles", v.Board, len(v.Tiles))
	}
	if st.Epoch != "e-1" || st.Ready {
		t.Fatalf("status %+v: want the one read before computing (not ready yet)", st)
	}
	src.mu.Lock()
	last := src.last
	src.mu.Unlock()
	if last.To.Before(now) || last.To.After(now.Add(time.Minute)) {
		t.Fatalf("queried a span ending %v, want one ending by the end of %v's minute", last.To, now)
	}
	// A Refresh on a node still warming up fails and discovers nothing.
	warming := New(&notReady{}, board.Computer{Calendar: window.MustCalendar(time.UTC)}, shipped(t))
	if _, err := warming.Refresh(now, nil); !errors.Is(err, aggregate.ErrNotReady) || warming.Discovered() {
		t.Fatalf("Refresh while warming up: %v, discovered %v", err, warming.Discovered())
	}
	if _, _, err := r.View("lobby", now); !errors.Is(err, ErrNoBoard) {
		t.Fatalf("View(lobby): %v, want ErrNoBoard", err)
	}
	// A definition of the caller's own, as the index page's overview.
	own := r.Boards()[0]
	own.Name, own.Title = "overview", "Overview"
	if v, _, err := r.Compute(own, now); err != nil || v.Board != "overview" {
		t.Fatalf("Compute(own): %q, %v", v.Board, err)
	}
}

// notReady is an aggregator still warming up.
type notReady struct{ fakeSource }

func (*notReady) Query(store.Query) ([]store.Group, error) { return nil, aggregate.ErrNotReady }
