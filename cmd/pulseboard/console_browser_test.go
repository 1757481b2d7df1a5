package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeCheck runs axe-core on the page in ctx and fails the test on any
// serious or critical violation.
func axeCheck(t *testing.T, ctx context.Context, what string) {
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

// location is the page's address, path and query.
func location(t *testing.T, ctx context.Context) *url.URL {
	t.Helper()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestBrowserConsole drives the console in Chromium on a demo-fed server:
// a team view, a click to the team's agents, to an agent's answers, to one
// answer (whose comment is redacted), and back twice with the back button;
// axe-core on every page at a laptop's and a phone's size; then the
// numbers follow new answers without a reload.
func TestBrowserConsole(t *testing.T) {
	m := startDemo(t)
	// Every step waits for its element; none may hang the test binary.
	ctx, cancel := context.WithTimeout(browser(t), 3*time.Minute)
	defer cancel()
	c := client{t: t, base: "http://" + m.Addr()}
	// Answers of our own for one agent, so the answers list surely has
	// one with a comment (the demo's backfill is older than what the
	// change log keeps).
	now := time.Now().UTC()
	var lines []string
	for i := range 4 {
		lines = append(lines, fmt.Sprintf(`{"id":"console-%d","score":%d,"channel":"phone","segment":"smb","team":"billing","agent":"Ana Lima","comment":"call me at ana.customer@example.com, case %d","at":%q}`,
			i, []int{2, 9, 10, 6}[i], i, now.Add(-time.Duration(i+1)*time.Minute).Format(time.RFC3339)))
	}
	if r := c.post(strings.Join(lines, "\n"), "application/x-ndjson"); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	sizes := [][2]int64{{1366, 768}, {390, 844}}
	check := func(what string) {
		t.Helper()
		for _, size := range sizes {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1])); err != nil {
				t.Fatal(err)
			}
			axeCheck(t, ctx, fmt.Sprintf("%s at %dx%d", what, size[0], size[1]))
			// The page never scrolls sideways: only the tables do.
			wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > innerWidth + 1`))
			if err != nil {
				t.Fatal(err)
			}
			if wide {
				t.Errorf("%s at %dx%d: the page is wider than the screen", what, size[0], size[1])
			}
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
			t.Fatal(err)
		}
	}
	click := func(sel string) {
		t.Helper()
		t.Logf("click %s on %s", sel, location(t, ctx))
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(`[data-testid="console-results"]`))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	waitQuery := func(what string, want url.Values) {
		t.Helper()
		eventually(t, what, 5*time.Second, func() bool {
			q := location(t, ctx).Query()
			for k := range want {
				if q.Get(k) != want.Get(k) {
					return false
				}
			}
			return true
		})
	}

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(c.base+"/console?window=1h&by=team"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	check("the console by team")
	// The row's figures are the API's.
	r := c.get("/api/v1/nps?window=1h&team=billing")
	if r.status != 200 {
		t.Fatalf("nps: %d", r.status)
	}
	apiN := r.body["groups"].([]any)[0].(map[string]any)["responses"].(float64)
	if got := textOf(ctx, `[data-testid="row-billing"] [data-testid="n"]`); !strings.HasPrefix(got, fmt.Sprint(apiN)) {
		t.Errorf("billing shows n %q, the API %v", got, apiN)
	}

	click(`[data-testid="row-billing"] [data-testid="key-team"]`)
	waitQuery("the team's agents", url.Values{"by": {"agent"}, "team": {"billing"}, "window": {"1h"}})
	check("billing's agents")

	click(`[data-testid="row-Ana Lima"] [data-testid="key-agent"]`)
	waitQuery("the agent's answers", url.Values{"by": {""}, "team": {"billing"}, "agent": {"Ana Lima"}, "window": {"1h"}})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="answer-console-0"]`))); err != nil {
		t.Fatal(err)
	}
	check("Ana Lima's answers")

	click(`[data-testid="answer-console-0"] [data-testid="answer-link"]`)
	waitQuery("the answer", url.Values{"answer": {"console-0"}, "agent": {"Ana Lima"}})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="answer-comment"]`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(ctx, `[data-testid="answer-comment"]`); got != "call me at [email], case 0" {
		t.Errorf("the answer's comment reads %q, want it redacted", got)
	}
	check("one answer")

	// Back: the agent's answers, then the team's agents. (history.back()
	// rather than chromedp.NavigateBack, which waits for a load event that
	// a page restored from the back/forward cache never fires.)
	back := func(what string, arrived func(url.Values) bool, sel string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`history.back()`)); err != nil {
			t.Fatal(err)
		}
		// The page may come back from the back/forward cache, which
		// chromedp's node tracking does not follow: ask the document.
		eventually(t, "back to "+what, 5*time.Second, func() bool {
			shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
			return arrived(location(t, ctx).Query()) && err == nil && shown
		})
	}
	back("the agent's answers", func(q url.Values) bool { return !q.Has("answer") && q.Get("agent") == "Ana Lima" }, `[data-testid="answer-console-0"]`)
	back("the team's agents", func(q url.Values) bool { return q.Get("by") == "agent" && q.Get("team") == "billing" }, `[data-testid="row-Ana Lima"]`)

	// Live: a team that appears while the page is open shows up without a
	// reload, within the poll's interval.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/console?window=15m&by=team"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`)),
		chromedp.Evaluate[chromedp.Void](`window.pbMark = 1`)); err != nil {
		t.Fatal(err)
	}
	if r := c.post(`{"id":"console-live","score":10,"channel":"chat","team":"night shift"}`, "application/json"); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	took := eventually(t, "the new team on the open console", 15*time.Second, func() bool {
		return textOf(ctx, `[data-testid="row-night shift"] [data-testid="n"]`) != ""
	})
	if mark, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.pbMark === 1`)); err != nil || !mark {
		t.Error("the console reloaded instead of refreshing its results")
	}
	t.Logf("a new answer on the open console after %s", took)
}

// TestConsoleScreenshots photographs the console of a demo-fed server at
// 1366x768, 1920x1080 and a phone's 390x844. With PULSEBOARD_SCREENSHOTS=dir
// (make screenshots) it keeps them there.
func TestConsoleScreenshots(t *testing.T) {
	dir := os.Getenv("PULSEBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := browser(t)
	m := startDemo(t)
	base := "http://" + m.Addr()
	for _, shot := range []struct {
		name, query string
		sizes       [][2]int64
	}{
		{"console", "window=today&by=team", [][2]int64{{1366, 768}, {1920, 1080}, {390, 844}}},
		{"console-agents", "window=today&by=agent&team=billing&sort=-nps", [][2]int64{{1366, 768}}},
	} {
		for _, size := range shot.sizes {
			err := chromedp.Do(ctx,
				chromedp.EmulateViewport(size[0], size[1]),
				chromedp.Navigate(base+"/console?"+shot.query),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`)),
			)
			if err != nil {
				t.Fatalf("%s %dx%d: %v", shot.name, size[0], size[1], err)
			}
			img, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := png.Decode(bytes.NewReader(img)); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, fmt.Sprintf("%s-%dx%d.png", shot.name, size[0], size[1]))
			if err := os.WriteFile(out, img, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
