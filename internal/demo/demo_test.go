package demo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
)

type sink struct{ got []store.Response }

func (s *sink) Record(_ context.Context, b []store.Response) (store.RecordResult, error) {
	s.got = append(s.got, b...)
	return store.RecordResult{Accepted: len(b)}, nil
}

// TestResponsesAreValidAndPlausible checks that every demo response passes
// the same validation as ingest and that the center's score is believable.
func TestResponsesAreValidAndPlausible(t *testing.T) {
	g := New(1, time.UTC)
	now := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	s := &sink{}
	n, err := g.Backfill(context.Background(), s, now, 7, 0.2)
	// 0.2/s at peak is 720 in the busiest hour; about 8,500 a full day.
	if err != nil || n < 15000 || n > 30000 || n != len(s.got) {
		t.Fatalf("backfill: %d, %v", n, err)
	}
	var d nps.Distribution
	seen := map[string]bool{}
	for i, r := range s.got {
		if seen[r.ID] {
			t.Fatalf("duplicate id %s", r.ID)
		}
		seen[r.ID] = true
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
	for _, r := range s.got {
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
