package main

import (
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

const viewerToken = "dana-viewer-token-0123456"

// TestBrowserSignin signs a viewer in through the real page in Chromium:
// the private board it asked for opens afterwards, the page's script cannot
// read the session cookie, sign-out (a form with its CSRF token) closes the
// board again, and the sign-in page passes axe-core on a laptop and a phone,
// empty, after a wrong token and signed in.
func TestBrowserSignin(t *testing.T) {
	ctx := browser(t)
	path := filepath.Join(t.TempDir(), "boards.yaml")
	privateBoards(t, path, true)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	base := "http://" + start(t, clock, "--boards", path, "--public-boards=false",
		"--viewer-tokens", "dana:"+viewerToken, "--session-key", "a-session-key-of-at-least-32-chars").Addr()

	sizes := [][2]int64{{1366, 768}, {390, 844}}
	axeAt := func(what string) {
		for _, s := range sizes {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(s[0], s[1])); err != nil {
				t.Fatal(err)
			}
			checkAxe(t, ctx, fmt.Sprintf("%s at %dx%d", what, s[0], s[1]))
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/signin?next=/boards/wall"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`))); err != nil {
		t.Fatal(err)
	}
	axeAt("sign-in page")

	// A wrong token: the form again, with the reason.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#signin-token`), "not-the-token-0123456"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-error"]`)),
	); err != nil {
		t.Fatal(err)
	}
	axeAt("sign-in page after a wrong token")

	// The right one: on to the private board.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#signin-token`), viewerToken),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`)),
	); err != nil {
		t.Fatalf("signing in did not open the board: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != base+"/boards/wall" {
		t.Errorf("after sign-in the browser is at %q, want %s/boards/wall", loc, base)
	}
	if cookies, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`)); strings.Contains(cookies, "pb_session") {
		t.Errorf("the page's script reads the session cookie: %q", cookies)
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/signin"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-who"]`))); err != nil {
		t.Fatal(err)
	}
	if who := textOf(ctx, `[data-testid="signin-who"]`); !strings.Contains(who, "dana") {
		t.Errorf("signed-in page says %q", who)
	}
	axeAt("sign-in page, signed in")

	// Sign out: the form posts its CSRF token from this origin.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-testid="signout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin-form"]`)),
		chromedp.Navigate(base+"/boards/wall"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="denied-message"]`)),
	); err != nil {
		t.Fatalf("after sign-out: %v", err)
	}
}

// TestTrustedUserHeaderFromProxyAddress runs the real program with a
// trusted proxy at 127.0.0.2: the SSO header opens a private board from
// there, and nothing from 127.0.0.3, whatever X-Forwarded-For says.
func TestTrustedUserHeaderFromProxyAddress(t *testing.T) {
	path := filepath.Join(t.TempDir(), "boards.yaml")
	privateBoards(t, path, true)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	base := "http://" + start(t, clock, "--boards", path, "--public-boards=false",
		"--trusted-user-header", "X-Forwarded-User", "--trusted-proxies", "127.0.0.2").Addr()
	from := func(ip string, header map[string]string) int {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		c := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 10 * time.Second}
		req, _ := http.NewRequest("GET", base+"/api/v1/boards/wall", nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	user := map[string]string{"X-Forwarded-User": "dana@example.com"}
	if got := from("127.0.0.2", user); got != 200 {
		t.Errorf("from the proxy: %d, want 200", got)
	}
	if got := from("127.0.0.2", nil); got != 401 {
		t.Errorf("from the proxy without the header: %d, want 401", got)
	}
	spoofed := map[string]string{"X-Forwarded-User": "dana@example.com", "X-Forwarded-For": "127.0.0.2", "X-Real-Ip": "127.0.0.2"}
	for _, h := range []map[string]string{user, spoofed} {
		if got := from("127.0.0.3", h); got != 401 {
			t.Errorf("from 127.0.0.3 with %v: %d, want 401", h, got)
		}
	}
}
