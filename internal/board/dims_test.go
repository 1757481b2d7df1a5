package board

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestJourneyAndCustomDimensionTiles: a board breaks down by journey and
// filters by a configured dimension, its comment feed included (the feed
// reads dimensions from the change log's payload); a dimension that is not
// configured is refused at load with the configured ones named.
func TestJourneyAndCustomDimensionTiles(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	rollups := store.DefaultRollups()
	for _, name := range []string{"region", "journey+region"} {
		r, err := schema.ParseRollup(name)
		if err != nil {
			t.Fatal(err)
		}
		rollups = append(rollups, r)
	}
	const defs = `boards:
- name: north
  filters: {region: north}
  tiles:
  - {id: journeys, view: breakdown, by: journey, window: 1h}
  - {id: comments, view: comments, window: 1h}
`
	boards, err := Parse([]byte(defs), schema, rollups)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse([]byte(defs), store.DefaultSchema(), store.DefaultRollups()); err == nil ||
		!strings.Contains(err.Error(), `unknown dimension "region" (want one of channel, segment, journey, team, agent, theme)`) {
		t.Fatalf("without the dimension configured: %v", err)
	}

	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	opts.Rollups = rollups
	eng := memstore.New(opts)
	t.Cleanup(func() { eng.Close() })
	resp := func(id string, score int, journey, region, comment string) store.Response {
		r := store.Response{ID: id, Score: score, At: storetest.Start.Add(-time.Minute), AtGiven: true, Comment: comment,
			Dims: store.Dims{Channel: "phone", Journey: journey}}
		r.Dims.Set("region", region)
		return r
	}
	if _, err := eng.Record(context.Background(), []store.Response{
		resp("1", 10, "pharma", "north", "north pharma"),
		resp("2", 2, "pharma", "north", ""),
		resp("3", 9, "cancellation", "north", ""),
		resp("4", 0, "pharma", "south", "south pharma"),
	}); err != nil {
		t.Fatal(err)
	}
	agg := aggregate.New(eng, opts, opts.Rollups, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go agg.Run(ctx)
	for !agg.Status().Ready {
		time.Sleep(time.Millisecond)
	}
	v, err := Computer{Calendar: opts.Calendar, MinSample: 1}.Compute(boards[0], agg, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range tileByID(t, v, "journeys").Rows {
		got[r.Label] = r.Figure.Responses
	}
	if len(got) != 2 || got["pharma"] != 2 || got["cancellation"] != 1 {
		t.Errorf("journeys in the north: %v", got)
	}
	comments := tileByID(t, v, "comments").Answers
	if len(comments) != 1 || comments[0].Comment != "north pharma" {
		t.Errorf("north comments: %+v", comments)
	}
}

// TestFollowUpsByJourney: a follow-up tile on a board filtered by journey
// or by a configured dimension counts only that journey's follow-ups.
func TestFollowUpsByJourney(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	rollups := append(store.DefaultRollups(), mustParseRollup(t, schema, "journey+region"))
	boards, err := Parse([]byte(`boards:
- {name: pharma, filters: {journey: pharma}, tiles: [{id: fu, view: followups}]}
- {name: north-pharma, filters: {journey: pharma, region: north}, tiles: [{id: fu, view: followups}]}
`), schema, rollups)
	if err != nil {
		t.Fatal(err)
	}
	agg, comp, now := fixture(t, nil)
	open := func(id, journey, region string) alert.FollowUp {
		f := alert.FollowUp{ID: id, Score: 2, Channel: "phone", Journey: journey, At: now, Opened: now, Due: now.Add(time.Hour), Status: alert.Open}
		if region != "" {
			f.Custom = map[string]string{"region": region}
		}
		return f
	}
	comp.Alerts = fixedAlerts(alert.Snapshot{Unresolved: []alert.FollowUp{
		open("a", "pharma", "north"), open("b", "pharma", "south"), open("c", "cancellation", "north"), open("d", "", ""),
	}})
	for i, want := range []int{2, 1} {
		v, err := comp.Compute(boards[i], agg, now)
		if err != nil {
			t.Fatal(err)
		}
		if fu := tileByID(t, v, "fu").FollowUps; fu == nil || fu.Open != want {
			t.Errorf("%s: follow-ups %+v, want %d open", boards[i].Name, fu, want)
		}
	}
}

func mustParseRollup(t *testing.T, s store.Schema, name string) store.Rollup {
	t.Helper()
	r, err := s.ParseRollup(name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
