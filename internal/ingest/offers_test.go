package ingest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

// TestCSATAndOfferID: an answer may carry csat (1..5) beside or instead of
// its score, and name the offer it answers; an answer with neither score
// nor csat is refused, naming the item and the field.
func TestCSATAndOfferID(t *testing.T) {
	good := []struct {
		name, body  string
		score, csat int
		offer       string
	}{
		{"score only", obj(), 9, 0, ""},
		{"score and csat", obj("csat", "4"), 9, 4, ""},
		{"csat only", obj("score", omit, "csat", "1"), store.NoScore, 1, ""},
		{"csat 5, score null", obj("score", "null", "csat", "5"), store.NoScore, 5, ""},
		{"csat null is absent", obj("csat", "null"), 9, 0, ""},
		{"offer id", obj("offer_id", `"call-1"`), 9, 0, "call-1"},
		{"offer id, csat only", obj("score", omit, "csat", "3", "offer_id", `"call-2"`), store.NoScore, 3, "call-2"},
	}
	for _, tc := range good {
		rs, err := decode(t, Options{}, TypeJSON, tc.body)
		if err != nil || len(rs) != 1 {
			t.Errorf("%s: %+v, %v", tc.name, rs, err)
			continue
		}
		r := rs[0]
		if r.Kind != store.KindResponse || r.Score != tc.score || r.CSAT != tc.csat || r.OfferID != tc.offer {
			t.Errorf("%s: got kind %d score %d csat %d offer %q, want score %d csat %d offer %q",
				tc.name, r.Kind, r.Score, r.CSAT, r.OfferID, tc.score, tc.csat, tc.offer)
		}
	}

	csatReason := "must be an integer from 1 to 5"
	bad := []struct {
		name, body, field, reason string
	}{
		{"neither score nor csat", obj("score", omit), "score", "is required unless csat is given"},
		{"csat 0", obj("csat", "0"), "csat", csatReason},
		{"csat 6", obj("csat", "6"), "csat", csatReason},
		{"csat negative", obj("csat", "-1"), "csat", csatReason},
		{"csat 4.0", obj("csat", "4.0"), "csat", csatReason},
		{"csat string", obj("csat", `"4"`), "csat", csatReason},
		{"csat bool", obj("csat", "true"), "csat", csatReason},
		{"csat 1e0", obj("csat", "1e0"), "csat", csatReason},
		{"csat huge", obj("csat", "100000000000000000000"), "csat", csatReason},
		{"offer id empty", obj("offer_id", `""`), "offer_id", "must be 1 to 128 characters"},
		{"offer id long", obj("offer_id", jstr(strings.Repeat("x", 129))), "offer_id", "must be 1 to 128 characters"},
		{"offer id control", obj("offer_id", `"a\nb"`), "offer_id", "must not contain control characters"},
		{"offer id number", obj("offer_id", "7"), "offer_id", "must be a string"},
	}
	for _, tc := range bad {
		// The bad item is the second of three: the detail names its index.
		body := "[" + obj("id", `"a"`) + "," + tc.body + "," + obj("id", `"c"`) + "]"
		_, err := decode(t, Options{}, TypeJSON, body)
		fe := mustFault(t, err, fault.Invalid)
		if want := "1 of 3 responses are invalid; nothing was recorded"; fe.Message != want {
			t.Errorf("%s: message %q, want %q", tc.name, fe.Message, want)
		}
		if len(fe.Details) != 1 || fe.Details[0].Index != 1 || fe.Details[0].Field != tc.field || fe.Details[0].Reason != tc.reason {
			t.Errorf("%s: details %+v, want index 1, %s: %s", tc.name, fe.Details, tc.field, tc.reason)
		}
	}
}

// offerObj is a valid offer changed by key/raw-value pairs, as obj.
func offerObj(kv ...string) string {
	return obj(append([]string{"score", omit}, kv...)...)
}

func decodeOffers(t *testing.T, o Options, ct, body string) ([]store.Response, error) {
	t.Helper()
	return NewDecoder(o).DecodeKind(store.KindOffer, strings.NewReader(body), ct, testNow)
}

// TestOffers: an offer has the id, dimensions, time and version of a
// response, with the same rules and messages, and nothing else.
func TestOffers(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	at := testNow.Add(-time.Hour)
	body := "[" + offerObj("segment", `"smb"`, "team", `"billing"`, "agent", `"ann"`, "journey", `"renewal"`,
		"region", `"north"`, "at", atText(at), "version", "3") + "," + offerObj("id", `"r2"`, "channel", `"phone"`) + "]"
	for _, ct := range []string{TypeJSON, TypeNDJSON} {
		b := body
		if ct == TypeNDJSON {
			b = strings.Join([]string{offerObj("segment", `"smb"`, "team", `"billing"`, "agent", `"ann"`, "journey", `"renewal"`,
				"region", `"north"`, "at", atText(at), "version", "3"), offerObj("id", `"r2"`, "channel", `"phone"`)}, "\n")
		}
		rs, err := decodeOffers(t, Options{Schema: schema}, ct, b)
		if err != nil || len(rs) != 2 {
			t.Fatalf("%s: %+v, %v", ct, rs, err)
		}
		want := store.Response{ID: "r1", Kind: store.KindOffer, Score: store.NoScore,
			Dims: store.Dims{Channel: "web", Segment: "smb", Team: "billing", Agent: "ann", Journey: "renewal"},
			At:   at, AtGiven: true, Version: 3}
		want.Dims.Set("region", "north")
		if got := rs[0]; got.ID != want.ID || got.Kind != want.Kind || got.Score != want.Score || got.CSAT != 0 ||
			got.Dims != want.Dims || !got.At.Equal(at) || !got.AtGiven || got.Version != 3 {
			t.Errorf("%s: offer %+v, want %+v", ct, got, want)
		}
		if got := rs[1]; got.ID != "r2" || got.Kind != store.KindOffer || got.Dims.Channel != "phone" || got.AtGiven || !got.At.Equal(testNow) {
			t.Errorf("%s: offer %+v", ct, got)
		}
	}

	notOffer := "is not a field of an offer"
	bad := []struct {
		name, body, field, reason string
	}{
		{"id missing", offerObj("id", omit), "id", "is required"},
		{"id long", offerObj("id", jstr(strings.Repeat("x", 129))), "id", "must be 1 to 128 characters"},
		{"id control", offerObj("id", `"a\u0007"`), "id", "must not contain control characters"},
		{"channel missing", offerObj("channel", omit), "channel", "is required"},
		{"channel slash", offerObj("channel", `"a/b"`), "channel", "may hold only ASCII letters"},
		{"team too long", offerObj("team", jstr(strings.Repeat("t", 65))), "team", "must be 1 to 64 characters"},
		{"unknown dimension", offerObj("region", `"north"`), "region", "unknown field"},
		{"at future", offerObj("at", atText(testNow.Add(time.Hour))), "at", "is in the future"},
		{"at garbage", offerObj("at", `"soon"`), "at", "must be an RFC 3339 time"},
		{"version 0", offerObj("version", "0"), "version", "must be an integer from 1 to"},
		{"score", offerObj("score", "9"), "score", notOffer},
		{"csat", offerObj("csat", "4"), "csat", notOffer},
		{"offer id", offerObj("offer_id", `"x"`), "offer_id", notOffer},
		{"comment", offerObj("comment", `"hi"`), "comment", notOffer},
		{"tags", offerObj("tags", `["a"]`), "tags", notOffer},
		{"typo", offerObj("chanel", `"web"`), "chanel", "unknown field"},
	}
	for _, tc := range bad {
		body := "[" + offerObj("id", `"a"`) + "," + tc.body + "]"
		_, err := decodeOffers(t, Options{}, TypeJSON, body)
		fe := mustFault(t, err, fault.Invalid)
		if want := "1 of 2 offers are invalid; nothing was recorded"; fe.Message != want {
			t.Errorf("%s: message %q, want %q", tc.name, fe.Message, want)
		}
		if len(fe.Details) != 1 || fe.Details[0].Index != 1 || fe.Details[0].Field != tc.field || !strings.Contains(fe.Details[0].Reason, tc.reason) {
			t.Errorf("%s: details %+v, want index 1, %s: %s", tc.name, fe.Details, tc.field, tc.reason)
		}
	}

	// The limits are the responses' and are named for offers.
	_, err = decodeOffers(t, Options{}, TypeJSON, "[]")
	if fe := mustFault(t, err, fault.Invalid); fe.Message != "the body holds no offers" {
		t.Errorf("empty: %q", fe.Message)
	}
	items := make([]string, 3)
	for i := range items {
		items[i] = offerObj("id", jstr(fmt.Sprint("o", i)))
	}
	_, err = decodeOffers(t, Options{MaxItems: 2}, TypeJSON, "["+strings.Join(items, ",")+"]")
	if fe := mustFault(t, err, fault.TooLarge); fe.Message != "batch has more than 2 offers" {
		t.Errorf("too many: %q", fe.Message)
	}
	_, err = decodeOffers(t, Options{MaxBytes: 10}, TypeJSON, offerObj())
	mustFault(t, err, fault.TooLarge)
}

// TestValidateOfferItem: other producers (CSV, stream) build Items; an
// offer item with an answer's fields names every one of them, in field
// order.
func TestValidateOfferItem(t *testing.T) {
	it := Item{ID: new("o1"), Score: new("9"), CSAT: new("4"), Channel: new("web"), Comment: new(""), Tags: []string{"x"}}
	_, details := ValidateOffer(3, it, testNow, Options{})
	var fields []string
	for _, d := range details {
		if d.Index != 3 {
			t.Errorf("detail %+v: index, want 3", d)
		}
		fields = append(fields, d.Field)
	}
	if want := []string{"score", "csat", "comment", "tags"}; !slices.Equal(fields, want) {
		t.Errorf("fields %q, want %q", fields, want)
	}
	r, details := ValidateKind(store.KindOffer, 0, Item{ID: new("o1"), Channel: new("web")}, testNow, Options{})
	if len(details) != 0 || r.Kind != store.KindOffer || r.Score != store.NoScore {
		t.Errorf("offer %+v, %v", r, details)
	}
	if got, want := OfferFieldNames(), []string{"id", "channel", "segment", "team", "agent", "journey", "at", "version"}; !slices.Equal(got, want) {
		t.Errorf("OfferFieldNames() = %q, want %q", got, want)
	}
}
