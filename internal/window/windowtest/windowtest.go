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

// Span is what a window covers at now, by its definition: every window
// ends at the end of now's minute; "today" starts at the first minute of
// now's local date; 7d and 30d at the start of the local hour holding
// end − D; the others D before the end.
func Span(loc *time.Location, w window.Window, now time.Time) window.Span {
	to := now.Truncate(time.Minute).Add(time.Minute)
	switch {
	case w.Length == 0:
		y, m, d := now.In(loc).Date()
		from := now.Truncate(time.Minute)
		for {
			py, pm, pd := from.Add(-time.Minute).In(loc).Date()
			if py != y || pm != m || pd != d {
				return window.Span{From: from, To: to}
			}
			from = from.Add(-time.Minute)
		}
	case w.Length <= 24*time.Hour:
		return window.Span{From: to.Add(-w.Length), To: to}
	default:
		return window.Span{From: HourStart(loc, to.Add(-w.Length)), To: to}
	}
}

// SameSpan says how two spans differ, in loc, or "" when they are equal.
func SameSpan(loc *time.Location, got, want window.Span) string {
	if got.From.Equal(want.From) && got.To.Equal(want.To) {
		return ""
	}
	return fmt.Sprintf("span %s..%s, want %s..%s", got.From.In(loc), got.To.In(loc), want.From.In(loc), want.To.In(loc))
}
