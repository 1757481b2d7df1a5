package httpapi_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/claimlink"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/session"
	"github.com/pulseboard/pulseboard/internal/window"
)

// linkServer is the roles server over an alert engine ("memory" or
// "redis", a real redis-server) holding r-1 and crm/42 (open) and taken
// (claimed by lee); its SSO proxy is 127.0.0.1. The signer is the one the
// program gives the alert service: derived from the same session key.
func linkServer(t *testing.T, engine string) (*rolesServer, alert.Engine, *claimlink.Signer) {
	t.Helper()
	var eng alert.Engine
	switch engine {
	case "memory":
		eng = alert.NewMemory()
	case "redis":
		srv, err := redistest.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		rdb := redistest.ClientAt(t, srv.URL)
		eng = alert.NewRedis(rdb, redistest.Tenant(t, rdb), time.Hour)
	}
	s := newRolesServer(t, func(d *httpapi.Deps) {
		now := d.Now()
		for _, id := range []string{"r-1", "crm/42", "taken"} {
			f := alert.FollowUp{ID: id, Score: 2, Channel: "phone", Team: "billing", Comment: "call me on 030 1234 5678 <b>now</b>",
				At: now.Add(-20 * time.Minute), Opened: now.Add(-20 * time.Minute), Due: now.Add(time.Hour), Status: alert.Open}
			if _, err := eng.Open(context.Background(), f); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := eng.Update(context.Background(), "taken", func(f *alert.FollowUp) error { return f.Claim("lee", now) }); err != nil {
			t.Fatal(err)
		}
		d.Alerts = alert.New(alert.Options{Config: alert.DefaultConfig(), Engine: eng, Calendar: window.MustCalendar(time.UTC), Now: d.Now})
		d.TrustedUserHeader = "X-Forwarded-User"
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	return s, eng, claimlink.FromSessionKey(session.NewCodec(rolesKey).Derive)
}

func onEngines(t *testing.T, fn func(t *testing.T, engine string)) {
	for _, e := range []string{"memory", "redis"} {
		t.Run(e, func(t *testing.T) { fn(t, e) })
	}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, ck := range res.Cookies() {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

func form(v url.Values, origin string) map[string]string {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if origin != "" {
		h["Origin"] = origin
	}
	return h
}

func statusOf(t *testing.T, eng alert.Engine, id string) (alert.Status, string) {
	f := followUp(t, eng, id)
	return f.Status, f.ClaimedBy
}

// TestClaimLink: somebody not signed in opens a claim link: the GET shows
// the follow-up (comment redacted, escaped) and a form and claims nothing;
// the POST needs this server's Origin and the page's CSRF token (bound to a
// cookie of this browser), refuses an empty name, then claims it under the
// name typed, remembers the name for the next link, and opens the inbox on
// it. The link used again opens the inbox and changes nothing. On both
// engines.
func TestClaimLink(t *testing.T) {
	onEngines(t, func(t *testing.T, engine string) {
		s, eng, signer := linkServer(t, engine)
		link := signer.Path(claimlink.ActionClaim, "r-1", s.clock.Now().Add(time.Hour))
		res, body := s.do(t, req{path: link, header: map[string]string{"Accept": "text/html"}})
		if res.StatusCode != 200 || !strings.Contains(body, `data-testid="claim-form"`) || !strings.Contains(body, "Detractor 2/10 · billing · phone · 20 min ago") {
			t.Fatalf("GET: %d %s", res.StatusCode, body)
		}
		if strings.Contains(body, "030 1234 5678") || strings.Contains(body, "<b>now") || !strings.Contains(body, "[phone] &lt;b&gt;now") {
			t.Errorf("the comment is not redacted and escaped:\n%s", body)
		}
		if st, _ := statusOf(t, eng, "r-1"); st != alert.Open {
			t.Fatalf("GET changed the follow-up to %s", st)
		}
		ck := cookieNamed(res, "pb_link_csrf")
		m := csrfRE.FindStringSubmatch(body)
		if ck == nil || m == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
			t.Fatalf("no CSRF cookie (%v) or token in the form", ck)
		}
		tok := m[1]
		post := func(v url.Values, origin string, cookies ...*http.Cookie) (*http.Response, string) {
			r := req{method: "POST", path: link, body: v.Encode(), header: form(v, origin)}
			if len(cookies) > 0 {
				r.cookie = cookies[0]
			}
			return s.do(t, r)
		}
		other := &http.Cookie{Name: "pb_link_csrf", Value: "another-browsers-cookie-value"}
		for name, c := range map[string]struct {
			v      url.Values
			origin string
			ck     *http.Cookie
			want   int
		}{
			"no Origin":             {url.Values{"name": {"Sam"}, "csrf_token": {tok}}, "", ck, 403},
			"another site":          {url.Values{"name": {"Sam"}, "csrf_token": {tok}}, "https://evil.example", ck, 403},
			"no token":              {url.Values{"name": {"Sam"}}, s.URL, ck, 403},
			"no cookie":             {url.Values{"name": {"Sam"}, "csrf_token": {tok}}, s.URL, nil, 403},
			"another cookie":        {url.Values{"name": {"Sam"}, "csrf_token": {tok}}, s.URL, other, 403},
			"empty name":            {url.Values{"name": {"  "}, "csrf_token": {tok}}, s.URL, ck, 422},
			"name with a control":   {url.Values{"name": {"Sam\x1b[31m"}, "csrf_token": {tok}}, s.URL, ck, 422},
			"name of 65 characters": {url.Values{"name": {strings.Repeat("é", 65)}, "csrf_token": {tok}}, s.URL, ck, 422},
		} {
			var res *http.Response
			var body string
			if c.ck != nil {
				res, body = post(c.v, c.origin, c.ck)
			} else {
				res, body = post(c.v, c.origin)
			}
			if res.StatusCode != c.want {
				t.Errorf("%s: %d, want %d: %s", name, res.StatusCode, c.want, body)
			}
			if st, _ := statusOf(t, eng, "r-1"); st != alert.Open {
				t.Fatalf("%s: the refused POST claimed the follow-up", name)
			}
		}
		res, body = post(url.Values{"name": {"Sam O'Neil"}, "csrf_token": {tok}}, s.URL, ck)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/inbox?done=claimed&id=r-1&queue=default" {
			t.Fatalf("claim: %d %q %s", res.StatusCode, res.Header.Get("Location"), body)
		}
		if st, by := statusOf(t, eng, "r-1"); st != alert.Claimed || by != "Sam O'Neil" {
			t.Fatalf("after the claim: %s by %q", st, by)
		}
		if h := followUp(t, eng, "r-1").History; len(h) != 1 || h[0].By != "Sam O'Neil" || h[0].Action != alert.ActionClaimed {
			t.Errorf("history %+v", h)
		}
		named := cookieNamed(res, "pb_claimer")
		if named == nil || !named.HttpOnly {
			t.Fatalf("the name is not remembered: %v", res.Cookies())
		}

		// Used again: the GET opens the inbox on it, and so does a POST.
		res, _ = s.do(t, req{path: link})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/inbox?queue=default&status=claimed" {
			t.Errorf("reused link: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		// The next link offers the remembered name.
		res, body = s.do(t, req{path: signer.Path(claimlink.ActionClaim, "crm/42", s.clock.Now().Add(time.Hour)), cookie: named})
		if res.StatusCode != 200 || !strings.Contains(body, `value="Sam O&#39;Neil"`) {
			t.Errorf("remembered name not offered: %d %s", res.StatusCode, body)
		}
		// A follow-up someone else has: the POST changes nothing and opens
		// the inbox where it says who has it.
		taken := signer.Path(claimlink.ActionClaim, "taken", s.clock.Now().Add(time.Hour))
		res, _ = s.do(t, req{path: taken})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/console/inbox?queue=default&status=claimed" {
			t.Errorf("claimed follow-up's link: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		v := url.Values{"name": {"Sam"}, "csrf_token": {tok}}
		res, _ = s.do(t, req{method: "POST", path: taken, body: v.Encode(), header: form(v, s.URL), cookie: ck})
		if res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "status=claimed") {
			t.Errorf("POST on a taken follow-up: %d %q", res.StatusCode, res.Header.Get("Location"))
		}
		if _, by := statusOf(t, eng, "taken"); by != "lee" {
			t.Errorf("a link took lee's follow-up: now %q", by)
		}
	})
}

// TestClaimLinkRefused: an expired, tampered, incomplete link, one for
// another follow-up or another action, one for a follow-up that is gone:
// each is a page saying why with its 4xx, by GET and by POST, and changes
// nothing.
func TestClaimLinkRefused(t *testing.T) {
	onEngines(t, func(t *testing.T, engine string) {
		s, eng, signer := linkServer(t, engine)
		now := s.clock.Now()
		valid := signer.Path(claimlink.ActionClaim, "r-1", now.Add(time.Hour))
		q := valid[strings.Index(valid, "?"):]
		forOther := signer.Path(claimlink.ActionClaim, "crm/42", now.Add(time.Hour))
		resolveLink := signer.Path("resolve", "r-1", now.Add(time.Hour))
		cases := map[string]struct {
			path string
			code int
			says string
		}{
			"expired":            {signer.Path(claimlink.ActionClaim, "r-1", now.Add(-time.Second)), 410, "This link expired on Tue 1 Dec 13:59"},
			"tampered signature": {"/links/claim/r-1" + forOther[strings.Index(forOther, "?"):], 403, "not valid"},
			"longer life":        {strings.Replace(valid, "exp=", "exp=9", 1), 403, "not valid"},
			"another follow-up":  {"/links/claim/crm%2F42" + q, 403, "not valid"},
			"another action":     {"/links/resolve/r-1" + q, 404, "does nothing Pulseboard knows"},
			"signed for resolve": {"/links/claim/r-1" + resolveLink[strings.Index(resolveLink, "?"):], 403, "not valid"},
			"no signature":       {"/links/claim/r-1?exp=1764600000", 400, "incomplete"},
			"no such follow-up":  {signer.Path(claimlink.ActionClaim, "gone", now.Add(time.Hour)), 404, "no longer kept"},
		}
		for name, c := range cases {
			for _, method := range []string{"GET", "POST"} {
				v := url.Values{"name": {"Mallory"}}
				res, body := s.do(t, req{method: method, path: c.path, body: v.Encode(), header: form(v, s.URL)})
				if res.StatusCode != c.code || !strings.Contains(body, `data-testid="claim-error"`) || !strings.Contains(body, c.says) {
					t.Errorf("%s %s: %d, want %d saying %q:\n%s", method, name, res.StatusCode, c.code, c.says, body)
				}
			}
		}
		for _, id := range []string{"r-1", "crm/42"} {
			if st, by := statusOf(t, eng, id); st != alert.Open {
				t.Errorf("%s is %s by %q after refused links", id, st, by)
			}
		}
		// The escaped id with a slash is its own follow-up.
		res, body := s.do(t, req{path: forOther})
		if res.StatusCode != 200 || !strings.Contains(body, "claim-form") {
			t.Errorf("the link of crm/42: %d %s", res.StatusCode, body)
		}
	})
}

// TestClaimLinkSignedIn: a signed-in viewer claims under their own name
// (no name field), with their session's CSRF token; a person named by the
// trusted SSO proxy too. On both engines.
func TestClaimLinkSignedIn(t *testing.T) {
	onEngines(t, func(t *testing.T, engine string) {
		s, eng, signer := linkServer(t, engine)
		_, ck := s.signIn(t, danaToken, "/", nil)
		link := signer.Path(claimlink.ActionClaim, "r-1", s.clock.Now().Add(time.Hour))
		res, body := s.do(t, req{path: link, cookie: ck})
		m := csrfRE.FindStringSubmatch(body)
		if res.StatusCode != 200 || m == nil || !strings.Contains(body, `data-testid="claim-as">dana<`) || strings.Contains(body, `name="name"`) {
			t.Fatalf("signed-in GET: %d %s", res.StatusCode, body)
		}
		v := url.Values{"name": {"lee"}}
		if res, _ := s.do(t, req{method: "POST", path: link, body: v.Encode(), header: form(v, s.URL), cookie: ck}); res.StatusCode != 403 {
			t.Errorf("session POST without its CSRF token: %d", res.StatusCode)
		}
		v = url.Values{"name": {"lee"}, "csrf_token": {m[1]}}
		res, _ = s.do(t, req{method: "POST", path: link, body: v.Encode(), header: form(v, s.URL), cookie: ck})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("session POST: %d", res.StatusCode)
		}
		if st, by := statusOf(t, eng, "r-1"); st != alert.Claimed || by != "dana" {
			t.Errorf("claimed by %q (%s), want dana: the name field does not override who is signed in", by, st)
		}

		sso := map[string]string{"X-Forwarded-User": "ops@example.com"}
		link = signer.Path(claimlink.ActionClaim, "crm/42", s.clock.Now().Add(time.Hour))
		res, body = s.do(t, req{path: link, header: sso})
		m = csrfRE.FindStringSubmatch(body)
		if res.StatusCode != 200 || m == nil || !strings.Contains(body, "ops@example.com") {
			t.Fatalf("SSO GET: %d %s", res.StatusCode, body)
		}
		v = url.Values{"csrf_token": {m[1]}}
		h := form(v, s.URL)
		h["X-Forwarded-User"] = "ops@example.com"
		res, _ = s.do(t, req{method: "POST", path: link, body: v.Encode(), header: h})
		if st, by := statusOf(t, eng, "crm/42"); res.StatusCode != http.StatusSeeOther || st != alert.Claimed || by != "ops@example.com" {
			t.Errorf("SSO POST: %d, %s by %q", res.StatusCode, st, by)
		}
	})
}
