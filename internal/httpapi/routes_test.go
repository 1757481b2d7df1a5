package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/httpapi"
)

// stalledAlerts is an alert state that never answers: every call waits
// for its context to end.
type stalledAlerts struct{}

func (stalledAlerts) wait(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

func (s stalledAlerts) Inbox(ctx context.Context, _ alert.InboxFilter) ([]alert.Item, error) {
	return nil, s.wait(ctx)
}

func (stalledAlerts) Queues() []alert.Queue { return nil }

func (s stalledAlerts) FollowUp(ctx context.Context, _ string) (alert.Item, error) {
	return alert.Item{}, s.wait(ctx)
}

func (s stalledAlerts) Reassign(ctx context.Context, _ string, _ alert.Reassignment) (alert.Item, error) {
	return alert.Item{}, s.wait(ctx)
}

func (s stalledAlerts) Claim(ctx context.Context, _, _ string) (alert.FollowUp, error) {
	return alert.FollowUp{}, s.wait(ctx)
}

func (s stalledAlerts) Resolve(ctx context.Context, _, _, _ string) (alert.FollowUp, error) {
	return alert.FollowUp{}, s.wait(ctx)
}
func (s stalledAlerts) Alerts(ctx context.Context) ([]alert.Active, error) { return nil, s.wait(ctx) }

func (s stalledAlerts) DeadLetters(ctx context.Context, _ int) ([]alert.Delivery, error) {
	return nil, s.wait(ctx)
}
func (s stalledAlerts) Redrive(ctx context.Context, _ string) error { return s.wait(ctx) }

// downStore is a store that cannot be reached.
type downStore struct{}

func (downStore) Ping(context.Context) error {
	return fault.Wrap(errors.New("dial tcp: connection refused"), fault.Unavailable, "the store is unavailable")
}

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// call sends a request with an optional bearer token and returns the
// response with its body read.
func call(t *testing.T, method, url, token, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// send is call for a JSON answer.
func send(t *testing.T, method, url, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	res, b := call(t, method, url, token, body)
	var p map[string]any
	_ = json.Unmarshal(b, &p)
	return res, p
}

// Every admin route over the alert state carries both guards, in order:
// without a token it answers 401 and never reaches the alert state; with
// one, its calls are bounded, and a stalled alert state answers 503 that
// the log names as the alert state, not the store. The grouping keeps the
// router's own answers: 405 for a known path with another method, 404 for
// an unknown path under the same prefix.
func TestAdminAlertStateRoutes(t *testing.T) {
	logs := &logBuffer{}
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		AdminTokens: auth.NewTokens(testAdminToken), Alerts: stalledAlerts{}, AlertsTimeout: 50 * time.Millisecond,
		Pinger: downStore{}, Logger: slog.New(slog.NewTextHandler(logs, nil)),
	}))
	t.Cleanup(srv.Close)

	routes := []struct{ method, path, body string }{
		{"GET", "/api/v1/followups", ""},
		{"POST", "/api/v1/followups/r1/claim", `{"by":"dana"}`},
		{"POST", "/api/v1/followups/r1/resolve", `{"by":"dana","note":"called back"}`},
		{"POST", "/api/v1/followups/r1/reassign", `{"by":"dana","to":"lee"}`},
		{"GET", "/api/v1/alerts", ""},
		{"GET", "/api/v1/alerts/dead-letters", ""},
		{"POST", "/api/v1/alerts/dead-letters/d1/retry", ""},
	}
	for _, r := range routes {
		if res, _ := send(t, r.method, srv.URL+r.path, "", r.body); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without a token: %d, want 401", r.method, r.path, res.StatusCode)
		}
		began := time.Now()
		res, p := send(t, r.method, srv.URL+r.path, testAdminToken, r.body)
		if took := time.Since(began); took > 5*time.Second {
			t.Errorf("%s %s took %v: its calls into the alert state are not bounded", r.method, r.path, took)
		}
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s on a stalled alert state: %d, Retry-After %q; want 503 with Retry-After", r.method, r.path, res.StatusCode, res.Header.Get("Retry-After"))
		}
		if p["type"] != "urn:pulseboard:problem:unavailable" || !strings.Contains(p["detail"].(string), "alert state") {
			t.Errorf("%s %s: problem %v, want type unavailable and a detail naming the alert state", r.method, r.path, p)
		}
	}
	out := logs.String()
	if n := strings.Count(out, `msg="alert state unavailable"`); n != len(routes) {
		t.Errorf("%d log lines say the alert state was unavailable, want %d:\n%s", n, len(routes), out)
	}
	if strings.Contains(out, "store unavailable") {
		t.Errorf("an alert-state failure was logged as the store's:\n%s", out)
	}
	// The store's own failure is still the store's.
	if res, _ := send(t, "GET", srv.URL+"/readyz", "", ""); res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz on a down store: %d", res.StatusCode)
	}
	if !strings.Contains(logs.String(), `msg="store unavailable"`) {
		t.Errorf("a down store was not logged as the store's:\n%s", logs.String())
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"DELETE", "/api/v1/followups", http.StatusMethodNotAllowed},
		{"GET", "/api/v1/followups/r1/claim", http.StatusMethodNotAllowed},
		{"POST", "/api/v1/alerts", http.StatusMethodNotAllowed},
		{"GET", "/api/v1/alerts/nope", http.StatusNotFound},
		{"GET", "/api/v1/followups/r1", http.StatusNotFound},
		// The /admin group answers for everything under it, as it always did.
		{"GET", "/api/v1/admin/nope", http.StatusUnauthorized},
		{"POST", "/api/v1/admin/reload", http.StatusUnauthorized},
		{"GET", "/debug/pprof/", http.StatusUnauthorized},
	} {
		if res, _ := send(t, c.method, srv.URL+c.path, "", ""); res.StatusCode != c.status {
			t.Errorf("%s %s without a token: %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
	}
}
