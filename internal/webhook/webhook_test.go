package webhook

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

const secret = "test-webhook-secret-0123"

// now is the test clock: the payloads in testdata answered minutes before.
var now = storetest.Start

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit changes one value of a JSON payload; a nil value deletes the key.
func edit(t *testing.T, body []byte, p string, v any) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(p, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	if v == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = v
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func hooks(t *testing.T, cfg Config) *Hooks {
	t.Helper()
	h, err := New(secret, cfg, ingest.Options{})
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	return h
}

func exampleHooks(t *testing.T) *Hooks {
	t.Helper()
	cfg, err := Parse(readFile(t, "webhooks.yaml"))
	if err != nil {
		t.Fatalf("parse example: %v", err)
	}
	return hooks(t, cfg)
}

// signed is a Delighted delivery with a valid signature.
func signed(body []byte) Delivery {
	h := http.Header{}
	h.Set(SignatureHeader, "sha256="+hex.EncodeToString(sign([]byte(secret), body)))
	return Delivery{Header: h, Body: body}
}

// withSecret is a delivery with the shared secret in the default header.
func withSecret(body []byte) Delivery {
	h := http.Header{}
	h.Set(DefaultSecretHeader, secret)
	return Delivery{Header: h, Body: body}
}

func receive(t *testing.T, h *Hooks, kind Kind, name string, d Delivery) store.Response {
	t.Helper()
	out, err := h.Receive(kind, name, d, now)
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	if out.Ignored != "" {
		t.Fatalf("ignored: %s", out.Ignored)
	}
	return out.Response
}

func wantResponse(t *testing.T, got, want store.Response) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("response\n got %+v\nwant %+v", got, want)
	}
}

func TestDelightedMapping(t *testing.T) {
	h := hooks(t, Config{})
	created := time.Date(2026, 11, 23, 15, 20, 0, 0, time.UTC)
	got := receive(t, h, Delighted, "", signed(readFile(t, "delighted_created.json")))
	wantResponse(t, got, store.Response{
		ID: "delighted-81724", Score: 6,
		Dims: store.Dims{Channel: "email", Segment: "enterprise", Team: "alpha", Agent: "dana"},
		At:   created, AtGiven: true,
		Version: 1795447200, // updated_at: a later event of the answer wins
	})
	got = receive(t, h, Delighted, "", signed(readFile(t, "delighted_updated.json")))
	wantResponse(t, got, store.Response{
		ID: "delighted-81724", Score: 9,
		Dims:    store.Dims{Channel: "email", Segment: "enterprise", Team: "alpha", Agent: "dana"},
		Comment: "Support sorted out the billing mix-up the same day.",
		Tags:    []string{"billing", "support"},
		At:      created, AtGiven: true, // the answer's time, not updated_at
		Version: 1795447500,
	})
}

func TestDelightedProperties(t *testing.T) {
	body := readFile(t, "delighted_created.json")
	t.Run("lowercase names", func(t *testing.T) {
		b := edit(t, body, "event_data.person_properties", map[string]any{"channel": "web", "team": "beta"})
		got := receive(t, hooks(t, Config{}), Delighted, "", signed(b))
		if got.Dims != (store.Dims{Channel: "web", Team: "beta"}) {
			t.Errorf("dims %+v", got.Dims)
		}
	})
	t.Run("none: default channel", func(t *testing.T) {
		b := edit(t, body, "event_data.person_properties", nil)
		got := receive(t, hooks(t, Config{}), Delighted, "", signed(b))
		if got.Dims != (store.Dims{Channel: "delighted"}) {
			t.Errorf("dims %+v", got.Dims)
		}
	})
	t.Run("empty value counts as absent", func(t *testing.T) {
		b := edit(t, body, "event_data.person_properties", map[string]any{"Channel": "", "channel": "sms", "Team": ""})
		got := receive(t, hooks(t, Config{}), Delighted, "", signed(b))
		if got.Dims != (store.Dims{Channel: "sms"}) {
			t.Errorf("dims %+v", got.Dims)
		}
	})
	t.Run("configured names and prefix", func(t *testing.T) {
		cfg, err := Parse([]byte(`
delighted:
  id_prefix: ""
  default_channel: email
  properties:
    channel: Delivery Method
    segment: [Plan]
    team: []
`))
		if err != nil {
			t.Fatal(err)
		}
		b := edit(t, body, "event_data.person_properties.Delivery Method", "in-app")
		got := receive(t, hooks(t, cfg), Delighted, "", signed(b))
		want := store.Dims{Channel: "in-app", Segment: "Pro", Agent: "dana"} // team turned off
		if got.ID != "81724" || got.Dims != want {
			t.Errorf("got %q %+v", got.ID, got.Dims)
		}
		got = receive(t, hooks(t, cfg), Delighted, "", signed(edit(t, body, "event_data.person_properties", nil)))
		if got.Dims.Channel != "email" {
			t.Errorf("default channel %q", got.Dims.Channel)
		}
	})
}

func TestDelightedIgnores(t *testing.T) {
	h := hooks(t, Config{})
	for name, body := range map[string][]byte{
		"unsubscribe": readFile(t, "delighted_unsubscribe.json"),
		"csat":        edit(t, readFile(t, "delighted_created.json"), "event_data.survey_type", "csat"),
	} {
		out, err := h.Receive(Delighted, "", signed(body), now)
		if err != nil || out.Ignored == "" {
			t.Errorf("%s: %+v, %v; want ignored", name, out, err)
		}
	}
	// An eNPS survey is 0-10 like NPS, and recorded.
	receive(t, h, Delighted, "", signed(edit(t, readFile(t, "delighted_created.json"), "event_data.survey_type", "enps")))
}

func TestDelightedSignature(t *testing.T) {
	h := hooks(t, Config{})
	body := readFile(t, "delighted_created.json")
	good := hex.EncodeToString(sign([]byte(secret), body))
	for name, tc := range map[string]struct {
		sig string
		ok  bool
	}{
		"prefixed":         {"sha256=" + good, true},
		"bare hex":         {good, true},
		"upper-case hex":   {"sha256=" + strings.ToUpper(good), true},
		"missing":          {"", false},
		"other key":        {"sha256=" + hex.EncodeToString(sign([]byte("another-secret-456789"), body)), false},
		"not hex":          {"sha256=zz", false},
		"truncated":        {"sha256=" + good[:32], false},
		"shared secret":    {secret, false},
		"prefix only":      {"sha256=", false},
		"other body's sig": {"sha256=" + hex.EncodeToString(sign([]byte(secret), body[1:])), false},
	} {
		hdr := http.Header{}
		if tc.sig != "" {
			hdr.Set(SignatureHeader, tc.sig)
		}
		_, err := h.Receive(Delighted, "", Delivery{Header: hdr, Body: body}, now)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !tc.ok && fault.CodeOf(err) != fault.Unauthorized {
			t.Errorf("%s: got %v, want unauthorized", name, err)
		}
	}
}

func TestAskNicelyMapping(t *testing.T) {
	h := hooks(t, Config{})
	responded := time.Date(2026, 11, 23, 15, 21, 30, 0, time.UTC)
	dims := store.Dims{Channel: "sms", Segment: "smb", Team: "beta", Agent: "lee"}
	got := receive(t, h, AskNicely, "", withSecret(readFile(t, "asknicely_submitted.json")))
	wantResponse(t, got, store.Response{ID: "asknicely-517332", Score: 4, Dims: dims, At: responded, AtGiven: true, Version: 1})
	// count 2 is the same response, updated: same id.
	got = receive(t, h, AskNicely, "", withSecret(readFile(t, "asknicely_updated.json")))
	wantResponse(t, got, store.Response{ID: "asknicely-517332", Score: 8, Dims: dims,
		Comment: "Lee called back and fixed the router. Much better now.", At: responded, AtGiven: true, Version: 2})

	// Without deliverymethod the default channel applies; custom fields
	// on the question win over the person's.
	b := edit(t, readFile(t, "asknicely_submitted.json"), "question.deliverymethod", nil)
	b = edit(t, b, "question.team_c", "delta")
	got = receive(t, h, AskNicely, "", withSecret(b))
	if got.Dims != (store.Dims{Channel: "asknicely", Segment: "smb", Team: "delta", Agent: "lee"}) {
		t.Errorf("dims %+v", got.Dims)
	}
}

func TestSharedSecret(t *testing.T) {
	body := readFile(t, "asknicely_submitted.json")
	custom, err := Parse([]byte("asknicely: {secret_header: X-AskNicely-Token}\n"))
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		cfg    Config
		header string
		value  string
		query  string
		ok     bool
	}{
		"default header":       {Config{}, DefaultSecretHeader, secret, "", true},
		"query":                {Config{}, "", "", "secret=" + url.QueryEscape(secret), true},
		"custom header":        {custom, "X-AskNicely-Token", secret, "", true},
		"default header moved": {custom, DefaultSecretHeader, secret, "", false},
		"wrong":                {Config{}, DefaultSecretHeader, secret + "x", "", false},
		"wrong query":          {Config{}, "", "", "secret=nope", false},
		"none":                 {Config{}, "", "", "", false},
		"bearer is not it":     {Config{}, "Authorization", "Bearer " + secret, "", false},
	} {
		hdr := http.Header{}
		if tc.header != "" {
			hdr.Set(tc.header, tc.value)
		}
		q, _ := url.ParseQuery(tc.query)
		_, err := hooks(t, tc.cfg).Receive(AskNicely, "", Delivery{Header: hdr, Query: q, Body: body}, now)
		if tc.ok && err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !tc.ok && fault.CodeOf(err) != fault.Unauthorized {
			t.Errorf("%s: got %v, want unauthorized", name, err)
		}
	}
}

func TestGeneric(t *testing.T) {
	h := exampleHooks(t)
	hdr := http.Header{}
	hdr.Set("X-Token", secret)
	got := receive(t, h, Generic, "qualtrics", Delivery{Header: hdr, Body: readFile(t, "generic_qualtrics.json")})
	wantResponse(t, got, store.Response{
		ID: "qualtrics-R_2xQz8mKp4VtL9cN", Score: 10,
		Dims:    store.Dims{Channel: "phone", Segment: "consumer", Team: "gamma", Agent: "sam"},
		Comment: "Quick install, friendly technician.",
		Tags:    []string{"install"},
		At:      time.Date(2026, 11, 23, 15, 21, 30, 0, time.UTC), AtGiven: true,
	})

	// The adapter's own header replaces the default one.
	if _, err := h.Receive(Generic, "qualtrics", withSecret(readFile(t, "generic_qualtrics.json")), now); fault.CodeOf(err) != fault.Unauthorized {
		t.Errorf("default header accepted: %v", err)
	}
	if _, err := h.Receive(Generic, "nosuch", withSecret(nil), now); fault.CodeOf(err) != fault.NotFound {
		t.Errorf("unknown adapter: %v", err)
	}
}

func TestGenericValueShapes(t *testing.T) {
	cfg, err := Parse([]byte(`
generic:
- name: shapes
  id_prefix: ""
  fields:
    id: r.id
    score: r.score
    channel: r.via
    team: "=ops"
    tags: "=vip"
    at: r.when
`))
	if err != nil {
		t.Fatal(err)
	}
	h := hooks(t, cfg)
	body := []byte(`{"r":{"id":42,"score":7,"via":"chat","when":1795447200}}`)
	got := receive(t, h, Generic, "shapes", withSecret(body))
	wantResponse(t, got, store.Response{
		ID: "42", Score: 7, Dims: store.Dims{Channel: "chat", Team: "ops"}, Tags: []string{"vip"},
		At: time.Date(2026, 11, 23, 15, 20, 0, 0, time.UTC), AtGiven: true,
	})
	// Unix seconds as a string, as AskNicely sends them.
	got = receive(t, h, Generic, "shapes", withSecret([]byte(`{"r":{"id":"a","score":"7","via":"chat","when":"1795447200"}}`)))
	if !got.At.Equal(time.Date(2026, 11, 23, 15, 20, 0, 0, time.UTC)) {
		t.Errorf("at %v", got.At)
	}
	// No time: the receive time, not flagged as given.
	got = receive(t, h, Generic, "shapes", withSecret([]byte(`{"r":{"id":"a","score":"7","via":"chat"}}`)))
	if got.AtGiven || !got.At.Equal(now) {
		t.Errorf("at %v given %v", got.At, got.AtGiven)
	}
}

// TestGenericCSAT: a tool that asks CSAT, with or without NPS, maps csat
// and the offer its survey came from; without a score the answer counts
// in CSAT alone.
func TestGenericCSAT(t *testing.T) {
	cfg, err := Parse([]byte(`
generic:
- name: csat
  id_prefix: ""
  fields:
    id: r.id
    csat: r.sat
    offer_id: r.ticket
    channel: "=chat"
- name: both
  id_prefix: ""
  fields:
    id: r.id
    score: r.nps
    csat: r.sat
    channel: "=phone"
`))
	if err != nil {
		t.Fatal(err)
	}
	h := hooks(t, cfg)
	got := receive(t, h, Generic, "csat", withSecret([]byte(`{"r":{"id":"a1","sat":4,"ticket":"T-9"}}`)))
	wantResponse(t, got, store.Response{ID: "a1", Score: store.NoScore, CSAT: 4, OfferID: "T-9", Dims: store.Dims{Channel: "chat"}, At: now})
	got = receive(t, h, Generic, "both", withSecret([]byte(`{"r":{"id":"b1","nps":9,"sat":"5"}}`)))
	wantResponse(t, got, store.Response{ID: "b1", Score: 9, CSAT: 5, Dims: store.Dims{Channel: "phone"}, At: now})
	// A CSAT out of range is the API's 422, naming the tool's field.
	_, err = h.Receive(Generic, "csat", withSecret([]byte(`{"r":{"id":"a2","sat":6}}`)), now)
	if d := problem(t, err); len(d) != 1 || !strings.HasPrefix(d[0], "r.sat: ") {
		t.Errorf("csat 6: %v", d)
	}
}

// problem returns the details of an Invalid error as "field: reason".
func problem(t *testing.T, err error) []string {
	t.Helper()
	fe, ok := fault.As(err)
	if !ok || fe.Code != fault.Invalid && fe.Code != fault.BadRequest {
		t.Fatalf("got %v, want an invalid-payload or malformed-body error", err)
	}
	// A body that is not JSON is a bad request (400), marked so the
	// table tells it from a payload that means nothing valid (422).
	mark := ""
	if fe.Code == fault.BadRequest {
		mark = "malformed "
	}
	var out []string
	for _, d := range fe.Details {
		out = append(out, mark+d.Field+": "+d.Reason)
	}
	return out
}

func TestBadPayloads(t *testing.T) {
	h := hooks(t, Config{})
	created := readFile(t, "delighted_created.json")
	asked := readFile(t, "asknicely_submitted.json")
	for _, tc := range []struct {
		name string
		kind Kind
		body []byte
		want []string
	}{
		{"score out of range", Delighted, edit(t, created, "event_data.score", 11),
			[]string{"event_data.score: must be an integer from 0 to 10"}},
		{"score with decimals", Delighted, edit(t, created, "event_data.score", json.Number("9.0")),
			[]string{"event_data.score: must be an integer from 0 to 10"}},
		{"no id", Delighted, edit(t, created, "event_data.id", nil),
			[]string{"event_data.id: is required"}},
		{"score not a scalar", Delighted, edit(t, created, "event_data.score", map[string]any{"v": 1}),
			[]string{"event_data.score: must be a string or a number"}},
		{"bad property", Delighted, edit(t, created, "event_data.person_properties.Team", "north/east"),
			[]string{"event_data.person_properties.Team: may hold only ASCII letters, digits, spaces and -_.@"}},
		{"bad time", Delighted, edit(t, created, "event_data.created_at", "yesterday"),
			[]string{"event_data.created_at: must be an RFC 3339 time such as 2025-01-31T09:30:00Z"}},
		{"future time", Delighted, edit(t, created, "event_data.created_at", now.Add(time.Hour).Unix()),
			[]string{"event_data.created_at: is in the future (more than 5m0s ahead of the server clock)"}},
		{"negative time", Delighted, edit(t, created, "event_data.created_at", -5),
			[]string{"event_data.created_at: must be Unix seconds or an RFC 3339 time"}},
		{"tags not strings", Delighted, edit(t, created, "event_data.tags", []any{1, 2}),
			[]string{"event_data.tags: must be a list of strings"}},
		{"no event type", Delighted, edit(t, created, "event_type", nil),
			[]string{"event_type: is required, e.g. survey_response.created"}},
		{"two problems", AskNicely, edit(t, edit(t, asked, "question.score", "ten"), "question.id", ""),
			[]string{"question.id: must be 1 to 128 characters", "question.score: must be an integer from 0 to 10"}},
		{"count zero", AskNicely, edit(t, asked, "count", 0),
			[]string{"count: must be an integer from 1 to 9007199254740991"}},
		{"not JSON", AskNicely, []byte(`{"count": 1,`), []string{"malformed : the body is empty or cut short"}},
		{"not an object", AskNicely, []byte(`[1]`), []string{": must be a JSON object"}},
		{"trailing data", AskNicely, append(slices.Clone(asked), []byte(`{}`)...), []string{"malformed : data after the JSON value"}},
	} {
		d := withSecret(tc.body)
		if tc.kind == Delighted {
			d = signed(tc.body)
		}
		_, err := h.Receive(tc.kind, "", d, now)
		if got := problem(t, err); !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
	// The id prefix counts toward the id's length limit.
	long := edit(t, asked, "question.id", strings.Repeat("9", 120))
	if got := problem(t, func() error { _, err := h.Receive(AskNicely, "", withSecret(long), now); return err }()); len(got) != 1 || !strings.HasPrefix(got[0], "question.id: ") {
		t.Errorf("long id: %q", got)
	}
}

// TestUpdatesThroughTheStore records created/updated deliveries in the real
// memory engine: a changed score replaces the old one, a redelivery is a
// duplicate.
func TestUpdatesThroughTheStore(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(now)
	opts := storetest.Options(t, clock)
	s := memstore.New(opts)
	t.Cleanup(func() { s.Close() })
	h := hooks(t, Config{})
	record := func(kind Kind, d Delivery) store.RecordResult {
		t.Helper()
		out, err := h.Receive(kind, "", d, clock.Now())
		if err != nil || out.Ignored != "" {
			t.Fatalf("receive: %+v, %v", out, err)
		}
		res, err := s.Record(context.Background(), []store.Response{out.Response})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	counts := func() nps.Distribution {
		t.Helper()
		groups, err := s.Query(context.Background(), store.Query{Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
		if err != nil || len(groups) != 1 {
			t.Fatalf("query: %v %v", groups, err)
		}
		return groups[0].Counts
	}

	steps := []struct {
		name  string
		kind  Kind
		d     Delivery
		want  store.RecordResult
		count nps.Distribution
	}{
		{"delighted created", Delighted, signed(readFile(t, "delighted_created.json")), store.RecordResult{Accepted: 1}, nps.Of(6)},
		{"delighted updated", Delighted, signed(readFile(t, "delighted_updated.json")), store.RecordResult{Updated: 1}, nps.Of(9)},
		{"delighted redelivered", Delighted, signed(readFile(t, "delighted_updated.json")), store.RecordResult{Duplicates: 1}, nps.Of(9)},
		{"asknicely count 1", AskNicely, withSecret(readFile(t, "asknicely_submitted.json")), store.RecordResult{Accepted: 1}, nps.Of(9, 4)},
		{"asknicely count 2", AskNicely, withSecret(readFile(t, "asknicely_updated.json")), store.RecordResult{Updated: 1}, nps.Of(9, 8)},
	}
	for _, st := range steps {
		if got := record(st.kind, st.d); got != st.want {
			t.Errorf("%s: %+v, want %+v", st.name, got, st.want)
		}
		if got := counts(); got != st.count {
			t.Errorf("%s: counts %v, want %v", st.name, got, st.count)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"delightd: {}\n", "field delightd not found"},
		{"delighted: {properties: {chanel: [x]}}\n", "properties.chanel: neither a field nor a configured dimension"},
		{"generic: [{name: x, fields: {id: a, score: b, channel: c, extra: d}}]\n", "fields.extra: neither a field nor a configured dimension"},
		{"delighted: {default_channel: 'a/b'}\n", "default_channel"},
		{"delighted: {survey_types: ['']}\n", "survey_types"},
		{"delighted: {properties: {team: ['']}}\n", "properties.team"},
		{"delighted: {properties: {team: {a: b}}}\n", "property name or a list"},
		{"asknicely: {secret_header: 'X Bad'}\n", "not a valid header name"},
		{"asknicely: {id_prefix: \"a\\tb\"}\n", "id_prefix"},
		{"generic: [{name: Q, fields: {id: a, score: b, channel: c}}]\n", "lowercase"},
		{"generic: [{name: q, fields: {score: b, channel: c}}]\n", "fields.id is required"},
		{"generic: [{name: q, fields: {id: a, channel: c}}]\n", "fields.score is required (or fields.csat"},
		{"generic: [{name: q, fields: {id: a, score: b}}]\n", "fields.channel is required"},
		{"generic: [{name: q, fields: {id: '=1', score: b, channel: c}}]\n", "fields.id: must be a path"},
		{"generic: [{name: q, fields: {id: a, score: b, channel: '=a/b'}}]\n", "constant \"a/b\""},
		{"generic: [{name: q, fields: {id: a..b, score: b, channel: c}}]\n", "empty part"},
		{"generic: [{name: q, fields: {id: '$', score: b, channel: c}}]\n", "empty path"},
		{"generic: [{name: q, fields: {id: a, score: b, channel: c}}, {name: q, fields: {id: a, score: b, channel: c}}]\n", "used twice"},
	} {
		cfg, err := Parse([]byte(tc.yaml))
		if err == nil {
			_, err = New(secret, cfg, ingest.Options{})
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want %q", tc.yaml, err, tc.want)
		}
	}
}

func TestOpen(t *testing.T) {
	opts := ingest.Options{}
	if h, err := Open("", "", noEnv, opts); h != nil || err != nil {
		t.Errorf("off: %v %v", h, err)
	}
	example := filepath.Join("testdata", "webhooks.yaml")
	if h, err := Open(secret, example, noEnv, opts); h == nil || err != nil {
		t.Errorf("example: %v %v", h, err)
	}
	if _, err := Open(secret, filepath.Join("testdata", "nosuch.yaml"), noEnv, opts); err == nil {
		t.Error("missing file accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("generic: [{name: q}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A broken file fails even with webhooks off, so it shows at start.
	if _, err := Open("", bad, noEnv, opts); err == nil || !strings.Contains(err.Error(), "fields.id is required") {
		t.Errorf("bad file with webhooks off: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if h, err := Open(secret, empty, noEnv, opts); h == nil || err != nil {
		t.Errorf("empty file: %v %v", h, err)
	}
	if _, err := New("", Config{}, opts); err == nil {
		t.Error("New without a secret")
	}
}

func noEnv(string) string { return "" }

// TestSecretPerAdapter: each adapter may have its own secret, named by
// secret_env; Delighted's HMAC key then never equals a secret that another
// adapter receives in the clear. Adapters without one fall back to the
// shared secret (with a warning for Delighted), or are off without it.
func TestSecretPerAdapter(t *testing.T) {
	const (
		dKey = "delighted-own-hmac-key-01"
		aKey = "asknicely-own-secret-0001"
	)
	env := map[string]string{"D_SECRET": dKey, "A_SECRET": aKey, "SHORT": "short"}
	getenv := func(k string) string { return env[k] }
	file := filepath.Join(t.TempDir(), "webhooks.yaml")
	write := func(yaml string) {
		if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := ingest.Options{}
	body := readFile(t, "delighted_created.json")
	signedWith := func(key string) Delivery {
		h := http.Header{}
		h.Set(SignatureHeader, "sha256="+hex.EncodeToString(sign([]byte(key), body)))
		return Delivery{Header: h, Body: body}
	}
	asked := readFile(t, "asknicely_submitted.json")
	presenting := func(s string) Delivery {
		h := http.Header{}
		h.Set(DefaultSecretHeader, s)
		return Delivery{Header: h, Body: asked}
	}
	code := func(h *Hooks, kind Kind, name string, d Delivery) fault.Code {
		_, err := h.Receive(kind, name, d, now)
		if err == nil {
			return ""
		}
		return fault.CodeOf(err)
	}

	// Own secrets for both, no shared secret: the generic adapter is off.
	write("delighted: {secret_env: D_SECRET}\nasknicely: {secret_env: A_SECRET}\ngeneric: [{name: q, fields: {id: a, score: b, channel: '=web'}}]\n")
	h, err := Open("", file, getenv, opts)
	if err != nil || h == nil {
		t.Fatalf("own secrets: %v %v", h, err)
	}
	for what, c := range map[string]struct {
		got, want fault.Code
	}{
		"delighted signed with its key":      {code(h, Delighted, "", signedWith(dKey)), ""},
		"delighted signed with asknicely's":  {code(h, Delighted, "", signedWith(aKey)), fault.Unauthorized},
		"asknicely with its secret":          {code(h, AskNicely, "", presenting(aKey)), ""},
		"asknicely with delighted's key":     {code(h, AskNicely, "", presenting(dKey)), fault.Unauthorized},
		"generic without a secret is off":    {code(h, Generic, "q", presenting(aKey)), fault.NotFound},
		"unknown generic is still not found": {code(h, Generic, "zz", presenting(aKey)), fault.NotFound},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", what, c.got, c.want)
		}
	}
	if w := h.Warnings(); len(w) != 0 {
		t.Errorf("warnings with one secret per adapter: %q", w)
	}

	// The old setup, one shared secret: still works, with a warning.
	write("generic: [{name: q, fields: {id: a, score: b, channel: '=web'}}]\n")
	h, err = Open(secret, file, getenv, opts)
	if err != nil || code(h, Delighted, "", signedWith(secret)) != "" || code(h, AskNicely, "", presenting(secret)) != "" {
		t.Fatalf("shared secret: %v", err)
	}
	if w := h.Warnings(); len(w) != 1 || !strings.Contains(w[0], "asknicely, generic/q send in the clear") {
		t.Errorf("warnings = %q", w)
	}
	// Delighted alone on its own key, the rest on the shared secret: no
	// warning, the key is not sent anywhere.
	write("delighted: {secret_env: D_SECRET}\n")
	if h, err = Open(secret, file, getenv, opts); err != nil || len(h.Warnings()) != 0 || code(h, Delighted, "", signedWith(secret)) != fault.Unauthorized {
		t.Errorf("own delighted key: %v %v", err, h.Warnings())
	}

	for yaml, want := range map[string]string{
		"delighted: {secret_env: NOPE}\n":                                        "delighted.secret_env: NOPE is not set",
		"asknicely: {secret_env: SHORT}\n":                                       "asknicely.secret_env: SHORT must hold at least 16 characters",
		"delighted: {secret_env: D_SECRET}\nasknicely: {secret_env: D_SECRET}\n": "must not be the secret asknicely sends in the clear",
	} {
		write(yaml)
		if _, err := Open(secret, file, getenv, opts); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", yaml, err, want)
		}
	}
	// Own secret of the shared value is the same mistake.
	write("delighted: {secret_env: D_SECRET}\n")
	if _, err := Open(dKey, file, getenv, opts); err == nil || !strings.Contains(err.Error(), "must not be the secret asknicely sends") {
		t.Errorf("delighted's key as the shared secret: %v", err)
	}
}

func TestLookup(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"a":{"b":[{"c":"x"},null],"d.e":1,"n":null}}`), &doc); err != nil {
		t.Fatal(err)
	}
	for spec, want := range map[string]any{
		"a.b.0.c":   "x",
		"$.a.b.0.c": "x",
		"a.b.1":     nil, // null is absent
		"a.b.2":     nil,
		"a.b.-1":    nil,
		"a.b.01":    nil,
		"a.b.x":     nil,
		"a.n":       nil,
		"a.d.e":     nil, // keys with dots cannot be reached
		"a.b.0.c.z": nil,
		"zz":        nil,
	} {
		p, err := parsePath(spec)
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		got, ok := lookup(doc, p)
		if ok != (want != nil) || want != nil && got != want {
			t.Errorf("%s: %v %v, want %v", spec, got, ok, want)
		}
	}
}

func TestErrorsAreFaults(t *testing.T) {
	// Every error Receive returns carries a code the HTTP layer maps.
	h := hooks(t, Config{})
	_, err := h.Receive("nosuch", "", Delivery{}, now)
	var fe *fault.Error
	if !errors.As(err, &fe) || fe.Code != fault.NotFound {
		t.Errorf("unknown kind: %v", err)
	}
}

func TestNullPropertiesKeepDefaults(t *testing.T) {
	cfg, err := Parse([]byte("delighted:\n  properties:\n    team: ~\n    agent:\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, hooks(t, cfg), Delighted, "", signed(readFile(t, "delighted_created.json")))
	if got.Dims.Team != "alpha" || got.Dims.Agent != "dana" {
		t.Errorf("dims %+v", got.Dims)
	}
}
