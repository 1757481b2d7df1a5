package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

func parseTestConfig(t *testing.T, text string) Config {
	t.Helper()
	c, err := ParseConfig(text, store.DefaultSchema(), store.DefaultRollups(), time.ParseDuration)
	if err != nil {
		t.Fatal(err)
	}
	c.AllowPrivateReceivers = true // the receivers are httptest servers on loopback
	return c
}

// TestThresholds: a team whose NPS over the window falls below the level
// with enough answers raises an alert (one threshold.raised event), stays
// raised while low, and resolves (one threshold.resolved event) once back
// above; another team never alerts.
func TestThresholds(t *testing.T) {
	rcv := newReceiver(t, 0)
	cfg := parseTestConfig(t, fmt.Sprintf(`
webhooks: [%q]
backoff: 50ms
thresholds:
  - {name: team-1h, title: Team NPS, by: [team], window: 1h, below: 0, min_responses: 5}
`, rcv.srv.URL))
	h := memHarness(t, cfg)
	ctx := context.Background()
	var rs []store.Response
	for i := range 6 {
		rs = append(rs, store.Response{ID: fmt.Sprint("b", i), Score: 2, Dims: store.Dims{Channel: "phone", Team: "billing"}, At: time.Now().Add(-30 * time.Minute)})
		rs = append(rs, store.Response{ID: fmt.Sprint("s", i), Score: 10, Dims: store.Dims{Channel: "phone", Team: "support"}})
	}
	record(t, h.store, rs...)
	must(t, h.svc.EvaluateThresholds(ctx, time.Now()))
	must(t, h.svc.EvaluateThresholds(ctx, time.Now())) // still low: no second event
	active, err := h.svc.Alerts(ctx)
	must(t, err)
	if len(active) != 1 || active[0].ID != "team-1h/team=billing" || active[0].Filters[store.Team] != "billing" || active[0].NPS != -100 || active[0].Title != "Team NPS · billing" {
		t.Fatalf("active %+v", active)
	}
	eventually(t, "the board snapshot shows the alert", 5*time.Second, func() bool { return len(h.svc.Snapshot().Active) == 1 })

	var promoters []store.Response
	for i := range 20 {
		promoters = append(promoters, store.Response{ID: fmt.Sprint("bp", i), Score: 10, Dims: store.Dims{Channel: "phone", Team: "billing"}})
	}
	record(t, h.store, promoters...)
	must(t, h.svc.EvaluateThresholds(ctx, time.Now()))
	if active, _ := h.svc.Alerts(ctx); len(active) != 0 {
		t.Fatalf("still active after recovering: %+v", active)
	}
	eventually(t, "the banner leaves", 5*time.Second, func() bool { return len(h.svc.Snapshot().Active) == 0 })
	var events []string
	eventually(t, "raised and resolved events", 5*time.Second, func() bool {
		events = nil
		for _, b := range rcv.delivered() {
			var ev ThresholdEvent
			if json.Unmarshal(b, &ev) == nil && ev.Alert.ID != "" {
				events = append(events, ev.Event)
			}
		}
		return len(events) == 2
	})
	if !(contains(events, EventThresholdRaised) && contains(events, EventThresholdResolved)) {
		t.Errorf("events %v", events)
	}
}

// TestDigest: the daily digest at its tick summarises the previous local
// day and reaches the digest receivers once per day (a second run of the
// same tick queues nothing new).
func TestDigest(t *testing.T) {
	rcv := newReceiver(t, 0)
	cfg := parseTestConfig(t, fmt.Sprintf("digest: {at: \"08:00\", webhooks: [%q]}\nbackoff: 50ms\n", rcv.srv.URL))
	h := memHarness(t, cfg)
	now := time.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	yesterday := today.Add(-12 * time.Hour)
	record(t, h.store,
		store.Response{ID: "y1", Score: 10, Dims: store.Dims{Channel: "phone", Team: "billing"}, At: yesterday},
		store.Response{ID: "y2", Score: 0, Dims: store.Dims{Channel: "email", Team: "billing"}, At: yesterday},
		store.Response{ID: "t1", Score: 9, Dims: store.Dims{Channel: "phone"}, At: now},
	)
	run := h.svc.Digest(EventDigestDaily)
	tick := today.Add(8 * time.Hour)
	must(t, run(context.Background(), tick))
	must(t, run(context.Background(), tick))
	eventually(t, "the digest", 5*time.Second, func() bool { return len(rcv.delivered()) == 1 })
	time.Sleep(200 * time.Millisecond)
	if n := len(rcv.delivered()); n != 1 {
		t.Fatalf("%d digests for one day", n)
	}
	for _, b := range rcv.delivered() {
		var ev DigestEvent
		must(t, json.Unmarshal(b, &ev))
		if ev.Event != EventDigestDaily || !ev.From.Equal(today.Add(-24*time.Hour)) || ev.Overall.Responses != 2 ||
			ev.Overall.NPS == nil || *ev.Overall.NPS != 0 || len(ev.Channels) != 2 || len(ev.Teams) != 1 {
			t.Errorf("digest %s", b)
		}
	}
}

func contains(xs []string, x string) bool { return slices.Contains(xs, x) }

func TestParseConfig(t *testing.T) {
	c := parseTestConfig(t, "")
	if c.DetractorCutoff != 6 || c.SLA != 0 || c.Retries != 8 || c.Digest.Hour != 8 || c.Digest.Weekday != time.Monday {
		t.Errorf("defaults %+v", c)
	}
	c = parseTestConfig(t, `
thresholds:
  - {name: n, below: 0}
  - {name: r, metric: response_rate, below: 15}
  - {name: r2, metric: response_rate, below: 15, min_offers: 200, by: [channel]}
  - {name: c, metric: csat, below: 80, min_responses: 40}
`)
	want := []Rule{
		{Metric: MetricNPS, Below: 0, MinResponses: 30, MinOffers: 100},
		{Metric: MetricResponseRate, Below: 15, MinResponses: 30, MinOffers: 100},
		{Metric: MetricResponseRate, Below: 15, MinResponses: 30, MinOffers: 200},
		{Metric: MetricCSAT, Below: 80, MinResponses: 40, MinOffers: 100},
	}
	for i, r := range c.Thresholds {
		if r.Metric != want[i].Metric || r.Below != want[i].Below || r.MinResponses != want[i].MinResponses || r.MinOffers != want[i].MinOffers {
			t.Errorf("rule %d: %+v, want %+v", i, r, want[i])
		}
	}
	bad := map[string]string{
		"detractor_cutoff: 11":                          "detractor_cutoff",
		"webhooks: [ftp://x]":                           "webhooks[0]",
		"thresholds: [{name: x, below: 0, by: [zone]}]": "by",
		"thresholds: [{name: x}]":                       "below",
		"digest: {at: '25:00'}":                         "digest.at",
		"sla: soon":                                     "sla",
		"nonsense: 1":                                   "nonsense",
		"thresholds: [{name: a, below: 0}, {name: phone-rate, below: 15, min_offers: 200}]": "thresholds[1] (phone-rate): min_offers needs metric response_rate",
		"thresholds: [{name: x, metric: csat, below: 80, min_offers: 200}]":                 "thresholds[0] (x): min_offers needs metric response_rate",
		"thresholds: [{name: x, metric: response_rate, below: 15, min_responses: 200}]":     "thresholds[0] (x): min_responses counts answers; a response_rate rule counts offers: use min_offers",
		"thresholds: [{name: x, metric: response_rate, below: -5}]":                         "thresholds[0] (x): below: must be the response rate level in percent (0 to 100)",
		"thresholds: [{name: x, metric: csat}]":                                             "thresholds[0] (x): below: the CSAT level in percent (0 to 100) is required",
		"thresholds: [{name: x, metric: csat, below: 101}]":                                 "thresholds[0] (x): below: must be the CSAT level",
		"thresholds: [{name: x, metric: rate, below: 1}]":                                   `thresholds[0] (x): metric: "rate" must be one of nps, response_rate, csat`,
		"thresholds: [{name: x, metric: response_rate, below: 15, min_offers: 0}]":          "thresholds[0] (x): min_offers: must be at least 1",
	}
	for text, want := range bad {
		_, err := ParseConfig(text, store.DefaultSchema(), store.DefaultRollups(), time.ParseDuration)
		if err == nil || !containsStr(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", text, err, want)
		}
	}
}

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

// TestSignature: Verify accepts what Sign made, and refuses a changed
// body, another secret and an old timestamp.
func TestSignature(t *testing.T) {
	body := []byte(`{"event":"detractor"}`)
	now := time.Unix(1_800_000_000, 0)
	h := Sign([]byte("s3cret"), body, now)
	if err := Verify([]byte("s3cret"), h, body, now.Add(time.Minute), DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	if err := Verify([]byte("s3cret"), h, []byte(`{"event":"x"}`), now, DefaultTolerance); err == nil {
		t.Error("changed body accepted")
	}
	if err := Verify([]byte("other"), h, body, now, DefaultTolerance); err == nil {
		t.Error("other secret accepted")
	}
	if err := Verify([]byte("s3cret"), h, body, now.Add(10*time.Minute), DefaultTolerance); err == nil {
		t.Error("replay after 10 min accepted")
	}
}

// TestThresholdTooFewAnswersKeepsAlert: once raised, an alert stays while
// its group has fewer than min_responses answers, however good they are:
// two promoters are no evidence of a recovery (docs/OPERATIONS.md).
func TestThresholdTooFewAnswersKeepsAlert(t *testing.T) {
	cfg := parseTestConfig(t, `
thresholds:
  - {name: team-1h, title: Team NPS, by: [team], window: 1h, below: 0, min_responses: 5}
`)
	h := memHarness(t, cfg)
	ctx := context.Background()
	now := time.Now()
	var rs []store.Response
	for i := range 6 {
		rs = append(rs, store.Response{ID: fmt.Sprint("b", i), Score: 2, Dims: store.Dims{Channel: "phone", Team: "billing"}, At: now.Add(-30 * time.Minute)})
	}
	record(t, h.store, rs...)
	must(t, h.svc.EvaluateThresholds(ctx, now))
	if active, _ := h.svc.Alerts(ctx); len(active) != 1 {
		t.Fatalf("not raised: %+v", active)
	}
	// 45 minutes on, the detractors have left the hour; two promoters came.
	later := now.Add(45 * time.Minute)
	record(t, h.store,
		store.Response{ID: "p1", Score: 10, Dims: store.Dims{Channel: "phone", Team: "billing"}, At: later.Add(-time.Minute)},
		store.Response{ID: "p2", Score: 10, Dims: store.Dims{Channel: "phone", Team: "billing"}, At: later.Add(-time.Minute)})
	must(t, h.svc.EvaluateThresholds(ctx, later))
	if active, _ := h.svc.Alerts(ctx); len(active) != 1 {
		t.Fatalf("two answers resolved the alert: %+v", active)
	}
}
