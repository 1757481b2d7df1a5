package store

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
)

// BenchmarkBucketsQuery: an aggregator's reads, 40 teams of 12 agents,
// 20,000 answers over the last day.
func BenchmarkBucketsQuery(b *testing.B) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	cal, err := window.NewCalendar(time.UTC, now)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Rollups: DefaultRollups(), Calendar: cal, Retention: DefaultRetention()}
	bs := NewBuckets(opts, nil)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 20000 {
		team := rng.IntN(40)
		r := Response{ID: fmt.Sprint(i), Score: rng.IntN(11), At: now.Add(-time.Duration(rng.Int64N(int64(24 * time.Hour)))),
			Dims: Dims{Channel: "phone", Team: fmt.Sprintf("team-%02d", team), Agent: fmt.Sprintf("agent-%02d-%02d", team, rng.IntN(12))}}
		bs.Apply(EntryOf(r, opts.Rollups), 1, now, nil)
	}
	for _, c := range []struct {
		name string
		w    window.Window
		by   []Dimension
	}{{"1h", window.Rolling1h, nil}, {"1h-team", window.Rolling1h, []Dimension{Team}}, {"24h-agent", window.Rolling24h, []Dimension{Agent}}} {
		q := Query{By: c.by, Span: cal.Span(c.w, now)}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := bs.Query(q, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
