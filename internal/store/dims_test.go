package store

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestSchema(t *testing.T) {
	s, err := NewSchema("region", "language", "queue")
	if err != nil {
		t.Fatal(err)
	}
	want := []Dimension{Channel, Segment, Journey, Team, Agent, "language", "queue", "region"}
	if got := s.Dimensions(); !slices.Equal(got, want) {
		t.Fatalf("Dimensions() = %v, want %v", got, want)
	}
	// The order of the config does not matter.
	s2, _ := NewSchema("queue", "region", "language")
	if s != s2 || !slices.Equal(s2.Dimensions(), want) {
		t.Fatalf("another config order gave %v", s2.Dimensions())
	}
	if d, err := s.Parse(" region "); err != nil || d != "region" {
		t.Fatalf("Parse(region) = %q, %v", d, err)
	}
	if _, err := DefaultSchema().Parse("region"); err == nil || !strings.Contains(err.Error(), "channel, segment, journey, team, agent") {
		t.Fatalf("default schema accepted region or said too little: %v", err)
	}
	if d, err := DefaultSchema().Parse("journey"); err != nil || d != Journey {
		t.Fatalf("journey is not built in: %v", err)
	}
	for _, bad := range [][]string{
		{"team"}, {"journey"}, {"id"}, {"score"}, {"at"}, {"comment"}, {"tags"}, {"version"}, {"all"},
		// The query API's and the console's own parameters: a filter of
		// that name could not be told from them.
		{"window"}, {"from"}, {"to"}, {"by"}, {"format"}, {"sort"}, {"answer"},
		{"Region"}, {"1region"}, {"re-gion"}, {"region", "region"}, {""},
		{strings.Repeat("a", 33)},
		{"a", "b", "c", "d"}, // 9 in all
	} {
		if _, err := NewSchema(bad...); err == nil {
			t.Errorf("NewSchema(%q) accepted", bad)
		}
	}
	if _, err := NewSchema("a", "b", "c"); err != nil {
		t.Errorf("8 dimensions in all refused: %v", err)
	}
}

func TestSchemaRollups(t *testing.T) {
	s, _ := NewSchema("region", "product")
	for in, want := range map[string]string{
		"region":                 "region",
		"region,team":            "team+region",
		"region+product+channel": "channel+product+region",
		"journey,channel":        "channel+journey",
		"team,journey":           "journey+team",
	} {
		r, err := s.ParseRollup(in)
		if err != nil || r.Name() != want {
			t.Errorf("ParseRollup(%q) = %q, %v; want %q", in, r.Name(), err, want)
		}
	}
	if _, err := ParseRollup("region"); err == nil {
		t.Error("the default schema accepted a rollup over region")
	}
	if _, err := s.ParseRollup("region+colour"); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("unknown dimension in a rollup: %v", err)
	}
	r, err := s.ParseRollup("team,region")
	if err != nil {
		t.Fatal(err)
	}
	d := Dims{Team: "billing"}
	if _, ok := r.GroupOf(d); ok {
		t.Error("a response without region counted in team+region")
	}
	d.Set("region", "north")
	if g, ok := r.GroupOf(d); !ok || g != "billing/north" {
		t.Errorf("GroupOf = %q, %v", g, ok)
	}
}

func TestDimsSetGet(t *testing.T) {
	var d Dims
	d.Set("region", "north")
	d.Set("language", "pt")
	d.Set("queue", "vip")
	d.Set(Journey, "pharma")
	d.Set(Team, "billing")
	for dim, want := range map[Dimension]string{"region": "north", "language": "pt", "queue": "vip", Journey: "pharma", Team: "billing", "product": ""} {
		if got := d.Get(dim); got != want {
			t.Errorf("Get(%s) = %q, want %q", dim, got, want)
		}
	}
	// Set in another order: the same value, so == and fingerprints agree.
	var e Dims
	e.Set("queue", "vip")
	e.Set(Team, "billing")
	e.Set("region", "north")
	e.Set(Journey, "pharma")
	e.Set("language", "pt")
	if d != e {
		t.Fatalf("%+v != %+v", d, e)
	}
	d.Set("language", "")
	if d.Get("language") != "" || len(d.Custom()) != 2 || d.Custom()[0].Dim != "queue" {
		t.Fatalf("after removing language: %+v", d.Custom())
	}
	d.Set("product", "x") // room again
	if d == e {
		t.Fatal("different dims compare equal")
	}
}

// TestFingerprintNewDims: journey and custom values take part in the
// fingerprint (changing them is an update), and where they sit cannot be
// confused with a comment or tag.
func TestFingerprintNewDims(t *testing.T) {
	base := Response{Score: 7, Dims: Dims{Channel: "phone"}, Comment: "ok"}
	withJourney := base
	withJourney.Dims.Journey = "pharma"
	other := base
	other.Dims.Journey = "billing question"
	custom := base
	custom.Dims.Set("region", "pharma")
	tagged := base
	tagged.Tags = []string{"#7:journey=6:pharma"}
	seen := map[string]string{}
	for name, r := range map[string]Response{"base": base, "journey": withJourney, "other journey": other, "custom": custom, "tagged": tagged} {
		fp := Fingerprint(r)
		if prev, ok := seen[fp]; ok {
			t.Errorf("%s and %s share fingerprint %s", name, prev, fp)
		}
		seen[fp] = name
	}
}

func TestPayloadCarriesNewDims(t *testing.T) {
	r := Response{ID: "x", Score: 2, Dims: Dims{Channel: "chat", Journey: "cancellation"}}
	r.Dims.Set("region", "north")
	b := PayloadOf(r)
	if !strings.Contains(string(b), `"journey":"cancellation","dims":{"region":"north"}`) {
		t.Fatalf("payload %s", b)
	}
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Dims() != r.Dims {
		t.Fatalf("payload dims %+v, want %+v", p.Dims(), r.Dims)
	}
}
