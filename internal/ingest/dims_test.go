package ingest

import (
	"slices"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

func mustSchema(t testing.TB, custom ...string) store.Schema {
	t.Helper()
	s, err := store.NewSchema(custom...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestJourneyIsBuiltIn: journey is a field of every deployment, validated
// like the other dimensions.
func TestJourneyIsBuiltIn(t *testing.T) {
	rs, err := decode(t, Options{}, TypeJSON, obj("journey", `"new order"`))
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Dims.Journey != "new order" || rs[0].Dims.Get(store.Journey) != "new order" {
		t.Fatalf("dims = %+v", rs[0].Dims)
	}
	_, err = decode(t, Options{}, TypeJSON, obj("journey", `"a/b"`))
	fe := mustFault(t, err, fault.Invalid)
	if len(fe.Details) != 1 || fe.Details[0].Field != "journey" || !strings.Contains(fe.Details[0].Reason, "ASCII letters") {
		t.Fatalf("details = %+v", fe.Details)
	}
}

// TestCustomDimensions: a configured dimension is a top-level field; the
// same field without the configuration is unknown, as is any field the
// schema does not hold.
func TestCustomDimensions(t *testing.T) {
	o := Options{Schema: mustSchema(t, "region", "language")}
	for _, ct := range []string{TypeJSON, TypeNDJSON} {
		rs, err := decode(t, o, ct, obj("region", `"north"`, "language", `"pt-BR"`, "journey", `"pharma"`))
		if err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		d := rs[0].Dims
		if d.Get("region") != "north" || d.Get("language") != "pt-BR" || d.Journey != "pharma" {
			t.Fatalf("%s: dims = %+v", ct, d)
		}
	}
	_, err := decode(t, Options{}, TypeJSON, obj("region", `"north"`))
	fe := mustFault(t, err, fault.Invalid)
	if !slices.Equal(fe.Details, []fault.Detail{{Index: 0, Field: "region", Reason: "unknown field"}}) {
		t.Fatalf("without the config: %+v", fe.Details)
	}
	_, err = decode(t, o, TypeJSON, obj("queue", `"vip"`, "region", `"no/rth"`, "language", "7"))
	fe = mustFault(t, err, fault.Invalid)
	want := []fault.Detail{
		{Index: 0, Field: "language", Reason: "must be a string"},
		{Index: 0, Field: "queue", Reason: "unknown field"},
		{Index: 0, Field: "region", Reason: "may hold only ASCII letters, digits, spaces and -_.@"},
	}
	if !slices.Equal(fe.Details, want) {
		t.Fatalf("details =\n %+v\nwant\n %+v", fe.Details, want)
	}
	// Validate (CSV, stream) rejects a name outside the schema too.
	_, details := Validate(3, Item{ID: new("x"), Score: new("1"), Channel: new("sms"), Custom: map[string]string{"queue": "vip"}}, testNow, o)
	if !slices.Equal(details, []fault.Detail{{Index: 3, Field: "queue", Reason: "unknown field"}}) {
		t.Fatalf("Validate: %+v", details)
	}
}

func TestFieldNamesOf(t *testing.T) {
	got := FieldNamesOf(mustSchema(t, "region"))
	if !slices.Contains(got, "journey") || got[len(got)-1] != "region" {
		t.Fatalf("FieldNamesOf = %v", got)
	}
}
