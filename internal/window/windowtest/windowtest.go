// Package windowtest holds the brute-force definitions of days and windows
// that the window package's tests and the storage conformance suite check
// the calendar against. They walk minute by minute and ask the time package
// for each minute's local date and clock; they share no arithmetic with
// package window.
package windowtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
)

// MidnightZones change their clocks at local midnight: on their spring
// forward 00:00 does not exist (the day starts at 01:00); on their fall
// back the last hour of a day, or the first of the next, happens twice.
var MidnightZones = []string{"America/Santiago", "America/Havana", "Atlantic/Azores"}

// Transitions lists the instants loc changes its offset in [from, to).
func Transitions(loc *time.Location, from, to time.Time) []time.Time {
	var out []time.Time
	for cur := from; ; {
		_, next := cur.In(loc).ZoneBounds()
		if next.IsZero() || !next.Before(to) {
			return out
		}
		out = append(out, next)
		cur = next
	}
}

// Load loads a zone or fails the test.
func Load(t testing.TB, zone string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load zone %s: %v", zone, err)
	}
	return loc
}

// DayStart is the first minute whose local date is y-m-d.
func DayStart(loc *time.Location, y int, m time.Month, d int) time.Time {
	for cur := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(-15 * time.Hour); ; cur = cur.Add(time.Minute) {
		if cy, cm, cd := cur.In(loc).Date(); cy == y && cm == m && cd == d {
			return cur
		}
	}
}

// HourStart is the start of the local clock hour holding t: the last
// instant at or before it whose wall clock shows :00:00.
func HourStart(loc *time.Location, t time.Time) time.Time {
	l := t.In(loc)
	return t.Add(-time.Duration(l.Minute())*time.Minute - time.Duration(l.Second())*time.Second - time.Duration(l.Nanosecond()))
}

// Span is what a window covers at now, by its definition, with weeks
// starting on weekStart: rolling windows end at the end of now's minute;
// up to 24h they start D before the end, 7d and 30d at the start of the
// local hour holding end − D, 90d at the first minute of the local date
// holding end − D. "today", "this_week" and "this_month" start at the first
// minute of the local date that starts now's day, week or month and end
// with the rolling ones; "yesterday", "last_week" and "last_month" run from
// the first minute of the period before to the first minute of the current
// one.
func Span(loc *time.Location, weekStart time.Weekday, w window.Window, now time.Time) window.Span {
	to := now.Truncate(time.Minute).Add(time.Minute)
	switch {
	case w.Period == window.DayPeriod && !w.Previous:
		return window.Span{From: dateStartBefore(loc, now.Truncate(time.Minute)), To: to}
	case w.Period != window.NoPeriod:
		y, m, d := now.In(loc).Date()
		// Local dates as noon UTC, so AddDate and Weekday do date arithmetic.
		first := periodFirst(w.Period, weekStart, time.Date(y, m, d, 12, 0, 0, 0, time.UTC))
		if !w.Previous {
			return window.Span{From: dateStart(loc, first), To: to}
		}
		prev := periodFirst(w.Period, weekStart, first.AddDate(0, 0, -1))
		return window.Span{From: dateStart(loc, prev), To: dateStart(loc, first)}
	case w.Length <= 24*time.Hour:
		return window.Span{From: to.Add(-w.Length), To: to}
	case w.Length <= 31*24*time.Hour:
		return window.Span{From: HourStart(loc, to.Add(-w.Length)), To: to}
	default:
		return window.Span{From: dateStartBefore(loc, to.Add(-w.Length)), To: to}
	}
}

// periodFirst steps back from date, one day at a time, to the first day of
// its day, week or month.
func periodFirst(p window.Period, weekStart time.Weekday, date time.Time) time.Time {
	for {
		prev := date.AddDate(0, 0, -1)
		switch {
		case p == window.WeekPeriod && date.Weekday() != weekStart,
			p == window.MonthPeriod && prev.Month() == date.Month():
			date = prev
		default:
			return date
		}
	}
}

func dateStart(loc *time.Location, date time.Time) time.Time {
	return DayStart(loc, date.Year(), date.Month(), date.Day())
}

// dateStartBefore walks back from the minute m while the minute before has
// the same local date.
func dateStartBefore(loc *time.Location, m time.Time) time.Time {
	y, mo, d := m.In(loc).Date()
	for {
		py, pm, pd := m.Add(-time.Minute).In(loc).Date()
		if py != y || pm != mo || pd != d {
			return m
		}
		m = m.Add(-time.Minute)
	}
}

// SameSpan says how two spans differ, in loc, or "" when they are equal.
func SameSpan(loc *time.Location, got, want window.Span) string {
	if got.From.Equal(want.From) && got.To.Equal(want.To) {
		return ""
	}
	return fmt.Sprintf("span %s..%s, want %s..%s", got.From.In(loc), got.To.In(loc), want.From.In(loc), want.To.In(loc))
}

// Cover is what a span covers when only some buckets are still kept, by
// definition: kept says whether the minute, local clock hour or local date
// ending at end is still kept. The start is the asked start when its minute
// is kept, else the start of its local hour when that is kept, else of its
// local date; where even that date is gone, the first minute of the first
// date still kept. The end is the first of the asked end, the end of the
// local hour holding the last asked minute, the end of its local date, that
// kept minutes, hours and dates tile exactly from the start (a search over
// minutes). Not for spans longer than a few weeks.
func Cover(loc *time.Location, s window.Span, kept func(g window.Gran, end time.Time) bool) window.Span {
	cur := s.From
	for cur.Before(s.To) && !kept(window.Day, dateEnd(loc, cur)) {
		cur = dateEnd(loc, cur)
	}
	if !cur.Before(s.To) {
		return window.Span{From: s.To, To: s.To}
	}
	from := dateStartBefore(loc, cur)
	switch {
	case kept(window.Minute, cur.Add(time.Minute)):
		from = cur
	case kept(window.Hour, HourStart(loc, cur).Add(time.Hour)):
		from = HourStart(loc, cur)
	}
	last := s.To.Add(-time.Minute)
	for _, to := range []time.Time{s.To, HourStart(loc, last).Add(time.Hour), dateEnd(loc, last)} {
		if tileable(loc, from, to, kept) {
			return window.Span{From: from, To: to}
		}
	}
	return window.Span{} // no tiling at all: the caller's retention is not monotone
}

// dateEnd is the first minute after m whose local date differs.
func dateEnd(loc *time.Location, m time.Time) time.Time {
	y, mo, d := m.In(loc).Date()
	for {
		m = m.Add(time.Minute)
		if ny, nm, nd := m.In(loc).Date(); ny != y || nm != mo || nd != d {
			return m
		}
	}
}

// tileable reports whether kept minutes, local hours and local dates tile
// [from, to) exactly, by reaching forward minute by minute.
func tileable(loc *time.Location, from, to time.Time, kept func(g window.Gran, end time.Time) bool) bool {
	reach := map[int64]bool{from.Unix(): true}
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		if !reach[t.Unix()] {
			continue
		}
		if kept(window.Minute, t.Add(time.Minute)) {
			reach[t.Add(time.Minute).Unix()] = true
		}
		if HourStart(loc, t).Equal(t) {
			if e := t.Add(time.Hour); !e.After(to) && kept(window.Hour, e) {
				reach[e.Unix()] = true
			}
		}
		if py, pm, pd := t.Add(-time.Minute).In(loc).Date(); !sameDate(t.In(loc), py, pm, pd) {
			if e := dateEnd(loc, t); !e.After(to) && kept(window.Day, e) {
				reach[e.Unix()] = true
			}
		}
	}
	return reach[to.Unix()]
}

func sameDate(t time.Time, y int, m time.Month, d int) bool {
	ty, tm, td := t.Date()
	return ty == y && tm == m && td == d
}
