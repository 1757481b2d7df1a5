package npsgauge

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/pulseboard/pulseboard/internal/store"
)

// benchEntries are what a center would export: the teams over two windows,
// and teams by channel over a day (200 groups at 40 teams × 5 channels).
const benchEntries = `
- {by: [team], window: 1h}
- {by: [team], window: 24h}
- {by: [team, channel], window: 24h}
`

// benchHistory records n answers over the last 24 hours from 40 teams ×
// 5 channels × 12 agents a team, every one with a journey and a segment, so
// every default rollup has its groups in the minute, hour and day buckets a
// 24h window reads.
func benchHistory(b *testing.B, s store.Store, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	var batch []store.Response
	for i := range n {
		var d store.Dims
		team := rng.IntN(40)
		d.Set(store.Team, fmt.Sprintf("team-%02d", team))
		d.Set(store.Channel, []string{"phone", "chat", "email", "sms", "web"}[rng.IntN(5)])
		d.Set(store.Agent, fmt.Sprintf("agent-%02d-%02d", team, rng.IntN(12)))
		d.Set(store.Journey, []string{"billing", "cancel", "onboarding", "repair"}[rng.IntN(4)])
		d.Set(store.Segment, []string{"smb", "enterprise", "consumer"}[rng.IntN(3)])
		batch = append(batch, store.Response{ID: fmt.Sprintf("b%d", i), Score: rng.IntN(11), Dims: d,
			At: now.Add(-time.Duration(rng.Int64N(int64(24 * time.Hour)))), AtGiven: true})
		if len(batch) == 1000 || i == n-1 {
			if _, err := s.Record(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

// BenchmarkGauges measures, on both engines with 20,000 answers of 40
// teams × 5 channels over the last day, what one refresh of the three
// entries costs (the store queries a scrape would pay if it queried) and
// what one scrape of the refreshed snapshot costs (Gather and the text
// encoding Prometheus reads): the second is the same run's yardstick for
// the first.
func BenchmarkGauges(b *testing.B) {
	for _, eng := range engines {
		b.Run(eng.name, func(b *testing.B) {
			opts := options()
			s := eng.open(b, opts)
			benchHistory(b, s, 20000)
			g := New(s, Options{Entries: entries(b, benchEntries), Calendar: opts.Calendar, Now: opts.Now, Timeout: 30 * time.Second})
			reg := prometheus.NewRegistry()
			reg.MustRegister(g)
			ctx := context.Background()
			g.Refresh(ctx)
			if n := len(g.entries[2].rows); n != 200 {
				b.Fatalf("%d team+channel groups, want 200", n)
			}
			b.Run("refresh", func(b *testing.B) {
				for b.Loop() {
					g.Refresh(ctx)
				}
			})
			b.Run("scrape", func(b *testing.B) {
				for b.Loop() {
					mfs, err := reg.Gather()
					if err != nil {
						b.Fatal(err)
					}
					enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
					for _, mf := range mfs {
						if err := enc.Encode(mf); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		})
	}
}
