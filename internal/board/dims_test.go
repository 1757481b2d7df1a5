package board

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/aggregate"
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
		!strings.Contains(err.Error(), `unknown dimension "region" (want one of channel, segment, journey, team, agent)`) {
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
