package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestConfiguredDimensionsEndToEnd: the program started with --dimensions
// takes region as a field, counts it in a rollup that names it and answers
// a query by journey filtered by region, on both engines.
func TestConfiguredDimensionsEndToEnd(t *testing.T) {
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			clock := &storetest.Clock{}
			clock.Set(storetest.Start)
			// The shipped boards need every rollup but region's: their
			// themes tiles read theme.
			m := start(t, clock, append(args, "--dimensions", "region", "--rollups", "channel;segment;team;agent;channel+team;team+agent;journey;channel+journey;theme;journey+region")...)
			c := client{t: t, base: "http://" + m.Addr()}
			at := storetest.Start.Add(-5 * time.Minute).Format(time.RFC3339)
			var nd strings.Builder
			for i, x := range []struct{ journey, region string }{{"pharma", "north"}, {"pharma", "north"}, {"pharma", "south"}, {"new order", "north"}} {
				fmt.Fprintf(&nd, `{"id":"e%d","score":9,"channel":"phone","journey":%q,"region":%q,"at":%q}`+"\n", i, x.journey, x.region, at)
			}
			if r := c.post(nd.String(), "application/x-ndjson"); r.status != 202 || r.body["accepted"] != 4.0 {
				t.Fatalf("ingest: %d %s", r.status, r.raw)
			}
			if n, _ := c.overall("window=15m&journey=pharma&region=north"); n != 2 {
				t.Fatalf("pharma in the north: %v responses, want 2", n)
			}
			r := c.get("/api/v1/nps?window=15m&by=region&team=alpha")
			if r.status != 400 || !strings.Contains(r.raw, "no configured rollup") {
				t.Fatalf("by region and team without their rollup: %d %s", r.status, r.raw)
			}
			if r := c.post(`{"id":"x","score":1,"channel":"phone","queue":"vip"}`, "application/json"); r.status != 422 || !strings.Contains(r.raw, "queue") {
				t.Fatalf("unknown field: %d %s", r.status, r.raw)
			}
		})
	}
}
