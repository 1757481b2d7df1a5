package board

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// BenchmarkCompute computes every shipped board once per iteration over a
// week of a 40-team center (60,000 answers), from the aggregator, as the
// broadcaster does on a tick.
func BenchmarkCompute(b *testing.B) {
	rng := rand.New(rand.NewPCG(40, 12))
	channels := []string{"phone", "chat", "email", "sms"}
	rs := make([]store.Response, 0, 60_000)
	for i := range cap(rs) {
		team := fmt.Sprintf("team-%d", rng.IntN(40))
		rs = append(rs, store.Response{ID: fmt.Sprintf("r%d", i), Score: rng.IntN(11), AtGiven: true,
			At:   storetest.Start.Add(-time.Duration(rng.Int64N(int64(7 * 24 * time.Hour)))),
			Dims: store.Dims{Channel: channels[rng.IntN(4)], Team: team, Agent: fmt.Sprintf("%s-agent-%d", team, rng.IntN(12))}})
	}
	agg, comp, now := fixture(b, rs)
	boards, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		for _, bd := range boards {
			if _, err := comp.Compute(bd, agg, now); err != nil {
				b.Fatal(err)
			}
		}
	}
}
