package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// metricData is what a metrics test recorded: every offer and answer, so
// the figures can be counted again by brute force.
type metricData struct {
	offers  []store.Response
	answers []store.Response
}

func (d *metricData) add(t *testing.T, st store.Store, rs ...store.Response) {
	t.Helper()
	// Offers before the answers that name them.
	var offers, answers []store.Response
	for _, r := range rs {
		if r.Kind == store.KindOffer {
			offers = append(offers, r)
		} else {
			answers = append(answers, r)
		}
	}
	if len(offers) > 0 {
		record(t, st, offers...)
	}
	if len(answers) > 0 {
		record(t, st, answers...)
	}
	d.offers = append(d.offers, offers...)
	d.answers = append(d.answers, answers...)
}

// bruteFigures counts a channel's figures of metric over span from the raw
// offers and answers: value, part, whole and the answers behind them, as
// an Active carries them.
func (d *metricData) bruteFigures(metric Metric, channel string, span window.Span) (value float64, part, whole, responses int64) {
	in := func(r store.Response) bool {
		return r.Dims.Channel == channel && !r.At.Before(span.From) && r.At.Before(span.To)
	}
	round := func(v float64) float64 { return math.Round(v*100) / 100 }
	switch metric {
	case MetricResponseRate:
		// An offer counts in the window it was made in, answered when any
		// answer names it, whenever that answer came.
		answered := map[string]bool{}
		for _, a := range d.answers {
			answered[a.OfferID] = true
		}
		for _, o := range d.offers {
			if in(o) {
				whole++
				if answered[o.ID] {
					part++
				}
			}
		}
		if whole == 0 {
			return 0, 0, 0, 0
		}
		return round(100 * float64(part) / float64(whole)), part, whole, part
	case MetricCSAT:
		for _, a := range d.answers {
			if in(a) && a.CSAT > 0 {
				whole++
				if a.CSAT >= 4 {
					part++
				}
			}
		}
		if whole == 0 {
			return 0, 0, 0, 0
		}
		return round(100 * float64(part) / float64(whole)), part, whole, whole
	}
	var promoters, detractors int64
	for _, a := range d.answers {
		if in(a) && a.Score != store.NoScore {
			responses++
			switch {
			case a.Score >= 9:
				promoters++
			case a.Score <= 6:
				detractors++
			}
		}
	}
	if responses == 0 {
		return 0, 0, 0, 0
	}
	return round(100 * float64(promoters-detractors) / float64(responses)), 0, 0, responses
}

// metricCase is one metric's raise-and-resolve story: low arranges a
// channel ("phone") below the level with enough of a sample and another
// ("email") below it with too small a sample; recover brings phone back.
type metricCase struct {
	rule    string
	low     func(now time.Time, rnd *rand.Rand) []store.Response
	recover func(now time.Time, rnd *rand.Rand, d *metricData) []store.Response
	// raised and resolved are the titles the receivers must show (checked
	// against the figures counted by brute force).
	raised, resolved string
}

// offersAndAnswers makes n offers of channel at random times in the last
// 110 minutes, answers k of them (random ones) at random times between
// the offer and now (late answers among them), and returns both; answer
// gives each answer its score and CSAT.
func offersAndAnswers(rnd *rand.Rand, now time.Time, prefix, channel string, n, k int, answer func(i int, r *store.Response)) []store.Response {
	var out []store.Response
	picked := rnd.Perm(n)[:k]
	isPicked := map[int]bool{}
	for _, i := range picked {
		isPicked[i] = true
	}
	for i := range n {
		at := now.Add(-time.Duration(5+rnd.IntN(105)) * time.Minute)
		id := fmt.Sprintf("%s-o%d", prefix, i)
		out = append(out, store.Response{ID: id, Kind: store.KindOffer, Dims: store.Dims{Channel: channel, Team: "t"}, At: at})
		if isPicked[i] {
			late := time.Duration(rnd.Int64N(int64(now.Sub(at) - time.Minute)))
			a := store.Response{ID: fmt.Sprintf("%s-a%d", prefix, i), OfferID: id, Score: 8, Dims: store.Dims{Channel: channel, Team: "t"}, At: at.Add(late)}
			if answer != nil {
				answer(i, &a)
			}
			out = append(out, a)
		}
	}
	return out
}

var metricCases = map[Metric]metricCase{
	MetricResponseRate: {
		rule: `{name: phone-rate, title: Response rate, by: [channel], window: 2h, metric: response_rate, below: 15, min_offers: 200}`,
		low: func(now time.Time, rnd *rand.Rand) []store.Response {
			// phone: 48 of 400 offers answered, 12%; email: 3 of 150, too
			// few offers to judge.
			rs := offersAndAnswers(rnd, now, "p", "phone", 400, 48, nil)
			rs = append(rs, offersAndAnswers(rnd, now, "e", "email", 150, 3, nil)...)
			// Offers made before the window, answered within it: they
			// count in the window they were made in, not this one.
			for i := range 60 {
				id := fmt.Sprint("old-o", i)
				rs = append(rs, store.Response{ID: id, Kind: store.KindOffer, Dims: store.Dims{Channel: "phone"}, At: now.Add(-4 * time.Hour)},
					store.Response{ID: fmt.Sprint("old-a", i), OfferID: id, Score: 9, Dims: store.Dims{Channel: "phone"}, At: now.Add(-20 * time.Minute)})
			}
			// Unsolicited answers (no offer) and CSAT alone change nothing.
			for i := range 30 {
				rs = append(rs, store.Response{ID: fmt.Sprint("u", i), Score: store.NoScore, CSAT: 5, Dims: store.Dims{Channel: "phone"}, At: now.Add(-10 * time.Minute)})
			}
			return rs
		},
		recover: func(now time.Time, rnd *rand.Rand, d *metricData) []store.Response {
			// 30 more phone offers answered now, late: 78 of 400, 19.5%.
			answered := map[string]bool{}
			for _, a := range d.answers {
				answered[a.OfferID] = true
			}
			var rs []store.Response
			for _, o := range d.offers {
				if o.Dims.Channel == "phone" && o.ID[0] == 'p' && !answered[o.ID] && len(rs) < 30 {
					rs = append(rs, store.Response{ID: "late-" + o.ID, OfferID: o.ID, Score: store.NoScore, CSAT: 2, Dims: o.Dims, At: now.Add(-time.Minute)})
				}
			}
			return rs
		},
		raised:   "Response rate 12% (48 of 400 offered), below 15% · Response rate · phone",
		resolved: "Response rate 20% (78 of 400 offered), back at 15% or above · Response rate · phone",
	},
	MetricCSAT: {
		rule: `{name: phone-csat, title: CSAT, by: [channel], window: 2h, metric: csat, below: 80, min_responses: 40}`,
		low: func(now time.Time, rnd *rand.Rand) []store.Response {
			// phone: 50 CSAT answers, 36 satisfied (72%), a third of them
			// with CSAT alone; answers with an NPS score only do not count.
			var rs []store.Response
			for i := range 50 {
				r := store.Response{ID: fmt.Sprint("c", i), Score: rnd.IntN(11), CSAT: 4 + rnd.IntN(2), Dims: store.Dims{Channel: "phone"},
					At: now.Add(-time.Duration(2+rnd.IntN(100)) * time.Minute)}
				if i >= 36 {
					r.CSAT = 1 + rnd.IntN(3)
				}
				if i%3 == 0 {
					r.Score = store.NoScore
				}
				rs = append(rs, r)
			}
			for i := range 40 {
				rs = append(rs, store.Response{ID: fmt.Sprint("n", i), Score: 10, Dims: store.Dims{Channel: "phone"}, At: now.Add(-30 * time.Minute)})
			}
			// Satisfied answers before the window do not lift it.
			for i := range 40 {
				rs = append(rs, store.Response{ID: fmt.Sprint("old", i), Score: store.NoScore, CSAT: 5, Dims: store.Dims{Channel: "phone"}, At: now.Add(-5 * time.Hour)})
			}
			// email: 20 unsatisfied answers, too few to judge.
			for i := range 20 {
				rs = append(rs, store.Response{ID: fmt.Sprint("e", i), Score: store.NoScore, CSAT: 1, Dims: store.Dims{Channel: "email"}, At: now.Add(-20 * time.Minute)})
			}
			return rs
		},
		recover: func(now time.Time, rnd *rand.Rand, d *metricData) []store.Response {
			// 30 satisfied more: 66 of 80, 82.5%.
			var rs []store.Response
			for i := range 30 {
				rs = append(rs, store.Response{ID: fmt.Sprint("r", i), Score: store.NoScore, CSAT: 4 + i%2, Dims: store.Dims{Channel: "phone"}, At: now.Add(-time.Minute)})
			}
			return rs
		},
		raised:   "CSAT 72% (36 of 50 satisfied), below 80% · CSAT · phone",
		resolved: "CSAT 83% (66 of 80 satisfied), back at 80% or above · CSAT · phone",
	},
	MetricNPS: {
		rule: `{name: phone-nps, title: NPS, by: [channel], window: 2h, metric: nps, below: 0, min_responses: 20}`,
		low: func(now time.Time, rnd *rand.Rand) []store.Response {
			// phone: 10 promoters, 20 detractors of 40 (−25); CSAT alone
			// and offers do not count; email: 10 detractors, too few.
			var rs []store.Response
			for i := range 40 {
				score := 7 + i%2
				switch {
				case i < 10:
					score = 9 + rnd.IntN(2)
				case i < 30:
					score = rnd.IntN(7)
				}
				rs = append(rs, store.Response{ID: fmt.Sprint("s", i), Score: score, CSAT: rnd.IntN(6), Dims: store.Dims{Channel: "phone"},
					At: now.Add(-time.Duration(2+rnd.IntN(100)) * time.Minute)})
			}
			for i := range 25 {
				rs = append(rs, store.Response{ID: fmt.Sprint("c", i), Score: store.NoScore, CSAT: 5, Dims: store.Dims{Channel: "phone"}, At: now.Add(-10 * time.Minute)},
					store.Response{ID: fmt.Sprint("o", i), Kind: store.KindOffer, Dims: store.Dims{Channel: "phone"}, At: now.Add(-10 * time.Minute)})
			}
			for i := range 10 {
				rs = append(rs, store.Response{ID: fmt.Sprint("e", i), Score: 0, Dims: store.Dims{Channel: "email"}, At: now.Add(-20 * time.Minute)})
			}
			return rs
		},
		recover: func(now time.Time, rnd *rand.Rand, d *metricData) []store.Response {
			// 15 promoters more: 25 − 20 of 55, +9.09.
			var rs []store.Response
			for i := range 15 {
				rs = append(rs, store.Response{ID: fmt.Sprint("p", i), Score: 10, Dims: store.Dims{Channel: "phone"}, At: now.Add(-time.Minute)})
			}
			return rs
		},
		raised:   "NPS −25, below 0 · NPS · phone",
		resolved: "NPS +9, back at 0 or above · NPS · phone",
	},
}

// TestThresholdMetrics: on both engines, a rule over each metric (nps,
// response_rate, csat) raises an alert for the channel below its level
// with enough of a sample, not for the one with too small a sample, and
// resolves it once the channel recovers; the alert's figures, and the
// events' titles, are those counted by brute force over the recorded
// offers and answers (late answers count in the offer's window, CSAT alone
// and offers never in NPS, NPS alone never in CSAT).
func TestThresholdMetrics(t *testing.T) {
	for _, metric := range Metrics {
		c := metricCases[metric]
		for name, start := range map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness} {
			t.Run(string(metric)+"/"+name, func(t *testing.T) {
				rcv, hook := newChatReceiver(t, KindSlack, 0, false), newReceiver(t, 0)
				cfg := parseTestConfig(t, fmt.Sprintf("webhooks: [%q, {url: %q, kind: slack}]\nbackoff: 50ms\nthresholds:\n  - %s\n", hook.srv.URL, rcv.srv.URL, c.rule))
				cfg.MaxAge = time.Minute // the answers are old news: no detractor deliveries
				rule := cfg.Thresholds[0]
				if rule.Metric != metric {
					t.Fatalf("rule metric %q", rule.Metric)
				}
				h := start(t, cfg)
				ctx := context.Background()
				rnd := rand.New(rand.NewPCG(16, uint64(len(metric))))
				now := time.Now()
				span := window.MustCalendar(time.UTC).Span(rule.Window, now)
				var d metricData
				d.add(t, h.store, c.low(now, rnd)...)

				check := func(a Active, channel string) {
					t.Helper()
					v, part, whole, n := d.bruteFigures(metric, channel, span)
					if a.Metric != metric || a.Value != v || a.Part != part || a.Whole != whole || a.Responses != n || a.Level != rule.Below {
						t.Errorf("%s alert %+v, brute force: value %v, %d of %d, %d answers", channel, a, v, part, whole, n)
					}
					if metric == MetricNPS && a.NPS != v {
						t.Errorf("nps %v, brute force %v", a.NPS, v)
					}
				}
				// email is below the level too, with too small a sample.
				if _, _, whole, n := d.bruteFigures(metric, "email", span); (metric == MetricResponseRate && whole == 0) || n == 0 {
					t.Fatal("the test's email channel has nothing to judge")
				}

				must(t, h.svc.EvaluateThresholds(ctx, now))
				must(t, h.svc.EvaluateThresholds(ctx, now)) // still low: no second event
				active, err := h.svc.Alerts(ctx)
				must(t, err)
				if len(active) != 1 || active[0].ID != rule.Name+"/channel=phone" {
					t.Fatalf("active %+v", active)
				}
				check(active[0], "phone")

				d.add(t, h.store, c.recover(now, rnd, &d)...)
				a, judged := rule.alertOf(queryChannel(t, h, rule, now, "phone"), now)
				if !judged || a.Value < rule.Below {
					t.Fatalf("the recovery does not recover: %+v", a)
				}
				must(t, h.svc.EvaluateThresholds(ctx, now))
				if active, _ := h.svc.Alerts(ctx); len(active) != 0 {
					t.Fatalf("still active after recovering: %+v", active)
				}

				// The receiver got one raised and one resolved message,
				// with the brute-force figures.
				var titles []string
				eventually(t, "raised and resolved messages", 5*time.Second, func() bool {
					titles = nil
					bodies, _, _ := rcv.got()
					for _, b := range bodies {
						var m struct{ Text string }
						if json.Unmarshal(b, &m) == nil {
							titles = append(titles, m.Text)
						}
					}
					return len(titles) == 2
				})
				if !contains(titles, c.raised) || !contains(titles, c.resolved) {
					t.Errorf("messages %q, want %q and %q", titles, c.raised, c.resolved)
				}
				// The webhook's resolved event has the figures of now.
				events := map[string]Active{}
				eventually(t, "raised and resolved events", 5*time.Second, func() bool {
					for _, b := range hook.delivered() {
						var ev ThresholdEvent
						if json.Unmarshal(b, &ev) == nil && ev.Alert.ID != "" {
							events[ev.Event] = ev.Alert
						}
					}
					return len(events) == 2
				})
				check(events[EventThresholdResolved], "phone")
			})
		}
	}
}

// queryChannel is the store's group of one channel over a rule's window.
func queryChannel(t *testing.T, h harness, r Rule, now time.Time, channel string) store.Group {
	t.Helper()
	groups, err := h.store.Query(context.Background(), r.query(window.MustCalendar(time.UTC).Span(r.Window, now)))
	must(t, err)
	for _, g := range groups {
		if g.Key[store.Channel] == channel {
			return g
		}
	}
	t.Fatalf("no group of channel %s", channel)
	return store.Group{}
}

// TestFigure: an alert says its figure on the right side of its level,
// and one raised before metrics existed (no metric, no value) is an NPS
// alert.
func TestFigure(t *testing.T) {
	cases := []struct {
		a             Active
		figure, level string
	}{
		{Active{NPS: -4.35, Level: 10}, "NPS −4", "+10"},
		{Active{Metric: MetricNPS, NPS: 24.6, Value: 24.6, Level: 25}, "NPS +25", "+25"},
		{Active{Metric: MetricResponseRate, Value: 12, Part: 48, Whole: 400, Level: 15}, "Response rate 12% (48 of 400 offered)", "15%"},
		{Active{Metric: MetricResponseRate, Value: 14.6, Part: 73, Whole: 500, Level: 15}, "Response rate 14.6% (73 of 500 offered)", "15%"},
		{Active{Metric: MetricResponseRate, Value: 14.96, Part: 374, Whole: 2500, Level: 15}, "Response rate 14.96% (374 of 2500 offered)", "15%"},
		{Active{Metric: MetricResponseRate, Value: 15.21, Part: 73, Whole: 480, Level: 15}, "Response rate 15% (73 of 480 offered)", "15%"},
		{Active{Metric: MetricCSAT, Value: 79.59, Part: 39, Whole: 49, Level: 80}, "CSAT 79.6% (39 of 49 satisfied)", "80%"},
		{Active{Metric: MetricCSAT, Value: 80, Part: 40, Whole: 50, Level: 80}, "CSAT 80% (40 of 50 satisfied)", "80%"},
		{Active{Metric: MetricCSAT, Value: 66.67, Part: 2, Whole: 3, Level: 66.7}, "CSAT 66.67% (2 of 3 satisfied)", "66.7%"},
	}
	for _, c := range cases {
		if got, level := c.a.Figure(), c.a.LevelText(); got != c.figure || level != c.level {
			t.Errorf("%+v: %q, level %q; want %q, %q", c.a, got, level, c.figure, c.level)
		}
	}
}
