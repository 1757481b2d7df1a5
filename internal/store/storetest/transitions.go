package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

// testMidnightTransitions: in the zones whose clocks change at local
// midnight, around each of their 2026 and 2027 transitions, every window
// and every point of an hour or day trend answers as a brute-force count
// does. The spans the count uses come from the windows' definitions
// (windowtest), not from the calendar, so a day that starts an hour early
// or an hour read twice shows.
func testMidnightTransitions(t *testing.T, newStore Factory) {
	for _, zone := range windowtest.MidnightZones {
		loc := windowtest.Load(t, zone)
		trs := windowtest.Transitions(loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC))
		for _, tr := range trs {
			t.Run(zone+"@"+tr.UTC().Format("2006-01-02"), func(t *testing.T) {
				testTransition(t, newStore, zone, loc, tr)
			})
		}
	}
}

// The instants, relative to the transition, at which every window and
// trend is checked: either side of it, through its day and the next, and
// when 7d and 30d reach back across it.
var transitionChecks = []time.Duration{
	-90 * time.Minute, -31 * time.Minute, -time.Minute, 0, time.Minute, 29 * time.Minute,
	59 * time.Minute, 61 * time.Minute, 2*time.Hour + 7*time.Minute, 22*time.Hour + 30*time.Minute,
	25 * time.Hour, 49 * time.Hour, 7*24*time.Hour + 2*time.Hour, 30*24*time.Hour + 30*time.Minute,
}

func testTransition(t *testing.T, newStore Factory, zone string, loc *time.Location, tr time.Time) {
	h := newHarnessIn(t, newStore, zone, tr.Add(transitionChecks[0]))
	// Weeks start on the local weekday of the transition, so this_week
	// and last_week begin or end on the day whose clocks change (engines
	// never see the week start: it only moves the spans asked for).
	h.opts.Calendar = h.opts.Calendar.WithWeekStart(tr.In(loc).Weekday())
	rng := rand.New(rand.NewPCG(uint64(tr.Unix()), 14))
	n := 0
	// fill records answers in [from, to): every few minutes near the
	// transition, every 5 to 60 minutes elsewhere.
	fill := func(from, to time.Time) {
		var batch []store.Response
		for at := from; at.Before(to); {
			n++
			batch = append(batch, resp(fmt.Sprintf("t%05d", n), rng.IntN(11), at, store.Dims{Channel: channels[rng.IntN(len(channels))]}))
			step := time.Duration(5+rng.IntN(56)) * time.Minute
			if at.Sub(tr).Abs() < 3*time.Hour {
				step = time.Duration(1+rng.IntN(5)) * time.Minute
			}
			at = at.Add(step + time.Duration(rng.IntN(60))*time.Second)
		}
		for len(batch) > 0 {
			k := min(len(batch), 500)
			h.record(batch[:k])
			batch = batch[k:]
		}
	}
	fill(tr.Add(-32*24*time.Hour), h.clock.Now())
	for _, off := range transitionChecks {
		prev := h.clock.Now()
		h.clock.Set(tr.Add(off))
		fill(prev, h.clock.Now())
		h.checkCalendar(loc, tr)
	}
}

// checkCalendar compares, at the clock's now, every window (overall and by
// channel) and the hour and day trend points near tr with brute force.
func (h *harness) checkCalendar(loc *time.Location, tr time.Time) {
	h.t.Helper()
	now := h.clock.Now()
	cal := h.opts.Calendar
	for _, w := range window.All {
		span := cal.Span(w, now)
		want := windowtest.Span(loc, cal.WeekStart(), w, now)
		if diff := windowtest.SameSpan(loc, span, want); diff != "" {
			h.t.Errorf("window %s at %s: %s", w.Name, now.In(loc), diff)
		}
		for _, by := range [][]store.Dimension{nil, {store.Channel}} {
			q := store.Query{By: by, Span: span}
			got, err := h.s.Query(context.Background(), q)
			if err != nil {
				h.t.Fatalf("query %s by %v: %v", w.Name, by, err)
			}
			q.Span = want
			if g, w2 := render(got), render(h.model.query(q)); g != w2 {
				h.t.Fatalf("window %s by %v at %s:\n got: %s\nwant: %s", w.Name, by, now.In(loc), g, w2)
			}
		}
	}
	to := cal.Span(window.Rolling15m, now).To
	// The brute-force trend: every answer before the end, by its local date
	// and by the start of its local clock hour.
	byDate := map[string]nps.Distribution{}
	byHour := map[int64]nps.Distribution{}
	for _, r := range h.model.latest {
		if !r.At.Before(to) {
			continue
		}
		dk := r.At.In(loc).Format("2006-01-02")
		d := byDate[dk]
		d[r.Score]++
		byDate[dk] = d
		hk := windowtest.HourStart(loc, r.At).Unix()
		d = byHour[hk]
		d[r.Score]++
		byHour[hk] = d
	}
	// A trend point is a bucket's span, cut at the window's end (as boards
	// draw them); it must count the answers of its local date, or local
	// clock hour.
	point := func(g window.Gran, id int64, name string, want nps.Distribution) {
		from, end := cal.Start(g, id), cal.End(g, id)
		if end.After(to) {
			end = to
		}
		got, err := h.s.Query(context.Background(), store.Query{Span: window.Span{From: from, To: end}})
		if err != nil {
			h.t.Fatalf("query %s: %v", name, err)
		}
		if got[0].Counts != want {
			h.t.Fatalf("trend point %s (from %s) at %s: got %v, want %v", name, from.In(loc), now.In(loc), got[0].Counts, want)
		}
	}
	// Days: from the local date before the transition's to now's (at most
	// eight), by their local date.
	first := tr.In(loc).AddDate(0, 0, -1)
	if back := now.In(loc).AddDate(0, 0, -8); back.After(first) {
		first = back
	}
	fy, fm, fd := first.Date()
	for day := time.Date(fy, fm, fd, 12, 0, 0, 0, time.UTC); ; day = day.AddDate(0, 0, 1) {
		y, m, d := day.Date()
		start := windowtest.DayStart(loc, y, m, d)
		if !start.Before(to) {
			break
		}
		point(window.Day, cal.Bucket(window.Day, start), day.Format("2006-01-02"), byDate[day.Format("2006-01-02")])
	}
	// Hours: the last 24 that reach back to 3 hours before the transition.
	from := tr.Add(-3 * time.Hour)
	if back := now.Add(-24 * time.Hour); back.After(from) {
		from = back
	}
	for id := cal.Bucket(window.Hour, from); id <= cal.Bucket(window.Hour, now); id++ {
		start := cal.Start(window.Hour, id)
		if hs := windowtest.HourStart(loc, start); !hs.Equal(start) {
			h.t.Fatalf("hour bucket %d starts %s, not at a local :00", id, start.In(loc))
		}
		point(window.Hour, id, "hour "+start.In(loc).Format("2006-01-02 15:04 MST"), byHour[start.Unix()])
	}
}
