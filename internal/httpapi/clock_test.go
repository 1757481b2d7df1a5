package httpapi_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// fakeBoards is a board registry holding the shipped boards, which
// remembers the times views were computed at, and fails the ones its
// fail says to.
type fakeBoards struct {
	defs []board.Board
	fail func(def board.Board) error

	mu  sync.Mutex
	ats map[string][]time.Time // board name → the times it was computed at
}

func newFakeBoards(t *testing.T) *fakeBoards {
	t.Helper()
	defs, err := board.Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	return &fakeBoards{defs: defs, ats: map[string][]time.Time{}}
}

func (f *fakeBoards) Boards() []board.Board { return f.defs }

// Discovered: this fake finds no values, and is done at once.
func (f *fakeBoards) Discovered() bool { return true }

// Index lists the definitions; templates have no boards here.
func (f *fakeBoards) Index() []boards.Entry {
	out := make([]boards.Entry, len(f.defs))
	for i, d := range f.defs {
		out[i] = boards.Entry{Board: d}
	}
	return out
}

func (f *fakeBoards) Board(name string) (board.Board, bool) {
	for _, d := range f.defs {
		if d.Name == name {
			return d, true
		}
	}
	return board.Board{}, false
}

func (f *fakeBoards) Compute(def board.Board, now time.Time) (board.View, aggregate.Status, error) {
	f.mu.Lock()
	f.ats[def.Name] = append(f.ats[def.Name], now)
	f.mu.Unlock()
	if f.fail != nil {
		if err := f.fail(def); err != nil {
			return board.View{}, aggregate.Status{}, err
		}
	}
	// No tiles, but a list of them, as a real view's JSON always has.
	return board.View{Board: def.Name, Title: def.Title, Tiles: []board.TileView{}}, aggregate.Status{Epoch: "e-1", Ready: true}, nil
}

func (f *fakeBoards) computedAt(name string) []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ats[name]
}

// recorder keeps the last batch it was given.
type recorder struct {
	mu    sync.Mutex
	batch []store.Response
}

func (r *recorder) Record(_ context.Context, batch []store.Response) (store.RecordResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batch = batch
	return store.RecordResult{Accepted: len(batch)}, nil
}

// frozen is the injected clock of these tests: far from the real time, so
// a handler that reads the real clock shows.
var frozen = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	res, b := call(t, "GET", url, "", "")
	return res.StatusCode, string(b)
}

// The board API, the board page and the index overview compute their
// views at the injected clock's time.
func TestViewsAtTheInjectedClock(t *testing.T) {
	boards := newFakeBoards(t)
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Boards: boards, PublicBoards: true, Calendar: window.MustCalendar(time.UTC), Rollups: store.DefaultRollups(),
		Now: func() time.Time { return frozen },
	}))
	t.Cleanup(srv.Close)
	for _, path := range []string{"/api/v1/boards/floor", "/boards/supervisor", "/"} {
		if status, body := get(t, srv.URL+path); status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
	}
	for _, name := range []string{"floor", "supervisor", "overview"} {
		ats := boards.computedAt(name)
		if len(ats) != 1 || !ats[0].Equal(frozen) {
			t.Errorf("%s computed at %v, want once at the injected %v", name, ats, frozen)
		}
	}
}

// A response without "at" is recorded at the injected clock's time.
func TestResponsesAtTheInjectedClock(t *testing.T) {
	rec := &recorder{}
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Recorder: rec, Decoder: ingest.NewDecoder(ingest.Options{}), IngestTokens: auth.NewTokens(testAdminToken),
		MaxBodyBytes: 1 << 20, Now: func() time.Time { return frozen },
	}))
	t.Cleanup(srv.Close)
	res, p := send(t, "POST", srv.URL+"/api/v1/responses", testAdminToken, `{"id":"r1","score":9,"channel":"phone"}`)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("POST: %d %v", res.StatusCode, p)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.batch) != 1 || !rec.batch[0].At.Equal(frozen) {
		t.Fatalf("recorded %+v, want one response at the injected %v", rec.batch, frozen)
	}
}

// The index page still lists the boards when its overview fails, and says
// why in the log instead of dropping the error; a node still warming up
// is not an error.
func TestIndexOverviewFailureIsLogged(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		logged string
	}{
		{"failure", errors.New("rollup gone"), `level=ERROR msg="index overview"`},
		{"warming up", aggregate.ErrNotReady, `level=DEBUG msg="index overview not ready"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			boards := newFakeBoards(t)
			boards.fail = func(def board.Board) error {
				if def.Name == "overview" {
					return tc.err
				}
				return nil
			}
			logs := &logBuffer{}
			srv := httptest.NewServer(httpapi.New(httpapi.Deps{
				Boards: boards, PublicBoards: true, Calendar: window.MustCalendar(time.UTC), Rollups: store.DefaultRollups(),
				Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			}))
			t.Cleanup(srv.Close)
			status, body := get(t, srv.URL+"/")
			if status != http.StatusOK || !strings.Contains(body, "/boards/team-billing") {
				t.Fatalf("index: %d, want 200 listing every board:\n%s", status, body)
			}
			if out := logs.String(); !strings.Contains(out, tc.logged) || !strings.Contains(out, tc.err.Error()) {
				t.Fatalf("log lacks %s with %q:\n%s", tc.logged, tc.err, out)
			}
		})
	}
}
