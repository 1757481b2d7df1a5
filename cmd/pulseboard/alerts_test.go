package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/jobs"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// alertSecret signs the test servers' alert webhooks (adminToken is in
// access_test.go).
const alertSecret = "test-alert-secret-0123"

// hookReceiver is a real webhook endpoint: it checks every delivery's
// signature and counts POSTs by event and by delivery id.
type hookReceiver struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	byEvent    map[string]int
	byDelivery map[string]int
	bodies     map[string][]byte
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{t: t, byEvent: map[string]int{}, byDelivery: map[string]int{}, bodies: map[string][]byte{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := alert.Verify([]byte(alertSecret), r.Header.Get(alert.HeaderSignature), body, time.Now(), alert.DefaultTolerance); err != nil {
			t.Errorf("receiver: %v", err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.mu.Lock()
		h.byEvent[r.Header.Get(alert.HeaderEvent)]++
		h.byDelivery[r.Header.Get(alert.HeaderDelivery)]++
		h.bodies[r.Header.Get(alert.HeaderDelivery)] = body
		h.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hookReceiver) count(event string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.byEvent[event]
}

// TestJobsOncePerCluster runs two real server processes on one Redis with
// one-second jobs and a daily digest a few seconds ahead. Each tick of every
// job ran exactly once between them (the job ledger in Redis), the digest
// reached its receiver once, three detractors posted to one node were
// delivered once each, signed, and became follow-ups that the other node's
// admin API and supervisor board show; the threshold alert they raise is
// announced once and shows on the boards.
func TestJobsOncePerCluster(t *testing.T) {
	bin := binary(t) // build first: the digest time below must not pass during the build
	_ = bin
	rcv := newHookReceiver(t)
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	digestAt := time.Now().UTC().Add(8 * time.Second).Truncate(time.Second)
	alerts := fmt.Sprintf(`{"webhooks": [%q], "backoff": "100ms", "evaluate_every": "1s", "sweep_every": "1s", "self_check_every": "1s",
		"thresholds": [{"name": "phone-15m", "title": "Phone NPS", "filters": {"channel": "phone"}, "window": "15m", "below": 0, "min_responses": 3}],
		"digest": {"at": %q, "webhooks": [%q]},
		"queues": [{"name": "billing-desk", "sla": "2h"}, {"name": "floor", "label": "Floor supervisors", "sla": "24h", "webhooks": [%q]}],
		"routing": [{"match": {"team": "billing"}, "queue": "billing-desk"}], "default_queue": "floor"}`,
		rcv.srv.URL+"/alerts", digestAt.Format("15:04:05"), rcv.srv.URL+"/digest", rcv.srv.URL+"/floor")
	env := []string{"PULSEBOARD_INGEST_TOKENS=" + token, "PULSEBOARD_REDIS_URL=" + redistest.URL(t), "PULSEBOARD_TENANT=" + ns,
		"PULSEBOARD_ADMIN_TOKENS=" + adminToken, "PULSEBOARD_ALERT_SECRET=" + alertSecret, "PULSEBOARD_ALERTS=" + alerts,
		"PULSEBOARD_TIMEZONE=UTC", "PULSEBOARD_ALERT_ALLOW_PRIVATE_RECEIVERS=true"} // the receiver is on loopback
	began := time.Now()
	a, b := startProcess(t, env), startProcess(t, env)
	ca, cb := client{t: t, base: "http://" + a.addr}, client{t: t, base: "http://" + b.addr}

	for i := range 3 {
		postOne(t, ca, fmt.Sprintf("det-%d", i), i, "billing")
	}
	eventually(t, "three detractor webhooks", 5*time.Second, func() bool { return rcv.count(alert.EventDetractor) == 3 })
	eventually(t, "the threshold alert announced", 5*time.Second, func() bool { return rcv.count(alert.EventThresholdRaised) == 1 })

	// The other node's admin API and boards see the shared state.
	var list struct {
		FollowUps []alert.FollowUp `json:"follow_ups"`
	}
	r := cb.do("GET", "/api/v1/followups", "", adminToken, nil)
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &list) != nil || len(list.FollowUps) != 3 {
		t.Fatalf("node b follow-ups: %d %s", r.status, r.raw)
	}
	if r := cb.do("GET", "/api/v1/followups", "", token, nil); r.status != 401 {
		t.Errorf("follow-ups with the ingest token: %d, want 401", r.status)
	}
	if r := cb.do("POST", "/api/v1/followups/det-0/claim", "application/json", adminToken, strings.NewReader(`{"by":"dana"}`)); r.status != 200 {
		t.Fatalf("claim on b: %d %s", r.status, r.raw)
	}
	if r := ca.do("POST", "/api/v1/followups/det-0/claim", "application/json", adminToken, strings.NewReader(`{"by":"lee"}`)); r.status != 409 {
		t.Errorf("claim by another on a: %d %s, want 409", r.status, r.raw)
	}
	if r := ca.do("POST", "/api/v1/followups/det-1/resolve", "application/json", adminToken, strings.NewReader(`{"by":"lee","note":"called back"}`)); r.status != 200 {
		t.Fatalf("resolve on a: %d %s", r.status, r.raw)
	}
	// Routed to the billing desk on a; moved to the floor and to kim on b;
	// a lists it there at once, and the floor's receiver hears of it once.
	if r := ca.do("GET", "/api/v1/followups?queue=billing-desk", "", adminToken, nil); r.status != 200 || r.body["count"] != float64(2) {
		t.Errorf("billing-desk on a: %d %s", r.status, r.raw)
	}
	if r := cb.do("POST", "/api/v1/followups/det-2/reassign", "application/json", adminToken, strings.NewReader(`{"by":"sup","queue":"floor","to":"kim"}`)); r.status != 200 {
		t.Fatalf("reassign on b: %d %s", r.status, r.raw)
	}
	var floor struct {
		FollowUps []alert.Item `json:"follow_ups"`
	}
	if r := ca.do("GET", "/api/v1/followups?queue=floor", "", adminToken, nil); r.status != 200 || json.Unmarshal([]byte(r.raw), &floor) != nil ||
		len(floor.FollowUps) != 1 || floor.FollowUps[0].ID != "det-2" || floor.FollowUps[0].ClaimedBy != "kim" || floor.FollowUps[0].QueueLabel != "Floor supervisors" {
		t.Errorf("floor on a after the reassignment on b: %d %s", r.status, r.raw)
	}
	if r := ca.do("POST", "/api/v1/followups/det-1/reassign", "application/json", adminToken, strings.NewReader(`{"by":"sup","queue":"floor"}`)); r.status != 409 {
		t.Errorf("reassign the resolved det-1 on a: %d %s, want 409", r.status, r.raw)
	}
	eventually(t, "the floor's receiver told of the move", 5*time.Second, func() bool { return rcv.count(alert.EventReassigned) == 1 })
	eventually(t, "node b's supervisor board shows the queue and node a's banner", 5*time.Second, func() bool {
		var sup, floor struct {
			Tiles []struct {
				ID        string                               `json:"id"`
				FollowUps *struct{ Open, Closed, Claimed int } `json:"follow_ups"`
				Banners   []struct{ Text string }              `json:"banners"`
			} `json:"tiles"`
		}
		if json.Unmarshal([]byte(cb.get("/api/v1/boards/supervisor").raw), &sup) != nil ||
			json.Unmarshal([]byte(ca.get("/api/v1/boards/floor").raw), &floor) != nil {
			return false
		}
		okFU, okBanner := false, false
		for _, tl := range sup.Tiles {
			if f := tl.FollowUps; tl.ID == "followups" && f != nil {
				okFU = f.Open == 2 && f.Claimed == 2 && f.Closed == 1
			}
		}
		for _, tl := range floor.Tiles {
			okBanner = okBanner || (tl.ID == "alert-banner" && len(tl.Banners) == 1 && strings.Contains(tl.Banners[0].Text, "Phone NPS"))
		}
		return okFU && okBanner
	})

	// Let the digest's tick pass on both nodes, and a few more job ticks.
	time.Sleep(time.Until(digestAt.Add(2500 * time.Millisecond)))
	eventually(t, "the daily digest", 5*time.Second, func() bool { return rcv.count(alert.EventDigestDaily) >= 1 })
	time.Sleep(500 * time.Millisecond)
	if n := rcv.count(alert.EventDigestDaily); n != 1 {
		t.Errorf("the daily digest reached its receiver %d times, want once", n)
	}
	ledger := jobs.NewRedisClaimer(rdb, ns)
	ran := time.Since(began)
	for job, least := range map[string]int{"thresholds": 3, "self-check": 3, "retention": 3, "digest-daily": 1} {
		runs, err := ledger.Runs(context.Background(), job)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) < least {
			t.Errorf("%s: %d ticks ran in %s, want at least %d", job, len(runs), ran.Round(time.Second), least)
		}
		for tick, n := range runs {
			if n != 1 {
				t.Errorf("%s: tick %s ran %d times, want exactly once", job, time.Unix(tick, 0).UTC().Format(time.TimeOnly), n)
			}
		}
		if job == "digest-daily" {
			if _, ok := runs[digestAt.Unix()]; !ok || len(runs) != 1 {
				t.Errorf("digest ran at ticks %v, want only %s", runs, digestAt.Format(time.TimeOnly))
			}
		}
	}
	last, err := ledger.Last(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for job, r := range last {
		if r.Error != "" {
			t.Errorf("%s: last run failed: %s", job, r.Error)
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for id, n := range rcv.byDelivery {
		if n != 1 {
			t.Errorf("delivery %s arrived %d times", id, n)
		}
	}
}

// hostileIDs are response ids the API accepts that look like the alert
// engine's key names, escapes, hash tags or paths.
var hostileIDs = []string{"unresolved", "resolved", "version", "a%41", "100%", "x:y", "{t}", "../etc", "crm/42", "a b"}

// supervisorFollowUps reads the follow-up tile of the supervisor board.
func supervisorFollowUps(c client) (open, claimed, closed int, ok bool) {
	var sup struct {
		Tiles []struct {
			ID        string                               `json:"id"`
			FollowUps *struct{ Open, Closed, Claimed int } `json:"follow_ups"`
		} `json:"tiles"`
	}
	r := c.do("GET", "/api/v1/boards/supervisor", "", adminToken, nil)
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &sup) != nil {
		return 0, 0, 0, false
	}
	for _, tl := range sup.Tiles {
		if f := tl.FollowUps; tl.ID == "followups" && f != nil {
			return f.Open, f.Claimed, f.Closed, true
		}
	}
	return 0, 0, 0, false
}

// TestFollowUpHostileIDs: on both engines, detractors whose ids look like
// the engine's own key names, escapes or paths open follow-ups that the
// admin API lists, claims and resolves by their escaped ids (each decoded
// exactly once), and that the supervisor board counts; none of them breaks
// the queue for the others.
func TestFollowUpHostileIDs(t *testing.T) {
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			_, c := startNow(t, append([]string{"--admin-tokens", adminToken}, args...)...)
			for _, id := range hostileIDs {
				postOne(t, c, id, 2, "billing")
			}
			list := func(status string) map[string]alert.FollowUp {
				r := c.do("GET", "/api/v1/followups?status="+status, "", adminToken, nil)
				var l struct {
					FollowUps []alert.FollowUp `json:"follow_ups"`
				}
				if r.status != 200 || json.Unmarshal([]byte(r.raw), &l) != nil {
					t.Fatalf("list %s: %d %s", status, r.status, r.raw)
				}
				out := map[string]alert.FollowUp{}
				for _, f := range l.FollowUps {
					out[f.ID] = f
				}
				return out
			}
			eventually(t, "every hostile id listed", 20*time.Second, func() bool { return len(list("open")) == len(hostileIDs) })
			for _, id := range hostileIDs {
				if _, ok := list("open")[id]; !ok {
					t.Errorf("follow-up %q not listed", id)
				}
			}
			eventually(t, "the supervisor board counts them", 5*time.Second, func() bool {
				open, _, _, ok := supervisorFollowUps(c)
				return ok && open == len(hostileIDs)
			})
			for _, id := range hostileIDs {
				path := "/api/v1/followups/" + url.PathEscape(id)
				r := c.do("POST", path+"/claim", "application/json", adminToken, strings.NewReader(`{"by":"dana"}`))
				if r.status != 200 || r.body["id"] != id || r.body["status"] != "claimed" {
					t.Errorf("claim %q at %s: %d %s", id, path, r.status, r.raw)
				}
			}
			eventually(t, "the supervisor board shows the claims", 5*time.Second, func() bool {
				open, claimed, _, ok := supervisorFollowUps(c)
				return ok && open == len(hostileIDs) && claimed == len(hostileIDs)
			})
			for _, id := range hostileIDs {
				path := "/api/v1/followups/" + url.PathEscape(id)
				r := c.do("POST", path+"/resolve", "application/json", adminToken, strings.NewReader(`{"by":"dana","note":"called back"}`))
				if r.status != 200 || r.body["id"] != id || r.body["status"] != "resolved" {
					t.Errorf("resolve %q at %s: %d %s", id, path, r.status, r.raw)
				}
			}
			if open := list("open"); len(open) != 0 {
				t.Errorf("still open: %v", open)
			}
			if done := list("resolved"); len(done) != len(hostileIDs) {
				t.Errorf("resolved today: %d, want %d", len(done), len(hostileIDs))
			}
			eventually(t, "the supervisor board shows them closed", 5*time.Second, func() bool {
				open, _, closed, ok := supervisorFollowUps(c)
				return ok && open == 0 && closed == len(hostileIDs)
			})
			// An escape decoded twice would reach another follow-up: aA.
			postOne(t, c, "aA", 2, "billing")
			eventually(t, "aA listed", 5*time.Second, func() bool { _, ok := list("open")["aA"]; return ok })
			if r := c.do("POST", "/api/v1/followups/a%2541/claim", "application/json", adminToken, strings.NewReader(`{"by":"lee"}`)); r.status != 409 {
				t.Errorf("claim of the resolved a%%41: %d %s, want 409", r.status, r.raw)
			}
			if f := list("open")["aA"]; f.Status != alert.Open {
				t.Errorf("aA is %s after a claim of a%%41", f.Status)
			}
		})
	}
}

// TestDemoRouting: the demo's queues and routing rules parse, and route by
// journey, segment and team as config/demo-alerts.yaml says.
func TestDemoRouting(t *testing.T) {
	ac, err := demoRouting(alert.DefaultConfig(), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[store.Dims]string{
		{Segment: "enterprise", Team: "retention", Channel: "phone"}: "enterprise-desk",
		{Segment: "smb", Team: "retention", Channel: "chat"}:         "retention-specialists",
		{Segment: "smb", Team: "retention", Channel: "email"}:        "floor-supervisors",
		{Segment: "consumer", Team: "billing", Channel: "phone"}:     "floor-supervisors",
		{Segment: "enterprise", Journey: "pharma", Team: "sales"}:    "pharma-specialists",
		{Segment: "smb", Journey: "medical devices", Team: "sales"}:  "device-specialists",
	} {
		if q := ac.Route(d); q.Name != want {
			t.Errorf("%+v: %s, want %s", d, q.Name, want)
		}
	}
	if q, _ := ac.Queue("enterprise-desk"); q.SLA != 2*time.Hour || q.Label != "Enterprise desk" {
		t.Errorf("enterprise-desk %+v", q)
	}
	if q, _ := ac.Queue(""); q.Name != "floor-supervisors" || q.SLA != 24*time.Hour {
		t.Errorf("default queue %+v", q)
	}
}
