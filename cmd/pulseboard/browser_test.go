package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// browser starts Debian's headless Chromium, isolated in a fresh profile
// and kept off the network (this machine has none).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is needed for the browser tests (Debian: apt-get install chromium)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1920, 1080),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// textOf reads an element's text content (not innerText, which CSS
// text-transform changes), or "" when it is not there.
func textOf(ctx context.Context, sel string) string {
	c, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	out, err := chromedp.Run(c, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(out)
}

// eventually polls the page until cond holds.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s did not happen within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// TestBrowserBoard opens a board in Chromium, posts answers and sees the
// screen move to exactly what the API reports; stops the server and sees
// "stale"; starts it again and sees the board recover by itself.
func TestBrowserBoard(t *testing.T) {
	ctx := browser(t)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	redis := []string{"--redis-url", redistest.URL(t), "--tenant", redistest.Namespace(t)}
	m := start(t, clock, redis...)
	addr := m.Addr()
	c := client{t: t, base: "http://" + addr}
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/boards/floor"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="tile-nps-1h"] [data-testid="score"]`))); err != nil {
		t.Fatal(err)
	}
	headline := `[data-testid="tile-nps-1h"] [data-testid="score"]`
	if got := textOf(ctx, headline); got != "—" {
		t.Fatalf("first paint of an empty store shows %q, want —", got)
	}
	eventually(t, "status live", 3*time.Second, func() bool { return textOf(ctx, `[data-testid="status"]`) == "live" })

	post := func(round int) {
		for i := range 6 {
			ch := []string{"phone", "chat"}[i%2]
			r := c.post(fmt.Sprintf(`{"id":"b%d-%d","score":%d,"channel":%q,"team":"billing"}`, round, i, []int{10, 9, 2, 8, 10, 6}[(i+round)%6], ch), "application/json")
			if r.status != 202 {
				t.Fatalf("post: %d %s", r.status, r.raw)
			}
		}
	}
	check := func(what string) {
		t.Helper()
		_, hour := c.overall("window=1h")
		wantHead := board.FormatScore(hour.(float64))
		_, phone := c.overall("window=1h&channel=phone")
		wantPhone := board.FormatScore(phone.(float64))
		took := eventually(t, what+": headline "+wantHead+" and phone "+wantPhone+" on screen", 2*time.Second, func() bool {
			return textOf(ctx, headline) == wantHead &&
				textOf(ctx, `[data-testid="tile-channels"] [data-testid="row-phone"] [data-testid="row-score"]`) == wantPhone
		})
		t.Logf("%s: on screen %s after the answers were acknowledged", what, took)
	}
	post(1)
	check("after posting")

	// Stop the server: the screen says stale.
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stale state", 6*time.Second, func() bool {
		return textOf(ctx, `[data-testid="status"]`) == "stale" && strings.Contains(textOf(ctx, `[data-testid="banner"]`), "Stale")
	})
	// Start it again on the same address: the screen recovers alone.
	eventually(t, "a restart on the same port", 5*time.Second, func() bool {
		_, err := tryStart(t, clock, append([]string{"--addr", addr}, redis...)...)
		return err == nil
	})
	eventually(t, "recovery to live", 15*time.Second, func() bool { return textOf(ctx, `[data-testid="status"]`) == "live" })
	post(2)
	check("after the restart")
}

// TestScreenshots photographs every shipped board at 1920x1080 and
// 3840x2160 from the real server with demo traffic, and checks the images.
// With PULSEBOARD_SCREENSHOTS=dir (make screenshots) it keeps them there.
func TestScreenshots(t *testing.T) {
	dir := os.Getenv("PULSEBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := browser(t)
	base := "http://" + startDemo(t).Addr()
	// team/tech-support is a board of the team template: its file is
	// named after the template and the team.
	for _, name := range []string{"floor", "supervisor", "team-billing", "team/tech-support"} {
		for _, size := range [][2]int64{{1366, 768}, {1920, 1080}, {3840, 2160}} {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(size[0], size[1]),
				chromedp.Navigate(base+board.URLPath(name)),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`)),
				chromedp.Sleep(1500*time.Millisecond), // the socket's snapshot and the number tweens settle
			)
			if err != nil {
				t.Fatalf("%s %dx%d: %v", name, size[0], size[1], err)
			}
			shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatalf("%s %dx%d: %v", name, size[0], size[1], err)
			}
			img, err := png.Decode(bytes.NewReader(shot))
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); int64(b.Dx()) != size[0] || int64(b.Dy()) != size[1] {
				t.Fatalf("%s: screenshot is %dx%d, want %dx%d", name, b.Dx(), b.Dy(), size[0], size[1])
			}
			// The page must fit its screen: no scrolling.
			overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollHeight > innerHeight + 1 || document.documentElement.scrollWidth > innerWidth + 1`))
			if err != nil {
				t.Fatal(err)
			}
			if overflow {
				t.Errorf("%s at %dx%d does not fit the screen", name, size[0], size[1])
			}
			file := name
			if tpl, team, ok := board.SplitName(name); ok {
				// The title says which team (the template's "Team {value}").
				if got := textOf(ctx, `[data-testid="board-title"]`); got != "Team "+team {
					t.Errorf("%s: title %q, want it to name the team", name, got)
				}
				file = "template-" + tpl + "-" + team
			}
			out := filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", file, size[0], size[1]))
			if err := os.WriteFile(out, shot, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// startDemo boots the real program with demo traffic and the shipped
// boards, and returns once a month of history is recorded and the node's
// aggregator shows the last hour's answers, so pages have real numbers.
func startDemo(t *testing.T, args ...string) *Main {
	t.Helper()
	m, _ := startNow(t, append([]string{"--demo", "--timezone", "America/New_York", "--boards", "../../config/boards.yaml"}, args...)...)
	select {
	case <-m.DemoHistory():
	case <-time.After(180 * time.Second): // about 5 s alone (2.5 s without -race); a minute and more under -race beside the other test binaries
		t.Fatal("demo history was not recorded within 180 s")
	}
	eventually(t, "demo traffic in the last hour", 10*time.Second, func() bool {
		v, _, err := m.boards.View("floor", m.Now())
		for _, tv := range v.Tiles {
			if tv.ID == "nps-1h" {
				return err == nil && tv.Figure != nil && tv.Figure.Responses > 100
			}
		}
		return false
	})
	return m
}

// TestBrowserLongRun drives hundreds of updates into an open board and
// checks that the page does not grow (DOM nodes, JS heap), then that the
// kiosk and rotation options work.
func TestBrowserLongRun(t *testing.T) {
	ctx := browser(t)
	_, c := startNow(t, "--broadcast-interval", "50ms")
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/boards/floor?kiosk=1"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`))); err != nil {
		t.Fatal(err)
	}
	if kiosk, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains('kiosk')`)); err != nil || !kiosk {
		t.Errorf("kiosk=1 did not hide the cursor (%v)", err)
	}
	measure := func() (nodes, heap float64) {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`[document.getElementsByTagName('*').length, performance.memory ? performance.memory.usedJSHeapSize : 0]`))
		if err != nil || len(v) != 2 {
			t.Fatalf("measure page: %v", err)
		}
		return v[0], v[1]
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			body := fmt.Sprintf(`{"id":"lr%d","score":%d,"channel":"chat","team":"t%d","comment":"answer %d"}`, i, i%11, i%5, i)
			if r := c.post(body, "application/json"); r.status != 202 {
				t.Fatalf("post: %d", r.status)
			}
			time.Sleep(8 * time.Millisecond) // about one update per answer
		}
	}
	send(0, 150)
	time.Sleep(300 * time.Millisecond)
	nodes1, heap1 := measure()
	send(150, 450)
	time.Sleep(300 * time.Millisecond)
	nodes2, heap2 := measure()
	t.Logf("after 150 answers: %.0f nodes, %.1f MB heap; after 450: %.0f nodes, %.1f MB heap", nodes1, heap1/1e6, nodes2, heap2/1e6)
	if nodes2 > nodes1*1.05+5 {
		t.Errorf("the page grew from %.0f to %.0f DOM nodes", nodes1, nodes2)
	}
	if heap1 > 0 && heap2 > heap1*1.5+2e6 {
		t.Errorf("the JS heap grew from %.1f MB to %.1f MB", heap1/1e6, heap2/1e6)
	}
	// rotate: the next board comes after `every`, with the same options.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/boards/floor?kiosk=1&rotate=floor,team-billing&every=5s")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "rotation to the next board", 10*time.Second, func() bool {
		loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		return err == nil && loc == "/boards/team-billing?kiosk=1&rotate=floor,team-billing&every=5s"
	})
}

// TestBrowserPairing pairs a real browser with a private board through its
// URL, then revokes the pairing: the screen itself says it is no longer
// paired, and comes back on its own when the pairing is restored.
func TestBrowserPairing(t *testing.T) {
	ctx := browser(t)
	path := filepath.Join(t.TempDir(), "boards.yaml")
	privateBoards(t, path, true)
	m, _ := startNow(t, "--boards", path, "--public-boards=false", "--admin-tokens", adminToken)
	base := "http://" + m.Addr()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/boards/wall")); err != nil {
		t.Fatal(err)
	}
	if got := textOf(ctx, `[data-testid="denied-message"]`); got != "This board is private." {
		t.Fatalf("an unpaired browser shows %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/boards/wall?token="+lobbyToken),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="tile-n"]`))); err != nil {
		t.Fatal(err)
	}
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || strings.Contains(loc, "token") {
		t.Fatalf("the token stays in the address: %q %v", loc, err)
	}
	eventually(t, "status live", 5*time.Second, func() bool { return textOf(ctx, `[data-testid="status"]`) == "live" })

	// Revoke: the board file loses the screen; the watch picks it up.
	privateBoards(t, path, false)
	eventually(t, "the revoked notice on screen", 10*time.Second, func() bool {
		return textOf(ctx, `[data-testid="denied-message"]`) == "This screen is no longer paired with this board."
	})
	// Restore: the notice page retries by itself (every 60 s); reload now
	// rather than wait, as its refresh would.
	privateBoards(t, path, true)
	c := client{t: t, base: base}
	if r := c.do("POST", "/api/v1/admin/reload", "", adminToken, nil); r.status != 200 {
		t.Fatalf("reload: %d", r.status)
	}
	if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="tile-n"]`))); err != nil {
		t.Fatalf("the restored screen: %v", err)
	}
}

// TestBrowserKioskTypos: a typo in a TV's address never strands the screen.
// Unknown boards in a rotation are skipped with a note on screen, bad
// options are shown instead of ignored, and a board that does not exist
// gets an HTML page that carries the rotation on (API clients still get
// problem JSON).
func TestBrowserKioskTypos(t *testing.T) {
	ctx := browser(t)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	c := client{t: t, base: "http://" + start(t, clock).Addr()}
	location := func() string {
		loc, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		if err != nil {
			return ""
		}
		return loc
	}
	const opts = "?rotate=floor,nope,team-billing&every=5s&quiet=25-6"
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/boards/floor"+opts),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="screen-notes"]`))); err != nil {
		t.Fatal(err)
	}
	notes := textOf(ctx, `[data-testid="screen-notes"]`)
	for _, want := range []string{`rotate: no board named "nope"; skipped`, "quiet=25-6: want two different hours"} {
		if !strings.Contains(notes, want) {
			t.Errorf("the screen's notes %q lack %q", notes, want)
		}
	}
	eventually(t, "rotation past the unknown board", 10*time.Second, func() bool { return location() == "/boards/team-billing"+opts })
	eventually(t, "rotation back to the first board", 10*time.Second, func() bool { return location() == "/boards/floor"+opts })

	// A board that does not exist: a page, not JSON, that goes on with the
	// rotation.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/boards/nope?rotate=nope,floor&every=5s"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="not-found"]`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(ctx, `[data-testid="not-found-message"]`); got != `There is no board named "nope".` {
		t.Errorf("not-found message %q", got)
	}
	eventually(t, "the rotation's next board after a missing one", 10*time.Second, func() bool { return location() == "/boards/floor?rotate=nope,floor&every=5s" })

	// Without a rotation the page links to the index and retries by itself;
	// API clients get problem JSON as before.
	getAs := func(path, accept string) reply {
		req, err := http.NewRequest("GET", c.base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		return c.send(req)
	}
	page := getAs("/boards/nope", "text/html,application/xhtml+xml")
	if page.status != 404 || !strings.Contains(page.raw, `href="/"`) || !strings.Contains(page.raw, `name="pulseboard-refresh" content="60"`) {
		t.Errorf("browser 404: %d %s", page.status, page.raw)
	}
	other := getAs("/bords/floor", "text/html")
	if other.status != 404 || !strings.Contains(other.raw, `href="/"`) {
		t.Errorf("browser 404 on an unknown path: %d %s", other.status, other.raw)
	}
	api := getAs("/boards/nope", "application/json")
	if api.status != 404 || api.body["type"] != "urn:pulseboard:problem:not_found" {
		t.Errorf("API 404: %d %s", api.status, api.raw)
	}
}
