package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

func regionSchema(t *testing.T) store.Schema {
	t.Helper()
	s, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJourneyAndCustomDimensions: every adapter reads journey and a
// configured dimension, from the tool's usual property names or from the
// mapping; a mapping that names a dimension nobody configured is refused.
func TestJourneyAndCustomDimensions(t *testing.T) {
	o := ingest.Options{Schema: regionSchema(t)}
	h, err := New(secret, Config{}, o)
	if err != nil {
		t.Fatal(err)
	}
	b := edit(t, readFile(t, "delighted_created.json"), "event_data.person_properties.Journey", "pharma")
	b = edit(t, b, "event_data.person_properties.Region", "north")
	got := receive(t, h, Delighted, "", signed(b))
	if got.Dims.Journey != "pharma" || got.Dims.Get("region") != "north" || got.Dims.Team != "alpha" {
		t.Errorf("Delighted dims %+v", got.Dims)
	}
	b = edit(t, readFile(t, "asknicely_submitted.json"), "person.journey_c", "cancellation")
	b = edit(t, b, "question.region_c", "south")
	got = receive(t, h, AskNicely, "", withSecret(b))
	if got.Dims.Journey != "cancellation" || got.Dims.Get("region") != "south" {
		t.Errorf("AskNicely dims %+v", got.Dims)
	}
	// A bad value is reported at the tool's field.
	b = edit(t, readFile(t, "asknicely_submitted.json"), "person.region_c", "no/rth")
	_, err = h.Receive(AskNicely, "", withSecret(b), now)
	if fe, ok := fault.As(err); !ok || len(fe.Details) != 1 || fe.Details[0].Field != "person.region_c" {
		t.Errorf("bad region: %v", err)
	}

	cfg, err := Parse([]byte(`
delighted: {properties: {journey: [Trip], region: [Area]}}
generic:
- name: qualtrics
  fields: {id: responseId, score: values.nps, channel: "=phone", journey: embedded.journey, region: "=north"}
`))
	if err != nil {
		t.Fatal(err)
	}
	h, err = New(secret, cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	b = edit(t, readFile(t, "delighted_created.json"), "event_data.person_properties.Trip", "new order")
	b = edit(t, b, "event_data.person_properties.Area", "east")
	b = edit(t, b, "event_data.person_properties.Region", "ignored")
	got = receive(t, h, Delighted, "", signed(b))
	if got.Dims.Journey != "new order" || got.Dims.Get("region") != "east" {
		t.Errorf("configured Delighted properties: %+v", got.Dims)
	}
	hdr := http.Header{}
	hdr.Set(DefaultSecretHeader, secret)
	b = edit(t, readFile(t, "generic_qualtrics.json"), "embedded.journey", "technical support")
	got = receive(t, h, Generic, "qualtrics", Delivery{Header: hdr, Body: b})
	if got.Dims.Journey != "technical support" || got.Dims.Get("region") != "north" {
		t.Errorf("generic dims %+v", got.Dims)
	}

	// Without region configured, mapping it is an error at start.
	for _, text := range []string{
		"delighted: {properties: {region: [Area]}}\n",
		"generic: [{name: x, fields: {id: a, score: b, channel: c, region: d}}]\n",
	} {
		cfg, err := Parse([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := New(secret, cfg, ingest.Options{}); err == nil || !strings.Contains(err.Error(), "region: neither a field nor a configured dimension") {
			t.Errorf("%q: %v", text, err)
		}
	}
	// A constant for a configured dimension is checked like a value.
	cfg, _ = Parse([]byte("generic: [{name: x, fields: {id: a, score: b, channel: c, region: \"=a/b\"}}]\n"))
	if _, err := New(secret, cfg, o); err == nil || !strings.Contains(err.Error(), "fields.region") {
		t.Errorf("bad constant: %v", err)
	}
}
