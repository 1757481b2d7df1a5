package demo

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/window"
)

type sink struct{ got []store.Response }

// answers are the responses recorded, without the offers.
func (s *sink) answers() []store.Response {
	var out []store.Response
	for _, r := range s.got {
		if r.Kind != store.KindOffer {
			out = append(out, r)
		}
	}
	return out
}

func (s *sink) Record(_ context.Context, b []store.Response) (store.RecordResult, error) {
	s.got = append(s.got, b...)
	return store.RecordResult{Accepted: len(b)}, nil
}

// TestResponsesAreValidAndPlausible checks that every demo answer passes
// the same validation as ingest (the CSAT and offer fields by the store's
// rules), that offers are offers, and that the center's score is
// believable.
func TestResponsesAreValidAndPlausible(t *testing.T) {
	g := New(1, time.UTC)
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	s := &sink{}
	n, err := g.Backfill(context.Background(), s, now, 7, 0.2)
	// 0.2/s at peak is 720 answers in the busiest hour (from about 4,200
	// offers over the last 26 hours); about 8,500 a full day; some wait
	// for Run.
	answers := s.answers()
	if err != nil || n < 15000 || n > 30000 || n != len(answers) {
		t.Fatalf("backfill: %d, %v", n, err)
	}
	var d nps.Distribution
	seen := map[string]bool{}
	offers := map[string]store.Response{}
	for _, r := range s.got {
		if r.Kind == store.KindOffer {
			if r.Score != 0 || r.CSAT != 0 || r.Comment != "" || r.OfferID != "" || r.Dims.Channel == "" || r.Dims.Agent == "" || r.At.After(now) {
				t.Fatalf("offer %+v", r)
			}
			if _, dup := offers[r.ID]; dup {
				t.Fatalf("duplicate offer id %s", r.ID)
			}
			offers[r.ID] = r
		}
	}
	for i, r := range answers {
		if seen[r.ID] {
			t.Fatalf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
		if r.CSAT != 0 && !csat.Valid(r.CSAT) || r.Score == store.NoScore && r.CSAT == 0 {
			t.Fatalf("answer %+v: CSAT out of range, or neither score nor CSAT", r)
		}
		if r.OfferID != "" {
			o, ok := offers[r.OfferID]
			if !ok || o.Dims != r.Dims || r.At.Before(o.At) {
				t.Fatalf("answer %+v does not answer its offer %+v", r, o)
			}
		}
		if r.Score == store.NoScore {
			continue // CSAT alone: ingest's CSAT field is not this package's to check
		}
		d[r.Score]++
		score := string(rune('0' + r.Score))
		if r.Score == 10 {
			score = "10"
		}
		at := r.At.Format(time.RFC3339Nano)
		item := ingest.Item{ID: &r.ID, Score: &score, Channel: &r.Dims.Channel, Segment: &r.Dims.Segment, Team: &r.Dims.Team, Agent: &r.Dims.Agent, Journey: &r.Dims.Journey, At: &at}
		if r.Comment != "" {
			item.Comment = &r.Comment
		}
		if _, problems := ingest.Validate(i, item, now, ingest.DefaultOptions()); len(problems) > 0 {
			t.Fatalf("demo response %+v is invalid: %+v", r, problems)
		}
		if r.At.After(now) {
			t.Fatalf("backfill made a future response at %s", r.At)
		}
		if strings.Contains(r.Comment, "%") {
			t.Fatalf("unformatted comment %q", r.Comment)
		}
	}
	// Every journey occurs, spread over several teams, and cancellations
	// score lower than new orders.
	byJourney := map[string]*nps.Distribution{}
	teamsOf := map[string]map[string]bool{}
	for _, r := range answers {
		if r.Score == store.NoScore {
			continue
		}
		j := r.Dims.Journey
		if byJourney[j] == nil {
			byJourney[j], teamsOf[j] = &nps.Distribution{}, map[string]bool{}
		}
		byJourney[j][r.Score]++
		teamsOf[j][r.Dims.Team] = true
	}
	for _, j := range []string{"new order", "billing question", "technical support", "cancellation", "pharma", "medical devices"} {
		if byJourney[j] == nil {
			t.Fatalf("no %q journey in the demo", j)
		}
	}
	if len(byJourney) != 6 || len(teamsOf["new order"]) < 3 || len(teamsOf["pharma"]) < 2 {
		t.Errorf("journeys %d, teams of new order %v, of pharma %v", len(byJourney), teamsOf["new order"], teamsOf["pharma"])
	}
	cancelNPS, _ := byJourney["cancellation"].NPS()
	orderNPS, _ := byJourney["new order"].NPS()
	if cancelNPS >= orderNPS {
		t.Errorf("cancellation NPS %v is not below new order's %v", cancelNPS, orderNPS)
	}
	score, _ := d.NPS()
	if score < 10 || score > 60 {
		t.Errorf("demo NPS %v is not a plausible contact center score", score)
	}
}

// TestResponseRatesAndCSAT: over the demo's history, each channel's
// surveys are answered at the rate intended (phone about 30%, chat 20%,
// sms 12%, e-mail 8%, counting the answers still to come), some of them
// late; a share of the answers carry CSAT, some CSAT alone. A real memory
// engine given the same records counts the offers, the answered ones and
// the CSAT answers of each channel as brute force does over the raw
// records; the live traffic that follows answers the pending offers when
// they are due, and offers and answers at the same rates.
func TestResponseRatesAndCSAT(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	clock := now
	st := memstore.New(store.Options{Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(time.UTC),
		Retention: store.DefaultRetention(), Now: func() time.Time { return clock }})
	g := New(7, time.UTC)
	s := &sink{}
	if _, err := g.Backfill(ctx, recorders{s, st}, now, 7, 1); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"phone": 0.30, "chat": 0.20, "email": 0.08, "sms": 0.12}

	type tally struct {
		offered, answered, solicited, late, csat, csatAlone, satisfied, answers int64
	}
	brute := func(rs []store.Response, from, to time.Time, pending []store.Response) map[string]*tally {
		out := map[string]*tally{}
		for c := range want {
			out[c] = &tally{}
		}
		offers := map[string]store.Response{}
		for _, r := range rs {
			if r.Kind == store.KindOffer {
				offers[r.ID] = r
			}
		}
		answered := map[string]bool{}
		for _, r := range append(slices.Clone(rs), pending...) {
			if r.Kind == store.KindOffer {
				continue
			}
			answered[r.OfferID] = true
			if r.At.Before(from) || !r.At.Before(to) {
				continue
			}
			c := out[r.Dims.Channel]
			c.answers++
			if o, ok := offers[r.OfferID]; ok {
				c.solicited++
				if r.At.Sub(o.At) > time.Hour {
					c.late++
				}
			}
			if r.CSAT > 0 {
				c.csat++
				if r.CSAT >= 4 {
					c.satisfied++
				}
				if r.Score == store.NoScore {
					c.csatAlone++
				}
			}
		}
		for _, o := range offers {
			if o.At.Before(from) || !o.At.Before(to) {
				continue
			}
			out[o.Dims.Channel].offered++
			if answered[o.ID] {
				out[o.Dims.Channel].answered++
			}
		}
		return out
	}

	// The rates intended, the answers to come included.
	all := brute(s.got, time.Time{}, now.Add(time.Hour), g.pending)
	var answers, withCSAT, csatAlone, late, solicited int64
	for c, r := range want {
		got := float64(all[c].answered) / float64(all[c].offered)
		t.Logf("%s: %d of %d offers answered (%.1f%%), %d answers, %d late, %d with CSAT (%d alone)", c, all[c].answered, all[c].offered, 100*got,
			all[c].answers, all[c].late, all[c].csat, all[c].csatAlone)
		if math.Abs(got-r) > 0.01 {
			t.Errorf("%s: response rate %.1f%%, want %.0f%% ± 1", c, 100*got, 100*r)
		}
		answers += all[c].answers
		withCSAT += all[c].csat
		csatAlone += all[c].csatAlone
		late += all[c].late
		solicited += all[c].solicited
	}
	if !(all["phone"].answered*all["email"].offered > 3*all["email"].answered*all["phone"].offered) {
		t.Error("phone surveys are not answered far more often than e-mail's")
	}
	if share := float64(withCSAT) / float64(answers); math.Abs(share-csatShare) > 0.02 {
		t.Errorf("%.1f%% of answers carry CSAT, want %.0f%%", 100*share, 100*csatShare)
	}
	if share := float64(csatAlone) / float64(answers); math.Abs(share-csatAloneShare) > 0.01 {
		t.Errorf("%.1f%% of answers carry CSAT alone, want %.0f%%", 100*share, 100*csatAloneShare)
	}
	if share := float64(late) / float64(solicited); share < 0.03 || share > 0.2 {
		t.Errorf("%.1f%% of answers come more than an hour after the offer", 100*share)
	}
	if len(g.pending) == 0 {
		t.Fatal("no answer waits for the live traffic")
	}

	// The engine counts what brute force counts over what was recorded.
	check := func(what string, rs []store.Response, span window.Span) {
		t.Helper()
		groups, err := st.Query(ctx, store.Query{By: []store.Dimension{store.Channel}, Span: span})
		if err != nil {
			t.Fatal(err)
		}
		b := brute(rs, span.From, span.To, nil)
		seen := 0
		for _, gr := range groups {
			c := b[gr.Key[store.Channel]]
			if c == nil {
				t.Fatalf("%s: channel %v", what, gr.Key)
			}
			seen++
			if gr.Offered != c.offered || gr.Answered != c.answered || gr.CSAT.Answers() != c.csat || gr.CSAT.Satisfied() != c.satisfied ||
				gr.Counts.Responses() != c.answers-c.csatAlone {
				t.Errorf("%s %v: engine offered %d answered %d, CSAT %d satisfied %d, NPS answers %d; brute force %+v", what, gr.Key,
					gr.Offered, gr.Answered, gr.CSAT.Answers(), gr.CSAT.Satisfied(), gr.Counts.Responses(), *c)
			}
		}
		if seen != len(want) {
			t.Errorf("%s: %d channels", what, seen)
		}
	}
	check("history, 7d", s.got, window.MustCalendar(time.UTC).Span(window.Rolling7d, now))

	// An hour of live traffic: pending answers come when due, new offers
	// at the same rates.
	before := len(g.pending)
	owed := 0.0
	live := &sink{}
	for clock.Before(now.Add(time.Hour)) {
		clock = clock.Add(tick)
		batch := g.Live(clock, &owed, 1)
		for _, r := range batch {
			if r.At.After(clock) {
				t.Fatalf("live traffic sent %+v before it was due (%s)", r, clock)
			}
		}
		if err := (recorders{live, st}).record(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	history := map[string]bool{}
	for _, r := range s.got {
		if r.Kind == store.KindOffer {
			history[r.ID] = true
		}
	}
	released := 0
	for _, r := range live.answers() {
		if r.OfferID != "" && r.At.Before(now) {
			t.Fatalf("released answer %+v is older than the live traffic", r)
		}
		if history[r.OfferID] {
			released++
		}
	}
	if released == 0 || len(live.answers()) == 0 {
		t.Errorf("the live hour answered %d offers of the history (%d were pending), %d answers in all", released, before, len(live.answers()))
	}
	check("history and a live hour, 7d", append(slices.Clone(s.got), live.got...), window.MustCalendar(time.UTC).Span(window.Rolling7d, clock))
}

// recorders records a batch into each of its recorders.
type recorders []Recorder

func (rs recorders) Record(ctx context.Context, b []store.Response) (store.RecordResult, error) {
	var res store.RecordResult
	for _, r := range rs {
		var err error
		if res, err = r.Record(ctx, b); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (rs recorders) record(ctx context.Context, b []store.Response) error {
	_, err := rs.Record(ctx, b)
	return err
}
