// Package demo generates the survey traffic of a plausible contact center,
// so `make run` shows moving numbers without any producer: five teams with
// their own strengths, four channels, three customer segments, six customer
// journeys spread over the teams, busy days and quiet nights, and the
// comments customers actually write, in five languages, about themes that
// drift through the day (comments.go).
package demo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// Recorder is where generated responses go (the store, or ingest).
type Recorder interface {
	Record(ctx context.Context, batch []store.Response) (store.RecordResult, error)
}

type team struct {
	name     string
	skill    float64 // shifts the promoter share
	agents   []agent
	journeys []journey // what customers reach this team about; weights sum to 1
}

// journey is why the customer got in touch, with its share of a team's
// contacts.
type journey struct {
	name   string
	weight float64
}

// The demo's journeys, shared by teams. Some are harder than others
// whoever takes them (a cancellation rarely ends in a promoter): journeyMood
// shifts the promoter share.
const (
	newOrder  = "new order"
	billingQ  = "billing question"
	techSupp  = "technical support"
	cancel    = "cancellation"
	pharma    = "pharma"
	medDevice = "medical devices"
)

var journeyMood = map[string]float64{newOrder: 0.05, billingQ: 0.0, techSupp: -0.03, cancel: -0.12, pharma: 0.04, medDevice: -0.05}

type agent struct {
	name  string
	skill float64
}

// segment is a customer segment; a channel's and a segment's mood shift
// the promoter share.
type segment struct {
	name   string
	weight float64
	mood   float64
}

type channel struct {
	name   string
	weight float64
	mood   float64
}

var (
	teams = []team{
		{"billing", 0.00, []agent{{"Ana Lima", 0.08}, {"Ben Okafor", -0.05}, {"Chloe Martin", 0.02}, {"Dev Patel", 0.00}, {"Eva Novak", -0.12}, {"Femi Adeyemi", 0.06}},
			[]journey{{billingQ, 0.7}, {newOrder, 0.15}, {cancel, 0.15}}},
		{"tech-support", -0.06, []agent{{"Gus Larsen", 0.10}, {"Hana Sato", 0.04}, {"Ivan Petrov", -0.08}, {"Jade Wong", 0.01}, {"Kofi Mensah", -0.03}, {"Lena Fischer", 0.07}},
			[]journey{{techSupp, 0.7}, {medDevice, 0.3}}},
		{"onboarding", 0.08, []agent{{"Marco Rossi", 0.03}, {"Nia Brown", 0.09}, {"Omar Haddad", -0.04}, {"Pia Berg", 0.02}, {"Quinn Doyle", 0.00}},
			[]journey{{newOrder, 0.6}, {pharma, 0.2}, {medDevice, 0.2}}},
		{"retention", -0.02, []agent{{"Rosa Diaz", 0.12}, {"Sam Cohen", -0.10}, {"Tara Singh", 0.05}, {"Uma Reddy", -0.02}, {"Vik Das", 0.01}},
			[]journey{{cancel, 0.8}, {billingQ, 0.2}}},
		{"sales", 0.04, []agent{{"Will Turner", -0.06}, {"Xia Chen", 0.06}, {"Yara Silva", 0.03}, {"Zoe Adams", 0.00}},
			[]journey{{newOrder, 0.5}, {pharma, 0.25}, {medDevice, 0.25}}},
	}
	channels = []channel{
		{"phone", 0.45, 0.02},
		{"chat", 0.30, 0.08},
		{"email", 0.15, -0.10},
		{"sms", 0.10, -0.02},
	}
	segments = []segment{
		{"consumer", 0.6, 0.0},
		{"smb", 0.3, -0.03},
		{"enterprise", 0.1, 0.05},
	}
)

// Generator makes responses. It is not safe for concurrent use.
type Generator struct {
	rng *rand.Rand
	loc *time.Location
	seq int
}

// New makes a generator for a center in loc; the same seed gives the same
// traffic.
func New(seed uint64, loc *time.Location) *Generator {
	if loc == nil {
		loc = time.UTC
	}
	return &Generator{rng: rand.New(rand.NewPCG(seed, 0x5eed)), loc: loc}
}

// Response makes one response answered at at.
func (g *Generator) Response(at time.Time) store.Response {
	g.seq++
	tm := teams[g.rng.IntN(len(teams))]
	ag := tm.agents[g.rng.IntN(len(tm.agents))]
	ch := pick(g.rng, channels, func(c channel) float64 { return c.weight })
	seg := pick(g.rng, segments, func(s segment) float64 { return s.weight })
	jr := pick(g.rng, tm.journeys, func(j journey) float64 { return j.weight })
	// Evenings are harder: longer queues, tired customers.
	hour := at.In(g.loc).Hour()
	evening := 0.0
	if hour >= 18 || hour < 7 {
		evening = -0.06
	}
	shift := tm.skill + ag.skill + ch.mood + seg.mood + journeyMood[jr.name] + evening
	score := g.score(0.52+shift, 0.18-shift/2)
	r := store.Response{
		ID:      fmt.Sprintf("demo-%d-%d", at.UnixNano(), g.seq),
		Score:   score,
		Dims:    store.Dims{Channel: ch.name, Segment: seg.name, Journey: jr.name, Team: tm.name, Agent: ag.name},
		At:      at,
		AtGiven: true,
	}
	// Detractors say why more often than the others.
	commentRate := 0.3
	if score <= 6 {
		commentRate = 0.5
	}
	if g.rng.Float64() < commentRate {
		r.Comment, _ = g.comment(score, ag.name, tm.name, hour)
	}
	return r
}

// pick draws one item, each with the probability its weight says (the
// weights sum to 1).
func pick[T any](rng *rand.Rand, items []T, weight func(T) float64) T {
	x := rng.Float64()
	for _, it := range items {
		if x < weight(it) {
			return it
		}
		x -= weight(it)
	}
	return items[0]
}

// score draws a promoter with probability p, a detractor with d, else a
// passive, then a score within the class.
func (g *Generator) score(p, d float64) int {
	p = math.Min(math.Max(p, 0.05), 0.95)
	d = math.Min(math.Max(d, 0.02), 0.9)
	switch x := g.rng.Float64(); {
	case x < p:
		return 9 + g.rng.IntN(2)
	case x < p+d:
		return []int{0, 1, 2, 3, 4, 5, 5, 6, 6, 6}[g.rng.IntN(10)]
	default:
		return 7 + g.rng.IntN(2)
	}
}

// busyness is the share of the peak rate at a local hour: a 24/7 center
// whose day shift runs 8:00 to 20:00 with a lunch dip. The night shift keeps
// a quarter of the peak, so a demo started at night still moves.
func busyness(hour int) float64 {
	curve := [24]float64{0.3, 0.25, 0.25, 0.25, 0.25, 0.3, 0.35, 0.5, 0.8, 1, 1, 0.9, 0.7, 0.85, 1, 0.95, 0.9, 0.8, 0.6, 0.5, 0.4, 0.35, 0.3, 0.3}
	return curve[hour]
}

// Backfill history: the last fullHours at the live density, so the short
// windows look like the live traffic that follows; older days, back to
// days, at thinDensity of it, so start-up takes seconds, not minutes.
const (
	fullHours   = 48
	thinDensity = 0.1
)

// Backfill records days of history before now at peakRate responses per
// second in the busiest hour, shaped by the hour of the day, so every
// window has data from the first second. It returns how many it recorded.
func (g *Generator) Backfill(ctx context.Context, rec Recorder, now time.Time, days int, peakRate float64) (int, error) {
	total := 0
	batch := make([]store.Response, 0, 1000)
	start := now.Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Hour)
	fullFrom := now.Add(-fullHours * time.Hour)
	// Newest hours first: the short windows a newcomer looks at fill within
	// the first fraction of a second.
	for hourStart := now.Truncate(time.Hour); !hourStart.Before(start); hourStart = hourStart.Add(-time.Hour) {
		density := 1.0
		if hourStart.Before(fullFrom) {
			density = thinDensity
		}
		n := int(peakRate * 3600 * density * busyness(hourStart.In(g.loc).Hour()))
		for range n {
			at := hourStart.Add(time.Duration(g.rng.Int64N(int64(time.Hour))))
			if at.After(now) {
				continue
			}
			batch = append(batch, g.Response(at))
			if len(batch) == cap(batch) {
				if _, err := rec.Record(ctx, batch); err != nil {
					return total, fmt.Errorf("backfill demo history: %w", err)
				}
				total += len(batch)
				batch = batch[:0]
			}
		}
	}
	if len(batch) > 0 {
		if _, err := rec.Record(ctx, batch); err != nil {
			return total, fmt.Errorf("backfill demo history: %w", err)
		}
		total += len(batch)
	}
	return total, nil
}

// tick is how often live traffic is sent: several small batches a second
// look like a real stream on the board.
const tick = 250 * time.Millisecond

// Run sends live responses until ctx ends, at about peakRate per second in
// the busiest hour of the center's day and less at night. A
// failed batch is logged by the caller through onError and dropped: demo
// traffic is not worth retrying.
func (g *Generator) Run(ctx context.Context, rec Recorder, peakRate float64, now func() time.Time, onError func(error)) {
	t := time.NewTicker(tick)
	defer t.Stop()
	owed := 0.0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		owed += peakRate * busyness(now().In(g.loc).Hour()) * tick.Seconds() * g.rng.ExpFloat64()
		n := int(owed)
		owed -= float64(n)
		if n == 0 {
			continue
		}
		batch := make([]store.Response, n)
		at := now()
		for i := range batch {
			batch[i] = g.Response(at)
		}
		if _, err := rec.Record(ctx, batch); err != nil && ctx.Err() == nil {
			onError(err)
		}
	}
}
