package window_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

// retention is a test's minute, hour and day retention.
type retention [3]time.Duration

func (r retention) kept(cal window.Calendar, now time.Time) window.Kept {
	return func(g window.Gran, id int64) bool { return now.Before(cal.End(g, id).Add(r[g])) }
}

func (r retention) keptByEnd(now time.Time) func(window.Gran, time.Time) bool {
	return func(g window.Gran, end time.Time) bool { return now.Before(end.Add(r[g])) }
}

// TestCoverAgainstDefinition: random minute-aligned spans, some reaching
// back past the minute, hour or day retention, some crossing DST
// transitions (midnight ones included), cover what windowtest.Cover says
// they cover, with buckets that are all still kept and tile that span
// exactly once; Coarse says whether the span moved.
func TestCoverAgainstDefinition(t *testing.T) {
	zones := append([]string{"America/New_York", "Asia/Kolkata", "Asia/Kathmandu", "Europe/Berlin"}, windowtest.MidnightZones...)
	rets := []retention{
		{26 * time.Hour, 32 * 24 * time.Hour, 400 * 24 * time.Hour},
		{3 * time.Hour, 2 * 24 * time.Hour, 9 * 24 * time.Hour},
		{90 * time.Minute, 26 * time.Hour, 5 * 24 * time.Hour},
	}
	coarse := 0
	for _, zone := range zones {
		loc := windowtest.Load(t, zone)
		cal, err := window.NewCalendar(loc, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		trs := windowtest.Transitions(loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC))
		rng := rand.New(rand.NewPCG(uint64(len(zone)), 15))
		for i := 0; i < 60; i++ {
			// now near a transition (or anywhere when the zone has none)
			now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(200*24*60)) * time.Minute)
			if len(trs) > 0 {
				now = trs[rng.IntN(len(trs))].Add(time.Duration(rng.IntN(12*24*60)-2*60) * time.Minute)
			}
			now = now.Add(time.Duration(rng.IntN(60)) * time.Second)
			ret := rets[rng.IntN(len(rets))]
			end := now.Truncate(time.Minute).Add(time.Minute)
			to := end.Add(-time.Duration(rng.IntN(11*24*60)) * time.Minute)
			from := to.Add(-time.Duration(1+rng.IntN(6*24*60)) * time.Minute)
			asked := window.Span{From: from, To: to}
			got := cal.Cover(asked, ret.kept(cal, now))
			want := windowtest.Cover(loc, asked, ret.keptByEnd(now))
			if diff := windowtest.SameSpan(loc, got.Span, want); diff != "" {
				t.Fatalf("%s: cover of %s..%s at %s (retention %v): %s", zone, from.In(loc), to.In(loc), now.In(loc), ret, diff)
			}
			if got.Coarse() != (!want.From.Equal(from) || !want.To.Equal(to)) {
				t.Fatalf("%s: Coarse() = %v for %s..%s covered as %s..%s", zone, got.Coarse(), from, to, want.From, want.To)
			}
			if got.Coarse() {
				coarse++
			}
			cur := got.Span.From
			keep := ret.kept(cal, now)
			for _, r := range got.Refs {
				if s := cal.Start(r.Gran, r.ID); !s.Equal(cur) {
					t.Fatalf("%s: bucket %v starts %s, want %s", zone, r, s, cur)
				}
				if !keep(r.Gran, r.ID) {
					t.Fatalf("%s: bucket %v is no longer kept at %s", zone, r, now)
				}
				cur = cal.End(r.Gran, r.ID)
			}
			if !cur.Equal(got.Span.To) {
				t.Fatalf("%s: buckets end %s, span ends %s", zone, cur, got.Span.To)
			}
		}
	}
	if coarse < 50 {
		t.Fatalf("only %d of the random spans needed a coarse edge; the test does not reach them", coarse)
	}
}

// TestCoverEdges pins the rules with the default retention in New York:
// an edge whose minutes expired widens to its local hour, one whose hours
// expired to its local day (the asked span stays inside), and days that
// expired narrow the start.
func TestCoverEdges(t *testing.T) {
	loc := windowtest.Load(t, "America/New_York")
	cal := window.MustCalendar(loc)
	now := time.Date(2026, 12, 2, 14, 30, 0, 0, loc)
	ret := retention{26 * time.Hour, 32 * 24 * time.Hour, 400 * 24 * time.Hour}
	at := func(mo time.Month, d, h, m int) time.Time { return time.Date(2026, mo, d, h, m, 0, 0, loc) }
	cases := []struct {
		name       string
		asked, out window.Span
		from, to   window.Gran
	}{
		{"recent: exact", window.Span{From: at(12, 2, 8, 13), To: at(12, 2, 14, 30)}, window.Span{From: at(12, 2, 8, 13), To: at(12, 2, 14, 30)}, window.Minute, window.Minute},
		{"two days back: hours", window.Span{From: at(11, 30, 8, 13), To: at(12, 2, 14, 30)}, window.Span{From: at(11, 30, 8, 0), To: at(12, 2, 14, 30)}, window.Hour, window.Minute},
		{"old both edges: hours", window.Span{From: at(11, 20, 8, 13), To: at(11, 20, 14, 30)}, window.Span{From: at(11, 20, 8, 0), To: at(11, 20, 15, 0)}, window.Hour, window.Hour},
		{"two months back: days", window.Span{From: at(10, 1, 8, 13), To: at(10, 1, 14, 30)}, window.Span{From: at(10, 1, 0, 0), To: at(10, 2, 0, 0)}, window.Day, window.Day},
		{"aligned: exact", window.Span{From: at(10, 1, 0, 0), To: at(12, 2, 14, 0)}, window.Span{From: at(10, 1, 0, 0), To: at(12, 2, 14, 0)}, window.Day, window.Hour},
	}
	for _, c := range cases {
		got := cal.Cover(c.asked, ret.kept(cal, now))
		if diff := windowtest.SameSpan(loc, got.Span, c.out); diff != "" {
			t.Errorf("%s: %s", c.name, diff)
		}
		if got.FromGran != c.from || got.ToGran != c.to {
			t.Errorf("%s: edges %v/%v, want %v/%v", c.name, got.FromGran, got.ToGran, c.from, c.to)
		}
		if got.Coarse() != (c.asked != c.out) {
			t.Errorf("%s: Coarse() = %v", c.name, got.Coarse())
		}
	}
	// Days kept 30d: a span from 60 days back starts at the first day kept.
	short := retention{26 * time.Hour, 32 * 24 * time.Hour, 30 * 24 * time.Hour}
	got := cal.Cover(window.Span{From: at(10, 1, 0, 0), To: at(12, 2, 0, 0)}, short.kept(cal, now))
	if want := at(11, 2, 0, 0); !got.Span.From.Equal(want) || !got.Coarse() {
		t.Errorf("expired days: from %s, want %s (coarse %v)", got.Span.From.In(loc), want, got.Coarse())
	}
	// None kept: empty, at the asked end.
	got = cal.Cover(window.Span{From: at(1, 1, 0, 0), To: at(1, 2, 0, 0)}, short.kept(cal, now))
	if len(got.Refs) != 0 || !got.Span.From.Equal(at(1, 2, 0, 0)) || !got.Span.To.Equal(at(1, 2, 0, 0)) {
		t.Errorf("nothing kept: %+v", got)
	}
}

// TestRangeLabel: one day, across days, another year, a whole day ending
// at midnight, an open range; in the calendar's zone.
func TestRangeLabel(t *testing.T) {
	loc := windowtest.Load(t, "America/New_York")
	cal := window.MustCalendar(loc)
	now := time.Date(2026, 12, 2, 14, 30, 0, 0, loc)
	at := func(y int, mo time.Month, d, h, m int) time.Time { return time.Date(y, mo, d, h, m, 0, 0, loc) }
	for _, c := range []struct {
		s    window.Span
		want string
	}{
		{window.Span{From: at(2026, 12, 2, 8, 0), To: at(2026, 12, 2, 14, 30)}, "2 Dec 08:00 – 14:30"},
		{window.Span{From: at(2026, 11, 30, 8, 13), To: at(2026, 12, 2, 14, 30)}, "30 Nov 08:13 – 2 Dec 14:30"},
		{window.Span{From: at(2025, 12, 31, 22, 0), To: at(2026, 1, 1, 2, 0)}, "31 Dec 2025 22:00 – 1 Jan 02:00"},
		{window.Span{From: at(2026, 10, 1, 0, 0), To: at(2026, 10, 2, 0, 0)}, "1 Oct 00:00 – 24:00"},
		{window.Span{From: at(2026, 12, 1, 8, 0)}, "since 1 Dec 08:00"},
	} {
		if got := cal.RangeLabel(c.s, now); got != c.want {
			t.Errorf("RangeLabel(%s..%s) = %q, want %q", c.s.From, c.s.To, got, c.want)
		}
	}
}
