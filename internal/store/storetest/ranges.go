package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

// shortRetention keeps minutes 3h, hours 3d and days 10d, so random ranges
// over two weeks reach past each granularity's retention.
var shortRetention = store.Retention{Minute: 3 * time.Hour, Hour: 3 * 24 * time.Hour, Day: 10 * 24 * time.Hour, Dedupe: 400 * 24 * time.Hour}

// rangeZones: New York (fall-back inside the history), Kolkata (hours at
// :30 UTC) and the zones whose clocks change at midnight. Each runs around
// one of its transitions, so ranges cross it.
var rangeZones = append([]string{"America/New_York", "Asia/Kolkata"}, windowtest.MidnightZones...)

// testRanges: random from/to ranges, and every named window, with short
// retentions: the engine answers exactly a brute-force count over the span
// windowtest.Cover says the range covers (widened where the fine buckets of
// an old edge expired), and store.Options.Cover reports that span.
func testRanges(t *testing.T, newStore Factory) {
	for _, zone := range rangeZones {
		t.Run(zone, func(t *testing.T) {
			loc := windowtest.Load(t, zone)
			trs := windowtest.Transitions(loc, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC))
			start := Start
			if len(trs) > 0 {
				start = trs[0].Add(4*24*time.Hour + 17*time.Minute + 23*time.Second)
			}
			h := newHarnessIn(t, newStore, zone, start)
			h.opts.Retention = shortRetention
			// The engine needs the short retention too: a new one.
			h.s = newStore(t, h.opts)
			t.Cleanup(func() { _ = h.s.Close() })
			rng := rand.New(rand.NewPCG(uint64(start.Unix()), 15))
			n := 0
			fill := func(from, to time.Time) {
				var batch []store.Response
				for at := from; at.Before(to); at = at.Add(time.Duration(3+rng.IntN(40))*time.Minute + time.Duration(rng.IntN(60))*time.Second) {
					n++
					batch = append(batch, resp(fmt.Sprintf("g%05d", n), rng.IntN(11), at, store.Dims{Channel: channels[rng.IntN(len(channels))]}))
				}
				for len(batch) > 0 {
					k := min(len(batch), 500)
					h.record(batch[:k])
					batch = batch[k:]
				}
			}
			fill(start.Add(-14*24*time.Hour), start)
			coarse := 0
			for step := 0; step < 3; step++ {
				if step > 0 {
					prev := h.clock.Now()
					h.clock.Advance(time.Duration(5+rng.IntN(20*60)) * time.Minute)
					fill(prev, h.clock.Now())
				}
				now := h.clock.Now()
				end := now.Truncate(time.Minute).Add(time.Minute)
				for i := 0; i < 12; i++ {
					to := end.Add(-time.Duration(rng.IntN(12*24*60)) * time.Minute)
					from := to.Add(-time.Duration(1+rng.IntN(5*24*60)) * time.Minute)
					if h.checkRange(loc, window.Span{From: from, To: to}, "range") {
						coarse++
					}
				}
				for _, w := range window.All {
					if w.Length > 30*24*time.Hour || w.Period == window.MonthPeriod {
						continue // too long for windowtest.Cover's search
					}
					h.checkRange(loc, h.opts.Calendar.Span(w, now), w.Name)
				}
			}
			if coarse < 10 {
				t.Fatalf("only %d of 36 random ranges had a coarse edge: the test does not reach past the retention", coarse)
			}
		})
	}
}

// checkRange compares one asked span, overall and by channel, with brute
// force over what it covers by definition, and reports whether the covered
// span differs from the asked one.
func (h *harness) checkRange(loc *time.Location, asked window.Span, name string) bool {
	h.t.Helper()
	now := h.clock.Now()
	ret := h.opts.Retention
	want := windowtest.Cover(loc, asked, func(g window.Gran, end time.Time) bool { return now.Before(end.Add(ret.Of(g))) })
	cover := h.opts.Cover(asked, now)
	if diff := windowtest.SameSpan(loc, cover.Span, want); diff != "" {
		h.t.Fatalf("%s %s..%s at %s: cover %s", name, asked.From.In(loc), asked.To.In(loc), now.In(loc), diff)
	}
	for _, by := range [][]store.Dimension{nil, {store.Channel}} {
		q := store.Query{By: by, Span: asked}
		got, err := h.s.Query(context.Background(), q)
		if err != nil {
			h.t.Fatalf("query %s by %v: %v", name, by, err)
		}
		q.Span = want
		if g, w := render(got), render(h.model.query(q)); g != w {
			h.t.Fatalf("%s %s..%s (covered %s..%s) by %v at %s:\n got: %s\nwant: %s", name, asked.From.In(loc), asked.To.In(loc),
				want.From.In(loc), want.To.In(loc), by, now.In(loc), g, w)
		}
	}
	return cover.Coarse()
}
