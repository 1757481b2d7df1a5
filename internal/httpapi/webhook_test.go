package httpapi_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/webhook"
	"github.com/pulseboard/pulseboard/internal/window"
)

const webhookSecret = "test-webhook-secret-0123"

// webhookServer is the real HTTP API on the real memory engine, with the
// clock at the time the testdata payloads were answered.
type webhookServer struct {
	t     *testing.T
	srv   *httptest.Server
	store *memstore.Store
	opts  store.Options
	clock *storetest.Clock
}

func newWebhookServer(t *testing.T, secret string) *webhookServer {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	s := memstore.New(opts)
	t.Cleanup(func() { s.Close() })
	hooks, err := webhook.Open(secret, filepath.Join("..", "webhook", "testdata", "webhooks.yaml"), func(string) string { return "" }, ingest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := httpapi.New(httpapi.Deps{
		Recorder: s, Querier: s, Pinger: s,
		Calendar: opts.Calendar, Rollups: opts.Rollups,
		Webhooks: hooks,
		Now:      clock.Now,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &webhookServer{t: t, srv: srv, store: s, opts: opts, clock: clock}
}

func payload(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "webhook", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func delightedSignature(key string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// answer is a decoded webhook response: the 202 counts or a problem.
type answer struct {
	Status     int
	Accepted   int    `json:"accepted"`
	Updated    int    `json:"updated"`
	Duplicates int    `json:"duplicates"`
	Ignored    string `json:"ignored"`
	Type       string `json:"type"`
	Detail     string `json:"detail"`
	Errors     []struct {
		Field  string `json:"field"`
		Reason string `json:"reason"`
	} `json:"errors"`
}

func (w *webhookServer) post(path string, body []byte, header ...string) answer {
	w.t.Helper()
	req, err := http.NewRequest(http.MethodPost, w.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	a := answer{Status: res.StatusCode}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		w.t.Fatalf("decode %s answer: %v", path, err)
	}
	return a
}

func (w *webhookServer) counts() nps.Distribution {
	w.t.Helper()
	groups, err := w.store.Query(context.Background(), store.Query{Span: w.opts.Calendar.Span(window.Rolling1h, w.clock.Now())})
	if err != nil || len(groups) != 1 {
		w.t.Fatalf("query: %v %v", groups, err)
	}
	return groups[0].Counts
}

func (w *webhookServer) teamCounts(team string) nps.Distribution {
	w.t.Helper()
	groups, err := w.store.Query(context.Background(), store.Query{
		Span:    w.opts.Calendar.Span(window.Rolling1h, w.clock.Now()),
		Filters: map[store.Dimension]string{store.Team: team},
	})
	if err != nil || len(groups) != 1 {
		w.t.Fatalf("query: %v %v", groups, err)
	}
	return groups[0].Counts
}

func wantCounts(t *testing.T, got answer, accepted, updated, duplicates int) {
	t.Helper()
	if got.Status != http.StatusAccepted || got.Accepted != accepted || got.Updated != updated || got.Duplicates != duplicates {
		t.Errorf("got %d %+v, want 202 accepted %d updated %d duplicates %d", got.Status, got, accepted, updated, duplicates)
	}
}

func TestWebhooksOff(t *testing.T) {
	w := newWebhookServer(t, "")
	for _, p := range []string{"/api/v1/webhooks/delighted", "/api/v1/webhooks/asknicely", "/api/v1/webhooks/generic/qualtrics"} {
		got := w.post(p, payload(t, "delighted_created.json"))
		if got.Status != http.StatusNotFound || !strings.HasPrefix(got.Detail, "webhooks are off: give the adapters a secret") {
			t.Errorf("%s: %d %q", p, got.Status, got.Detail)
		}
	}
}

func TestDelightedWebhook(t *testing.T) {
	w := newWebhookServer(t, webhookSecret)
	const path = "/api/v1/webhooks/delighted"
	post := func(name string) answer {
		body := payload(t, name)
		return w.post(path, body, webhook.SignatureHeader, delightedSignature(webhookSecret, body))
	}

	wantCounts(t, post("delighted_created.json"), 1, 0, 0)
	if got := w.counts(); got != nps.Of(6) {
		t.Fatalf("after created: %v", got)
	}
	// The update changes the score: the 6 is retracted, only the 9 counts.
	wantCounts(t, post("delighted_updated.json"), 0, 1, 0)
	if got := w.counts(); got != nps.Of(9) {
		t.Errorf("after updated: %v, want only the 9", got)
	}
	if got := w.teamCounts("alpha"); got != nps.Of(9) {
		t.Errorf("team alpha: %v", got)
	}
	// Delighted retries until it sees a 2xx: a redelivery is a 202 duplicate.
	wantCounts(t, post("delighted_updated.json"), 0, 0, 1)

	got := post("delighted_unsubscribe.json")
	wantCounts(t, got, 0, 0, 0)
	if !strings.Contains(got.Ignored, "unsubscribe.created") {
		t.Errorf("unsubscribe: ignored %q", got.Ignored)
	}
	if got := w.counts(); got != nps.Of(9) {
		t.Errorf("at the end: %v", got)
	}
}

func TestDelightedWebhookSignature(t *testing.T) {
	w := newWebhookServer(t, webhookSecret)
	body := payload(t, "delighted_created.json")
	for name, header := range map[string][]string{
		"missing":       nil,
		"wrong key":     {webhook.SignatureHeader, delightedSignature("some-other-secret-99", body)},
		"shared secret": {webhook.DefaultSecretHeader, webhookSecret},
		"garbage":       {webhook.SignatureHeader, "sha256=not-hex"},
	} {
		got := w.post("/api/v1/webhooks/delighted", body, header...)
		if got.Status != http.StatusUnauthorized || got.Type != "urn:pulseboard:problem:unauthorized" {
			t.Errorf("%s: %d %s %q", name, got.Status, got.Type, got.Detail)
		}
	}
	if got := w.counts(); got.Responses() != 0 {
		t.Errorf("an unauthenticated delivery was recorded: %v", got)
	}
}

func TestAskNicelyWebhook(t *testing.T) {
	w := newWebhookServer(t, webhookSecret)
	const path = "/api/v1/webhooks/asknicely"
	if got := w.post(path, payload(t, "asknicely_submitted.json"), webhook.DefaultSecretHeader, "wrong-secret-0000000"); got.Status != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d", got.Status)
	}
	if got := w.post(path, payload(t, "asknicely_submitted.json")); got.Status != http.StatusUnauthorized {
		t.Errorf("no secret: %d", got.Status)
	}

	wantCounts(t, w.post(path, payload(t, "asknicely_submitted.json"), webhook.DefaultSecretHeader, webhookSecret), 1, 0, 0)
	// count 2: the same response with a new score, upserted on the same id.
	wantCounts(t, w.post(path+"?secret="+webhookSecret, payload(t, "asknicely_updated.json")), 0, 1, 0)
	if got := w.counts(); got != nps.Of(8) {
		t.Errorf("after count 2: %v, want only the 8", got)
	}
	wantCounts(t, w.post(path, payload(t, "asknicely_updated.json"), webhook.DefaultSecretHeader, webhookSecret), 0, 0, 1)
}

func TestGenericWebhook(t *testing.T) {
	w := newWebhookServer(t, webhookSecret)
	body := payload(t, "generic_qualtrics.json")
	wantCounts(t, w.post("/api/v1/webhooks/generic/qualtrics", body, "X-Token", webhookSecret), 1, 0, 0)
	if got := w.teamCounts("gamma"); got != nps.Of(10) {
		t.Errorf("team gamma: %v", got)
	}
	if got := w.post("/api/v1/webhooks/generic/qualtrics", body, webhook.DefaultSecretHeader, webhookSecret); got.Status != http.StatusUnauthorized {
		t.Errorf("the adapter's own header is required: %d", got.Status)
	}
	if got := w.post("/api/v1/webhooks/generic/typeform", body, "X-Token", webhookSecret); got.Status != http.StatusNotFound {
		t.Errorf("unknown adapter: %d", got.Status)
	}
}

func TestWebhookBadPayload(t *testing.T) {
	w := newWebhookServer(t, webhookSecret)
	body := bytes.Replace(payload(t, "delighted_created.json"), []byte(`"score": 6`), []byte(`"score": 11`), 1)
	got := w.post("/api/v1/webhooks/delighted", body, webhook.SignatureHeader, delightedSignature(webhookSecret, body))
	if got.Status != http.StatusUnprocessableEntity || len(got.Errors) != 1 ||
		got.Errors[0].Field != "event_data.score" || got.Errors[0].Reason != "must be an integer from 0 to 10" {
		t.Errorf("got %d %+v", got.Status, got)
	}
	got = w.post("/api/v1/webhooks/asknicely", []byte(`{"count":1,`), webhook.DefaultSecretHeader, webhookSecret)
	if got.Status != http.StatusBadRequest || len(got.Errors) != 1 || !strings.Contains(got.Errors[0].Reason, "cut short") {
		t.Errorf("not JSON: %d %+v, want 400 saying the body is cut short", got.Status, got)
	}
	got = w.post("/api/v1/webhooks/asknicely", []byte(`{"count":1,}`), webhook.DefaultSecretHeader, webhookSecret)
	if got.Status != http.StatusBadRequest || len(got.Errors) != 1 || !strings.Contains(got.Errors[0].Reason, "invalid JSON at byte 12") {
		t.Errorf("syntax error: %d %+v, want 400 naming the byte", got.Status, got)
	}
	got = w.post("/api/v1/webhooks/asknicely", []byte(`[1]`), webhook.DefaultSecretHeader, webhookSecret)
	if got.Status != http.StatusUnprocessableEntity {
		t.Errorf("valid JSON, not an object: %d %+v, want 422", got.Status, got)
	}
	big := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), webhook.MaxBodyBytes)...)
	big = append(big, `"}`...)
	if got := w.post("/api/v1/webhooks/asknicely", big, webhook.DefaultSecretHeader, webhookSecret); got.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("over 1 MiB: %d", got.Status)
	}
	if got := w.counts(); got.Responses() != 0 {
		t.Errorf("a bad payload was recorded: %v", got)
	}
}
