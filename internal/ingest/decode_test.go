package ingest

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// omit, as a value in obj, removes a base field.
const omit = "\x00omit"

// obj builds a JSON object from a valid base (id, score, channel) changed by
// key/raw-value pairs: a pair for a base key replaces it, omit removes it,
// others are appended in order.
func obj(kv ...string) string {
	keys := []string{"id", "score", "channel"}
	vals := map[string]string{"id": `"r1"`, "score": "9", "channel": `"web"`}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, ok := vals[kv[i]]; !ok {
			keys = append(keys, kv[i])
		}
		vals[kv[i]] = kv[i+1]
	}
	var parts []string
	for _, k := range keys {
		if vals[k] != omit {
			parts = append(parts, fmt.Sprintf("%q:%s", k, vals[k]))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// jstr quotes s as a JSON string (Go quoting is a superset for these tests'
// ASCII and plain Unicode values).
func jstr(s string) string { return fmt.Sprintf("%q", s) }

func atText(t time.Time) string { return jstr(t.Format(time.RFC3339Nano)) }

func decode(t *testing.T, o Options, ct, body string) ([]store.Response, error) {
	t.Helper()
	return NewDecoder(o).Decode(strings.NewReader(body), ct, testNow)
}

// mustFault asserts err is a *fault.Error of code.
func mustFault(t *testing.T, err error, code fault.Code) *fault.Error {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok {
		t.Fatalf("error = %v (%T), want a *fault.Error", err, err)
	}
	if fe.Code != code {
		t.Fatalf("code = %s (%v), want %s", fe.Code, fe, code)
	}
	return fe
}

func sameResponse(a, b store.Response) bool {
	return a.ID == b.ID && a.Score == b.Score && a.CSAT == b.CSAT && a.OfferID == b.OfferID && a.Kind == b.Kind &&
		a.Dims == b.Dims && a.Comment == b.Comment &&
		slices.Equal(a.Tags, b.Tags) && (a.Tags == nil) == (b.Tags == nil) &&
		a.At.Equal(b.At) && a.At.Location() == time.UTC && a.AtGiven == b.AtGiven
}

func checkResponses(t *testing.T, got, want []store.Response) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d responses, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !sameResponse(got[i], want[i]) {
			t.Errorf("response %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
}

func TestFieldProblems(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	tags := func(n int) string {
		t := make([]string, n)
		for i := range t {
			t[i] = jstr(fmt.Sprint("t", i))
		}
		return "[" + strings.Join(t, ",") + "]"
	}
	intReason := "must be an integer from 0 to 10"
	cases := []struct {
		name, body, field, reason string
	}{
		{"id missing", obj("id", omit), "id", "is required"},
		{"id null", obj("id", "null"), "id", "is required"},
		{"id number", obj("id", "5"), "id", "must be a string"},
		{"id empty", obj("id", `""`), "id", "must be 1 to 128 characters"},
		{"id too long", obj("id", jstr(long("x", 129))), "id", "must be 1 to 128 characters"},
		{"id too many runes", obj("id", jstr(long("é", 129))), "id", "must be 1 to 128 characters"},
		{"id control char", obj("id", `"a\u0007b"`), "id", "must not contain control characters"},
		{"id newline", obj("id", `"a\nb"`), "id", "must not contain control characters"},
		{"id invalid utf8", obj("id", "\"a\xffb\""), "id", "must be valid UTF-8"},
		{"score missing", obj("score", omit), "score", "is required unless csat is given"},
		{"score null", obj("score", "null"), "score", "is required unless csat is given"},
		{"score fraction", obj("score", "7.5"), "score", intReason},
		{"score string", obj("score", `"7"`), "score", intReason},
		{"score 7.0", obj("score", "7.0"), "score", intReason},
		{"score exponent", obj("score", "1e1"), "score", intReason},
		{"score 7E0", obj("score", "7E0"), "score", intReason},
		{"score bool", obj("score", "true"), "score", intReason},
		{"score negative", obj("score", "-1"), "score", intReason},
		{"score 11", obj("score", "11"), "score", intReason},
		{"score huge", obj("score", "100000000000000000000000"), "score", intReason},
		{"score array", obj("score", "[7]"), "score", intReason},
		{"channel missing", obj("channel", omit), "channel", "is required"},
		{"channel null", obj("channel", "null"), "channel", "is required"},
		{"channel empty", obj("channel", `""`), "channel", "must be 1 to 64 characters"},
		{"channel too long", obj("channel", jstr(long("w", 65))), "channel", "must be 1 to 64 characters"},
		{"channel number", obj("channel", "5"), "channel", "must be a string"},
		{"channel punctuation", obj("channel", `"web!"`), "channel", "may hold only ASCII letters, digits, spaces and -_.@"},
		{"channel slash", obj("channel", `"a/b"`), "channel", "may hold only"},
		{"channel non-ascii", obj("channel", `"wéb"`), "channel", "may hold only"},
		{"channel leading space", obj("channel", `" web"`), "channel", "must not start or end with a space"},
		{"channel trailing space", obj("channel", `"web "`), "channel", "must not start or end with a space"},
		{"segment empty", obj("segment", `""`), "segment", "must be 1 to 64 characters"},
		{"segment object", obj("segment", `{}`), "segment", "must be a string"},
		{"team tab", obj("team", `"a\tb"`), "team", "may hold only"},
		{"team bool", obj("team", `false`), "team", "must be a string"},
		{"agent trailing space", obj("agent", `"ann "`), "agent", "must not start or end with a space"},
		{"agent too long", obj("agent", jstr(long("a", 65))), "agent", "must be 1 to 64 characters"},
		{"comment too long", obj("comment", jstr(long("é", 2001))), "comment", "must be at most 2000 characters"},
		{"comment number", obj("comment", "5"), "comment", "must be a string"},
		{"tags string", obj("tags", `"a"`), "tags", "must be an array of strings"},
		{"tags object", obj("tags", `{}`), "tags", "must be an array of strings"},
		{"tags too many", obj("tags", tags(17)), "tags", "must hold at most 16 tags"},
		{"tag empty", obj("tags", `[""]`), "tags", "tags[0] must be 1 to 64 characters"},
		{"tag too long", obj("tags", `["ok",`+jstr(long("é", 65))+`]`), "tags", "tags[1] must be 1 to 64 characters"},
		{"tag not string", obj("tags", `["a",1]`), "tags", "tags[1] must be a string"},
		{"tag control", obj("tags", `["a\u0000"]`), "tags", "tags[0] must not contain control characters"},
		{"at garbage", obj("at", `"yesterday"`), "at", "must be an RFC 3339 time"},
		{"at date only", obj("at", `"2025-06-01"`), "at", "must be an RFC 3339 time"},
		{"at no zone", obj("at", `"2025-06-01T11:00:00"`), "at", "must be an RFC 3339 time"},
		{"at empty", obj("at", `""`), "at", "must be an RFC 3339 time"},
		{"at number", obj("at", "1748779200"), "at", "must be a string"},
		{"at future", obj("at", atText(testNow.Add(5*time.Minute+time.Second))), "at",
			"is in the future (more than 5m0s ahead of the server clock)"},
		{"at too old", obj("at", atText(testNow.Add(-400*24*time.Hour-time.Second))), "at",
			"is older than the 400-day retention"},
		{"unknown field", obj("nps", "1"), "nps", "unknown field"},
		{"unknown field case", obj("ID", `"x"`), "ID", "unknown field"},
		{"unknown null field", obj("extra", "null"), "extra", "unknown field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, Options{}, "application/json", tc.body)
			fe := mustFault(t, err, fault.Invalid)
			if want := "1 of 1 responses are invalid; nothing was recorded"; fe.Message != want {
				t.Errorf("message = %q, want %q", fe.Message, want)
			}
			if len(fe.Details) != 1 {
				t.Fatalf("details = %+v, want exactly one", fe.Details)
			}
			d := fe.Details[0]
			if d.Index != 0 || d.Field != tc.field || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("detail = %+v, want index 0, field %q, reason containing %q", d, tc.field, tc.reason)
			}
		})
	}
}

func TestBodyProblems(t *testing.T) {
	good := obj()
	cases := []struct {
		name, ct, body string
		code           fault.Code
		message        string // substring
		index          int    // of the only detail, when reason is set
		reason         string // substring; "" means no details expected
	}{
		{name: "empty body", body: "", code: fault.Invalid, message: "the body holds no responses"},
		{name: "white space body", body: " \n\t ", code: fault.Invalid, message: "the body holds no responses"},
		{name: "empty array", body: " [ ] ", code: fault.Invalid, message: "the body holds no responses"},
		{name: "empty ndjson", ct: TypeNDJSON, body: "\n \r\n\n", code: fault.Invalid, message: "the body holds no responses"},
		{name: "truncated object", body: `{"id":`, code: fault.BadRequest, message: "not valid JSON",
			index: 0, reason: "invalid JSON at byte 6: unexpected end of input"},
		{name: "bad token", body: `{"id":x}`, code: fault.BadRequest, message: "not valid JSON",
			index: 0, reason: "invalid JSON at byte 7: invalid character 'x'"},
		{name: "trailing garbage", body: good + " x", code: fault.BadRequest, message: "not valid JSON",
			index: 0, reason: "unexpected data after the JSON value"},
		{name: "two objects as json", body: good + "\n" + good, code: fault.BadRequest,
			index: 0, reason: "send Content-Type application/x-ndjson"},
		{name: "trailing after array", body: "[" + good + "]]", code: fault.BadRequest,
			index: 0, reason: "unexpected data after the JSON value"},
		{name: "scalar body", body: `5`, code: fault.Invalid, message: "must be a JSON object or an array",
			index: 0, reason: "must be a JSON object or an array of objects"},
		{name: "null body", body: `null`, code: fault.Invalid, index: 0, reason: "must be a JSON object"},
		{name: "array of scalar", body: `[5]`, code: fault.Invalid, message: "1 of 1 responses are invalid",
			index: 0, reason: "must be a JSON object"},
		{name: "array item null", body: "[" + good + ",null]", code: fault.Invalid, message: "1 of 2 responses are invalid",
			index: 1, reason: "must be a JSON object"},
		{name: "syntax error in item 2", body: "[" + good + "," + good + `,{"id":]`, code: fault.BadRequest,
			message: "not valid JSON", index: 2, reason: "invalid JSON at byte"},
		{name: "trailing comma", body: "[" + good + ",]", code: fault.BadRequest, index: 1, reason: "invalid JSON at byte"},
		{name: "unterminated array", body: "[" + good, code: fault.BadRequest, index: 1, reason: "unexpected end of input"},
		{name: "ndjson syntax error on line 3", ct: TypeNDJSON, body: good + "\n\n" + `{"id":x}` + "\n" + good,
			code: fault.BadRequest, message: "1 of 3 responses are invalid", index: 1, reason: "line 3: invalid JSON at column 7"},
		{name: "ndjson truncated line", ct: TypeNDJSON, body: good + "\n" + `{"id":`,
			code: fault.BadRequest, index: 1, reason: "line 2: invalid JSON"},
		{name: "ndjson two values on a line", ct: TypeNDJSON, body: good + " " + good,
			code: fault.BadRequest, index: 0, reason: "line 1: invalid JSON"},
		{name: "ndjson array line", ct: TypeNDJSON, body: "[" + good + "]",
			code: fault.Invalid, index: 0, reason: "line 1: must be a JSON object"},
		{name: "text/plain", ct: "text/plain", body: good, code: fault.Unsupported,
			message: `content type "text/plain" is not supported; send application/json or application/x-ndjson`},
		{name: "xml", ct: "application/xml", body: good, code: fault.Unsupported, message: `"application/xml"`},
		{name: "form", ct: "application/x-www-form-urlencoded", body: good, code: fault.Unsupported, message: "application/x-ndjson"},
		{name: "latin1", ct: "application/json; charset=iso-8859-1", body: good, code: fault.Unsupported, message: "utf-8"},
		{name: "malformed type", ct: "application/json;;=", body: good, code: fault.Unsupported, message: `"application/json;;="`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ct := tc.ct
			if ct == "" {
				ct = TypeJSON
			}
			rs, err := decode(t, Options{}, ct, tc.body)
			if rs != nil {
				t.Errorf("responses = %+v, want none", rs)
			}
			fe := mustFault(t, err, tc.code)
			if !strings.Contains(fe.Message, tc.message) {
				t.Errorf("message = %q, want it to contain %q", fe.Message, tc.message)
			}
			if tc.reason == "" {
				if len(fe.Details) != 0 {
					t.Errorf("details = %+v, want none", fe.Details)
				}
				return
			}
			if len(fe.Details) != 1 {
				t.Fatalf("details = %+v, want exactly one", fe.Details)
			}
			d := fe.Details[0]
			if d.Index != tc.index || d.Field != "" || !strings.Contains(d.Reason, tc.reason) {
				t.Errorf("detail = %+v, want index %d, no field, reason containing %q", d, tc.index, tc.reason)
			}
		})
	}
}

func TestDecodeGood(t *testing.T) {
	at := time.Date(2025, 6, 1, 9, 59, 59, 123456789, time.UTC)
	full := `{"id":"r-1","score":10,"channel":"web","segment":"SMB","team":"Support EU","agent":"ann.lee@x",` +
		`"comment":"Quick and\nfriendly 👍","tags":["billing","vip"],"at":"2025-06-01T11:59:59.123456789+02:00"}`
	fullWant := store.Response{
		ID: "r-1", Score: 10,
		Dims:    store.Dims{Channel: "web", Segment: "SMB", Team: "Support EU", Agent: "ann.lee@x"},
		Comment: "Quick and\nfriendly 👍", Tags: []string{"billing", "vip"},
		At: at, AtGiven: true,
	}
	minimal := func(id string, score int) store.Response {
		return store.Response{ID: id, Score: score, Dims: store.Dims{Channel: "web"}, At: testNow}
	}
	cases := []struct {
		name, ct, body string
		want           []store.Response
	}{
		{"single object", TypeJSON, full, []store.Response{fullWant}},
		{"no content type", "", "\n " + full + "\n", []store.Response{fullWant}},
		{"charset", "application/json; charset=utf-8", full, []store.Response{fullWant}},
		{"type is case-insensitive", "Application/JSON; Charset=UTF-8", full, []store.Response{fullWant}},
		{"array", TypeJSON, `[` + full + `, {"id":"r2","score":0,"channel":"web","segment":null,"tags":null,"at":null,"comment":null}]`,
			[]store.Response{fullWant, minimal("r2", 0)}},
		{"ndjson", TypeNDJSON, "\n" + full + "\r\n\r\n" + `{"id":"r2","score":3,"channel":"web"}` + "\n \n" + `{"id":"r3","score":7,"channel":"web"}`,
			[]store.Response{fullWant, minimal("r2", 3), minimal("r3", 7)}},
		{"ndjson with charset", "application/x-ndjson; charset=utf-8", obj() + "\n", []store.Response{minimal("r1", 9)}},
		{"duplicate ids kept in order", TypeJSON, `[` + obj("score", "1") + `,` + obj("score", "2") + `]`,
			[]store.Response{minimal("r1", 1), minimal("r1", 2)}},
		{"empty tags are no tags", TypeJSON, obj("tags", "[]"), []store.Response{minimal("r1", 9)}},
		{"at exactly at the skew limit", TypeJSON, obj("at", atText(testNow.Add(5*time.Minute))),
			[]store.Response{{ID: "r1", Score: 9, Dims: store.Dims{Channel: "web"}, At: testNow.Add(5 * time.Minute), AtGiven: true}}},
		{"at exactly at the age limit", TypeJSON, obj("at", atText(testNow.Add(-400*24*time.Hour))),
			[]store.Response{{ID: "r1", Score: 9, Dims: store.Dims{Channel: "web"}, At: testNow.Add(-400 * 24 * time.Hour), AtGiven: true}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := decode(t, Options{}, tc.ct, tc.body)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			checkResponses(t, rs, tc.want)
		})
	}
}

func TestBoundaryValuesAccepted(t *testing.T) {
	tags := make([]string, MaxTags)
	for i := range tags {
		tags[i] = strings.Repeat("é", MaxTagLen)
	}
	tagJSON := `["` + strings.Join(tags, `","`) + `"]`
	body := obj(
		"id", jstr(strings.Repeat("é", MaxIDLen)),
		"channel", jstr(strings.Repeat("w", MaxDimLen)),
		"segment", `"a"`,
		"team", `"A-z_0.9@ x"`,
		"comment", jstr(strings.Repeat("é", MaxCommentLen)),
		"tags", tagJSON,
	)
	rs, err := decode(t, Options{}, TypeJSON, body)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	checkResponses(t, rs, []store.Response{{
		ID: strings.Repeat("é", MaxIDLen), Score: 9,
		Dims:    store.Dims{Channel: strings.Repeat("w", MaxDimLen), Segment: "a", Team: "A-z_0.9@ x"},
		Comment: strings.Repeat("é", MaxCommentLen), Tags: tags, At: testNow,
	}})
}

func TestAtDefaultsToNow(t *testing.T) {
	now := time.Now() // carries a monotonic reading and a local zone
	rs, err := NewDecoder(Options{}).Decode(strings.NewReader(obj()), TypeJSON, now)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	r := rs[0]
	if r.AtGiven || !r.At.Equal(now) || r.At.Location() != time.UTC {
		t.Errorf("At = %v (given %v), want %v in UTC, not given", r.At, r.AtGiven, now)
	}
	if r.At != r.At.Round(0) {
		t.Errorf("At keeps a monotonic clock reading: %v", r.At)
	}
}

func TestAtLimitsFollowOptions(t *testing.T) {
	o := Options{MaxSkew: time.Minute, MaxAge: 36 * time.Hour}
	cases := []struct {
		at     time.Time
		reason string
	}{
		{testNow.Add(61 * time.Second), "is in the future (more than 1m0s ahead of the server clock)"},
		{testNow.Add(-37 * time.Hour), "is older than the 36h0m0s retention"},
		{testNow.Add(-48 * time.Hour), "older"},
	}
	for _, tc := range cases {
		_, err := decode(t, o, TypeJSON, obj("at", atText(tc.at)))
		fe := mustFault(t, err, fault.Invalid)
		if len(fe.Details) != 1 || fe.Details[0].Field != "at" || !strings.Contains(fe.Details[0].Reason, tc.reason) {
			t.Errorf("at %v: details = %+v, want at: %q", tc.at, fe.Details, tc.reason)
		}
	}
	if _, err := decode(t, o, TypeJSON, obj("at", atText(testNow.Add(-35*time.Hour)))); err != nil {
		t.Errorf("35h old with a 36h MaxAge: %v", err)
	}
}

func TestBatchReportsEveryBadItemAndNothingElse(t *testing.T) {
	body := "[" + strings.Join([]string{
		obj("id", "1"),         // 0: bad
		obj("id", `"ok1"`),     // 1: good
		obj("score", `"high"`), // 2: bad
		obj("id", `"ok2"`),     // 3: good
	}, ",") + "]"
	rs, err := decode(t, Options{}, TypeJSON, body)
	if rs != nil {
		t.Errorf("responses = %+v, want none", rs)
	}
	fe := mustFault(t, err, fault.Invalid)
	if want := "2 of 4 responses are invalid; nothing was recorded"; fe.Message != want {
		t.Errorf("message = %q, want %q", fe.Message, want)
	}
	want := []fault.Detail{
		{Index: 0, Field: "id", Reason: "must be a string"},
		{Index: 2, Field: "score", Reason: "must be an integer from 0 to 10"},
	}
	if !slices.Equal(fe.Details, want) {
		t.Errorf("details = %+v, want %+v", fe.Details, want)
	}
}

func TestEveryProblemOfAnItemInFieldOrder(t *testing.T) {
	body := `{"zz":1,"at":"soon","score":11,"id":"","channel":"","aa":2,"tags":[1]}`
	_, err := decode(t, Options{}, TypeJSON, body)
	fe := mustFault(t, err, fault.Invalid)
	var got []string
	for _, d := range fe.Details {
		if d.Index != 0 {
			t.Errorf("detail %+v: want index 0", d)
		}
		got = append(got, d.Field)
	}
	if want := []string{"id", "score", "channel", "tags", "at", "aa", "zz"}; !slices.Equal(got, want) {
		t.Errorf("fields = %q, want %q (details %+v)", got, want, fe.Details)
	}
}

func TestNDJSONIndexCountsItemsNotLines(t *testing.T) {
	body := obj() + "\n\n" + obj() + "\n\n" + obj("score", "12") + "\n"
	_, err := decode(t, Options{}, TypeNDJSON, body)
	fe := mustFault(t, err, fault.Invalid)
	want := []fault.Detail{{Index: 2, Field: "score", Reason: "must be an integer from 0 to 10"}}
	if !slices.Equal(fe.Details, want) || fe.Message != "1 of 3 responses are invalid; nothing was recorded" {
		t.Errorf("got %q %+v, want details %+v", fe.Message, fe.Details, want)
	}
}

func TestArraySyntaxErrorKeepsEarlierProblems(t *testing.T) {
	body := "[" + obj("score", "99") + "," + obj() + `,{"id" 1}]`
	_, err := decode(t, Options{}, TypeJSON, body)
	// The syntax error makes the whole batch malformed (400), and the
	// problems found before it are still listed.
	fe := mustFault(t, err, fault.BadRequest)
	if len(fe.Details) != 2 || fe.Details[0].Index != 0 || fe.Details[0].Field != "score" ||
		fe.Details[1].Index != 2 || !strings.Contains(fe.Details[1].Reason, "invalid JSON") {
		t.Errorf("details = %+v, want the score problem of item 0 then the syntax error of item 2", fe.Details)
	}
}

func TestDetailsAreCapped(t *testing.T) {
	items := make([]string, 150)
	for i := range items {
		items[i] = obj("score", "-3")
	}
	_, err := decode(t, Options{}, TypeJSON, "["+strings.Join(items, ",")+"]")
	fe := mustFault(t, err, fault.Invalid)
	if len(fe.Details) != MaxDetails {
		t.Errorf("got %d details, want %d", len(fe.Details), MaxDetails)
	}
	want := "150 of 150 responses are invalid; nothing was recorded (only the first 100 of 150 problems are listed)"
	if fe.Message != want {
		t.Errorf("message = %q, want %q", fe.Message, want)
	}
	if last := fe.Details[MaxDetails-1]; last.Index != MaxDetails-1 {
		t.Errorf("last detail = %+v, want index %d", last, MaxDetails-1)
	}
}

func repeatItems(n int, sep string) string {
	return strings.TrimSuffix(strings.Repeat(obj()+sep, n), sep)
}

func TestItemLimit(t *testing.T) {
	cases := []struct {
		name, ct, body string
		ok             bool
	}{
		{"array at the limit", TypeJSON, "[" + repeatItems(10000, ",") + "]", true},
		{"array over the limit", TypeJSON, "[" + repeatItems(10001, ",") + "]", false},
		{"ndjson at the limit", TypeNDJSON, repeatItems(10000, "\n\n"), true},
		{"ndjson over the limit", TypeNDJSON, repeatItems(10001, "\n"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := decode(t, Options{}, tc.ct, tc.body)
			if tc.ok {
				if err != nil || len(rs) != 10000 {
					t.Fatalf("got %d responses, error %v; want 10000", len(rs), err)
				}
				return
			}
			fe := mustFault(t, err, fault.TooLarge)
			if fe.Message != "batch has more than 10000 responses" {
				t.Errorf("message = %q", fe.Message)
			}
		})
	}
}

// endless repeats a chunk forever and counts what was read.
type endless struct {
	chunk []byte
	off   int
	read  int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.chunk[e.off:])
		n += c
		e.off = (e.off + c) % len(e.chunk)
	}
	e.read += int64(n)
	return n, nil
}

func TestItemLimitStopsReading(t *testing.T) {
	for _, ct := range []string{TypeJSON, TypeNDJSON} {
		src := &endless{chunk: []byte(obj() + "\n")}
		if ct == TypeJSON {
			src.chunk = []byte(obj() + ",")
		}
		body := io.MultiReader(strings.NewReader("["), src)
		if ct == TypeNDJSON {
			body = src
		}
		d := NewDecoder(Options{MaxBytes: 1 << 40, MaxItems: 10})
		_, err := d.Decode(body, ct, testNow)
		mustFault(t, err, fault.TooLarge)
		if src.read > 64<<10 {
			t.Errorf("%s: read %d bytes of an endless body for 10 items", ct, src.read)
		}
	}
}

func TestByteLimit(t *testing.T) {
	o := Options{MaxBytes: 64}
	fit := obj() // 36 bytes
	cases := []struct {
		name, ct, body string
		tooLarge       bool
	}{
		{"exactly at the limit", TypeJSON, fit + strings.Repeat(" ", 64-len(fit)), false},
		{"one byte over, in white space", TypeJSON, fit + strings.Repeat(" ", 65-len(fit)), true},
		{"array cut by the limit", TypeJSON, "[" + repeatItems(3, ",") + "]", true},
		{"ndjson over", TypeNDJSON, repeatItems(3, "\n"), true},
		{"garbage over", TypeJSON, strings.Repeat("[", 100), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, o, tc.ct, tc.body)
			if !tc.tooLarge {
				if err != nil {
					t.Fatalf("Decode: %v", err)
				}
				return
			}
			fe := mustFault(t, err, fault.TooLarge)
			if fe.Message != "body exceeds 64 bytes" {
				t.Errorf("message = %q", fe.Message)
			}
		})
	}
	_, err := decode(t, Options{}, TypeJSON, "["+strings.Repeat(" ", 8<<20)+"]")
	if fe := mustFault(t, err, fault.TooLarge); fe.Message != "body exceeds 8 MiB" {
		t.Errorf("default limit message = %q", fe.Message)
	}
}

func TestHTTPMaxBytesReader(t *testing.T) {
	body := http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("["+repeatItems(5, ",")+"]")), 50)
	_, err := NewDecoder(Options{}).Decode(body, TypeJSON, testNow)
	fe := mustFault(t, err, fault.TooLarge)
	if fe.Message != "body exceeds 50 bytes" {
		t.Errorf("message = %q", fe.Message)
	}
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Errorf("the cause %v should stay in the chain for logs", err)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadErrorIsBadRequest(t *testing.T) {
	for _, ct := range []string{TypeJSON, TypeNDJSON} {
		body := io.MultiReader(strings.NewReader(`[{"id":"a"`), failingReader{})
		_, err := NewDecoder(Options{}).Decode(body, ct, testNow)
		mustFault(t, err, fault.BadRequest)
	}
}

func TestOptionsDefaults(t *testing.T) {
	if got := NewDecoder(Options{}).Options(); got != DefaultOptions() {
		t.Errorf("zero options = %+v, want %+v", got, DefaultOptions())
	}
	got := NewDecoder(Options{MaxItems: 5}).Options()
	want := DefaultOptions()
	want.MaxItems = 5
	if got != want {
		t.Errorf("options = %+v, want %+v", got, want)
	}
}

// TestValidateFromStrings is how a CSV importer or stream consumer uses the
// package: texts in, the same rules and reasons out.
func TestValidateFromStrings(t *testing.T) {
	it := Item{ID: new("csv-1"), Score: new("8"), Channel: new("phone"), Team: new("Billing"),
		Tags: []string{"a"}, At: new("2025-06-01T10:00:00Z")}
	r, details := Validate(7, it, testNow, Options{})
	if len(details) != 0 {
		t.Fatalf("details = %+v", details)
	}
	want := store.Response{ID: "csv-1", Score: 8, Dims: store.Dims{Channel: "phone", Team: "Billing"},
		Tags: []string{"a"}, At: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), AtGiven: true}
	if !sameResponse(r, want) {
		t.Errorf("response = %+v, want %+v", r, want)
	}

	bad := Item{ID: new(""), Score: new(" 7"), Segment: new("x/y"), Comment: new("\xff")}
	_, details = Validate(7, bad, testNow, Options{})
	wantDetails := []fault.Detail{
		{Index: 7, Field: "id", Reason: "must be 1 to 128 characters"},
		{Index: 7, Field: "score", Reason: "must be an integer from 0 to 10"},
		{Index: 7, Field: "channel", Reason: "is required"},
		{Index: 7, Field: "segment", Reason: "may hold only ASCII letters, digits, spaces and -_.@"},
		{Index: 7, Field: "comment", Reason: "must be valid UTF-8"},
	}
	if !slices.Equal(details, wantDetails) {
		t.Errorf("details =\n %+v\nwant\n %+v", details, wantDetails)
	}
}

func TestProblems(t *testing.T) {
	var p Problems
	if p.Err(3) != nil {
		t.Fatal("no problems must give no error")
	}
	p.AddItem(nil)
	p.AddItem([]fault.Detail{{Index: 1, Field: "id", Reason: "x"}, {Index: 1, Field: "score", Reason: "y"}})
	fe := mustFault(t, p.Err(3), fault.Invalid)
	if fe.Message != "1 of 3 responses are invalid; nothing was recorded" || len(fe.Details) != 2 {
		t.Errorf("got %q %+v", fe.Message, fe.Details)
	}
}

func TestConcurrentDecode(t *testing.T) {
	d := NewDecoder(Options{})
	body := "[" + repeatItems(50, ",") + "]"
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			rs, err := d.Decode(strings.NewReader(body), TypeJSON, testNow)
			if err != nil || len(rs) != 50 {
				t.Errorf("got %d responses, error %v", len(rs), err)
			}
		})
	}
	wg.Wait()
}

func TestUnknownFieldNameIsShortenedInDetails(t *testing.T) {
	name := strings.Repeat("k", 100)
	_, err := decode(t, Options{}, TypeJSON, obj(name, "1"))
	fe := mustFault(t, err, fault.Invalid)
	if want := strings.Repeat("k", 64) + "…"; len(fe.Details) != 1 || fe.Details[0].Field != want {
		t.Errorf("details = %+v, want field %q", fe.Details, want)
	}
}

func TestFieldNames(t *testing.T) {
	want := []string{"id", "score", "csat", "offer_id", "channel", "segment", "team", "agent", "journey", "comment", "tags", "at", "version"}
	if got := FieldNames(); !slices.Equal(got, want) {
		t.Errorf("FieldNames() = %q, want %q", got, want)
	}
}

// TestVersion: "version" is an optional integer from 1 to 2^53-1; absent or
// null is unversioned.
func TestVersion(t *testing.T) {
	for body, want := range map[string]uint64{
		obj():                              0,
		obj("version", "null"):             0,
		obj("version", "1"):                1,
		obj("version", "1795447500"):       1795447500,
		obj("version", "9007199254740991"): 1<<53 - 1,
		obj("version", "2", "at", `"2025-06-01T10:00:00Z"`): 2,
	} {
		rs, err := decode(t, Options{MaxAge: 1 << 62}, TypeJSON, body)
		if err != nil || len(rs) != 1 || rs[0].Version != want {
			t.Errorf("%s: %+v, %v; want version %d", body, rs, err, want)
		}
	}
	for _, v := range []string{"0", "-1", "1.5", "1e3", `"7"`, "9007199254740992", "18446744073709551616", "true", "[1]"} {
		_, err := decode(t, Options{}, TypeJSON, obj("version", v))
		fe := mustFault(t, err, fault.Invalid)
		if len(fe.Details) != 1 || fe.Details[0].Field != FieldVersion || fe.Details[0].Reason != "must be an integer from 1 to 9007199254740991" {
			t.Errorf("version %s: details %+v", v, fe.Details)
		}
	}
}
