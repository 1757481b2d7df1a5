package window

import (
	"sort"
	"testing"
	"time"
)

// midnightZones change their clocks at local midnight: on their spring
// forward 00:00 does not exist (the day starts at 01:00), on their fall back
// the last hour of a day or the first hour of the next happens twice.
var midnightZones = []string{"America/Santiago", "America/Havana", "Atlantic/Azores"}

// transitions lists the instants loc changes its offset in 2026 and 2027,
// found with the time package itself.
func transitions(t *testing.T, loc *time.Location) []time.Time {
	t.Helper()
	var out []time.Time
	end := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	for cur := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); ; {
		_, next := cur.In(loc).ZoneBounds()
		if next.IsZero() || !next.Before(end) {
			break
		}
		out = append(out, next)
		cur = next
	}
	if len(out) != 4 {
		t.Fatalf("%s: %d transitions in 2026-2027, want 4", loc, len(out))
	}
	return out
}

// bruteDayStart is the first instant (to the minute) whose local date is
// y-m-d, found by walking minutes from before any zone's midnight.
func bruteDayStart(loc *time.Location, y int, m time.Month, d int) time.Time {
	for cur := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(-15 * time.Hour); ; cur = cur.Add(time.Minute) {
		if cy, cm, cd := cur.In(loc).Date(); cy == y && cm == m && cd == d {
			return cur
		}
	}
}

// bruteSpan is what a window covers at now, by its definition and not by
// the calendar's arithmetic: "today" from the first minute of now's local
// date; 7d and 30d from the last local full hour (wall clock at :00) at or
// before to − D; shorter ones the last D minutes.
func bruteSpan(loc *time.Location, w Window, now time.Time) Span {
	to := now.Truncate(time.Minute).Add(time.Minute)
	switch {
	case w.Length == 0:
		y, m, d := now.In(loc).Date()
		from := now.Truncate(time.Minute)
		for {
			py, pm, pd := from.Add(-time.Minute).In(loc).Date()
			if py != y || pm != m || pd != d {
				return Span{From: from, To: to}
			}
			from = from.Add(-time.Minute)
		}
	case w.Length <= 24*time.Hour:
		return Span{From: to.Add(-w.Length), To: to}
	default:
		from := to.Add(-w.Length)
		for from.In(loc).Minute() != 0 {
			from = from.Add(-time.Minute)
		}
		return Span{From: from, To: to}
	}
}

// TestMidnightDayStarts: every local day of 2026 and 2027 starts at the
// first instant of its local date, on a local-hour boundary, and the day
// bucket's start and end agree with Bucket on both sides.
func TestMidnightDayStarts(t *testing.T) {
	for _, zone := range midnightZones {
		loc := mustLoc(t, zone)
		cal, err := NewCalendar(loc, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() < 2028; day = day.AddDate(0, 0, 1) {
			y, m, d := day.Date()
			want := bruteDayStart(loc, y, m, d)
			id := cal.Bucket(Day, want)
			got := cal.Start(Day, id)
			if !got.Equal(want) {
				t.Errorf("%s %s: day starts %s, want %s (%s)", zone, day.Format("2006-01-02"), got.In(loc), want.In(loc), want.UTC())
				continue
			}
			if b := cal.Bucket(Day, got.Add(-time.Second)); b != id-1 {
				t.Errorf("%s %s: the second before the day's start is in day bucket %d, want %d", zone, day.Format("2006-01-02"), b, id-1)
			}
			if got := DayStart(loc, y, m, d); !got.Equal(want) {
				t.Errorf("%s %s: DayStart %s, want %s", zone, day.Format("2006-01-02"), got.In(loc), want.In(loc))
			}
			if h := cal.Bucket(Hour, got); !cal.Start(Hour, h).Equal(got) {
				t.Errorf("%s %s: day starts %s, not on a local-hour boundary", zone, day.Format("2006-01-02"), got.In(loc))
			}
			if n := cal.End(Day, id).Sub(got); n != 23*time.Hour && n != 24*time.Hour && n != 25*time.Hour {
				t.Errorf("%s %s: day lasts %s", zone, day.Format("2006-01-02"), n)
			}
		}
	}
}

// TestMidnightSpansAndTiling: around every 2026/2027 transition of the
// three zones, each window's span matches its definition, and the buckets
// Compose returns cover every minute of the span exactly once (a minute
// is in a bucket when Bucket says so, not when Start/End say so) and no
// minute outside it.
func TestMidnightSpansAndTiling(t *testing.T) {
	for _, zone := range midnightZones {
		loc := mustLoc(t, zone)
		cal, err := NewCalendar(loc, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range transitions(t, loc) {
			// The bucket ids of every minute near the transition, computed once.
			lo, hi := tr.Add(-30*time.Hour), tr.Add(30*time.Hour)
			var minutes []time.Time
			var ids [][3]int64
			for m := lo; m.Before(hi); m = m.Add(time.Minute) {
				minutes = append(minutes, m)
				ids = append(ids, [3]int64{cal.Bucket(Minute, m), cal.Bucket(Hour, m), cal.Bucket(Day, m)})
			}
			var nows []time.Time
			for off := -3 * time.Hour; off <= 27*time.Hour; off += 23 * time.Minute {
				nows = append(nows, tr.Add(off))
			}
			for _, off := range []time.Duration{3*24*time.Hour + 17*time.Minute, 7*24*time.Hour + 29*time.Minute, 30*24*time.Hour + 5*time.Minute} {
				nows = append(nows, tr.Add(off))
			}
			for _, now := range nows {
				for _, w := range All {
					s := cal.Span(w, now)
					if want := bruteSpan(loc, w, now); !s.From.Equal(want.From) || !s.To.Equal(want.To) {
						t.Errorf("%s %s at %s: span from %s, want %s", zone, w.Name, now.In(loc), s.From.In(loc), want.From.In(loc))
						continue
					}
					// Bucket ids grow with time in these zones, so the
					// minutes a bucket holds are one run of the ids.
					cover := make([]int, len(minutes))
					for _, r := range cal.Compose(s) {
						lo := sort.Search(len(ids), func(i int) bool { return ids[i][r.Gran] >= r.ID })
						hi := sort.Search(len(ids), func(i int) bool { return ids[i][r.Gran] > r.ID })
						for i := lo; i < hi; i++ {
							cover[i]++
						}
					}
					for i, m := range minutes {
						want := 0
						if s.Contains(m) {
							want = 1
						}
						if cover[i] != want {
							t.Errorf("%s %s at %s: minute %s (%s) is read %d times, want %d", zone, w.Name, now.In(loc), m.In(loc), m.UTC(), cover[i], want)
							break
						}
					}
				}
			}
		}
	}
}
