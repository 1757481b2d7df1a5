package board

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

// engineSource answers a board's queries straight from an engine.
type engineSource struct{ s store.Store }

func (e engineSource) Query(q store.Query) ([]store.Group, error) {
	return e.s.Query(context.Background(), q)
}
func (e engineSource) Recent(int, func(store.Answer) bool) []store.Answer { return nil }

// TestDayTrendAcrossSkippedMidnight: a 7-day trend by day, drawn a few days
// after the clocks skipped midnight, has one point per local date, labelled
// with that date and counting exactly the answers given on it; the
// answers of the last hour before the skipped midnight count once, on
// their own day.
func TestDayTrendAcrossSkippedMidnight(t *testing.T) {
	for _, zone := range windowtest.MidnightZones {
		loc := windowtest.Load(t, zone)
		var tr time.Time
		for _, c := range windowtest.Transitions(loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
			if c.In(loc).Hour() == 1 {
				tr = c
			}
		}
		clock := &storetest.Clock{}
		now := tr.Add(3*24*time.Hour + 5*time.Hour + 17*time.Minute)
		clock.Set(now)
		opts := storetest.OptionsIn(t, clock, zone)
		eng := memstore.New(opts)
		var answers []store.Response
		for at := now.Add(-9 * 24 * time.Hour); !at.After(now); at = at.Add(7 * time.Minute) {
			answers = append(answers, store.Response{ID: fmt.Sprintf("a%05d", len(answers)), Score: len(answers) % 11, At: at, AtGiven: true, Dims: store.Dims{Channel: "phone"}})
		}
		if _, err := eng.Record(context.Background(), answers); err != nil {
			t.Fatal(err)
		}
		c := Computer{Calendar: opts.Calendar, MinSample: 3}
		tv, err := c.tile(Tile{ID: "trend", View: Trend, Window: window.Rolling7d, Step: window.Day}, engineSource{eng}, now, 0)
		eng.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The points: every local date from the window's first to now's.
		from := windowtest.Span(loc, time.Monday, window.Rolling7d, now).From
		var want []string
		for day := from.In(loc); ; {
			y, m, d := day.Date()
			var n int64
			for _, a := range answers {
				if ay, am, ad := a.At.In(loc).Date(); ay == y && am == m && ad == d {
					n++
				}
			}
			want = append(want, fmt.Sprintf("%s:%d", day.Format("Mon 2"), n))
			if y2, m2, d2 := now.In(loc).Date(); y == y2 && m == m2 && d == d2 {
				break
			}
			next := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC)
			day = windowtest.DayStart(loc, next.Year(), next.Month(), next.Day()).In(loc)
		}
		var got []string
		for _, p := range tv.Points {
			got = append(got, fmt.Sprintf("%s:%d", p.Label, p.Responses))
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: day trend at %s\n got %s\nwant %s", zone, now.In(loc), strings.Join(got, " "), strings.Join(want, " "))
		}
	}
}
