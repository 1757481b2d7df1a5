package window_test

import (
	"sort"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

var (
	from2026 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	to2028   = time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
)

func midnightCalendar(t *testing.T, zone string) (*time.Location, window.Calendar) {
	t.Helper()
	loc := windowtest.Load(t, zone)
	cal, err := window.NewCalendar(loc, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return loc, cal
}

// TestMidnightDayStarts: every local day of 2026 and 2027 in the zones
// whose clocks change at midnight starts at the first instant of its local
// date, on a local-hour boundary, and its bucket's start and end agree with
// Bucket on both sides.
func TestMidnightDayStarts(t *testing.T) {
	for _, zone := range windowtest.MidnightZones {
		loc, cal := midnightCalendar(t, zone)
		if n := len(windowtest.Transitions(loc, from2026, to2028)); n != 4 {
			t.Fatalf("%s: %d transitions in 2026-2027, want 4", zone, n)
		}
		for day := from2026; day.Before(to2028); day = day.AddDate(0, 0, 1) {
			y, m, d := day.Date()
			name := zone + " " + day.Format("2006-01-02")
			want := windowtest.DayStart(loc, y, m, d)
			id := cal.Bucket(window.Day, want)
			got := cal.Start(window.Day, id)
			if !got.Equal(want) {
				t.Errorf("%s: day starts %s, want %s (%s)", name, got.In(loc), want.In(loc), want.UTC())
				continue
			}
			if b := cal.Bucket(window.Day, got.Add(-time.Second)); b != id-1 {
				t.Errorf("%s: the second before the day's start is in day bucket %d, want %d", name, b, id-1)
			}
			if got := window.DayStart(loc, y, m, d); !got.Equal(want) {
				t.Errorf("%s: DayStart %s, want %s", name, got.In(loc), want.In(loc))
			}
			if h := cal.Bucket(window.Hour, got); !cal.Start(window.Hour, h).Equal(got) {
				t.Errorf("%s: day starts %s, not on a local-hour boundary", name, got.In(loc))
			}
			if n := cal.End(window.Day, id).Sub(got); n != 23*time.Hour && n != 24*time.Hour && n != 25*time.Hour {
				t.Errorf("%s: day lasts %s", name, n)
			}
		}
	}
}

// TestMidnightSpansAndTiling: around every 2026/2027 transition of those
// zones, each window's span matches its definition, and the buckets Compose
// returns cover every minute of the span exactly once and no minute outside
// it. A minute is in a bucket when Bucket says so (where the engines count
// it), not when Start and End say so.
func TestMidnightSpansAndTiling(t *testing.T) {
	for _, zone := range windowtest.MidnightZones {
		loc, base := midnightCalendar(t, zone)
		for _, tr := range windowtest.Transitions(loc, from2026, to2028) {
			// Weeks start on the transition's weekday, so this_week and
			// last_week start or end on the day whose clocks change.
			cal := base.WithWeekStart(tr.In(loc).Weekday())
			// The bucket ids of every minute near the transition, once.
			var minutes []time.Time
			var ids [][3]int64
			for m := tr.Add(-30 * time.Hour); m.Before(tr.Add(30 * time.Hour)); m = m.Add(time.Minute) {
				minutes = append(minutes, m)
				ids = append(ids, [3]int64{cal.Bucket(window.Minute, m), cal.Bucket(window.Hour, m), cal.Bucket(window.Day, m)})
			}
			var nows []time.Time
			for off := -3 * time.Hour; off <= 27*time.Hour; off += 31 * time.Minute {
				nows = append(nows, tr.Add(off))
			}
			for _, off := range []time.Duration{3*24*time.Hour + 17*time.Minute, 7*24*time.Hour + 29*time.Minute, 30*24*time.Hour + 5*time.Minute, 90*24*time.Hour + 3*time.Hour} {
				nows = append(nows, tr.Add(off))
			}
			for _, now := range nows {
				for _, w := range window.All {
					s := cal.Span(w, now)
					if diff := windowtest.SameSpan(loc, s, windowtest.Span(loc, cal.WeekStart(), w, now)); diff != "" {
						t.Errorf("%s %s at %s: %s", zone, w.Name, now.In(loc), diff)
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

// TestCalendarWindowsEveryWeekStart: with weeks starting on any weekday,
// the calendar windows match their definitions at noon and just after the
// start of every day of 2026 and 2027 in the midnight zones and New York,
// so every week and month boundary meets a transition somewhere.
func TestCalendarWindowsEveryWeekStart(t *testing.T) {
	zones := append([]string{"America/New_York"}, windowtest.MidnightZones...)
	calendarWindows := []window.Window{window.Today, window.Yesterday, window.ThisWeek, window.LastWeek, window.ThisMonth, window.LastMonth, window.Rolling90d}
	for _, zone := range zones {
		loc, base := midnightCalendar(t, zone)
		for day := from2026; day.Before(to2028); day = day.AddDate(0, 0, 1) {
			cal := base.WithWeekStart(time.Weekday(day.YearDay() % 7))
			y, m, d := day.Date()
			start := windowtest.DayStart(loc, y, m, d)
			for _, now := range []time.Time{start, start.Add(90 * time.Second), start.Add(12 * time.Hour)} {
				for _, w := range calendarWindows {
					if diff := windowtest.SameSpan(loc, cal.Span(w, now), windowtest.Span(loc, cal.WeekStart(), w, now)); diff != "" {
						t.Errorf("%s %s (weeks from %s) at %s: %s", zone, w.Name, cal.WeekStart(), now.In(loc), diff)
					}
				}
			}
		}
	}
}
