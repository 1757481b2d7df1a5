package alert

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// logRecords is a slog handler that keeps every record.
type logRecords struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (l *logRecords) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecords) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecords) WithGroup(string) slog.Handler            { return l }
func (l *logRecords) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.recs = append(l.recs, r)
	return nil
}

// at returns the records of one level whose message contains text.
func (l *logRecords) at(level slog.Level, text string) []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []slog.Record
	for _, r := range l.recs {
		if r.Level == level && strings.Contains(r.Message, text) {
			out = append(out, r)
		}
	}
	return out
}

func attr(r slog.Record, key string) string {
	v := ""
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// acks is a Changes that hands out nothing and records what is
// acknowledged.
type acks struct{ pos []store.Position }

func (a *acks) Read(context.Context, time.Duration) ([]store.LogEntry, error) { return nil, nil }
func (a *acks) Ack(_ context.Context, pos ...store.Position) error {
	a.pos = append(a.pos, pos...)
	return nil
}

// TestUndecodablePayloadIsLogged: a change whose payload does not decode
// cannot be retried into shape, so it is skipped, but never silently: an
// error names its log position and what it costs. The entry's other
// changes are handled, and the entry is acknowledged.
func TestUndecodablePayloadIsLogged(t *testing.T) {
	logs := &logRecords{}
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	eng, changes := NewMemory(), &acks{}
	svc := New(Options{Config: fastConfig("https://hooks.example/a"), Secret: testSecret, Engine: eng, Changes: changes,
		Calendar: window.MustCalendar(time.UTC), Rollups: store.DefaultRollups(), Now: func() time.Time { return now }, Logger: slog.New(logs)})
	ctx := context.Background()
	good := store.Response{ID: "good", Score: 2, Dims: store.Dims{Channel: "phone"}, At: now, AtGiven: true}
	open := store.Response{ID: "open", Score: 1, Dims: store.Dims{Channel: "phone"}, At: now, AtGiven: true}
	must(t, svc.handle(ctx, []store.LogEntry{{Pos: store.Position{Seq: 1}, Changes: []store.Change{
		{New: store.Entry{Score: 0, At: now.Unix()}, Payload: []byte(`{"id":`)},
		{New: store.EntryOf(good, nil), Payload: store.PayloadOf(good)},
		{New: store.EntryOf(open, nil), Payload: store.PayloadOf(open)},
	}}}))
	// "open" leaves the detractors, but its change does not decode.
	old := store.EntryOf(open, nil)
	must(t, svc.handle(ctx, []store.LogEntry{{Pos: store.Position{Seq: 2}, Changes: []store.Change{
		{New: store.Entry{Score: 9, At: now.Unix()}, Old: &old, Payload: []byte(`not json`)},
	}}}))

	fus, _, err := eng.Unresolved(ctx, 0)
	must(t, err)
	if len(fus) != 2 || fus[0].ID != "good" || fus[1].ID != "open" {
		t.Fatalf("follow-ups %+v, want good and open (the update that would resolve it did not decode)", fus)
	}
	if len(changes.pos) != 2 {
		t.Fatalf("acknowledged %v, want both entries", changes.pos)
	}
	errs := logs.at(slog.LevelError, "does not decode")
	if len(errs) != 2 {
		t.Fatalf("%d errors logged for 2 undecodable changes", len(errs))
	}
	for i, want := range []struct{ pos, cost string }{{"0-1", "no follow-up"}, {"0-2", "stays open"}} {
		if attr(errs[i], "pos") != want.pos || !strings.Contains(errs[i].Message, want.cost) || attr(errs[i], "err") == "" {
			t.Errorf("error %d: %q pos %q err %q, want pos %s and %q", i, errs[i].Message, attr(errs[i], "pos"), attr(errs[i], "err"), want.pos, want.cost)
		}
	}
}

// TestFailuresLogEveryError: a loop's failures all reach the log, the
// first of a run as a warning, its repeats at debug level, and its end.
func TestFailuresLogEveryError(t *testing.T) {
	logs := &logRecords{}
	f := failures{log: slog.New(logs), failing: "cannot do it", recovered: "doing it again"}
	ctx := context.Background()
	f.ok()
	f.fail(ctx, errors.New("first"))
	f.fail(ctx, errors.New("second"))
	f.ok()
	f.ok()
	f.fail(ctx, errors.New("third"))
	var got []string
	for _, r := range logs.recs {
		got = append(got, r.Level.String()+" "+r.Message+" "+attr(r, "err"))
	}
	want := []string{"WARN cannot do it first", "DEBUG cannot do it second", "INFO doing it again ", "WARN cannot do it third"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("logged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOffersAndCSATAloneNeverDetractors: on both engines, an offered
// survey, an answer with CSAT alone (however unhappy: CSAT 1), and an
// answer updated from CSAT alone to CSAT alone again open no follow-up and
// fire no webhook; a real detractor recorded after them (the control: the
// change log is read in order) does. Without isDetractor's HasScore guard
// the offers and the CSAT-only answers (Score store.NoScore, -1) would
// read as scores at or below the cut.
func TestOffersAndCSATAloneNeverDetractors(t *testing.T) {
	for name, start := range map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness} {
		t.Run(name, func(t *testing.T) {
			rcv := newReceiver(t, 0)
			h := start(t, fastConfig(rcv.srv.URL))
			ctx := context.Background()
			dims := store.Dims{Channel: "phone", Team: "billing", Agent: "ana"}
			record(t, h.store,
				store.Response{ID: "offer-1", Kind: store.KindOffer, Dims: dims},
				store.Response{ID: "offer-2", Kind: store.KindOffer, Dims: dims})
			record(t, h.store,
				store.Response{ID: "csat-1", Score: store.NoScore, CSAT: 1, OfferID: "offer-1", Dims: dims, Comment: "awful"},
				store.Response{ID: "csat-2", Score: store.NoScore, CSAT: 2, Dims: dims})
			// An update of the CSAT alone, still without a score.
			record(t, h.store, store.Response{ID: "csat-2", Score: store.NoScore, CSAT: 1, Dims: dims, Comment: "worse", Version: 2})
			// An offer whose Score field was left at 0: a detractor's
			// score, were an offer's score read.
			record(t, h.store, store.Response{ID: "offer-3", Kind: store.KindOffer, Score: 0, Dims: dims})
			record(t, h.store, store.Response{ID: "control", Score: 2, OfferID: "offer-2", Dims: dims})

			var fus []FollowUp
			eventually(t, "the control's follow-up", 5*time.Second, func() bool {
				var err error
				fus, _, err = h.eng.Unresolved(ctx, 0)
				return err == nil && len(fus) > 0
			})
			time.Sleep(200 * time.Millisecond) // anything else would have come by now
			fus, _, err := h.eng.Unresolved(ctx, 0)
			must(t, err)
			if len(fus) != 1 || fus[0].ID != "control" {
				t.Fatalf("follow-ups %+v, want the control alone", fus)
			}
			eventually(t, "the control's webhook", 5*time.Second, func() bool { return rcv.received() >= 1 })
			time.Sleep(200 * time.Millisecond)
			if n := rcv.received(); n != 1 {
				t.Errorf("%d detractor webhooks, want the control's alone", n)
			}
		})
	}
}
