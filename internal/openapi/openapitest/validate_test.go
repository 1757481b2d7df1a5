package openapitest

import (
	"strings"
	"testing"
)

// The validator has teeth: it refuses what the document does not say, and
// routes paths the way Echo does.
func TestCheck(t *testing.T) {
	v, err := New()
	if err != nil {
		t.Fatal(err)
	}
	problem := `{"type":"urn:pulseboard:problem:unauthorized","title":"Unauthorized","status":401,"detail":"x","instance":"/api/v1/me","request_id":"r1"}`
	for _, c := range []struct {
		method, path string
		status       int
		ct, body     string
		route        string
		fail         string // "" passes; else a part of the error
	}{
		{"GET", "/api/v1/me", 401, "application/problem+json", problem, "/api/v1/me", ""},
		{"GET", "/api/v1/me", 200, "application/json", `{"user":"dana","role":"viewer","via":"bearer","may_see_agent_names":true}`, "/api/v1/me", ""},
		{"GET", "/api/v1/me", 200, "application/json", `{"user":"dana","role":"viewer","via":"bearer","may_see_agent_names":true,"extra":1}`, "/api/v1/me", "does not match"},
		{"GET", "/api/v1/me", 200, "application/json", `{"user":"dana","role":"owner","via":"bearer","may_see_agent_names":true}`, "/api/v1/me", "does not match"},
		{"GET", "/api/v1/me", 418, "application/problem+json", problem, "/api/v1/me", "not documented"},
		{"GET", "/api/v1/me", 401, "text/html; charset=UTF-8", "<p>", "/api/v1/me", "not one the document names"},
		{"GET", "/api/v1/me", 401, "application/problem+json", `{"type":"x","title":"t"}`, "/api/v1/me", "does not match"},
		{"POST", "/api/v1/responses", 202, "application/json", `{"accepted":1,"updated":0,"duplicates":0}`, "/api/v1/responses", ""},
		{"POST", "/api/v1/responses", 202, "application/json", `{"accepted":1,"updated":0,"duplicates":0,"stale":0}`, "/api/v1/responses", "does not match"},
		// Static segments beat parameters, as in Echo.
		{"GET", "/boards/floor/live", 400, "text/plain; charset=utf-8", "not websocket", "/boards/{name}/live", ""},
		{"GET", "/boards/team/billing", 200, "text/html; charset=UTF-8", "<html>", "/boards/{name}/{value}", ""},
		{"GET", "/api/v1/followups/crm%2F42/claim", 405, "application/problem+json", `{"type":"about:blank","title":"Method Not Allowed","status":405}`, "/api/v1/followups/{id}/claim", ""},
		// A wildcard takes the rest, an empty rest too.
		{"GET", "/debug/pprof/", 401, "application/problem+json", problem, "/debug/pprof/{profile}", ""},
		{"GET", "/static/board.js", 200, "text/javascript; charset=utf-8", "x", "/static/{path}", ""},
		// Nothing there: the router's 404, nothing else.
		{"GET", "/nope", 404, "application/problem+json", `{"type":"about:blank","title":"Not Found","status":404}`, "", ""},
		{"GET", "/nope", 200, "text/html", "<p>", "", "no route"},
	} {
		r, err := v.Check(c.method, c.path, c.status, c.ct, []byte(c.body))
		what := c.method + " " + c.path
		switch {
		case c.fail == "" && err != nil:
			t.Errorf("%s: %v", what, err)
		case c.fail != "" && (err == nil || !strings.Contains(err.Error(), c.fail)):
			t.Errorf("%s: error %v, want one saying %q", what, err, c.fail)
		}
		if r.Route != c.route {
			t.Errorf("%s: routed to %q, want %q", what, r.Route, c.route)
		}
	}
}
