package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/config"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

const (
	adminToken   = "test-admin-token-0123456"
	lobbyToken   = "lobby-display-token-0123"
	otherTVToken = "other-display-token-0123"
)

// privateBoards writes a boards file: "wall" paired with the "other" screen
// and, when lobby is true, the lobby screen too; "open" public.
func privateBoards(t *testing.T, path string, lobby bool) {
	t.Helper()
	screens := fmt.Sprintf("{name: other, token_sha256: %s}", auth.HashOf(otherTVToken))
	if lobby {
		screens = fmt.Sprintf("{name: lobby, token_sha256: %s}, ", auth.HashOf(lobbyToken)) + screens
	}
	yaml := "boards:\n" +
		"- name: wall\n  title: Wall\n  access: {screens: [" + screens + "]}\n  tiles:\n  - {id: n, view: headline, window: 1h}\n" +
		"- name: open\n  title: Open\n  access: {public: true}\n  tiles:\n  - {id: n, view: headline, window: 1h}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
}

// tvBrowser is an HTTP client with a cookie jar that does not follow
// redirects, like a TV's tvBrowser seen one request at a time.
type tvBrowser struct {
	t    *testing.T
	base string
	http *http.Client
}

func newTVBrowser(t *testing.T, base string) *tvBrowser {
	jar, _ := cookiejar.New(nil)
	return &tvBrowser{t: t, base: base, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

func (b *tvBrowser) get(path string, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := b.http.Do(req)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

// dialAs opens a board's socket with the tvBrowser's cookies.
func (b *tvBrowser) dialAs(name string) (*screen, *http.Response, error) {
	u, _ := url.Parse(b.base + "/boards/" + name + "/live")
	h := http.Header{}
	for _, c := range b.http.Jar.Cookies(u) {
		h.Add("Cookie", c.String())
	}
	conn, res, err := websocket.DefaultDialer.Dial("ws://"+u.Host+u.Path, h)
	if err != nil {
		return nil, res, err
	}
	b.t.Cleanup(func() { conn.Close() })
	return &screen{t: b.t, conn: conn, tiles: map[string]board.TileView{}}, res, nil
}

// TestScreenPairing walks a TV through pairing, watching, and revocation,
// and checks who else may read what on a server whose boards are private.
func TestScreenPairing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "boards.yaml")
	privateBoards(t, path, true)
	m, _ := startNow(t, "--boards", path, "--public-boards=false", "--admin-tokens", adminToken)
	base := "http://" + m.Addr()

	stranger := newTVBrowser(t, base)
	if res, body := stranger.get("/boards/wall"); res.StatusCode != 401 || !strings.Contains(body, "This board is private") {
		t.Fatalf("unpaired board page: %d %s", res.StatusCode, body)
	}
	if res, body := stranger.get("/boards/open"); res.StatusCode != 200 || !strings.Contains(body, `data-testid="tile-n"`) {
		t.Fatalf("public board: %d %s", res.StatusCode, body)
	}
	if res, _ := stranger.get("/api/v1/boards/wall"); res.StatusCode != 401 {
		t.Fatalf("unpaired board JSON: %d", res.StatusCode)
	}
	if res, _ := stranger.get("/api/v1/nps?window=1h"); res.StatusCode != 401 {
		t.Fatalf("query API without a token: %d", res.StatusCode)
	}
	if res, _ := stranger.get("/api/v1/nps?window=1h", "Authorization", "Bearer "+adminToken); res.StatusCode != 200 {
		t.Fatalf("query API with the admin token: %d", res.StatusCode)
	}
	if res, body := stranger.get("/"); res.StatusCode != 200 || strings.Contains(body, `data-testid="overview"`) {
		t.Fatalf("index without a token must list boards without numbers: %d", res.StatusCode)
	}
	if res, body := stranger.get("/boards/wall?token=" + lobbyToken + "x"); res.StatusCode != 403 || !strings.Contains(body, "does not open this board") {
		t.Fatalf("a wrong pairing code: %d %s", res.StatusCode, body)
	}
	s, _, err := stranger.dialAs("wall")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	s.closedWith(live.CloseNotPaired, 2*time.Second)

	// Pairing: the token sets a long-lived HttpOnly cookie for this board
	// only, and the redirect drops it from the address.
	tv := newTVBrowser(t, base)
	res, _ := tv.get("/boards/wall?token=" + lobbyToken + "&kiosk=1")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/boards/wall?kiosk=1" {
		t.Fatalf("pairing: %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	ck := res.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].Path != "/boards/wall" || ck[0].SameSite != http.SameSiteStrictMode || ck[0].MaxAge < 365*24*3600 {
		t.Fatalf("pairing cookie: %+v", ck)
	}
	if res, body := tv.get("/boards/wall?kiosk=1"); res.StatusCode != 200 || !strings.Contains(body, `data-testid="tile-n"`) {
		t.Fatalf("paired board page: %d", res.StatusCode)
	}
	if res, _ := tv.get("/boards/open"); res.StatusCode != 200 {
		t.Fatalf("paired screen on a public board: %d", res.StatusCode)
	}
	// The lobby pairing opens the wall only: another board's token is not
	// this board's, and the cookie is not sent to other paths.
	if res, _ := tv.get("/api/v1/nps?window=1h"); res.StatusCode != 401 {
		t.Fatalf("a display cookie opened the query API: %d", res.StatusCode)
	}
	s, _, err = tv.dialAs("wall")
	if err != nil {
		t.Fatalf("paired dial: %v", err)
	}
	if e, err := s.next(3 * time.Second); err != nil || e.Type != live.TypeSnapshot {
		t.Fatalf("paired screen: %+v %v", e, err)
	}
	other := newTVBrowser(t, base)
	other.get("/boards/wall?token=" + otherTVToken)
	o, _, err := other.dialAs("wall")
	if err != nil {
		t.Fatalf("second screen: %v", err)
	}
	o.next(3 * time.Second)

	// Revocation: the lobby screen leaves the definition. Its socket is
	// closed with "not paired", its page says so, and the other screen is
	// only told to reload.
	privateBoards(t, path, false)
	c := client{t: t, base: base}
	if r := c.do("POST", "/api/v1/admin/reload", "", "", nil); r.status != 401 {
		t.Fatalf("reload without the admin token: %d", r.status)
	}
	if r := c.do("POST", "/api/v1/admin/reload", "", adminToken, nil); r.status != 200 {
		t.Fatalf("admin reload: %d %s", r.status, r.raw)
	}
	s.closedWith(live.CloseNotPaired, 3*time.Second)
	o.nextOfType(live.TypeReload, 3*time.Second)
	if res, body := tv.get("/boards/wall"); res.StatusCode != 403 || !strings.Contains(body, "no longer paired") {
		t.Fatalf("revoked screen's page: %d %s", res.StatusCode, body)
	}
	if res, _ := other.get("/boards/wall"); res.StatusCode != 200 {
		t.Fatalf("still-paired screen's page: %d", res.StatusCode)
	}
}

// TestAdminEndpoints: pprof and reload need the admin token, and refuse
// when none is configured.
func TestAdminEndpoints(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock, "--admin-tokens", adminToken)
	c := client{t: t, base: "http://" + m.Addr()}
	if r := c.do("GET", "/debug/pprof/", "", "", nil); r.status != 401 {
		t.Fatalf("pprof without a token: %d", r.status)
	}
	if r := c.do("GET", "/debug/pprof/", "", token, nil); r.status != 401 {
		t.Fatalf("pprof with an ingest token: %d", r.status)
	}
	if r := c.do("GET", "/debug/pprof/goroutine?debug=1", "", adminToken, nil); r.status != 200 || !strings.Contains(r.raw, "goroutine profile") {
		t.Fatalf("pprof goroutines: %d %.200s", r.status, r.raw)
	}
	if r := c.do("GET", "/debug/pprof/", "", adminToken, nil); r.status != 200 {
		t.Fatalf("pprof index: %d", r.status)
	}
	if r := c.do("POST", "/api/v1/admin/reload", "", adminToken, nil); r.status != 404 {
		t.Fatalf("reload with built-in boards: %d %s", r.status, r.raw)
	}

	none := start(t, clock)
	c = client{t: t, base: "http://" + none.Addr()}
	if r := c.do("GET", "/debug/pprof/", "", adminToken, nil); r.status != 403 {
		t.Fatalf("pprof with no admin token configured: %d", r.status)
	}
}

// TestIngestRateLimit: a token past its rate gets 429 with Retry-After, and
// nothing of the refused batch is recorded.
func TestIngestRateLimit(t *testing.T) {
	_, c := startNow(t, "--ingest-rate", "1", "--max-batch", "20")
	batch := func(prefix string, n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `{"id":"%s-%d","score":9,"channel":"phone"}`+"\n", prefix, i)
		}
		return b.String()
	}
	if r := c.post(batch("a", 20), "application/x-ndjson"); r.status != 202 {
		t.Fatalf("first batch (the burst): %d %s", r.status, r.raw)
	}
	r := c.post(batch("b", 5), "application/x-ndjson")
	if r.status != 429 || r.header.Get("Retry-After") == "" || r.body["type"] != "urn:pulseboard:problem:too_many" {
		t.Fatalf("over the rate: %d Retry-After %q %s", r.status, r.header.Get("Retry-After"), r.raw)
	}
	if n, _ := c.overall("window=1h"); n != 20 {
		t.Fatalf("%v responses recorded, want the first batch's 20 only", n)
	}
}

// TestScreensPerAddress: one address may hold max_screens_per_ip sockets;
// the next is refused with 429 until one closes.
func TestScreensPerAddress(t *testing.T) {
	m, _ := startNow(t, "--max-screens-per-ip", "2")
	a, b := dial(t, m.Addr(), "floor"), dial(t, m.Addr(), "floor")
	a.next(3 * time.Second)
	b.next(3 * time.Second)
	_, res, err := websocket.DefaultDialer.Dial("ws://"+m.Addr()+"/boards/floor/live", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third socket from one address: err %v, response %v", err, res)
	}
	a.conn.Close()
	deadline := time.Now().Add(3 * time.Second)
	for {
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+m.Addr()+"/boards/floor/live", nil)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a closed socket's slot was not released: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTokenCommand: the printed hash is the printed token's, and the
// boards.yaml entry it prints parses.
func TestTokenCommand(t *testing.T) {
	var out, errs strings.Builder
	if code := run([]string{"token", "--board", "floor", "--screen", "lobby-tv"}, func(string) string { return "" }, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	var tok, hash string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "token: "); ok {
			tok = v
		}
		if v, ok := strings.CutPrefix(line, "hash:  "); ok {
			hash = v
		}
	}
	if tok == "" || auth.HashOf(tok).String() != hash {
		t.Fatalf("token %q and hash %q do not match:\n%s", tok, hash, out.String())
	}
	if !strings.Contains(out.String(), "{name: lobby-tv, token_sha256: "+hash+"}") || !strings.Contains(out.String(), "/boards/floor?token="+tok) {
		t.Fatalf("output:\n%s", out.String())
	}
	// A template's board: the entry goes under the template, the address
	// is the board's, its value escaped.
	out.Reset()
	if code := run([]string{"token", "--board", "team/first line", "--screen", "team-tv"}, func(string) string { return "" }, &out, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "Under board team in boards.yaml") || !strings.Contains(out.String(), "/boards/team/first%20line?token=") {
		t.Fatalf("output for a template's board:\n%s", out.String())
	}
	if code := run([]string{"token", "--board", "floor"}, func(string) string { return "" }, &out, &errs); code != 2 {
		t.Fatalf("--board without --screen: exit %d", code)
	}

	// A viewer's entry is what viewer_tokens takes, and opens as the token.
	out.Reset()
	if code := run([]string{"token", "--viewer", "Dana O'Neil"}, func(string) string { return "" }, &out, &errs); code != 0 {
		t.Fatalf("--viewer: exit %d: %s", code, errs.String())
	}
	var entry string
	for _, line := range strings.Split(out.String(), "\n") {
		if v, ok := strings.CutPrefix(line, "token: "); ok {
			tok = v
		}
		if v, ok := strings.CutPrefix(line, "  Dana O'Neil:"); ok {
			entry = "Dana O'Neil:" + v
		}
	}
	cfg, err := config.Load([]string{"--config", "", "--viewer-tokens", entry}, func(string) string { return "" })
	if err != nil {
		t.Fatalf("the printed entry %q: %v\n%s", entry, err, out.String())
	}
	if u, ok := auth.NewUsers(cfg.ViewerTokens...).Match(tok); !ok || u.Name != "Dana O'Neil" {
		t.Errorf("the printed entry %q does not open as the token", entry)
	}
	for _, bad := range [][]string{{"token", "--viewer", "<b>"}, {"token", "--viewer", "dana", "--board", "floor", "--screen", "tv"}} {
		if code := run(bad, func(string) string { return "" }, &out, &errs); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
}
