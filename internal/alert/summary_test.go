package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
)

// TestDigestGroupIsTheSummary: a digest group is its key and the same
// nps.Summary a GET /api/v1/nps group has (rounded the same, low_sample
// from the configured minimum); the overall group has no key.
func TestDigestGroupIsTheSummary(t *testing.T) {
	s := &Service{o: Options{MinSample: 30}}
	d := nps.Of(0, 1, 9)
	sum, err := json.Marshal(nps.Summarize(d, 30))
	must(t, err)
	for _, c := range []struct {
		key  map[store.Dimension]string
		want string
	}{
		{map[store.Dimension]string{store.Team: "billing"}, `{"key":{"team":"billing"},` + string(sum[1:])},
		{map[store.Dimension]string{}, string(sum)},
	} {
		got, err := json.Marshal(s.digestGroup(store.Group{Key: c.key, Counts: d}))
		must(t, err)
		if string(got) != c.want {
			t.Errorf("digest group\n got %s\nwant %s", got, c.want)
		}
	}
	if !strings.Contains(string(sum), `"nps":-33.33,"moe":68,`) || !strings.Contains(string(sum), `"low_sample":true`) {
		t.Errorf("summary %s", sum)
	}
}

// TestThresholdJudgesThePublishedScore: a rule compares the score the API
// publishes (two decimals) with its level. 76 promoters and 25 detractors
// score 50.495…, published 50.5: not below 50.5, so no alert that would
// read "NPS 50.5, below 50.5". One detractor more scores 49.02, which
// raises an alert carrying that published number.
func TestThresholdJudgesThePublishedScore(t *testing.T) {
	cfg := parseTestConfig(t, `
thresholds:
  - {name: team-1h, title: Team NPS, by: [team], window: 1h, below: 50.5, min_responses: 5}
`)
	h := memHarness(t, cfg)
	var rs []store.Response
	add := func(team string, score, n int) {
		for i := range n {
			rs = append(rs, store.Response{ID: fmt.Sprint(team, score, "-", i), Score: score, Dims: store.Dims{Channel: "phone", Team: team}})
		}
	}
	add("billing", 10, 76)
	add("billing", 2, 25)
	add("support", 10, 76)
	add("support", 2, 26)
	record(t, h.store, rs...)
	ctx := context.Background()
	must(t, h.svc.EvaluateThresholds(ctx, time.Now()))
	active, err := h.svc.Alerts(ctx)
	must(t, err)
	if len(active) != 1 || active[0].ID != "team-1h/team=support" || active[0].NPS != 49.02 || active[0].Responses != 102 {
		t.Fatalf("active %+v, want only support at 49.02", active)
	}
}
