package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// benchCenter is a mid-sized contact center: 40 teams of 12 agents, four
// channels, three segments.
func benchResponse(rng *rand.Rand, id string, at time.Time) store.Response {
	team := rng.IntN(40)
	return store.Response{
		ID:    id,
		Score: rng.IntN(11),
		Dims: store.Dims{
			Channel: channels[rng.IntN(len(channels))],
			Segment: segments[rng.IntN(len(segments))],
			Team:    fmt.Sprintf("team-%02d", team),
			Agent:   fmt.Sprintf("agent-%02d-%02d", team, rng.IntN(12)),
		},
		At:      at,
		AtGiven: true,
	}
}

// BenchRecord measures live ingest: batches of batchSize new responses
// answered within the last two minutes. It reports responses/s.
func BenchRecord(b *testing.B, newStore Factory, batchSize int) {
	benchRecord(b, newStore, batchSize, plain)
}

// benchMix is what a benchmark's batches hold.
type benchMix int

const (
	plain benchMix = iota
	// withThemes: the engine matches comments with the default dictionary
	// and four answers in ten carry one of the suite's comments (most of
	// which mention a theme), about what a contact center's survey gets.
	withThemes
	// offersOnly: every item is a new offer.
	offersOnly
	// mixed: seven items in ten are new offers, three are answers naming
	// an offer of the batch before (a response rate of about 30%), four
	// answers in ten with CSAT beside the score.
	mixed
)

// benchRecord is BenchRecord with a mix; it reports items (responses and
// offers) per second as responses/s, the figure the yardstick compares.
func benchRecord(b *testing.B, newStore Factory, batchSize int, mix benchMix) {
	clock := &Clock{}
	clock.Set(time.Now())
	opts := Options(b, clock)
	if mix == withThemes {
		opts.Themes = dictionary(b).Names
	}
	s := newStore(b, opts)
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	batch := make([]store.Response, batchSize)
	b.ResetTimer()
	n := 0
	var offered []string // the offers of the batch before
	for i := 0; i < b.N; i++ {
		now := clock.Now()
		var offers []string
		for j := range batch {
			n++
			r := benchResponse(rng, fmt.Sprintf("bench-%d", n), now.Add(-time.Duration(rng.IntN(120))*time.Second))
			switch {
			case mix == withThemes && rng.IntN(10) < 4:
				r.Comment = comments[rng.IntN(len(comments))]
			case mix == offersOnly || (mix == mixed && (len(offered) == 0 || rng.IntN(10) < 7)):
				r.Kind, r.Score = store.KindOffer, store.NoScore
				offers = append(offers, r.ID)
			case mix == mixed:
				r.OfferID = offered[rng.IntN(len(offered))]
				if rng.IntN(10) < 4 {
					r.CSAT = 1 + rng.IntN(5)
				}
			}
			batch[j] = r
		}
		offered = offers
		if _, err := s.Record(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "responses/s")
}

// BenchQuery measures reading a window after loading responses spread over
// 30 days.
func BenchQuery(b *testing.B, newStore Factory, w window.Window, by []store.Dimension, responses int) {
	clock := &Clock{}
	clock.Set(time.Now())
	opts := Options(b, clock)
	s := newStore(b, opts)
	defer s.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	ctx := context.Background()
	batch := make([]store.Response, 0, 1000)
	for i := 0; i < responses; i++ {
		back := time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))
		batch = append(batch, benchResponse(rng, fmt.Sprintf("q-%d", i), clock.Now().Add(-back)))
		if len(batch) == cap(batch) || i == responses-1 {
			if _, err := s.Record(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	q := store.Query{By: by, Span: opts.Calendar.Span(w, clock.Now())}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Query(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchRecordSizes runs BenchRecord for single responses and for batches.
func BenchRecordSizes(b *testing.B, newStore Factory) {
	for _, size := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			BenchRecord(b, newStore, size)
		})
	}
	b.Run("batch=1000/themes", func(b *testing.B) { benchRecord(b, newStore, 1000, withThemes) })
	b.Run("batch=1000/offers", func(b *testing.B) { benchRecord(b, newStore, 1000, offersOnly) })
	b.Run("batch=1000/mixed", func(b *testing.B) { benchRecord(b, newStore, 1000, mixed) })
}

// BenchQueries runs BenchQuery for short and long windows, overall and by
// the dimensions with the fewest and the most groups.
func BenchQueries(b *testing.B, newStore Factory) {
	cases := []struct {
		w  window.Window
		by []store.Dimension
	}{
		{window.Rolling1h, nil},
		{window.Rolling1h, []store.Dimension{store.Team}},
		{window.Rolling30d, []store.Dimension{store.Team}},
		{window.Rolling30d, []store.Dimension{store.Agent}},
	}
	for _, c := range cases {
		b.Run(fmt.Sprintf("window=%s/by=%v", c.w.Name, c.by), func(b *testing.B) {
			BenchQuery(b, newStore, c.w, c.by, 50_000)
		})
	}
}
