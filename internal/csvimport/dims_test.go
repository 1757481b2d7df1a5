package csvimport

import (
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// TestImportJourneyAliases: a journey column is found by its common names.
func TestImportJourneyAliases(t *testing.T) {
	for _, h := range []string{"journey", "Journey Type", "customer-journey", "JOURNEY_NAME"} {
		rows := readAll(t, "score,channel,"+h+"\n9,phone,billing question\n", opts())
		if len(rows) != 1 || !rows[0].Valid() || rows[0].Response.Dims.Journey != "billing question" {
			t.Errorf("header %q: %+v", h, rows)
		}
	}
}

// TestImportCustomDimensions: a configured dimension is read from the
// column of its name or a mapping; without the configuration the same
// mapping is refused; a journey or region column changes derived ids, a
// file without them keeps its old ids (TestImportDerivedIDs pins one).
func TestImportCustomDimensions(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	o := opts()
	o.Limits = ingest.Options{Schema: schema}
	rows := readAll(t, "score,channel,Region\n9,phone,north\n", o)
	if len(rows) != 1 || !rows[0].Valid() || rows[0].Response.Dims.Get("region") != "north" {
		t.Fatalf("region column: %+v", rows)
	}
	m, err := ParseMapping("region=Area")
	if err != nil {
		t.Fatal(err)
	}
	o.Mapping = m
	rows = readAll(t, "score,channel,Area\n9,phone,south\n9,phone,no/rth\n", o)
	if !rows[0].Valid() || rows[0].Response.Dims.Get("region") != "south" {
		t.Fatalf("mapped region: %+v", rows[0])
	}
	if rows[1].Valid() || !strings.Contains(strings.Join(rows[1].Problems, ";"), "line 3: region: may hold only") {
		t.Fatalf("bad region: %+v", rows[1].Problems)
	}
	if _, err := NewReader(strings.NewReader("score,channel,Area\n"), Options{Mapping: m}); err == nil || !strings.Contains(err.Error(), `unknown field "region"`) {
		t.Fatalf("without region configured: %v", err)
	}
	// A region column the schema does not hold is just an unclaimed column.
	if rows := readAll(t, "score,channel,region\n9,phone,north\n", opts()); !rows[0].Valid() || rows[0].Response.Dims.Get("region") != "" {
		t.Fatalf("unconfigured region column: %+v", rows)
	}

	base := readAll(t, "score,channel,team\n9,phone,billing\n", opts())[0].Response.ID
	withJourney := readAll(t, "score,channel,team,journey\n9,phone,billing,pharma\n", opts())[0].Response.ID
	otherJourney := readAll(t, "score,channel,team,journey\n9,phone,billing,cancellation\n", opts())[0].Response.ID
	o = opts()
	o.Limits = ingest.Options{Schema: schema}
	withRegion := readAll(t, "score,channel,team,region\n9,phone,billing,pharma\n", o)[0].Response.ID
	seen := map[string]bool{}
	for _, id := range []string{base, withJourney, otherJourney, withRegion} {
		if seen[id] {
			t.Fatalf("ids %s %s %s %s: want all different", base, withJourney, otherJourney, withRegion)
		}
		seen[id] = true
	}
}
