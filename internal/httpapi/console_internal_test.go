package httpapi

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/views"
)

// TestSparkSpans: for every window and for from/to ranges (as the API
// reads them: widened where an edge's buckets have expired, or ending in
// the future), in zones with DST and with a half-hour phase, the steps
// tile the span exactly, are at most consoleSparkPoints, and cut it only
// where the buckets kept for its age allow (minutes within 25h, hours
// within 31 days, else days).
func TestSparkSpans(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Asia/Kolkata", "America/Santiago", "UTC"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		for _, now := range []time.Time{
			time.Date(2026, 11, 1, 6, 37, 12, 0, time.UTC), // New York's fall-back day
			time.Date(2026, 9, 6, 4, 2, 0, 0, time.UTC),    // Santiago's skipped midnight
			time.Date(2026, 12, 2, 9, 59, 59, 0, time.UTC),
		} {
			cal, err := window.NewCalendar(loc, now)
			if err != nil {
				t.Fatal(err)
			}
			spans := map[string]window.Span{}
			for _, w := range window.All {
				spans[w.Name] = cal.Span(w, now)
			}
			opts := store.Options{Calendar: cal, Retention: store.DefaultRetention()}
			minute := now.Truncate(time.Minute)
			for name, r := range map[string][2]time.Duration{
				"range of 2 days from 3 days back": {-72*time.Hour + 13*time.Minute, -24*time.Hour + 7*time.Minute},
				"range into the future":            {-2*time.Hour + 3*time.Minute, 5 * time.Hour},
				"range of 5 weeks back":            {-40*24*time.Hour + 17*time.Minute, -5 * 24 * time.Hour},
				"range of 11 minutes":              {-11 * time.Minute, 0},
				"range of 300 days":                {-300 * 24 * time.Hour, -time.Hour},
			} {
				spans[name] = opts.Cover(window.Span{From: minute.Add(r[0]), To: minute.Add(r[1])}, now).Span
			}
			for name, span := range spans {
				steps, text := sparkSpans(cal, span, now, consoleSparkPoints)
				what := zone + " " + now.Format(time.RFC3339) + " " + name + " (" + text + ")"
				// At least 8 steps, or one a minute in a shorter span.
				if minSteps := min(8, int(span.To.Sub(span.From)/time.Minute)); len(steps) < minSteps || len(steps) > consoleSparkPoints {
					t.Errorf("%s: %d steps", what, len(steps))
				}
				if !steps[0].From.Equal(span.From) || !steps[len(steps)-1].To.Equal(span.To) {
					t.Errorf("%s: steps cover %s–%s, the window %s–%s", what, steps[0].From, steps[len(steps)-1].To, span.From, span.To)
				}
				for i, st := range steps {
					if !st.From.Before(st.To) || (i > 0 && !st.From.Equal(steps[i-1].To)) {
						t.Fatalf("%s: step %d (%s–%s) does not follow the one before", what, i, st.From, st.To)
					}
					// No stub of a step at either end (a point of a few
					// answers): each is at least half of a full step.
					if mid := steps[len(steps)/2]; len(steps) >= 3 && 2*st.To.Sub(st.From) < mid.To.Sub(mid.From) {
						t.Errorf("%s: step %d is %s, under half a step", what, i, st.To.Sub(st.From))
					}
					if i == 0 {
						continue
					}
					// Every inner cut is a boundary of buckets kept that long.
					age := now.Sub(st.From)
					gran := window.Minute
					switch {
					case age > 31*24*time.Hour:
						gran = window.Day
					case age > 25*time.Hour:
						gran = window.Hour
					}
					if !cal.Start(gran, cal.Bucket(gran, st.From)).Equal(st.From) {
						t.Errorf("%s: step %d starts at %s, not on a %s boundary", what, i, st.From.In(loc), gran)
					}
				}
			}
		}
	}
}

// TestSparklinesAddUp: each row's sparkline points add up to the row's
// answers, on every window and on ranges the API would read (one widened
// at an old edge): the steps lose and double nothing.
func TestSparklinesAddUp(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	st := memstore.New(opts)
	t.Cleanup(func() { st.Close() })
	now := clock.Now()
	var batch []store.Response
	for i := range 4000 {
		back := time.Duration(i*i) * time.Second / 4 // denser near now, back to ~46 days
		batch = append(batch, store.Response{ID: "s" + string(rune('a'+i%26)) + time.Duration(i).String(), Score: i % 11,
			At: now.Add(-back), AtGiven: true, Dims: store.Dims{Channel: []string{"phone", "chat"}[i%2], Team: []string{"a", "b", "c"}[i%3]}})
	}
	if _, err := st.Record(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	a := &API{Deps: Deps{Querier: st, Calendar: opts.Calendar, Rollups: opts.Rollups, MinSample: 30}}
	spans := map[string]window.Span{}
	for _, w := range window.All {
		spans[w.Name] = opts.Calendar.Span(w, now)
	}
	minute := now.Truncate(time.Minute)
	spans["range from 3 days back"] = opts.Cover(window.Span{From: minute.Add(-72*time.Hour + 13*time.Minute), To: minute.Add(-50 * time.Minute)}, now).Span
	spans["range of 40 days"] = opts.Cover(window.Span{From: minute.Add(-40*24*time.Hour + 7*time.Minute), To: minute.Add(-24 * time.Hour)}, now).Span
	for name, span := range spans {
		q := store.Query{By: []store.Dimension{store.Team}, Span: span}
		groups, err := st.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		points, _, err := a.sparklines(context.Background(), q, now)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups {
			var sum int64
			for _, p := range points[g.Key[store.Team]] {
				sum += p.Responses
			}
			if sum != g.Counts.Responses() {
				t.Errorf("%s team %s: sparkline holds %d answers, the span %d", name, g.Key[store.Team], sum, g.Counts.Responses())
			}
		}
	}
}

// TestConsoleWithoutAgentNames: an audience that may not see agent names
// gets no agent breakdown, filter, drill or answer column, and a refusal
// for an address that asks for them. (Who is such an audience is
// consoleAudienceOf's to decide; TestConsoleAudience asks over HTTP.)
func TestConsoleWithoutAgentNames(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	st := memstore.New(opts)
	t.Cleanup(func() { st.Close() })
	if _, err := st.Record(context.Background(), []store.Response{
		{ID: "1", Score: 3, At: clock.Now().Add(-time.Minute), AtGiven: true, Comment: "slow",
			Dims: store.Dims{Channel: "phone", Team: "billing", Agent: "Secret Name"}},
	}); err != nil {
		t.Fatal(err)
	}
	a := &API{Deps: Deps{Querier: st, ChangeLog: st, Calendar: opts.Calendar, Rollups: opts.Rollups, MinSample: 30, Now: clock.Now}}
	hidden := consoleAudience{showAgents: false}
	now := clock.Now()
	for _, addr := range []string{"window=1h&by=agent", "window=1h&agent=Secret+Name", "window=1h&by=team,agent"} {
		params, _ := url.ParseQuery(addr)
		if _, err := a.parseConsole(params, hidden); err == nil || !strings.Contains(err.Error(), "agent names are not shown") {
			t.Errorf("%s: %v, want a refusal", addr, err)
		}
	}
	form := a.consoleForm(context.Background(), consoleView{}, now, hidden)
	for _, o := range form.By {
		if strings.Contains(o.Value, "agent") {
			t.Errorf("breakdown %q offered", o.Value)
		}
	}
	for _, f := range form.Filters {
		if f.Name == "agent" {
			t.Error("agent filter offered")
		}
	}
	for _, addr := range []string{"window=1h&by=team", "window=1h&team=billing"} {
		params, _ := url.ParseQuery(addr)
		v, err := a.parseConsole(params, hidden)
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.consoleResults(context.Background(), v, now, hidden)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := views.ConsoleResultsPart(res).Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "Secret") || strings.Contains(b.String(), "by=agent") || strings.Contains(b.String(), ">agent<") {
			t.Errorf("%s shows an agent: %s", addr, b.String())
		}
		if addr == "window=1h&team=billing" && (res.Answers == nil || len(res.Answers.Answers) != 1 || slices.Contains(res.Answers.Dims, "agent") ||
			slices.Contains(res.Answers.Answers[0].Dims, "Secret Name")) {
			t.Errorf("%s: answers %+v, want the one answer without its agent", addr, res.Answers)
		}
	}
}

// TestSortRowsEmptyLast: a group without answers (the overall group of an
// empty window) stays last whichever way the table is sorted.
func TestSortRowsEmptyLast(t *testing.T) {
	mk := func(key string, d nps.Distribution) consoleRow {
		return consoleRow{key: key, s: nps.Summarize(d, 30)}
	}
	for _, sortParam := range []string{"nps", "-nps", "n", "-n", "promoters", "-detractors", "group", "-group"} {
		rows := []consoleRow{mk("x", nps.Distribution{}), mk("y", nps.Of(1, 2, 3)), mk("z", nps.Of(9, 10))}
		sortRows(rows, sortParam)
		if rows[2].key != "x" {
			t.Errorf("sort=%s: %s, %s, %s; want the empty group last", sortParam, rows[0].key, rows[1].key, rows[2].key)
		}
	}
}

// countingLog is a change log of fixed entries that counts the changes
// each History call hands out.
type countingLog struct {
	entries []store.LogEntry
	reads   []int
}

func (l *countingLog) History(_ context.Context, n int) ([]store.LogEntry, error) {
	out := l.entries[max(0, len(l.entries)-n):]
	changes := 0
	for _, e := range out {
		changes += len(e.Changes)
	}
	l.reads = append(l.reads, changes)
	return out, nil
}

// TestScanAnswersBounded: a log of import-sized entries (1000 answers
// each) is read in small steps and never past historyMaxChanges by more
// than one entry; a log of single answers grows its reads until it finds
// enough.
func TestScanAnswersBounded(t *testing.T) {
	mk := func(entries, per int) *countingLog {
		l := &countingLog{}
		for i := range entries {
			var e store.LogEntry
			for j := range per {
				p := store.PayloadOf(store.Response{ID: "x", Score: 9, Dims: store.Dims{Team: "other"}})
				if i == 0 && j == 0 {
					p = store.PayloadOf(store.Response{ID: "wanted", Score: 9, Dims: store.Dims{Team: "t"}})
				}
				e.Changes = append(e.Changes, store.Change{New: store.Entry{At: int64(i)}, Payload: p})
			}
			l.entries = append(l.entries, e)
		}
		return l
	}
	keep := func(a store.Answer) bool { return a.Team == "t" }
	pre := [][]byte{[]byte(`"team":"t"`)}
	for _, c := range []struct{ entries, per int }{{500, 1000}, {100_000, 1}} {
		l := mk(c.entries, c.per)
		a := &API{Deps: Deps{ChangeLog: l}}
		scan, err := a.scanAnswers(context.Background(), 50, pre, keep)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range l.reads {
			if r > historyMaxChanges+c.per {
				t.Errorf("%d entries of %d: a read of %d changes (reads %v)", c.entries, c.per, r, l.reads)
			}
		}
		if scan.scanned < historyMaxChanges || len(scan.found) != 0 {
			t.Errorf("%d entries of %d: scanned %d, found %d (the one wanted answer is older than the bound)", c.entries, c.per, scan.scanned, len(scan.found))
		}
	}
	// A short log is read whole and its one answer found.
	l := mk(300, 1)
	scan, err := (&API{Deps: Deps{ChangeLog: l}}).scanAnswers(context.Background(), 50, pre, keep)
	if err != nil || len(scan.found) != 1 || scan.found[0].ID != "wanted" || !scan.whole {
		t.Errorf("short log: %+v %v", scan, err)
	}
}
