package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// axePath is where scripts/test-deps (run by make test) installs axe-core
// with npm ci, from testdata/axe/package-lock.json.
const axePath = "testdata/axe/node_modules/axe-core/axe.min.js"

// axeReport runs axe-core on the page in ctx and lists its serious and
// critical violations, one line each with the elements they were found on.
const axeReport = `axe.run(document, {resultTypes: ['violations']}).then(r =>
  r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical').map(v =>
    v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
    v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')))`

// checkAxe injects axe-core into the page in ctx and fails on any serious
// or critical violation.
func checkAxe(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	axe, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("axe-core is needed for the accessibility test; run scripts/test-deps (make test does): %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](string(axe))); err != nil {
		t.Fatalf("%s: inject axe-core: %v", what, err)
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](axeReport, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", what, err)
	}
	if len(found) > 0 {
		t.Errorf("%s has %d serious or critical accessibility violations:\n  %s", what, len(found), strings.Join(found, "\n  "))
	}
}

// TestAccessibility injects axe-core into every page a person sees (the
// index, each shipped board with live demo numbers, the private-board
// notice, the notes on a mistyped kiosk address, the missing-board page) at
// a TV's and a laptop's size, and fails on any serious or
// critical violation.
func TestAccessibility(t *testing.T) {
	// Before the demo's minutes of history, not after.
	if _, err := os.Stat(axePath); err != nil {
		t.Fatalf("axe-core is needed for the accessibility test; run scripts/test-deps (make test does): %v", err)
	}
	ctx := browser(t)
	demo := "http://" + startDemo(t).Addr()

	path := filepath.Join(t.TempDir(), "boards.yaml")
	privateBoards(t, path, true)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	private := "http://" + start(t, clock, "--boards", path, "--public-boards=false").Addr()

	pages := []struct{ name, url, ready string }{
		{"index", demo + "/", "main"},
		{"floor board", demo + "/boards/floor", `[data-testid="status"]`},
		{"supervisor board", demo + "/boards/supervisor", `[data-testid="status"]`},
		{"team board", demo + "/boards/team-billing", `[data-testid="status"]`},
		{"team template's board", demo + "/boards/team/tech-support", `[data-testid="status"]`},
		{"board template's own name", demo + "/boards/team", `[data-testid="not-found"]`},
		{"kiosk rotation", demo + "/boards/floor?kiosk=1&rotate=floor,supervisor&every=30s", `[data-testid="status"]`},
		{"private-board notice", private + "/boards/wall", `[data-testid="denied-message"]`},
		{"board with mistyped options", demo + "/boards/floor?rotate=floor,nope&quiet=25-6", `[data-testid="screen-notes"]`},
		{"missing board", demo + "/boards/nope", `[data-testid="not-found"]`},
		{"API reference", demo + "/api/v1/docs", `[data-testid="apidoc"]`},
	}
	for _, size := range [][2]int64{{1920, 1080}, {1366, 768}} {
		for _, p := range pages {
			what := fmt.Sprintf("%s at %dx%d", p.name, size[0], size[1])
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(size[0], size[1]),
				chromedp.Navigate(p.url),
				chromedp.WaitVisible(chromedp.CSS(p.ready)),
				chromedp.Sleep(time.Second), // the socket's snapshot and the number tweens settle
			)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			checkAxe(t, ctx, what)
		}
	}
}

// TestBrowserIndexReloads checks static/refresh.js, which replaced a
// <meta http-equiv="refresh"> that axe-core flags as critical: the index page
// reloads itself when left alone, and waits while somebody uses it.
func TestBrowserIndexReloads(t *testing.T) {
	ctx := browser(t)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	base := "http://" + start(t, clock).Addr()
	mark := chromedp.Evaluate[chromedp.Void](`window.pbMark = 1`)
	marked := func() bool {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pbMark === 1`))
		return err == nil && v
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="updated"]`)), mark); err != nil {
		t.Fatal(err)
	}
	// Somebody presses keys every 2 s for longer than the refresh interval:
	// the page stays.
	for range 7 {
		time.Sleep(2 * time.Second)
		if err := chromedp.Do(ctx, chromedp.KeyEvent("\t")); err != nil {
			t.Fatal(err)
		}
		if !marked() {
			t.Fatal("the index page reloaded while somebody was using it")
		}
	}
	// Left alone, it reloads within the interval (10 s, httpapi.homeRefreshSeconds).
	eventually(t, "the index page to reload on its own", 13*time.Second, func() bool { return !marked() })
}
