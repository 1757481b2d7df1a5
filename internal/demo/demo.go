// Package demo generates the survey traffic of a plausible contact center,
// so `make run` shows moving numbers without any producer: five teams with
// their own strengths, four channels, three customer segments, six customer
// journeys spread over the teams, busy days and quiet nights, and the
// comments customers actually write, in five languages, about themes that
// drift through the day (comments.go).
//
// Every interaction is offered a survey (a store.KindOffer record), and
// customers answer at their channel's rate (phone about 30%, chat 20%, sms
// 12%, e-mail 8%), some within a minute and some hours later; each answer
// names its offer (OfferID). A share of the answers also carry CSAT (1..5),
// and some carry CSAT alone, without an NPS score. The rate of the demo is
// its answers' (about one interaction in six is answered); history older
// than offerHours holds the answers alone, as from a center that began
// recording offers yesterday, so start-up stays quick.
package demo

import (
	"container/heap"
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

// channel is a contact channel: weight is its share of the interactions
// (the surveys offered), rate the share of its offers that get an answer,
// and an answer comes after a delay between quick and slow, except for the
// late share that come up to late after the offer.
type channel struct {
	name        string
	weight      float64
	rate        float64
	mood        float64
	quick, slow time.Duration
	lateShare   float64
	late        time.Duration
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
	// The offers' mix is set so the answers' mix is about phone 45%,
	// chat 30%, e-mail 15% and sms 10%. Phone surveys are played right
	// after the call, chat's at the end of the chat; e-mail and sms
	// invitations wait in an inbox.
	channels = []channel{
		{"phone", 0.26, 0.30, 0.02, 20 * time.Second, 4 * time.Minute, 0.1, time.Hour},
		{"chat", 0.26, 0.20, 0.08, 5 * time.Second, 3 * time.Minute, 0.15, 2 * time.Hour},
		{"email", 0.33, 0.08, -0.10, 5 * time.Minute, 3 * time.Hour, 0.2, 20 * time.Hour},
		{"sms", 0.15, 0.12, -0.02, time.Minute, 30 * time.Minute, 0.15, 6 * time.Hour},
	}
	segments = []segment{
		{"consumer", 0.6, 0.0},
		{"smb", 0.3, -0.03},
		{"enterprise", 0.1, 0.05},
	}
)

// The answers' content besides the NPS score: csatShare of them carry a
// CSAT too, and csatAloneShare carry a CSAT and no NPS score.
const (
	csatShare      = 0.4
	csatAloneShare = 0.08
)

// Generator makes offers and responses. It is not safe for concurrent use.
type Generator struct {
	rng *rand.Rand
	loc *time.Location
	seq int
	// pending are the answers to offers already made that are not due yet
	// (a customer who answers the e-mail tonight), earliest first.
	pending answers
}

// New makes a generator for a center in loc; the same seed gives the same
// traffic.
func New(seed uint64, loc *time.Location) *Generator {
	if loc == nil {
		loc = time.UTC
	}
	return &Generator{rng: rand.New(rand.NewPCG(seed, 0x5eed)), loc: loc}
}

// Response makes one response answered at at, on a channel drawn with the
// answers' mix; it names no offer (an unsolicited answer).
func (g *Generator) Response(at time.Time) store.Response {
	ch := pick(g.rng, channels, func(c channel) float64 { return c.weight * c.rate / answerRate })
	return g.answer(at, ch)
}

// answerRate is the share of all offers that get an answer: about 17%.
var answerRate = func() float64 {
	r := 0.0
	for _, c := range channels {
		r += c.weight * c.rate
	}
	return r
}()

// Interaction makes one interaction at at: the survey offered, and, at its
// channel's rate, the customer's answer (which names the offer) some time
// later. The answer is returned apart with its time: it may come after now.
func (g *Generator) Interaction(at time.Time) (offer store.Response, answer *store.Response) {
	g.seq++
	ch := pick(g.rng, channels, func(c channel) float64 { return c.weight })
	tm := teams[g.rng.IntN(len(teams))]
	ag := tm.agents[g.rng.IntN(len(tm.agents))]
	seg := pick(g.rng, segments, func(s segment) float64 { return s.weight })
	jr := pick(g.rng, tm.journeys, func(j journey) float64 { return j.weight })
	offer = store.Response{
		ID:      fmt.Sprintf("demo-offer-%d-%d", at.UnixNano(), g.seq),
		Kind:    store.KindOffer,
		Dims:    store.Dims{Channel: ch.name, Segment: seg.name, Journey: jr.name, Team: tm.name, Agent: ag.name},
		At:      at,
		AtGiven: true,
	}
	if g.rng.Float64() >= ch.rate {
		return offer, nil
	}
	a := g.answerOf(at.Add(g.delay(ch)), ch, tm, ag, seg, jr)
	a.OfferID = offer.ID
	return offer, &a
}

// delay is how long after the offer a customer of ch answers: log-uniform
// between quick and slow, or, for the late share, between slow and late.
func (g *Generator) delay(ch channel) time.Duration {
	lo, hi := ch.quick, ch.slow
	if g.rng.Float64() < ch.lateShare {
		lo, hi = ch.slow, ch.late
	}
	x := math.Log(float64(lo)) + g.rng.Float64()*(math.Log(float64(hi))-math.Log(float64(lo)))
	return time.Duration(math.Exp(x)).Round(time.Second)
}

// answer makes one answer on ch at at, from a team, agent, segment and
// journey drawn as the center's traffic is.
func (g *Generator) answer(at time.Time, ch channel) store.Response {
	tm := teams[g.rng.IntN(len(teams))]
	ag := tm.agents[g.rng.IntN(len(tm.agents))]
	seg := pick(g.rng, segments, func(s segment) float64 { return s.weight })
	jr := pick(g.rng, tm.journeys, func(j journey) float64 { return j.weight })
	g.seq++
	return g.answerOf(at, ch, tm, ag, seg, jr)
}

func (g *Generator) answerOf(at time.Time, ch channel, tm team, ag agent, seg segment, jr journey) store.Response {
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
	switch x := g.rng.Float64(); {
	case x < csatAloneShare:
		r.CSAT, r.Score = g.csat(score), store.NoScore
	case x < csatShare:
		r.CSAT = g.csat(score)
	}
	return r
}

// csat is the 1..5 satisfaction of a customer who would give score: mostly
// satisfied promoters, mixed passives, mostly dissatisfied detractors.
func (g *Generator) csat(score int) int {
	var weights [5]float64
	switch {
	case score >= 9:
		weights = [5]float64{0.01, 0.02, 0.07, 0.35, 0.55}
	case score >= 7:
		weights = [5]float64{0.03, 0.07, 0.25, 0.5, 0.15}
	default:
		weights = [5]float64{0.3, 0.3, 0.25, 0.12, 0.03}
	}
	x := g.rng.Float64()
	for i, w := range weights {
		if x < w {
			return i + 1
		}
		x -= w
	}
	return 5
}

// answers is a min-heap of answers by time.
type answers []store.Response

func (h answers) Len() int           { return len(h) }
func (h answers) Less(i, j int) bool { return h[i].At.Before(h[j].At) }
func (h answers) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *answers) Push(x any)        { *h = append(*h, x.(store.Response)) }
func (h *answers) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// due takes the pending answers given by now, earliest first.
func (g *Generator) due(now time.Time) []store.Response {
	var out []store.Response
	for len(g.pending) > 0 && !g.pending[0].At.After(now) {
		out = append(out, heap.Pop(&g.pending).(store.Response))
	}
	return out
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
//
// Only the last offerHours hold the offers: each answer costs about six
// offers (answerRate), and the windows a response rate is read over are
// the day's. Older history holds the answers alone (unsolicited, naming
// no offer), which a response rate does not count.
const (
	fullHours   = 48
	thinDensity = 0.1
	offerHours  = 26
)

// Backfill records days of history before now: peakRate answers per second
// in the busiest hour, shaped by the hour of the day, so every window has
// data from the first second; over the last offerHours, as interactions
// each offered a survey and about one in six answered (answerRate).
// Answers not due by now wait for Run (a customer who answers tonight). It
// returns how many answers it recorded.
func (g *Generator) Backfill(ctx context.Context, rec Recorder, now time.Time, days int, peakRate float64) (int, error) {
	total := 0
	batch := make([]store.Response, 0, 1000)
	flush := func() error {
		if _, err := rec.Record(ctx, batch); err != nil {
			return fmt.Errorf("backfill demo history: %w", err)
		}
		for _, r := range batch {
			if r.Kind != store.KindOffer {
				total++
			}
		}
		batch = batch[:0]
		return nil
	}
	start := now.Add(-time.Duration(days) * 24 * time.Hour).Truncate(time.Hour)
	fullFrom := now.Add(-fullHours * time.Hour)
	offersFrom := now.Add(-offerHours * time.Hour)
	// Newest hours first: the short windows a newcomer looks at fill within
	// the first fraction of a second.
	for hourStart := now.Truncate(time.Hour); !hourStart.Before(start); hourStart = hourStart.Add(-time.Hour) {
		density := 1.0
		if hourStart.Before(fullFrom) {
			density = thinDensity
		}
		offers := !hourStart.Before(offersFrom)
		rate := peakRate
		if offers {
			rate = peakRate / answerRate
		}
		n := int(rate * 3600 * density * busyness(hourStart.In(g.loc).Hour()))
		for range n {
			at := hourStart.Add(time.Duration(g.rng.Int64N(int64(time.Hour))))
			if at.After(now) {
				continue
			}
			if !offers {
				batch = append(batch, g.Response(at))
				if len(batch) >= cap(batch)-1 {
					if err := flush(); err != nil {
						return total, err
					}
				}
				continue
			}
			offer, answer := g.Interaction(at)
			batch = append(batch, offer)
			if answer != nil && answer.At.After(now) {
				heap.Push(&g.pending, *answer)
			} else if answer != nil {
				batch = append(batch, *answer)
			}
			if len(batch) >= cap(batch)-1 {
				if err := flush(); err != nil {
					return total, err
				}
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return total, err
		}
	}
	return total, nil
}

// tick is how often live traffic is sent: several small batches a second
// look like a real stream on the board.
const tick = 250 * time.Millisecond

// Run sends live traffic until ctx ends: about peakRate answers per second
// in the busiest hour of the center's day, less at night, from about six
// times as many interactions, a survey offered for each; each answer comes
// when it is due, minutes to hours after its offer. A failed batch is logged by the caller through
// onError and dropped: demo traffic is not worth retrying.
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
		batch := g.Live(now(), &owed, peakRate)
		if len(batch) == 0 {
			continue
		}
		if _, err := rec.Record(ctx, batch); err != nil && ctx.Err() == nil {
			onError(err)
		}
	}
}

// Live is one tick of live traffic at at: the offers of the interactions
// owed (owed carries the fraction over to the next tick), the answers due
// by at, and each new answer already due.
func (g *Generator) Live(at time.Time, owed *float64, peakRate float64) []store.Response {
	*owed += peakRate / answerRate * busyness(at.In(g.loc).Hour()) * tick.Seconds() * g.rng.ExpFloat64()
	n := int(*owed)
	*owed -= float64(n)
	batch := make([]store.Response, 0, n)
	for range n {
		offer, answer := g.Interaction(at)
		batch = append(batch, offer)
		if answer != nil {
			heap.Push(&g.pending, *answer)
		}
	}
	return append(batch, g.due(at)...)
}
