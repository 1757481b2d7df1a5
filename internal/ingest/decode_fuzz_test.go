package ingest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

// fuzzOptions are small, so the fuzzer reaches the limits too.
var fuzzOptions = Options{MaxBytes: 4 << 10, MaxItems: 8, MaxSkew: time.Minute, MaxAge: 48 * time.Hour}

var dimPattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]([A-Za-z0-9 _.@-]{0,62}[A-Za-z0-9_.@-])?$`)

// FuzzDecode feeds arbitrary bodies under every content type: Decode must
// not panic, must fail only with the documented faults, and whatever it
// accepts must satisfy the contract and survive a round trip.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(obj()))
	f.Add([]byte("[" + obj() + "," + obj("at", atText(testNow)) + "]"))
	f.Add([]byte("[" + obj("score", omit, "csat", "4", "offer_id", `"o-1"`) + "," + obj("csat", "1") + "]"))
	d := NewDecoder(fuzzOptions)
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, ct := range []string{"", TypeJSON, TypeNDJSON, "text/csv"} {
			rs, err := d.Decode(bytes.NewReader(body), ct, testNow)
			if ct == "text/csv" {
				mustFault(t, err, fault.Unsupported)
				continue
			}
			if err != nil {
				checkFault(t, err, ct)
				continue
			}
			if len(rs) == 0 || len(rs) > fuzzOptions.MaxItems {
				t.Fatalf("%s: %d responses accepted", ct, len(rs))
			}
			for _, r := range rs {
				checkInvariants(t, r)
			}
			checkRoundTrip(t, d, rs)
		}
	})
}

func checkFault(t *testing.T, err error, ct string) {
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("%s: error %v is not a *fault.Error", ct, err)
	}
	switch fe.Code {
	case fault.TooLarge:
	case fault.Invalid, fault.BadRequest:
		if len(fe.Details) > MaxDetails {
			t.Fatalf("%s: %d details", ct, len(fe.Details))
		}
		for _, d := range fe.Details {
			if d.Index < 0 || d.Index > fuzzOptions.MaxItems || d.Reason == "" {
				t.Fatalf("%s: bad detail %+v", ct, d)
			}
		}
	default:
		t.Fatalf("%s: unexpected code %s: %v", ct, fe.Code, err)
	}
}

func checkInvariants(t *testing.T, r store.Response) {
	n := utf8.RuneCountInString(r.ID)
	if n < 1 || n > MaxIDLen || !utf8.ValidString(r.ID) || strings.IndexFunc(r.ID, unicode.IsControl) >= 0 {
		t.Fatalf("bad id %q", r.ID)
	}
	if (r.Score < 0 || r.Score > 10) && (r.Score != store.NoScore || r.CSAT == 0) {
		t.Fatalf("bad score %d (csat %d)", r.Score, r.CSAT)
	}
	if r.CSAT < 0 || r.CSAT > 5 || r.Kind != store.KindResponse {
		t.Fatalf("bad csat %d or kind %d", r.CSAT, r.Kind)
	}
	if r.OfferID != "" && (utf8.RuneCountInString(r.OfferID) > MaxIDLen || strings.IndexFunc(r.OfferID, unicode.IsControl) >= 0) {
		t.Fatalf("bad offer id %q", r.OfferID)
	}
	if !dimPattern.MatchString(r.Dims.Channel) {
		t.Fatalf("bad channel %q", r.Dims.Channel)
	}
	for _, v := range []string{r.Dims.Segment, r.Dims.Team, r.Dims.Agent} {
		if v != "" && !dimPattern.MatchString(v) {
			t.Fatalf("bad dimension value %q", v)
		}
	}
	if utf8.RuneCountInString(r.Comment) > MaxCommentLen || !utf8.ValidString(r.Comment) {
		t.Fatalf("bad comment %q", r.Comment)
	}
	if r.Tags != nil && (len(r.Tags) == 0 || len(r.Tags) > MaxTags) {
		t.Fatalf("bad tags %q", r.Tags)
	}
	for _, tag := range r.Tags {
		if n := utf8.RuneCountInString(tag); n < 1 || n > MaxTagLen || !utf8.ValidString(tag) {
			t.Fatalf("bad tag %q", tag)
		}
	}
	if r.At.Location() != time.UTC || r.At.After(testNow.Add(fuzzOptions.MaxSkew)) ||
		r.At.Before(testNow.Add(-fuzzOptions.MaxAge)) || (!r.AtGiven && !r.At.Equal(testNow)) {
		t.Fatalf("bad at %v (given %v)", r.At, r.AtGiven)
	}
}

// checkRoundTrip encodes accepted responses back into the wire format: a
// producer echoing what was accepted must get the same responses.
func checkRoundTrip(t *testing.T, d *Decoder, rs []store.Response) {
	items := make([]map[string]any, len(rs))
	for i, r := range rs {
		m := map[string]any{"id": r.ID, "channel": r.Dims.Channel}
		if r.Score != store.NoScore {
			m["score"] = r.Score
		}
		if r.CSAT != 0 {
			m["csat"] = r.CSAT
		}
		if r.OfferID != "" {
			m["offer_id"] = r.OfferID
		}
		for k, v := range map[string]string{"segment": r.Dims.Segment, "team": r.Dims.Team, "agent": r.Dims.Agent, "comment": r.Comment} {
			if v != "" {
				m[k] = v
			}
		}
		if r.Tags != nil {
			m["tags"] = r.Tags
		}
		if r.AtGiven {
			m["at"] = r.At.Format(time.RFC3339Nano)
		}
		items[i] = m
	}
	body, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(body)) > fuzzOptions.MaxBytes {
		return // escaping can make the echo larger than the limit
	}
	again, err := d.Decode(bytes.NewReader(body), TypeJSON, testNow)
	if err != nil {
		t.Fatalf("round trip of %s: %v", body, err)
	}
	for i := range rs {
		if !sameResponse(again[i], rs[i]) {
			t.Fatalf("round trip changed response %d:\n %+v\n %+v", i, rs[i], again[i])
		}
	}
}
