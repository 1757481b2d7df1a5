package api_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// TestResponseNamesAreIngestFields: every field a response may carry has
// its JSON name in Response, in the same order, and nothing else.
func TestResponseNamesAreIngestFields(t *testing.T) {
	var names []string
	rt := reflect.TypeFor[api.Response]()
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		if name == "-" {
			continue // Custom: configured dimensions, written by AppendCustom
		}
		names = append(names, name)
	}
	if want := ingest.FieldNames(); !slices.Equal(names, want) {
		t.Fatalf("Response's JSON names %q, ingest's fields %q", names, want)
	}
}

// TestResponseRoundTrip is the contract between the two sides of ingest: a
// response a client encodes with ResponseOf is decoded by the server's own
// decoder into the response it came from, in both body formats.
func TestResponseRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	full := store.Response{
		ID: "case-1", Score: 9, CSAT: 4, OfferID: "call-1",
		Dims:    store.Dims{Channel: "phone", Segment: "smb", Journey: "new order", Team: "billing", Agent: "ana.silva@example"},
		Comment: "fast & \"kind\"\nthanks", Tags: []string{"vip", "renewal"},
		At: now.Add(-90*time.Minute - 123456789*time.Nanosecond).In(paris), AtGiven: true,
		Version: store.MaxVersion,
	}
	bare := store.Response{ID: "case-2", Score: 0, Dims: store.Dims{Channel: "sms"}}
	in := []store.Response{full, bare}

	full.Dims.Set("region", "north")
	full.Dims.Set("language", "pt-BR")
	schema, err := store.NewSchema("region", "language")
	if err != nil {
		t.Fatal(err)
	}

	var ndjson bytes.Buffer
	var objs [][]byte
	for _, r := range in {
		w := api.ResponseOf(r)
		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		b = api.AppendCustom(b, w.Custom)
		objs = append(objs, b)
		ndjson.Write(append(b, '\n'))
	}
	array := []byte("[" + string(bytes.Join(objs, []byte(","))) + "]")
	dec := ingest.NewDecoder(ingest.Options{Schema: schema})
	for _, body := range []struct {
		contentType string
		data        []byte
	}{{ingest.TypeNDJSON, ndjson.Bytes()}, {ingest.TypeJSON, array}} {
		got, err := dec.Decode(bytes.NewReader(body.data), body.contentType, now)
		if err != nil {
			t.Fatalf("%s: %v\n%s", body.contentType, err, body.data)
		}
		if len(got) != 2 {
			t.Fatalf("%s: %d responses", body.contentType, len(got))
		}
		if !got[0].At.Equal(full.At) || !got[0].AtGiven {
			t.Errorf("%s: at %v (given %v), sent %v", body.contentType, got[0].At, got[0].AtGiven, full.At)
		}
		// Without a time the server stamps its own.
		if !got[1].At.Equal(now) || got[1].AtGiven {
			t.Errorf("%s: no time decoded as %v (given %v), want the receive time", body.contentType, got[1].At, got[1].AtGiven)
		}
		for i, want := range in {
			got[i].At, want.At = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got[i], want) {
				t.Errorf("%s: decoded\n%+v\nsent\n%+v", body.contentType, got[i], want)
			}
		}
	}
	// A response without a time leaves "at" out rather than sending a zero time.
	if b, _ := json.Marshal(api.ResponseOf(bare)); string(b) != `{"id":"case-2","score":0,"channel":"sms"}` {
		t.Errorf("bare response encodes as %s", b)
	}
}

func TestRecorded(t *testing.T) {
	res := store.RecordResult{Accepted: 1, Updated: 2, Duplicates: 3}
	b, err := json.Marshal(api.RecordedOf(res))
	if err != nil {
		t.Fatal(err)
	}
	// Without stale responses the reply reads as it did before versions.
	if string(b) != `{"accepted":1,"updated":2,"duplicates":3}` {
		t.Errorf("reply %s", b)
	}
	res.Stale = 4
	b, _ = json.Marshal(api.RecordedOf(res))
	var back api.Recorded
	if err := json.Unmarshal(b, &back); err != nil || api.ResultOf(back) != res {
		t.Errorf("reply %s reads back as %+v (%v), want %+v", b, api.ResultOf(back), err, res)
	}
}

func TestProblemNames(t *testing.T) {
	p := api.Problem{
		Type: api.ProblemTypePrefix + "invalid", Title: "Unprocessable Entity", Status: 422,
		Detail: "1 of 2 responses are invalid; nothing was recorded", Instance: "/api/v1/responses", RequestID: "r1",
		Errors: []fault.Detail{{Index: 1, Field: "score", Reason: "must be an integer from 0 to 10"}},
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"type":"urn:pulseboard:problem:invalid","title":"Unprocessable Entity","status":422,` +
		`"detail":"1 of 2 responses are invalid; nothing was recorded","instance":"/api/v1/responses","request_id":"r1",` +
		`"errors":[{"index":1,"field":"score","reason":"must be an integer from 0 to 10"}]}`
	if string(b) != want {
		t.Errorf("problem\n%s\nwant\n%s", b, want)
	}
}

// TestCSATOnlyAndOffersRoundTrip: an answer with CSAT alone leaves score
// out (0 is a score, so only NoScore is left out), and an offer encoded
// with OfferOf is decoded by the offers decoder into the offer it came
// from.
func TestCSATOnlyAndOffersRoundTrip(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	csatOnly := store.Response{ID: "c1", Score: store.NoScore, CSAT: 2, Dims: store.Dims{Channel: "email"}}
	b, err := json.Marshal(api.ResponseOf(csatOnly))
	if err != nil || string(b) != `{"id":"c1","csat":2,"channel":"email"}` {
		t.Fatalf("csat-only response encodes as %s (%v)", b, err)
	}
	got, err := ingest.NewDecoder(ingest.Options{}).Decode(bytes.NewReader(b), ingest.TypeJSON, now)
	if err != nil || len(got) != 1 || got[0].Score != store.NoScore || got[0].CSAT != 2 {
		t.Fatalf("csat-only decoded as %+v, %v", got, err)
	}

	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	offer := store.Response{ID: "call-1", Kind: store.KindOffer, Score: store.NoScore,
		Dims: store.Dims{Channel: "phone", Segment: "smb", Team: "billing", Agent: "ana", Journey: "renewal"},
		At:   now.Add(-time.Hour), AtGiven: true, Version: 7}
	offer.Dims.Set("region", "north")
	w := api.OfferOf(offer)
	b, err = json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	b = api.AppendCustom(b, w.Custom)
	got, err = ingest.NewDecoder(ingest.Options{Schema: schema}).DecodeKind(store.KindOffer, bytes.NewReader(b), ingest.TypeJSON, now)
	if err != nil || len(got) != 1 {
		t.Fatalf("offer %s decoded as %+v, %v", b, got, err)
	}
	if !got[0].At.Equal(offer.At) {
		t.Errorf("offer at %v, sent %v", got[0].At, offer.At)
	}
	got[0].At, offer.At = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got[0], offer) {
		t.Errorf("offer decoded\n%+v\nsent\n%+v", got[0], offer)
	}
	// Offer's JSON names are the offer fields ingest reads, in order.
	var names []string
	rt := reflect.TypeFor[api.Offer]()
	for i := range rt.NumField() {
		if name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); name != "-" {
			names = append(names, name)
		}
	}
	if want := ingest.OfferFieldNames(); !slices.Equal(names, want) {
		t.Errorf("Offer's JSON names %q, ingest's offer fields %q", names, want)
	}
}
