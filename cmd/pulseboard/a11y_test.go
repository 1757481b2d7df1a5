package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
// critical violation; on the floor and supervisor boards it also reads
// their themes tiles (checkThemesTile).
func TestAccessibility(t *testing.T) {
	// Before the demo's minutes of history, not after.
	if _, err := os.Stat(axePath); err != nil {
		t.Fatalf("axe-core is needed for the accessibility test; run scripts/test-deps (make test does): %v", err)
	}
	ctx := browser(t)
	m := startDemo(t)
	demo := "http://" + m.Addr()

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
			if p.name == "floor board" || p.name == "supervisor board" {
				checkThemesTile(t, ctx, m, what)
			}
		}
	}
}

// checkThemesTile: the page's themes tile (the floor's and the
// supervisor's) shows the dictionary's labels of the themes the demo's
// comments hold, each with the points it costs, and the board's API shows
// them too (read with the Go client; the transport validates the answer
// against the OpenAPI document).
func checkThemesTile(t *testing.T, ctx context.Context, m *Main, what string) {
	t.Helper()
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('[data-testid="tile-themes"] .theme')].map(e => e.dataset.testid + '=' + e.querySelector('.theme-label').textContent + '=' + e.querySelector('.theme-impact').textContent)`))
	if err != nil {
		t.Fatalf("%s: read the themes tile: %v", what, err)
	}
	if len(shown) < 2 {
		t.Fatalf("%s: the themes tile shows %v, want at least two of the demo's themes", what, shown)
	}
	name, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.board`))
	b, err := client{t: t, base: "http://" + m.Addr()}.api("").Board(context.Background(), name)
	if err != nil {
		t.Fatalf("%s: the board's API: %v", what, err)
	}
	var api []string
	for _, tile := range b.Tiles {
		if tile.ID == "themes" && tile.Themes != nil {
			for _, th := range tile.Themes.Themes {
				api = append(api, th.Name)
			}
		}
	}
	for _, l := range shown {
		parts := strings.Split(l, "=")
		theme := strings.TrimPrefix(parts[0], "theme-")
		if want := m.themes.Label(theme); want == "" || parts[1] != want || !strings.HasSuffix(parts[2], " pts") ||
			!(strings.HasPrefix(parts[2], "−") || parts[2] == "0 pts") {
			t.Errorf("%s: theme row %q, want the label %q and a loss in points", what, l, want)
		}
		// The demo keeps answering: a moment later, two themes of much the
		// same cost may have swapped, so only the set is compared (the
		// order is board's TestThemesTileAgainstBruteForce's).
		if !slices.Contains(api, theme) {
			t.Errorf("%s: the screen shows theme %s, the API (%v) does not", what, theme, api)
		}
	}
}
