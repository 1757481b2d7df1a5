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
	"github.com/pulseboard/pulseboard/internal/store"
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

// TestFollowUpQueuesAPI: with queues configured, GET /api/v1/followups
// lists each follow-up's queue, label, due time, age and whether it is
// overdue, with the queues to filter by; ?queue= and ?status= filter (a
// follow-up stored without a queue is in the default one); POST
// /api/v1/followups/{id}/reassign moves a follow-up to a queue (its SLA from
// the answer) and/or a person, 409 once resolved, 422 for an unknown queue
// or a body that says nothing.
func TestFollowUpQueuesAPI(t *testing.T) {
	ctx := context.Background()
	eng := alert.NewMemory()
	now := time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC)
	open := func(id, queue string, age, sla time.Duration) {
		at := now.Add(-age)
		if _, err := eng.Open(ctx, alert.FollowUp{ID: id, Score: 2, Queue: queue, At: at, Opened: at, Due: at.Add(sla), Status: alert.Open}); err != nil {
			t.Fatal(err)
		}
	}
	open("old", "", 5*time.Hour, 24*time.Hour) // stored before queues: the default queue
	open("ph1", "pharma", 3*time.Hour, 2*time.Hour)
	open("ph2", "pharma", 30*time.Minute, 2*time.Hour)
	open("dv1", "devices", time.Hour, 4*time.Hour)
	cfg, err := alert.ParseConfig(`
queues:
  - {name: pharma, label: Pharma specialists, sla: 2h}
  - {name: devices, label: Device specialists, sla: 4h}
  - {name: floor, label: Floor supervisors, sla: 24h}
routing:
  - {match: {segment: pharma}, queue: pharma}
default_queue: floor
`, store.DefaultSchema(), nil, time.ParseDuration)
	if err != nil {
		t.Fatal(err)
	}
	svc := alert.New(alert.Options{Config: cfg, Engine: eng, Calendar: window.MustCalendar(time.UTC), Now: func() time.Time { return now }})
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{AdminTokens: auth.NewTokens(testAdminToken), Alerts: svc}))
	t.Cleanup(srv.Close)

	type listing struct {
		FollowUps []alert.Item `json:"follow_ups"`
		Count     int          `json:"count"`
		Queues    []struct{ Name, Label, SLA string }
	}
	list := func(query string) listing {
		t.Helper()
		res, b := call(t, "GET", srv.URL+"/api/v1/followups"+query, testAdminToken, "")
		var l listing
		if res.StatusCode != 200 || json.Unmarshal(b, &l) != nil {
			t.Fatalf("list %s: %d %s", query, res.StatusCode, b)
		}
		return l
	}
	ids := func(l listing) string {
		var out []string
		for _, f := range l.FollowUps {
			out = append(out, f.ID)
		}
		return strings.Join(out, ",")
	}
	all := list("")
	if ids(all) != "old,ph1,dv1,ph2" || all.Count != 4 {
		t.Fatalf("all: %s", ids(all))
	}
	if q := all.Queues; len(q) != 3 || q[0].Name != "pharma" || q[0].Label != "Pharma specialists" || q[0].SLA != "2h0m0s" || q[2].SLA != "24h0m0s" {
		t.Errorf("queues %+v", q)
	}
	if f := all.FollowUps[0]; f.Queue != "floor" || f.QueueLabel != "Floor supervisors" || f.AgeSeconds != 5*3600 || f.Overdue {
		t.Errorf("old follow-up %+v", f)
	}
	if f := all.FollowUps[1]; f.Queue != "pharma" || f.AgeSeconds != 3*3600 || !f.Overdue || !f.Due.Equal(now.Add(-time.Hour)) {
		t.Errorf("ph1 %+v", f)
	}
	for query, want := range map[string]string{
		"?queue=pharma":                  "ph1,ph2",
		"?queue=floor":                   "old",
		"?queue=devices&status=overdue":  "",
		"?status=overdue":                "ph1",
		"?queue=pharma&status=unclaimed": "ph1,ph2",
	} {
		if got := ids(list(query)); got != want {
			t.Errorf("%s: %s, want %s", query, got, want)
		}
	}

	do := func(method, path, body string) (int, string) {
		t.Helper()
		res, b := call(t, method, srv.URL+path, testAdminToken, body)
		return res.StatusCode, string(b)
	}
	// old (floor, 24h) to the pharma specialists: due 2h after the answer,
	// 3h ago; overdue at once.
	status, body := do("POST", "/api/v1/followups/old/reassign", `{"by":"sup","queue":"pharma"}`)
	var moved alert.Item
	if status != 200 || json.Unmarshal([]byte(body), &moved) != nil || moved.Queue != "pharma" || moved.QueueLabel != "Pharma specialists" ||
		!moved.Due.Equal(now.Add(-3*time.Hour)) || !moved.Overdue || len(moved.History) != 1 || moved.History[0].From != "floor" {
		t.Fatalf("reassign old: %d %s", status, body)
	}
	if got := ids(list("?queue=pharma&status=overdue")); got != "old,ph1" {
		t.Errorf("pharma overdue after the move: %s", got)
	}
	if got := ids(list("?queue=floor")); got != "" {
		t.Errorf("floor after the move: %s", got)
	}
	cases := []struct {
		path, body string
		status     int
		has        string
	}{
		{"/api/v1/followups/ph2/claim", `{"by":"dana"}`, 200, `"claimed_by":"dana"`},
		{"/api/v1/followups/ph2/reassign", `{"by":"sup","to":"lee"}`, 200, `"claimed_by":"lee"`},
		{"/api/v1/followups/ph2/reassign", `{"by":"sup","to":""}`, 200, `"status":"open"`},
		{"/api/v1/followups/ph2/reassign", `{"by":"sup","queue":"devices","to":"kim"}`, 200, `"queue":"devices"`},
		{"/api/v1/followups/ph2/resolve", `{"by":"kim","note":"sent a replacement"}`, 200, `"note":"sent a replacement"`},
		{"/api/v1/followups/ph2/reassign", `{"by":"sup","queue":"pharma"}`, 409, `follow-up \"ph2\" is resolved`},
		{"/api/v1/followups/ph2/claim", `{"by":"sup"}`, 409, "is resolved"},
		{"/api/v1/followups/dv1/reassign", `{"by":"sup","queue":"nope"}`, 422, `queue: no such follow-up queue \"nope\" (queues: pharma, devices, floor)`},
		{"/api/v1/followups/dv1/reassign", `{"by":"sup"}`, 422, "say where it goes"},
		{"/api/v1/followups/dv1/reassign", `{"queue":"pharma"}`, 422, "by:"},
		{"/api/v1/followups/dv1/reassign", `{"by":"sup","to":"` + strings.Repeat("x", 65) + `"}`, 422, "to:"},
		{"/api/v1/followups/dv1/reassign", `{"by":"sup","person":"lee"}`, 400, "body must be JSON"},
		{"/api/v1/followups/nope/reassign", `{"by":"sup","queue":"pharma"}`, 404, "no follow-up"},
		{"/api/v1/followups/dv1/claim", `{"by":"dana"}`, 200, `"claimed_by":"dana"`},
		{"/api/v1/followups/dv1/claim", `{"by":"lee"}`, 409, "claimed by someone else"},
	}
	for _, c := range cases {
		status, body := do("POST", c.path, c.body)
		if status != c.status || !strings.Contains(body, c.has) {
			t.Errorf("POST %s %s: %d %s, want %d with %q", c.path, c.body, status, body, c.status, c.has)
		}
	}
	var done listing
	res, b := call(t, "GET", srv.URL+"/api/v1/followups?status=resolved&queue=devices", testAdminToken, "")
	if res.StatusCode != 200 || json.Unmarshal(b, &done) != nil || len(done.FollowUps) != 1 {
		t.Fatalf("resolved in devices: %d %s", res.StatusCode, b)
	}
	var steps []string
	for _, s := range done.FollowUps[0].History {
		steps = append(steps, s.By+" "+s.Action+" "+s.Queue+" "+s.To)
	}
	if got := strings.Join(steps, "|"); got != "dana claimed  |sup reassigned  lee|sup reassigned  |sup reassigned devices kim|kim resolved  " {
		t.Errorf("history %q", got)
	}
	for query, has := range map[string]string{"?queue=nope": "queue: no such follow-up queue", "?status=later": "status must be", "?state=claimed": "the filter is status="} {
		if status, body := do("GET", "/api/v1/followups"+query, ""); status != 400 || !strings.Contains(body, has) {
			t.Errorf("GET %s: %d %s", query, status, body)
		}
	}
	if res, _ := call(t, "POST", srv.URL+"/api/v1/followups/dv1/reassign", "", `{"by":"sup","queue":"pharma"}`); res.StatusCode != 401 {
		t.Errorf("reassign without a token: %d", res.StatusCode)
	}
}
