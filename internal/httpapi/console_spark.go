package httpapi

import (
	"context"
	"fmt"
	"time"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// The console's sparklines: the view's window cut into bucket-aligned
// steps, one store query per step.

// sparkStep is one way to cut a span into bucket-aligned steps.
type sparkStep struct {
	gran window.Gran
	n    int64
	text string
}

// sparkSteps are the steps a sparkline may take, finest first. Every step
// boundary is a bucket boundary of its granularity, so each sub-span is
// composed exactly from the buckets its granularity keeps.
var sparkSteps = []sparkStep{
	{window.Minute, 1, "1 min"}, {window.Minute, 2, "2 min"}, {window.Minute, 5, "5 min"}, {window.Minute, 10, "10 min"},
	{window.Minute, 15, "15 min"}, {window.Minute, 30, "30 min"},
	{window.Hour, 1, "1 h"}, {window.Hour, 2, "2 h"}, {window.Hour, 3, "3 h"}, {window.Hour, 4, "4 h"}, {window.Hour, 6, "6 h"}, {window.Hour, 12, "12 h"},
	{window.Day, 1, "1 day"}, {window.Day, 2, "2 days"}, {window.Day, 3, "3 days"}, {window.Day, 4, "4 days"}, {window.Day, 5, "5 days"}, {window.Day, 7, "7 days"},
	{window.Day, 14, "14 days"}, {window.Day, 30, "30 days"},
}

// Where a sparkline's steps may cut a span: minute boundaries only within
// the shortest minute retention the config allows (25h), hour boundaries
// within the shortest hour retention (31d); older spans are cut at days.
const (
	sparkMinuteReach = 25 * time.Hour
	sparkHourReach   = 31 * 24 * time.Hour
)

// sparkSpans cuts a span into at most max steps, the finest that fit.
func sparkSpans(cal window.Calendar, s window.Span, now time.Time, maxPoints int) ([]window.Span, string) {
	age := now.Sub(s.From)
	for _, st := range sparkSteps {
		if (st.gran == window.Minute && age > sparkMinuteReach) || (st.gran == window.Hour && age > sparkHourReach) {
			continue
		}
		first := floorMultiple(cal.Bucket(st.gran, s.From), st.n)
		last := floorMultiple(cal.Bucket(st.gran, s.To.Add(-time.Nanosecond)), st.n)
		if (last-first)/st.n+1 > int64(maxPoints) {
			continue
		}
		var out []window.Span
		for id := first; id <= last; id += st.n {
			from, to := cal.Start(st.gran, id), cal.Start(st.gran, id+st.n)
			if from.Before(s.From) {
				from = s.From
			}
			if to.After(s.To) {
				to = s.To
			}
			out = append(out, window.Span{From: from, To: to})
		}
		return mergeStubs(out, st.length()), st.text
	}
	return []window.Span{s}, "the whole window"
}

// length is the step's nominal length (a day step of a DST day differs).
func (st sparkStep) length() time.Duration {
	unit := time.Minute
	switch st.gran {
	case window.Hour:
		unit = time.Hour
	case window.Day:
		unit = 24 * time.Hour
	}
	return time.Duration(st.n) * unit
}

// mergeStubs folds a first or last step shorter than half a step into its
// neighbour: the current minute of "today" alone would be a point of two
// answers, a spike at the end of every line that says nothing.
func mergeStubs(spans []window.Span, step time.Duration) []window.Span {
	if len(spans) >= 3 && spans[len(spans)-1].To.Sub(spans[len(spans)-1].From) < step/2 {
		spans[len(spans)-2].To = spans[len(spans)-1].To
		spans = spans[:len(spans)-1]
	}
	if len(spans) >= 3 && spans[0].To.Sub(spans[0].From) < step/2 {
		spans[1].From = spans[0].From
		spans = spans[1:]
	}
	return spans
}

func floorMultiple(id, n int64) int64 {
	m := id % n
	if m < 0 {
		m += n
	}
	return id - m
}

// sparklines queries the view's breakdown once per step of its span and
// gives each group its points, oldest first.
func (a *API) sparklines(ctx context.Context, q store.Query, now time.Time) (map[string][]board.Point, string, error) {
	spans, text := sparkSpans(a.Calendar, q.Span, now, consoleSparkPoints)
	loc := a.Calendar.Location()
	out := map[string][]board.Point{}
	for i, s := range spans {
		sub := q
		sub.Span = s
		groups, err := a.Querier.Query(ctx, sub)
		if err != nil {
			return nil, "", fmt.Errorf("console sparkline step %d: %w", i, err)
		}
		for _, g := range groups {
			k := groupKey(q.By, g.Key)
			pts := out[k]
			if pts == nil {
				pts = make([]board.Point, len(spans))
				for j, sp := range spans {
					pts[j] = board.Point{Label: sp.From.In(loc).Format("Jan 2 15:04"), Band: board.None}
				}
				out[k] = pts
			}
			f := board.FigureOf("", g.Counts, board.DefaultThresholds, a.MinSample)
			pts[i].NPS, pts[i].Responses, pts[i].Band = f.NPS, f.Responses, f.Band
		}
	}
	return out, fmt.Sprintf("%d steps of %s", len(spans), text), nil
}
