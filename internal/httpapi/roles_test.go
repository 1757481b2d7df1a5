package httpapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/metrics"
	"github.com/pulseboard/pulseboard/internal/openapi/openapitest"
	"github.com/pulseboard/pulseboard/internal/session"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

const (
	danaToken = "dana-viewer-token-0123"
	leeToken  = "lee-viewer-token-01234"
)

// rolesServer is a server with private boards, an admin token, two viewers
// (dana and lee), a real memory engine with one answer in it and a real
// alert service with two open follow-ups.
type rolesServer struct {
	*httptest.Server
	clock   *storetest.Clock
	metrics *metrics.Metrics
}

var rolesKey = []byte("a-session-key-of-at-least-32-chars!!")

func newRolesServer(t *testing.T, edit func(d *httpapi.Deps)) *rolesServer {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC))
	cal := window.MustCalendar(time.UTC)
	eng := memstore.New(store.Options{Rollups: store.DefaultRollups(), Calendar: cal, Retention: store.DefaultRetention(), Now: clock.Now})
	if _, err := eng.Record(context.Background(), []store.Response{{ID: "r0", Score: 9, At: clock.Now().Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	alerts := alert.NewMemory()
	for _, id := range []string{"r1", "r2"} {
		if _, err := alerts.Open(context.Background(), alert.FollowUp{ID: id, Score: 2, At: clock.Now(), Opened: clock.Now(), Due: clock.Now().Add(time.Hour), Status: alert.Open}); err != nil {
			t.Fatal(err)
		}
	}
	m := metrics.New()
	d := httpapi.Deps{
		Querier: eng, Boards: newFakeBoards(t), Calendar: cal, Rollups: store.DefaultRollups(), MinSample: 30,
		AdminTokens:  auth.NewTokens(testAdminToken),
		ViewerTokens: auth.NewUsers(auth.NamedToken{Name: "dana", Token: danaToken}, auth.NamedToken{Name: "lee", Token: "sha256:" + hexHash(leeToken)}),
		Sessions:     session.NewCodec(rolesKey),
		Alerts:       alert.New(alert.Options{Engine: alerts, Calendar: cal, Now: clock.Now}),
		Metrics:      m,
		Now:          clock.Now,
	}
	if edit != nil {
		edit(&d)
	}
	srv := httptest.NewServer(httpapi.New(d))
	t.Cleanup(srv.Close)
	// The server's own client checks its answers against the OpenAPI
	// document too (TestMain).
	srv.Client().Transport = openapitest.Wrap(srv.Client().Transport)
	return &rolesServer{Server: srv, clock: clock, metrics: m}
}

func hexHash(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// req is one request of these tests: a bearer token, a cookie, headers.
type req struct {
	method, path, body string
	bearer             string
	cookie             *http.Cookie
	header             map[string]string
}

// do sends r without following redirects.
func (s *rolesServer) do(t *testing.T, r req) (*http.Response, string) {
	t.Helper()
	return doOn(t, s.Client(), s.URL, r)
}

func doOn(t *testing.T, client *http.Client, base string, r req) (*http.Response, string) {
	t.Helper()
	if r.method == "" {
		r.method = "GET"
	}
	hr, err := http.NewRequest(r.method, base+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// signIn posts the sign-in form as the browser would from the server's own
// page and returns the answer and its session cookie.
func (s *rolesServer) signIn(t *testing.T, token, next string, header map[string]string) (*http.Response, *http.Cookie) {
	t.Helper()
	h := map[string]string{"Origin": s.URL, "Content-Type": "application/x-www-form-urlencoded"}
	for k, v := range header {
		h[k] = v
	}
	res, _ := s.do(t, req{method: "POST", path: "/signin", body: url.Values{"token": {token}, "next": {next}}.Encode(), header: h})
	for _, ck := range res.Cookies() {
		if ck.Name == "pb_session" {
			return res, ck
		}
	}
	return res, nil
}

// whoami reads GET /api/v1/me.
func (s *rolesServer) whoami(t *testing.T, r req) (int, map[string]any) {
	t.Helper()
	r.path = "/api/v1/me"
	res, body := s.do(t, r)
	var m map[string]any
	_ = json.Unmarshal([]byte(body), &m)
	return res.StatusCode, m
}

// A viewer reads the query API, every board and the follow-ups, claims and
// resolves under their own name, and is refused everything an admin does.
func TestViewerRole(t *testing.T) {
	s := newRolesServer(t, nil)
	cases := []struct {
		r      req
		status int
		has    string
	}{
		// Nobody: nothing but what is public.
		{req{path: "/api/v1/nps?window=1h"}, 401, "viewer role"},
		{req{path: "/api/v1/boards/floor"}, 401, "private"},
		{req{path: "/api/v1/followups"}, 401, "viewer role"},
		{req{path: "/debug/pprof/", header: map[string]string{"Accept": "text/html"}}, 303, ""},
		// A viewer reads.
		{req{path: "/api/v1/nps?window=1h", bearer: danaToken}, 200, `"responses":1`},
		{req{path: "/api/v1/nps?window=1h", bearer: leeToken}, 200, `"responses":1`}, // configured as a hash
		{req{path: "/api/v1/boards/floor", bearer: danaToken}, 200, `"board":"floor"`},
		{req{path: "/boards/floor", bearer: danaToken}, 200, "<html"},
		{req{path: "/api/v1/followups", bearer: danaToken}, 200, `"count":2`},
		{req{path: "/api/v1/alerts", bearer: danaToken}, 200, `"alerts"`},
		{req{path: "/api/v1/me", bearer: danaToken}, 200, `"user":"dana","role":"viewer","via":"bearer"`},
		// ... works the inbox under their own name ...
		{req{method: "POST", path: "/api/v1/followups/r1/claim", body: `{}`, bearer: danaToken}, 200, `"claimed_by":"dana"`},
		{req{method: "POST", path: "/api/v1/followups/r2/claim", body: `{"by":"lee"}`, bearer: danaToken}, 403, "dana acts under their own name"},
		{req{method: "POST", path: "/api/v1/followups/r1/resolve", body: `{"note":"called back"}`, bearer: leeToken}, 409, ""},
		{req{method: "POST", path: "/api/v1/followups/r1/resolve", body: `{"note":"called back"}`, bearer: danaToken}, 200, `"resolved_by":"dana"`},
		// ... and does nothing an admin does.
		{req{method: "POST", path: "/api/v1/admin/reload", bearer: danaToken}, 403, "needs the admin role; dana has the viewer role"},
		{req{path: "/debug/pprof/", bearer: danaToken}, 403, "admin role"},
		{req{path: "/debug/pprof/heap", bearer: danaToken}, 403, "admin role"},
		{req{path: "/api/v1/alerts/dead-letters", bearer: danaToken}, 403, "admin role"},
		{req{method: "POST", path: "/api/v1/alerts/dead-letters/d1/retry", bearer: danaToken}, 403, "admin role"},
		// An admin is a viewer and more.
		{req{path: "/api/v1/nps?window=1h", bearer: testAdminToken}, 200, `"responses":1`},
		{req{method: "POST", path: "/api/v1/followups/r2/claim", body: `{"by":"sam"}`, bearer: testAdminToken}, 200, `"claimed_by":"sam"`},
		{req{method: "POST", path: "/api/v1/admin/reload", bearer: testAdminToken}, 404, "no boards file"},
		{req{path: "/debug/pprof/", bearer: testAdminToken}, 200, "heap"},
		{req{path: "/api/v1/alerts/dead-letters", bearer: testAdminToken}, 200, `"dead_letters"`},
		{req{path: "/api/v1/me", bearer: testAdminToken}, 200, `"role":"admin"`},
	}
	for _, c := range cases {
		res, body := s.do(t, c.r)
		if res.StatusCode != c.status || !strings.Contains(body, c.has) {
			t.Errorf("%s %s (bearer %q): %d %s, want %d with %q", c.r.method, c.r.path, c.r.bearer, res.StatusCode, body, c.status, c.has)
		}
	}
	// A page a browser may not open sends it to sign in, and back.
	res, _ := s.do(t, req{path: "/debug/pprof/?debug=1", header: map[string]string{"Accept": "text/html"}})
	if loc := res.Header.Get("Location"); loc != "/signin?next=%2Fdebug%2Fpprof%2F%3Fdebug%3D1" {
		t.Errorf("a browser without a session is sent to %q", loc)
	}
}

// Signing in sets an HttpOnly, SameSite=Lax session cookie (Secure behind
// HTTPS) that does not hold the token, and opens what a viewer may read.
func TestSignin(t *testing.T) {
	s := newRolesServer(t, nil)
	res, page := s.do(t, req{path: "/signin?next=/boards/floor"})
	if res.StatusCode != 200 || !strings.Contains(page, `action="/signin"`) || !strings.Contains(page, `value="/boards/floor"`) ||
		res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /signin: %d %q\n%s", res.StatusCode, res.Header.Get("Cache-Control"), page)
	}
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("the sign-in form cannot be sent under CSP %q", csp)
	}
	// Under no-referrer, browsers send "Origin: null" with the form, and
	// the Origin check refuses it (TestBrowserSignin).
	if rp := res.Header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy %q, want same-origin", rp)
	}

	res, ck := s.signIn(t, danaToken, "/boards/floor", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/boards/floor" || ck == nil {
		t.Fatalf("sign-in: %d to %q, cookie %v", res.StatusCode, res.Header.Get("Location"), ck)
	}
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure || ck.MaxAge != int((12*time.Hour).Seconds()) {
		t.Errorf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/, not Secure over http, Max-Age 12h", ck)
	}
	for _, secret := range []string{danaToken, hexHash(danaToken)} {
		if strings.Contains(ck.Value, secret) || strings.Contains(decodePayload(t, ck.Value), secret) {
			t.Errorf("the session cookie holds the token or its hash: %s", ck.Value)
		}
	}
	if code, who := s.whoami(t, req{cookie: ck}); code != 200 || who["user"] != "dana" || who["role"] != "viewer" || who["via"] != "session" || who["csrf_token"] == "" || who["may_see_agent_names"] != true {
		t.Errorf("GET /api/v1/me with the session: %d %v", code, who)
	}
	for _, path := range []string{"/api/v1/nps?window=1h", "/api/v1/boards/floor", "/boards/floor", "/api/v1/followups"} {
		if res, body := s.do(t, req{path: path, cookie: ck}); res.StatusCode != 200 {
			t.Errorf("GET %s with the session: %d %s", path, res.StatusCode, body)
		}
	}
	if res, _ := s.do(t, req{path: "/debug/pprof/", cookie: ck}); res.StatusCode != 403 {
		t.Errorf("a viewer's session opens pprof: %d", res.StatusCode)
	}
	_, page = s.do(t, req{path: "/signin", cookie: ck})
	if !strings.Contains(page, "Signed in as <strong>dana</strong>") || !strings.Contains(page, `name="csrf_token"`) {
		t.Errorf("GET /signin when signed in:\n%s", page)
	}

	// Behind a proxy that terminates TLS, the cookie is Secure.
	_, ck = s.signIn(t, danaToken, "", map[string]string{"X-Forwarded-Proto": "https", "Origin": strings.Replace(s.URL, "http:", "https:", 1)})
	if ck == nil || !ck.Secure {
		t.Errorf("behind https the cookie is %+v, want Secure", ck)
	}
	// An admin token signs in as admin.
	_, ck = s.signIn(t, testAdminToken, "", nil)
	if res, _ := s.do(t, req{path: "/debug/pprof/", cookie: ck}); ck == nil || res.StatusCode != 200 {
		t.Errorf("an admin's session does not open pprof: %v %d", ck, res.StatusCode)
	}

	// A wrong token shows the form again; no cookie.
	res, ck = s.signIn(t, "not-a-token-at-all-0123", "/boards/floor", nil)
	if res.StatusCode != 401 || ck != nil {
		t.Errorf("a wrong token: %d, cookie %v", res.StatusCode, ck)
	}
	// Another site cannot sign this browser in (login CSRF), nor can a
	// form without Origin or Referer.
	for _, h := range []map[string]string{{"Origin": "http://evil.example"}, {"Origin": ""}, {"Origin": "null"}} {
		if res, ck := s.signIn(t, danaToken, "/", h); res.StatusCode != 403 || ck != nil {
			t.Errorf("sign-in with %v: %d, cookie %v", h, res.StatusCode, ck)
		}
	}
}

// decodePayload is the session cookie's signed JSON, as anybody can read it.
func decodePayload(t *testing.T, v string) string {
	t.Helper()
	p, _, _ := strings.Cut(v, ".")
	b, err := base64RawURL(p)
	if err != nil {
		t.Fatalf("cookie payload %q: %v", p, err)
	}
	return string(b)
}

// The next address after sign-in is a path on this server, whatever is
// asked: never another site.
func TestSigninNextIsLocal(t *testing.T) {
	s := newRolesServer(t, nil)
	for next, want := range map[string]string{
		"/boards/floor?kiosk=1":         "/boards/floor?kiosk=1",
		"/console?by=team&window=today": "/console?by=team&window=today",
		"":                              "/",
		"//evil.example/x":              "/",
		"///evil.example/x":             "/",
		"/\\evil.example":               "/",
		"\\\\evil.example":              "/",
		"https://evil.example/":         "/",
		"http:evil.example":             "/",
		"javascript:alert(1)":           "/",
		"/%2F%2Fevil.example":           "/",
		"/x\r\nSet-Cookie: a=b":         "/",
		"/\tevil":                       "/",
		" //evil.example":               "/",
		"evil.example":                  "/",
		"/signin?next=//evil.example":   "/",
	} {
		res, ck := s.signIn(t, danaToken, next, nil)
		if got := res.Header.Get("Location"); res.StatusCode != 303 || got != want || ck == nil {
			t.Errorf("next %q: %d to %q, want 303 to %q", next, res.StatusCode, got, want)
		}
		// The page's hidden field carries the same clean address.
		_, page := s.do(t, req{path: "/signin?next=" + url.QueryEscape(next)})
		if !strings.Contains(page, `name="next" value="`+strings.ReplaceAll(want, "&", "&amp;")+`"`) {
			t.Errorf("next %q: the form carries another address:\n%s", next, page)
		}
	}
}

// An expired, edited or foreign cookie opens nothing; signing out ends the
// session.
func TestSessionRefused(t *testing.T) {
	s := newRolesServer(t, func(d *httpapi.Deps) { d.SessionTTL = time.Hour })
	_, ck := s.signIn(t, danaToken, "/", nil)
	if ck == nil || ck.MaxAge != 3600 {
		t.Fatalf("cookie %+v, want Max-Age 3600", ck)
	}
	open := func(ck *http.Cookie) int {
		res, _ := s.do(t, req{path: "/api/v1/nps", cookie: ck})
		return res.StatusCode
	}
	if open(ck) != 200 {
		t.Fatal("a fresh session is refused")
	}

	// Edited: the role raised to admin, the name changed, the signature
	// dropped or replaced.
	payload, sig, _ := strings.Cut(ck.Value, ".")
	raw := decodePayload(t, ck.Value)
	edit := func(from, to string) string {
		return base64RawURLEncode([]byte(strings.Replace(raw, from, to, 1))) + "." + sig
	}
	other := session.NewCodec([]byte("another-key-another-key-another-key"))
	s2, _ := other.New("dana", auth.Admin, "x", s.clock.Now().Add(time.Hour))
	for name, v := range map[string]string{
		"role raised":    edit(`"r":"viewer"`, `"r":"admin"`),
		"name changed":   edit(`"u":"dana"`, `"u":"lee"`),
		"no signature":   payload,
		"empty sig":      payload + ".",
		"other key":      other.Encode(s2),
		"garbage":        "%%%.%%%",
		"signature only": "." + sig,
	} {
		if code := open(&http.Cookie{Name: "pb_session", Value: v}); code != 401 {
			t.Errorf("%s cookie: %d, want 401", name, code)
		}
	}
	if !strings.Contains(raw, `"r":"viewer"`) || !strings.Contains(raw, `"u":"dana"`) {
		t.Fatalf("payload %s: the edits above did not apply", raw)
	}

	// Expired on the server's clock, whatever the browser keeps.
	s.clock.Advance(time.Hour - time.Second)
	if open(ck) != 200 {
		t.Error("a session is refused before it expires")
	}
	s.clock.Advance(time.Second)
	if open(ck) != 401 {
		t.Error("an expired session still opens the API")
	}

	// Signing out clears the cookie.
	s.clock.Advance(-time.Hour)
	code, who := s.whoami(t, req{cookie: ck})
	if code != 200 {
		t.Fatalf("whoami: %d", code)
	}
	res, _ := s.do(t, req{method: "POST", path: "/signout", cookie: ck, body: url.Values{"csrf_token": {who["csrf_token"].(string)}}.Encode(),
		header: map[string]string{"Origin": s.URL, "Content-Type": "application/x-www-form-urlencoded"}})
	cleared := false
	for _, c := range res.Cookies() {
		cleared = cleared || (c.Name == "pb_session" && c.MaxAge < 0)
	}
	if res.StatusCode != 303 || !cleared {
		t.Errorf("sign-out: %d, cookies %v", res.StatusCode, res.Cookies())
	}
}

// Removing a viewer's token ends every session made with it, on every node
// that shares the session key, as soon as it runs without the token.
func TestRevokedTokenEndsSession(t *testing.T) {
	before := newRolesServer(t, nil)
	after := newRolesServer(t, func(d *httpapi.Deps) {
		d.ViewerTokens = auth.NewUsers(auth.NamedToken{Name: "lee", Token: leeToken}) // dana's token is gone
	})
	_, dana := before.signIn(t, danaToken, "/", nil)
	_, lee := before.signIn(t, leeToken, "/", nil)
	_, admin := before.signIn(t, testAdminToken, "/", nil)
	for _, c := range []struct {
		srv  *rolesServer
		ck   *http.Cookie
		want int
	}{
		{before, dana, 200}, {after, dana, 401}, // revoked
		{after, lee, 200},   // the key is shared: other sessions carry on
		{after, admin, 200}, // the admin token is still there
	} {
		if res, _ := c.srv.do(t, req{path: "/api/v1/nps", cookie: c.ck}); res.StatusCode != c.want {
			t.Errorf("session %s: %d, want %d", c.ck.Value[:12], res.StatusCode, c.want)
		}
	}
	// A token moved to another person does not carry its sessions along.
	renamed := newRolesServer(t, func(d *httpapi.Deps) {
		d.ViewerTokens = auth.NewUsers(auth.NamedToken{Name: "sam", Token: danaToken})
	})
	if res, _ := renamed.do(t, req{path: "/api/v1/nps", cookie: dana}); res.StatusCode != 401 {
		t.Errorf("dana's session on a server where her token is sam's: %d", res.StatusCode)
	}
	// And an admin session ends with the admin token.
	noAdmin := newRolesServer(t, func(d *httpapi.Deps) { d.AdminTokens = auth.NewTokens("another-admin-token-0") })
	if res, _ := noAdmin.do(t, req{path: "/api/v1/nps", cookie: admin}); res.StatusCode != 401 {
		t.Errorf("an admin session after its token was replaced: %d", res.StatusCode)
	}
}

// A state change from a cookie needs this server's Origin and the
// session's CSRF token; a bearer needs neither.
func TestCSRF(t *testing.T) {
	s := newRolesServer(t, nil)
	_, ck := s.signIn(t, danaToken, "/", nil)
	_, who := s.whoami(t, req{cookie: ck})
	tok, _ := who["csrf_token"].(string)
	_, other := s.signIn(t, danaToken, "/", nil)
	_, whoOther := s.whoami(t, req{cookie: other})
	if tok == "" || tok == whoOther["csrf_token"] {
		t.Fatalf("CSRF tokens %q and %q: want one per session", tok, whoOther["csrf_token"])
	}
	claim := func(id string, h map[string]string) (int, string) {
		res, body := s.do(t, req{method: "POST", path: "/api/v1/followups/" + id + "/claim", body: `{}`, cookie: ck, header: h})
		return res.StatusCode, body
	}
	for _, c := range []struct {
		name string
		h    map[string]string
		has  string
	}{
		{"no token", map[string]string{"Origin": s.URL}, "CSRF token"},
		{"wrong token", map[string]string{"Origin": s.URL, "X-CSRF-Token": "x" + tok}, "CSRF token"},
		{"another session's token", map[string]string{"Origin": s.URL, "X-CSRF-Token": whoOther["csrf_token"].(string)}, "CSRF token"},
		{"another site", map[string]string{"Origin": "http://evil.example", "X-CSRF-Token": tok}, "another origin"},
		{"a look-alike host", map[string]string{"Origin": strings.Replace(s.URL, "127.0.0.1", "127.0.0.1.evil.example", 1), "X-CSRF-Token": tok}, "another origin"},
		{"no Origin nor Referer", map[string]string{"X-CSRF-Token": tok}, "Origin or Referer"},
		{"a sandboxed frame", map[string]string{"Origin": "null", "X-CSRF-Token": tok}, "Origin or Referer"},
		{"a Referer of another site", map[string]string{"Referer": "http://evil.example/page", "X-CSRF-Token": tok}, "another origin"},
	} {
		if code, body := claim("r1", c.h); code != 403 || !strings.Contains(body, c.has) {
			t.Errorf("%s: %d %s, want 403 with %q", c.name, code, body, c.has)
		}
	}
	if code, body := claim("r1", map[string]string{"Origin": s.URL, "X-CSRF-Token": tok}); code != 200 || !strings.Contains(body, `"claimed_by":"dana"`) {
		t.Errorf("token and Origin: %d %s", code, body)
	}
	if code, body := claim("r2", map[string]string{"Referer": s.URL + "/console", "X-CSRF-Token": tok}); code != 200 {
		t.Errorf("token and a same-origin Referer: %d %s", code, body)
	}
	// A bearer token is no cookie: no CSRF token, no Origin.
	if res, body := s.do(t, req{method: "POST", path: "/api/v1/followups/r2/resolve", body: `{"note":"done"}`, bearer: danaToken}); res.StatusCode != 200 {
		t.Errorf("bearer POST: %d %s", res.StatusCode, body)
	}
	// Sign-out is a change too.
	if res, _ := s.do(t, req{method: "POST", path: "/signout", cookie: ck, header: map[string]string{"Origin": s.URL}}); res.StatusCode != 403 {
		t.Errorf("sign-out without the token: %d", res.StatusCode)
	}
}

// The SSO header is believed from a trusted proxy's address only: the TCP
// peer, not X-Forwarded-For. The server listens on 127.0.0.1; the proxy
// connects from 127.0.0.2, anybody else from 127.0.0.3.
func TestTrustedProxyHeader(t *testing.T) {
	s := newRolesServer(t, func(d *httpapi.Deps) {
		d.TrustedUserHeader = "X-Forwarded-User"
		d.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
		d.TrustedAdmins = []string{"ops@example.com"}
	})
	proxy, other := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3")
	as := func(c *http.Client, r req) (int, string) {
		res, body := doOn(t, c, s.URL, r)
		return res.StatusCode, body
	}
	user := func(v string) map[string]string { return map[string]string{"X-Forwarded-User": v} }

	if code, body := as(proxy, req{path: "/api/v1/me", header: user("dana@example.com")}); code != 200 ||
		!strings.Contains(body, `"user":"dana@example.com","role":"viewer","via":"proxy"`) {
		t.Errorf("from the proxy: %d %s", code, body)
	}
	if code, _ := as(proxy, req{path: "/api/v1/boards/floor", header: user("dana@example.com")}); code != 200 {
		t.Errorf("a proxy user reads a private board: %d", code)
	}
	if code, _ := as(proxy, req{path: "/debug/pprof/", header: user("dana@example.com")}); code != 403 {
		t.Errorf("a proxy viewer opens pprof: %d", code)
	}
	if code, _ := as(proxy, req{path: "/debug/pprof/", header: user("ops@example.com")}); code != 200 {
		t.Errorf("a proxy admin does not open pprof: %d", code)
	}

	// From anybody else, the header means nothing, X-Forwarded-For or not.
	for _, h := range []map[string]string{user("dana@example.com"), {"X-Forwarded-User": "ops@example.com", "X-Forwarded-For": "127.0.0.2", "X-Real-Ip": "127.0.0.2"}} {
		for _, path := range []string{"/api/v1/me", "/api/v1/nps", "/api/v1/boards/floor"} {
			if code, body := as(other, req{path: path, header: h}); code != 401 {
				t.Errorf("%s from 127.0.0.3 with %v: %d %s, want 401", path, h, code, body)
			}
		}
	}
	if n := scrape(t, s, "pulseboard_sso_header_ignored_total"); n < 6 {
		t.Errorf("pulseboard_sso_header_ignored_total = %v, want at least 6", n)
	}

	// A value that is not a user name is refused, and not echoed.
	for _, v := range []string{"<script>alert(1)</script>", strings.Repeat("a", 65), "dana\u200b", "a,b", "dana:x"} {
		code, body := as(proxy, req{path: "/api/v1/me", header: user(v)})
		if code != 400 || strings.Contains(body, "<script>") {
			t.Errorf("header %q: %d %s, want 400 without the value", v, code, body)
		}
	}

	// A proxy user's change needs the Origin and the CSRF token, like a
	// session's: the proxy's own cookie rides along with forged requests.
	_, body := as(proxy, req{path: "/api/v1/me", header: user("dana@example.com")})
	var who map[string]any
	_ = json.Unmarshal([]byte(body), &who)
	tok, _ := who["csrf_token"].(string)
	h := user("dana@example.com")
	h["Origin"] = s.URL
	if code, body := as(proxy, req{method: "POST", path: "/api/v1/followups/r1/claim", body: `{}`, header: h}); code != 403 {
		t.Errorf("proxy POST without a CSRF token: %d %s", code, body)
	}
	h["X-CSRF-Token"] = tok
	if code, body := as(proxy, req{method: "POST", path: "/api/v1/followups/r1/claim", body: `{}`, header: h}); code != 200 || !strings.Contains(body, `"claimed_by":"dana@example.com"`) {
		t.Errorf("proxy POST with the CSRF token: %d %s", code, body)
	}
}

// clientFrom is an HTTP client whose connections leave from local address ip.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
}

var metricLine = regexp.MustCompile(`(?m)^(\S+) (\S+)$`)

// scrape reads one counter from /metrics.
func scrape(t *testing.T, s *rolesServer, name string) float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	s.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, m := range metricLine.FindAllStringSubmatch(rec.Body.String(), -1) {
		if m[1] == name {
			var v float64
			_ = json.Unmarshal([]byte(m[2]), &v)
			return v
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}

func base64RawURL(s string) ([]byte, error) { return base64.RawURLEncoding.DecodeString(s) }

func base64RawURLEncode(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// Failed sign-ins from one address are limited: past the burst, every
// sign-in from it answers 429 (the right token too, or the limit would say
// which guess was right) until the bucket refills; other addresses sign in.
func TestSigninFailureLimit(t *testing.T) {
	s := newRolesServer(t, nil)
	for i := range 20 {
		if res, _ := s.signIn(t, fmt.Sprintf("guess-%02d-0123456789", i), "/", nil); res.StatusCode != 401 {
			t.Fatalf("guess %d: %d, want 401", i, res.StatusCode)
		}
	}
	res, ck := s.signIn(t, danaToken, "/", nil)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") != "3" || ck != nil {
		t.Fatalf("after 20 failures: %d, Retry-After %q, cookie %v; want 429, 3, none", res.StatusCode, res.Header.Get("Retry-After"), ck)
	}
	// Another address is not held back.
	other, _ := doOn(t, clientFrom(t, "127.0.0.2"), s.URL, req{method: "POST", path: "/signin", body: url.Values{"token": {danaToken}}.Encode(),
		header: map[string]string{"Origin": s.URL, "Content-Type": "application/x-www-form-urlencoded"}})
	if other.StatusCode != 303 {
		t.Errorf("sign-in from another address: %d", other.StatusCode)
	}
	// Forging X-Forwarded-For does not help.
	if res, _ := s.signIn(t, danaToken, "/", map[string]string{"X-Forwarded-For": "10.9.9.9"}); res.StatusCode != 429 {
		t.Errorf("with a forged X-Forwarded-For: %d, want 429", res.StatusCode)
	}
	s.clock.Advance(3 * time.Second)
	if res, ck := s.signIn(t, danaToken, "/", nil); res.StatusCode != 303 || ck == nil {
		t.Errorf("after the refill: %d", res.StatusCode)
	}
	// One more failure empties the bucket again.
	s.signIn(t, "another-guess-0123456789", "/", nil)
	if res, _ := s.signIn(t, danaToken, "/", nil); res.StatusCode != 429 {
		t.Errorf("right after another failure: %d, want 429", res.StatusCode)
	}
}
