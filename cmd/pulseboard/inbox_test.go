package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// inboxAlerts are the queues of the inbox tests: pharma journeys to their
// specialists, everything else to the floor.
const inboxAlerts = `{"queues": [{"name": "pharma-specialists", "label": "Pharma specialists", "sla": "2h"},
	{"name": "floor", "label": "Floor supervisors", "sla": "24h"}],
	"routing": [{"match": {"journey": "pharma"}, "queue": "pharma-specialists"}], "default_queue": "floor", "max_age": "24h"}`

// inboxAnswers posts the detractors of the inbox tests, answered minutes
// to hours before now, and waits until every one is a follow-up.
func inboxAnswers(t *testing.T, c client, viewer string, now time.Time) {
	t.Helper()
	answers := []struct {
		id, journey, team, agent, comment string
		score                             int
		ago                               time.Duration
	}{
		{"in-1", "pharma", "billing", "Ada", "Charged twice for the refill, nobody called back. Reach me at ada@example.com", 1, 3 * time.Hour},
		{"in-2", "pharma", "support", "Lin", `<b>bold</b><script>alert("inbox")</script> wrong dosage leaflet`, 3, 40 * time.Minute},
		{"in-3", "billing", "billing", "Sam", "On hold for 45 minutes, then the line dropped.", 0, 90 * time.Minute},
		{"in-4", "claims", "support", "Kim", "", 5, 10 * time.Minute},
	}
	var lines []string
	for _, a := range answers {
		b, _ := json.Marshal(map[string]any{"id": a.id, "score": a.score, "channel": "phone", "journey": a.journey, "team": a.team,
			"agent": a.agent, "comment": a.comment, "at": now.Add(-a.ago).UTC().Format(time.RFC3339)})
		lines = append(lines, string(b))
	}
	if r := c.post("["+strings.Join(lines, ",")+"]", "application/json"); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	eventually(t, "four follow-ups", 20*time.Second, func() bool {
		r := c.do("GET", "/api/v1/followups", "", viewer, nil)
		return r.status == 200 && r.body["count"] == float64(len(answers))
	})
}

// TestBrowserInbox works the follow-up inbox in Chromium as a supervisor
// would: the inbox sends a browser that is not signed in to /signin and
// back (public boards or not), filters by queue, claims and then resolves
// a follow-up with a note from the page's forms (no script), and the
// follow-up leaves the open list. A hostile comment shows as text. axe-core
// passes at 1366x768 and 390x844, forms open. With PULSEBOARD_SCREENSHOTS
// set, the inbox is photographed there at both sizes.
func TestBrowserInbox(t *testing.T) {
	ctx := browser(t)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock, "--viewer-tokens", "dana:"+viewerToken, "--session-key", "a-session-key-of-at-least-32-chars", "--alerts", inboxAlerts)
	base := "http://" + m.Addr()
	inboxAnswers(t, client{t: t, base: base}, viewerToken, clock.Now())

	sizes := [][2]int64{{1366, 768}, {390, 844}}
	axeAt := func(what string) {
		for _, s := range sizes {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(s[0], s[1])); err != nil {
				t.Fatal(err)
			}
			checkAxe(t, ctx, fmt.Sprintf("%s at %dx%d", what, s[0], s[1]))
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(base+"/console/inbox?queue=pharma-specialists"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
		chromedp.SendKeys(chromedp.CSS(`#signin-token`), viewerToken),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="inbox-list"]`)),
	); err != nil {
		t.Fatalf("signing in to the inbox: %v", err)
	}
	ids := func() string {
		out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="inbox-item"]')].map(e => e.dataset.id)`))
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(out, ",")
	}
	if got := ids(); got != "in-1,in-2" {
		t.Errorf("pharma queue lists %q, want in-1,in-2", got)
	}
	if got := textOf(ctx, `[data-testid="inbox-user"]`); got != "dana" {
		t.Errorf("signed in as %q", got)
	}
	// The hostile comment is text: no element was made of it, and the
	// e-mail address is redacted.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.inbox-comment b, .inbox-comment script').length`)); n != 0 {
		t.Errorf("the comment made %d elements", n)
	}
	if got := textOf(ctx, `tr[data-id="in-2"] [data-testid="inbox-comment"]`); !strings.Contains(got, `<script>alert("inbox")</script>`) {
		t.Errorf("comment of in-2 reads %q", got)
	}
	if got := textOf(ctx, `tr[data-id="in-1"] [data-testid="inbox-comment"]`); !strings.Contains(got, "[email]") || strings.Contains(got, "ada@") {
		t.Errorf("comment of in-1 reads %q", got)
	}
	axeAt("inbox")

	// Every queue, then claim in-1 from the page.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#inbox-queue`), ""),
		chromedp.Click(chromedp.CSS(`[data-testid="inbox-filters"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="in-4"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if got := ids(); got != "in-1,in-2,in-3,in-4" {
		t.Errorf("every queue lists %q", got)
	}
	shoot(t, ctx, sizes, "inbox")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768),
		chromedp.Click(chromedp.CSS(`tr[data-id="in-1"] [data-testid="inbox-claim"]`)),
	); err != nil {
		t.Fatalf("claim: %v", err)
	}
	eventually(t, "the page says in-1 is claimed", 10*time.Second, func() bool {
		return textOf(ctx, `[data-testid="inbox-flash"]`) == "You claimed follow-up in-1."
	})
	if got := textOf(ctx, `tr[data-id="in-1"] td[data-label="Claimed by"]`); strings.TrimSpace(got) != "dana" {
		t.Errorf("in-1 claimed by %q", got)
	}
	// Resolve it with a note, on a phone.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844),
		chromedp.Click(chromedp.CSS(`tr[data-id="in-1"] [data-testid="inbox-resolve-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="in-1"] [data-testid="inbox-note"]`)),
	); err != nil {
		t.Fatalf("open resolve: %v", err)
	}
	axeAt("inbox with the resolve form open")
	shoot(t, ctx, [][2]int64{{390, 844}}, "inbox-resolve-form")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844),
		chromedp.SendKeys(chromedp.CSS(`tr[data-id="in-1"] [data-testid="inbox-note"]`), "Called back, refund of the double charge sent."),
		chromedp.Click(chromedp.CSS(`tr[data-id="in-1"] [data-testid="inbox-resolve"]`)),
	); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	eventually(t, "the page says in-1 is resolved", 10*time.Second, func() bool {
		return textOf(ctx, `[data-testid="inbox-flash"]`) == "You resolved follow-up in-1."
	})
	if got := ids(); got != "in-2,in-3,in-4" {
		t.Errorf("the open list after resolving in-1: %q", got)
	}
	r := client{t: t, base: base}.do("GET", "/api/v1/followups?status=resolved", "", viewerToken, nil)
	var done struct {
		FollowUps []alert.Item `json:"follow_ups"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &done) != nil || len(done.FollowUps) != 1 || done.FollowUps[0].ResolvedBy != "dana" ||
		done.FollowUps[0].Note != "Called back, refund of the double charge sent." {
		t.Errorf("resolved: %d %s", r.status, r.raw)
	}
	shoot(t, ctx, sizes, "inbox-after-resolve")

	// Reassign in-3 to the pharma specialists and to lee.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768),
		chromedp.Click(chromedp.CSS(`tr[data-id="in-3"] [data-testid="inbox-reassign-open"]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-id="in-3"] [data-testid="inbox-to-queue"]`)),
		chromedp.SetValue(chromedp.CSS(`tr[data-id="in-3"] [data-testid="inbox-to-queue"]`), "pharma-specialists"),
		chromedp.SendKeys(chromedp.CSS(`tr[data-id="in-3"] [data-testid="inbox-to-person"]`), "lee"),
	); err != nil {
		t.Fatalf("open reassign: %v", err)
	}
	axeAt("inbox with the reassign form open")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-id="in-3"] [data-testid="inbox-reassign"]`))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the page says in-3 is reassigned", 10*time.Second, func() bool {
		return textOf(ctx, `[data-testid="inbox-flash"]`) == "Follow-up in-3 is reassigned."
	})
	if got := textOf(ctx, `tr[data-id="in-3"] td[data-label="Queue"]`); got != "Pharma specialists" {
		t.Errorf("in-3's queue reads %q", got)
	}
	if got := strings.TrimSpace(textOf(ctx, `tr[data-id="in-3"] td[data-label="Claimed by"]`)); got != "lee" {
		t.Errorf("in-3 claimed by %q", got)
	}
	if got := textOf(ctx, `tr[data-id="in-3"] td[data-label="Last step"]`); !strings.Contains(got, "dana reassigned to Pharma specialists for lee") {
		t.Errorf("in-3's last step reads %q", got)
	}
}

// shoot photographs the page at each size into PULSEBOARD_SCREENSHOTS (a
// temporary directory without it) as NAME-WxH.png.
func shoot(t *testing.T, ctx context.Context, sizes [][2]int64, name string) {
	t.Helper()
	dir := os.Getenv("PULSEBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, s := range sizes {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(s[0], s[1])); err != nil {
			t.Fatal(err)
		}
		shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := png.Decode(bytes.NewReader(shot)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", name, s[0], s[1])), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInboxResolveSeenOnAnotherNode: two processes on one Redis. A
// supervisor signs in on node a and resolves a follow-up with the inbox
// page's form; node b's API and its supervisor board's follow-ups tile stop
// listing it, as its inbox page does.
func TestInboxResolveSeenOnAnotherNode(t *testing.T) {
	ns := redistest.Tenant(t, redistest.Client(t))
	env := []string{"PULSEBOARD_INGEST_TOKENS=" + token, "PULSEBOARD_REDIS_URL=" + redistest.URL(t), "PULSEBOARD_TENANT=" + ns,
		"PULSEBOARD_VIEWER_TOKENS=dana:" + viewerToken, "PULSEBOARD_SESSION_KEY=a-session-key-of-at-least-32-chars",
		"PULSEBOARD_ALERTS=" + inboxAlerts, "PULSEBOARD_TIMEZONE=UTC"}
	a, b := startProcess(t, env), startProcess(t, env)
	ca, cb := client{t: t, base: "http://" + a.addr}, client{t: t, base: "http://" + b.addr}
	inboxAnswers(t, ca, viewerToken, time.Now())

	// What node b shows: the ids its supervisor board's follow-ups tile
	// lists and its open count, and the open ids of its API.
	type tile struct {
		ID        string `json:"id"`
		FollowUps *struct {
			Open, Closed int
			Items        []struct{ ID string }
		} `json:"follow_ups"`
	}
	boardB := func() (ids string, open, closed int) {
		var sup struct{ Tiles []tile }
		if json.Unmarshal([]byte(cb.get("/api/v1/boards/supervisor").raw), &sup) != nil {
			return "", -1, -1
		}
		for _, tl := range sup.Tiles {
			if tl.ID == "followups" && tl.FollowUps != nil {
				var out []string
				for _, it := range tl.FollowUps.Items {
					out = append(out, it.ID)
				}
				return strings.Join(out, ","), tl.FollowUps.Open, tl.FollowUps.Closed
			}
		}
		return "", -1, -1
	}
	apiB := func() string {
		var l struct {
			FollowUps []alert.Item `json:"follow_ups"`
		}
		r := cb.do("GET", "/api/v1/followups", "", viewerToken, nil)
		if r.status != 200 || json.Unmarshal([]byte(r.raw), &l) != nil {
			return ""
		}
		var out []string
		for _, f := range l.FollowUps {
			out = append(out, f.ID)
		}
		return strings.Join(out, ",")
	}
	// The shipped supervisor board's tile lists the oldest three.
	eventually(t, "node b's board lists the oldest three of four follow-ups", 10*time.Second, func() bool {
		ids, open, _ := boardB()
		return ids == "in-1,in-2,in-3" && open == 4
	})

	// Sign in on a, read the inbox's CSRF token, post its resolve form.
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, path string, form url.Values, ck *http.Cookie) (*http.Response, string) {
		req, _ := http.NewRequest(method, ca.base+path, strings.NewReader(form.Encode()))
		if method == "POST" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", ca.base)
		}
		if ck != nil {
			req.AddCookie(ck)
		}
		res, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	res, _ := send("POST", "/signin", url.Values{"token": {viewerToken}, "next": {"/console/inbox"}}, nil)
	var ck *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "pb_session" {
			ck = c
		}
	}
	if res.StatusCode != 303 || ck == nil {
		t.Fatalf("sign-in on a: %d", res.StatusCode)
	}
	_, page := send("GET", "/console/inbox", nil, ck)
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on a's inbox:\n%s", page)
	}
	res, _ = send("POST", "/console/inbox/in-1/resolve", url.Values{"csrf_token": {m[1]}, "note": {"called back"}}, ck)
	if res.StatusCode != 303 {
		t.Fatalf("resolve on a's page: %d", res.StatusCode)
	}
	eventually(t, "node b stops listing in-1", 10*time.Second, func() bool {
		ids, open, closed := boardB()
		return ids == "in-2,in-3,in-4" && open == 3 && closed == 1 && apiB() == "in-2,in-3,in-4"
	})
}
