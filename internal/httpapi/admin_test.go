package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/window"
)

const testAdminToken = "test-admin-token-0123"

// TestAdminAPI: the follow-up endpoints need a viewer or admin token, answer 404
// for an unknown follow-up, 409 for a claim that is not allowed, 422 or
// 400 for a bad body, and move a follow-up open → claimed → resolved.
func TestAdminAPI(t *testing.T) {
	eng := alert.NewMemory()
	now := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	if _, err := eng.Open(context.Background(), alert.FollowUp{ID: "crm/42 a", Score: 1, At: now, Opened: now, Due: now, Status: alert.Open}); err != nil {
		t.Fatal(err)
	}
	if _, err := eng.Open(context.Background(), alert.FollowUp{ID: "r1", Score: 2, At: now, Opened: now, Due: now.Add(time.Hour), Status: alert.Open}); err != nil {
		t.Fatal(err)
	}
	svc := alert.New(alert.Options{Engine: eng, Calendar: window.MustCalendar(time.UTC), Now: func() time.Time { return now }})
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{AdminTokens: auth.NewTokens(testAdminToken), Alerts: svc}))
	t.Cleanup(srv.Close)
	off := httptest.NewServer(httpapi.New(httpapi.Deps{AdminTokens: auth.NewTokens(), Alerts: svc}))
	t.Cleanup(off.Close)

	do := func(base, method, path, token, body string) (int, string) {
		t.Helper()
		res, b := call(t, method, base+path, token, body)
		return res.StatusCode, string(b)
	}
	cases := []struct {
		base, method, path, token, body string
		status                          int
		has                             string
	}{
		{srv.URL, "GET", "/api/v1/followups", "", "", 401, "needs the viewer role"},
		{srv.URL, "GET", "/api/v1/followups", "wrong-token-0123456789", "", 401, "needs the viewer role"},
		{srv.URL, "GET", "/api/v1/alerts/dead-letters", "", "", 401, "needs the admin role"},
		{off.URL, "GET", "/api/v1/alerts/dead-letters", testAdminToken, "", 403, "PULSEBOARD_ADMIN_TOKENS"},
		{srv.URL, "GET", "/api/v1/followups", testAdminToken, "", 200, `"count":2`},
		{srv.URL, "POST", "/api/v1/followups/crm%2F42%20a/resolve", testAdminToken, `{"by":"dana"}`, 200, `"id":"crm/42 a"`},
		{srv.URL, "GET", "/api/v1/followups?status=later", testAdminToken, "", 400, "status must be"},
		{srv.URL, "POST", "/api/v1/followups/nope/claim", testAdminToken, `{"by":"dana"}`, 404, "no follow-up"},
		{srv.URL, "POST", "/api/v1/followups/r1/claim", testAdminToken, `{"who":"dana"}`, 400, "body must be JSON"},
		{srv.URL, "POST", "/api/v1/followups/r1/claim", testAdminToken, `{"by":""}`, 422, "by:"},
		{srv.URL, "POST", "/api/v1/followups/r1/claim", testAdminToken, `{"by":"dana"}`, 200, `"claimed_by":"dana"`},
		{srv.URL, "POST", "/api/v1/followups/r1/claim", testAdminToken, `{"by":"dana"}`, 200, `"status":"claimed"`},
		{srv.URL, "POST", "/api/v1/followups/r1/claim", testAdminToken, `{"by":"lee"}`, 409, "claimed by someone else"},
		{srv.URL, "POST", "/api/v1/followups/r1/resolve", testAdminToken, `{"by":"lee","note":"x"}`, 409, ""},
		{srv.URL, "POST", "/api/v1/followups/r1/resolve", testAdminToken, `{"by":"dana","note":"called back"}`, 200, `"note":"called back"`},
		{srv.URL, "GET", "/api/v1/followups?status=resolved", testAdminToken, "", 200, `"count":2`},
		{srv.URL, "GET", "/api/v1/followups", testAdminToken, "", 200, `"count":0`},
		{srv.URL, "GET", "/api/v1/alerts", testAdminToken, "", 200, `"alerts":[]`},
		{srv.URL, "GET", "/api/v1/alerts/dead-letters?limit=0", testAdminToken, "", 400, "limit"},
		{srv.URL, "GET", "/api/v1/alerts/dead-letters", testAdminToken, "", 200, `"dead_letters":[]`},
		{srv.URL, "POST", "/api/v1/alerts/dead-letters/nope/retry", testAdminToken, "", 404, "no dead letter"},
	}
	for _, c := range cases {
		status, body := do(c.base, c.method, c.path, c.token, c.body)
		if status != c.status || !strings.Contains(body, c.has) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", c.method, c.path, c.body, status, body, c.status, c.has)
		}
		if status >= 400 {
			var p map[string]any
			if json.Unmarshal([]byte(body), &p) != nil || p["status"] == nil {
				t.Errorf("%s %s: not a problem body: %s", c.method, c.path, body)
			}
		}
	}
}
