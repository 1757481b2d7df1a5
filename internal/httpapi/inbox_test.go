package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// inboxServer is the roles server (dana and lee, viewers; an admin token)
// with three queues and four follow-ups: p1 and p2 in pharma (p1 overdue,
// with a hostile comment), d1 in devices, f1 in the floor queue.
func inboxServer(t *testing.T) (*rolesServer, alert.Engine) {
	t.Helper()
	eng := alert.NewMemory()
	s := newRolesServer(t, func(d *httpapi.Deps) {
		now := d.Now()
		open := func(id, queue, comment string, age, sla time.Duration) {
			at := now.Add(-age)
			f := alert.FollowUp{ID: id, Score: 1, Queue: queue, Comment: comment, Channel: "phone", Journey: "refill", Team: "north", Agent: "agent-" + id,
				At: at, Opened: at, Due: at.Add(sla), Status: alert.Open}
			if _, err := eng.Open(context.Background(), f); err != nil {
				t.Fatal(err)
			}
		}
		open("p1", "pharma", `<script>alert("x")</script><img src=x onerror=alert(1)> call me on 030 1234 5678`, 3*time.Hour, 2*time.Hour)
		open("p2", "pharma", "rude on the phone", 30*time.Minute, 2*time.Hour)
		open("d1", "devices", "", time.Hour, 4*time.Hour)
		open("f1", "", "slow", 5*time.Hour, 24*time.Hour)
		cfg, err := alert.ParseConfig(`
queues:
  - {name: pharma, label: Pharma specialists, sla: 2h}
  - {name: devices, label: Device specialists, sla: 4h}
  - {name: floor, label: Floor supervisors, sla: 24h}
default_queue: floor
`, store.DefaultSchema(), nil, time.ParseDuration)
		if err != nil {
			t.Fatal(err)
		}
		d.Alerts = alert.New(alert.Options{Config: cfg, Engine: eng, Calendar: window.MustCalendar(time.UTC), Now: d.Now})
	})
	return s, eng
}

// followUp reads one follow-up from the engine, resolved or not.
func followUp(t *testing.T, eng alert.Engine, id string) alert.FollowUp {
	t.Helper()
	open, _, err := eng.Unresolved(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	done, err := eng.ResolvedSince(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(open, done...) {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no follow-up %s", id)
	return alert.FollowUp{}
}

// inboxSession signs dana in through /signin and reads her CSRF token off
// the inbox page, as the browser would.
func inboxSession(t *testing.T, s *rolesServer, token string) (*http.Cookie, string) {
	t.Helper()
	_, ck := s.signIn(t, token, "/console/inbox", nil)
	if ck == nil {
		t.Fatal("no session cookie")
	}
	res, body := s.do(t, req{path: "/console/inbox", cookie: ck})
	if res.StatusCode != 200 {
		t.Fatalf("inbox: %d %s", res.StatusCode, body)
	}
	m := regexp.MustCompile(`name="csrf_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the inbox's forms:\n%s", body)
	}
	return ck, m[1]
}

// inboxIDs lists the follow-up ids a page shows, in order.
func inboxIDs(body string) string {
	var out []string
	for _, m := range regexp.MustCompile(`data-testid="inbox-item" data-id="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, ",")
}

// The inbox page lists what the filters in its address pick, counts each
// queue, escapes and redacts the comment, and names agents to a viewer.
func TestInboxPage(t *testing.T) {
	s, _ := inboxServer(t)
	ck, _ := inboxSession(t, s, danaToken)
	get := func(query string) (int, string) {
		res, body := s.do(t, req{path: "/console/inbox" + query, cookie: ck})
		return res.StatusCode, body
	}
	for query, want := range map[string]string{
		"":                                "f1,p1,d1,p2",
		"?queue=pharma":                   "p1,p2",
		"?queue=floor":                    "f1",
		"?status=overdue":                 "p1",
		"?queue=devices&status=overdue":   "",
		"?queue=pharma&status=unclaimed":  "p1,p2",
		"?status=claimed":                 "",
		"?status=resolved":                "",
		"?queue=pharma&status=open&x=1":   "p1,p2",
		"?queue=devices&status=unclaimed": "d1",
	} {
		if code, body := get(query); code != 200 || inboxIDs(body) != want {
			t.Errorf("%s: %d %q, want %q", query, code, inboxIDs(body), want)
		}
	}
	_, body := get("")
	for _, has := range []string{
		"Pharma specialists (2)", "Device specialists (1)", "Floor supervisors (1)", "Every queue (4)",
		`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; call me on [phone]`,
		"agent agent-p1", "refill", "team north", "3 h 00", "in 1 h 30",
	} {
		if !strings.Contains(body, has) {
			t.Errorf("the inbox does not show %q", has)
		}
	}
	if !regexp.MustCompile(`Overdue</span> by\s*1 h 00`).MatchString(body) {
		t.Error("the inbox does not say p1 is overdue by an hour")
	}
	for _, hasNot := range []string{"<script>alert", "<img src=x", "1234 5678"} {
		if strings.Contains(body, hasNot) {
			t.Errorf("the inbox shows %q", hasNot)
		}
	}
	if code, body := get("?queue=nope&status=later"); code != 400 || !strings.Contains(body, `There is no status &#34;later&#34;`) ||
		!strings.Contains(body, `There is no queue &#34;nope&#34;`) || inboxIDs(body) != "f1,p1,d1,p2" {
		t.Errorf("unknown filters: %d %s", code, inboxIDs(body))
	}
	// Not signed in: to /signin and back; bearer API clients read it too.
	if res, _ := s.do(t, req{path: "/console/inbox?queue=pharma", header: map[string]string{"Accept": "text/html"}}); res.StatusCode != 303 ||
		res.Header.Get("Location") != "/signin?next=%2Fconsole%2Finbox%3Fqueue%3Dpharma" {
		t.Errorf("anonymous: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := s.do(t, req{path: "/console/inbox"}); res.StatusCode != 401 {
		t.Errorf("anonymous without Accept: %d", res.StatusCode)
	}
	if res, body := s.do(t, req{path: "/console/inbox", bearer: testAdminToken}); res.StatusCode != 200 || !strings.Contains(body, `name="by"`) {
		t.Errorf("admin token: %d; its forms ask who acts: %v", res.StatusCode, strings.Contains(body, `name="by"`))
	}
}

// Claim, resolve and reassign from the page's forms: each changes the
// follow-up under the signed-in person's name and comes back (303) to the
// same view, saying what was done; a refusal is shown on the page in words.
func TestInboxActions(t *testing.T) {
	s, eng := inboxServer(t)
	ck, tok := inboxSession(t, s, danaToken)
	post := func(ck *http.Cookie, path string, form url.Values, h map[string]string) (*http.Response, string) {
		hh := map[string]string{"Origin": s.URL, "Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range h {
			hh[k] = v
		}
		return s.do(t, req{method: "POST", path: path, body: form.Encode(), cookie: ck, header: hh})
	}
	get := func(id string) alert.FollowUp { return followUp(t, eng, id) }
	res, _ := post(ck, "/console/inbox/p1/claim", url.Values{"csrf_token": {tok}, "queue": {"pharma"}, "status": {"unclaimed"}}, nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/console/inbox?done=claimed&id=p1&queue=pharma&status=unclaimed" {
		t.Fatalf("claim: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if f := get("p1"); f.Status != alert.Claimed || f.ClaimedBy != "dana" {
		t.Errorf("after claim: %+v", f)
	}
	// The view it comes back to: p1 left the unclaimed list.
	_, body := s.do(t, req{path: res.Header.Get("Location"), cookie: ck})
	if !strings.Contains(body, "You claimed follow-up p1.") || inboxIDs(body) != "p2" {
		t.Errorf("back after claim: %q %q", inboxIDs(body), body)
	}

	// lee cannot claim or resolve what dana holds: 409, in words, on the page.
	lck, ltok := inboxSession(t, s, leeToken)
	res, body = post(lck, "/console/inbox/p1/resolve", url.Values{"csrf_token": {ltok}, "note": {"called"}, "queue": {"pharma"}}, nil)
	if res.StatusCode != 409 || !strings.Contains(res.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `data-testid="inbox-error"`) || !strings.Contains(body, "claimed by someone else") || inboxIDs(body) != "p1,p2" {
		t.Errorf("lee resolves dana's: %d %s", res.StatusCode, body)
	}
	// A viewer acts under their own name only.
	if res, body := post(lck, "/console/inbox/p2/claim", url.Values{"csrf_token": {ltok}, "by": {"dana"}}, nil); res.StatusCode != 403 || !strings.Contains(body, "acts under their own name") {
		t.Errorf("lee claims as dana: %d", res.StatusCode)
	}

	res, _ = post(ck, "/console/inbox/p1/resolve", url.Values{"csrf_token": {tok}, "note": {"called back, <b>refund</b> sent"}, "status": {"open"}}, nil)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/console/inbox?done=resolved&id=p1&status=open" {
		t.Fatalf("resolve: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if f := get("p1"); f.Status != alert.Resolved || f.ResolvedBy != "dana" || f.Note != "called back, <b>refund</b> sent" {
		t.Errorf("after resolve: %+v", f)
	}
	_, body = s.do(t, req{path: "/console/inbox?status=resolved", cookie: ck})
	if inboxIDs(body) != "p1" || !strings.Contains(body, "dana resolved: called back, &lt;b&gt;refund&lt;/b&gt; sent") {
		t.Errorf("resolved today: %q", inboxIDs(body))
	}

	// Reassign d1 to the pharma queue and to lee.
	res, _ = post(ck, "/console/inbox/d1/reassign", url.Values{"csrf_token": {tok}, "to_queue": {"pharma"}, "to": {"lee"}, "queue": {"devices"}}, nil)
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/console/inbox?done=reassigned&id=d1&queue=devices") {
		t.Fatalf("reassign: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if f := get("d1"); f.Queue != "pharma" || f.ClaimedBy != "lee" || len(f.History) != 1 || f.History[0].By != "dana" {
		t.Errorf("after reassign: %+v", f)
	}
	_, body = s.do(t, req{path: "/console/inbox?queue=pharma", cookie: ck})
	if inboxIDs(body) != "d1,p2" || !strings.Contains(body, "dana reassigned to Pharma specialists for lee") {
		t.Errorf("pharma after the move: %q", inboxIDs(body))
	}
	for _, c := range []struct {
		form   url.Values
		status int
		has    string
	}{
		{url.Values{}, 422, "say where it goes"},
		{url.Values{"to_queue": {"nope"}}, 422, "no such follow-up queue"},
		{url.Values{"to": {strings.Repeat("x", 65)}}, 422, "to: who"},
	} {
		c.form.Set("csrf_token", tok)
		if res, body := post(ck, "/console/inbox/p2/reassign", c.form, nil); res.StatusCode != c.status || !strings.Contains(body, c.has) || !strings.Contains(body, `data-testid="inbox-error"`) {
			t.Errorf("reassign %v: %d, want %d with %q", c.form, res.StatusCode, c.status, c.has)
		}
	}
	if res, body := post(ck, "/console/inbox/p2/resolve", url.Values{"csrf_token": {tok}, "note": {strings.Repeat("é", 2001)}}, nil); res.StatusCode != 422 ||
		!strings.Contains(body, "note: at most 2000 characters") {
		t.Errorf("a note too long: %d", res.StatusCode)
	}
	if res, body := post(ck, "/console/inbox/nope/claim", url.Values{"csrf_token": {tok}}, nil); res.StatusCode != 404 || !strings.Contains(body, `no follow-up &#34;nope&#34;`) {
		t.Errorf("claim of an unknown id: %d", res.StatusCode)
	}

	// An admin token names nobody: it says who acts.
	adminPost := func(form url.Values) (*http.Response, string) {
		return s.do(t, req{method: "POST", path: "/console/inbox/f1/claim", body: form.Encode(), bearer: testAdminToken,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}})
	}
	if res, body := adminPost(url.Values{}); res.StatusCode != 422 || !strings.Contains(body, "by: who") {
		t.Errorf("admin without a name: %d", res.StatusCode)
	}
	if res, _ := adminPost(url.Values{"by": {"sup"}}); res.StatusCode != 303 || get("f1").ClaimedBy != "sup" {
		t.Errorf("admin as sup: %d %+v", res.StatusCode, get("f1"))
	}
}

// The page's forms are refused without the session's CSRF token or from
// another origin, and nothing changes; the refusal is a page, not JSON.
func TestInboxCSRF(t *testing.T) {
	s, eng := inboxServer(t)
	ck, tok := inboxSession(t, s, danaToken)
	_, other := inboxSession(t, s, leeToken)
	form := func(tok string) string { return url.Values{"csrf_token": {tok}, "queue": {"pharma"}}.Encode() }
	for _, c := range []struct {
		name string
		body string
		h    map[string]string
		has  string
	}{
		{"no token", url.Values{"queue": {"pharma"}}.Encode(), map[string]string{"Origin": s.URL}, "CSRF token"},
		{"another session's token", form(other), map[string]string{"Origin": s.URL}, "CSRF token"},
		{"another site", form(tok), map[string]string{"Origin": "http://evil.example"}, "another origin"},
		{"no Origin nor Referer", form(tok), nil, "Origin or Referer"},
	} {
		h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
		for k, v := range c.h {
			h[k] = v
		}
		for _, action := range []string{"claim", "resolve", "reassign"} {
			body := c.body
			if action == "reassign" {
				body += "&to=lee"
			}
			res, page := s.do(t, req{method: "POST", path: "/console/inbox/p2/" + action, body: body, cookie: ck, header: h})
			if res.StatusCode != 403 || !strings.Contains(page, c.has) || !strings.Contains(page, `data-testid="inbox-error"`) {
				t.Errorf("%s, %s: %d %s", c.name, action, res.StatusCode, page)
			}
		}
	}
	if f := followUp(t, eng, "p2"); f.Status != alert.Open || len(f.History) != 0 {
		t.Errorf("p2 changed: %+v", f)
	}
	// A session that ended: the page says to sign in, and lists nothing.
	res, page := s.do(t, req{method: "POST", path: "/console/inbox/p2/claim", body: form(tok),
		header: map[string]string{"Origin": s.URL, "Content-Type": "application/x-www-form-urlencoded"}})
	if res.StatusCode != 401 || !strings.Contains(page, `data-testid="inbox-signin"`) || inboxIDs(page) != "" {
		t.Errorf("no session: %d %s", res.StatusCode, page)
	}
	var ids []string
	list, _, _ := eng.Unresolved(context.Background(), 0)
	for _, f := range list {
		ids = append(ids, f.ID+":"+string(f.Status))
	}
	sort.Strings(ids)
	if got := strings.Join(ids, ","); got != "d1:open,f1:open,p1:open,p2:open" {
		t.Errorf("follow-ups after the refused posts: %s", got)
	}
}
