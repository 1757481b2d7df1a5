package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

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

// consoleDemo starts the demo (public, as make run) with a viewer who may
// sign in to see agent names.
func consoleDemo(t *testing.T) *Main {
	return startDemo(t, "--viewer-tokens", "dana:"+viewerToken, "--session-key", "a-session-key-of-at-least-32-chars")
}

// signIn signs the browser in as the viewer through /signin, which sends
// it on to next.
func signIn(t *testing.T, ctx context.Context, base, next string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/signin?"+url.Values{"next": {next}}.Encode()),
		chromedp.WaitVisible(chromedp.CSS(`#signin-token`)),
		chromedp.SendKeys(chromedp.CSS(`#signin-token`), viewerToken),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="console-results"]`)),
	); err != nil {
		t.Fatalf("sign in to %s: %v", next, err)
	}
}

// TestBrowserConsole drives the console in Chromium on a demo-fed server:
// signed out (public mode) it names no agent; signed in, a team view, a
// click to the team's agents, to an agent's answers, to one answer (whose
// comment is redacted), and back twice with the back button; the themes,
// a theme's answers with their evidence marked, and themes by team; a from/to
// range picked in the form, whose exported CSV holds the API's numbers;
// axe-core on every page at a laptop's and a phone's size; then the
// numbers follow new answers without a reload.
func TestBrowserConsole(t *testing.T) {
	m := consoleDemo(t)
	// Every step waits for its element; none may hang the test binary.
	ctx, cancel := context.WithTimeout(browser(t), 4*time.Minute)
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
			checkAxe(t, ctx, fmt.Sprintf("%s at %dx%d", what, size[0], size[1]))
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

	// Anonymous on a public server: the console, without agent names.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(c.base+"/console?window=1h&by=team"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	if agents, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid^="drill-agent"], [name="agent"], option[value*="agent"]').length`)); err != nil || agents != 0 {
		t.Errorf("signed out, the console offers %d agent breakdowns, filters or drill-downs (%v)", agents, err)
	}
	signIn(t, ctx, c.base, "/console?window=1h&by=team")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	check("the console by team")
	// The row's n is the API's. Demo answers keep arriving: the page is
	// compared with an API answer that did not change across its reload.
	apiN := func() string {
		r := c.get("/api/v1/nps?window=1h&team=billing")
		if r.status != 200 {
			t.Fatalf("nps: %d", r.status)
		}
		return fmt.Sprint(r.body["groups"].([]any)[0].(map[string]any)["responses"])
	}
	eventually(t, "billing's n equal to the API's", 20*time.Second, func() bool {
		before := apiN()
		if err := chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`[data-testid="row-billing"]`))); err != nil {
			t.Fatal(err)
		}
		shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="row-billing"]').dataset.n`))
		if err != nil {
			t.Fatal(err)
		}
		after := apiN()
		if before == after && shown != before {
			t.Fatalf("billing shows n %s, the API %s", shown, before)
		}
		return before == after
	})

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

	// Themes: the breakdown by theme (the rows ranked by NPS impact, each
	// theme by its label), a theme within the teams, and a theme's row to
	// its answers with the matched words marked, markup in a comment shown
	// as text.
	if r := c.post(fmt.Sprintf(`{"id":"console-theme-0","score":1,"channel":"chat","team":"billing","comment":"Charged twice, <b>rude</b> agent","at":%q}`,
		now.Add(-time.Minute).Format(time.RFC3339)), "application/json"); r.status != 202 {
		t.Fatalf("post: %d %s", r.status, r.raw)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/console?window=1h&by=theme"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="row-billing"]`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(ctx, `[data-testid="row-billing"] [data-testid="key-theme"]`); got != "Billing errors" {
		t.Errorf("the billing theme's row reads %q, want its label", got)
	}
	check("the console by theme")
	click(`[data-testid="row-billing"] [data-testid="key-theme"]`)
	waitQuery("the theme's answers", url.Values{"by": {""}, "theme": {"billing"}, "window": {"1h"}})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="answer-console-theme-0"] mark`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(ctx, `[data-testid="answer-console-theme-0"] [data-testid="comment"]`); got != "Charged twice, <b>rude</b> agent" {
		t.Errorf("the answer's comment reads %q, want it as written", got)
	}
	if marks, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('[data-testid="answer-console-theme-0"] mark')].map(m => m.textContent)`)); err != nil || strings.Join(marks, "|") != "Charged twice|rude" {
		t.Errorf("the marked words are %q (%v), want the billing and rudeness evidence", marks, err)
	}
	check("a theme's answers")
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/console?window=1h&by=team,theme"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	check("the console by team and theme")

	// A range picked in the form: two hours ending an hour ago, by
	// journey. The address becomes the API's from/to.
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().In(loc).Truncate(time.Minute).Add(-time.Hour)
	from, to := end.Add(-2*time.Hour), end
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/console?window=today&by=journey"), chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	if disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('[data-testid="pick-from"]').disabled`)); err != nil || !disabled {
		t.Errorf("with a named window the range's fields are not disabled (%v)", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
		const w = document.querySelector('[data-testid="pick-window"]');
		w.value = 'range';
		w.dispatchEvent(new Event('change'));
		document.querySelector('[data-testid="pick-from"]').value = %q;
		document.querySelector('[data-testid="pick-to"]').value = %q;
	})()`, from.Format("2006-01-02T15:04"), to.Format("2006-01-02T15:04")))); err != nil {
		t.Fatal(err)
	}
	click(`[data-testid="show"]`)
	waitQuery("the range", url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "by": {"journey"}, "window": {""}})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	check("a range by journey")
	// The export link's CSV (fetched by the page, as a click would) holds
	// the API's JSON numbers for the same view. Demo answers arrive at
	// now, after the range, but retry in case one lands on a boundary.
	view := location(t, ctx).RawQuery
	eventually(t, "the exported CSV equal to the API's JSON", 10*time.Second, func() bool {
		return csvMatchesAPI(t, ctx, c, view, "journey")
	})

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

// TestConsoleScreenshots photographs the console of a demo-fed server,
// signed in as a viewer, at 1366x768, 1920x1080 and a phone's 390x844: by
// team, by journey, a team's agents, by theme and by team and theme. With PULSEBOARD_SCREENSHOTS=dir
// (make screenshots) it keeps them there.
func TestConsoleScreenshots(t *testing.T) {
	dir := os.Getenv("PULSEBOARD_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	ctx := browser(t)
	m := consoleDemo(t)
	base := "http://" + m.Addr()
	signIn(t, ctx, base, "/console?window=today&by=team")
	// A range from three days back at 09:13, older than the minute
	// buckets, so its start is widened to 09:00 and the page says so.
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(loc)
	rangeView := url.Values{"by": {"journey"},
		"from": {time.Date(now.Year(), now.Month(), now.Day()-3, 9, 13, 0, 0, loc).Format(time.RFC3339)},
		"to":   {now.Truncate(time.Minute).Add(-time.Hour).Format(time.RFC3339)}}
	for _, shot := range []struct {
		name, query string
		sizes       [][2]int64
	}{
		{"console", "window=today&by=team", [][2]int64{{1366, 768}, {1920, 1080}, {390, 844}}},
		{"console-journey", "window=today&by=journey", [][2]int64{{1366, 768}, {390, 844}}},
		{"console-agents", "window=today&by=agent&team=billing&sort=-nps", [][2]int64{{1366, 768}}},
		{"console-range", rangeView.Encode(), [][2]int64{{1366, 768}}},
		{"console-themes", "window=today&by=theme", [][2]int64{{1366, 768}, {390, 844}}},
		{"console-team-themes", "window=today&by=team,theme", [][2]int64{{1366, 768}}},
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

// csvMatchesAPI fetches the page's export link in the browser and GET
// /api/v1/nps with the view's parameters as JSON, and reports whether
// every group's figures agree (CSV cells print numbers as the JSON does).
func csvMatchesAPI(t *testing.T, ctx context.Context, c client, view, dim string) bool {
	t.Helper()
	href, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-testid="export"]').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := url.Parse(href)
	if err != nil {
		t.Fatal(err)
	}
	want, err := url.ParseQuery(view)
	if err != nil {
		t.Fatal(err)
	}
	want.Set("format", "csv")
	if exp.Path != "/api/v1/nps" || exp.Query().Encode() != want.Encode() {
		t.Fatalf("the export link is %s, want /api/v1/nps?%s", href, want.Encode())
	}
	body, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`fetch(%q).then(r => r.text())`, href), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(records) < 2 {
		t.Fatalf("the export is not a CSV with rows (%v): %q", err, body)
	}
	r := c.get("/api/v1/nps?" + view)
	if r.status != 200 {
		t.Fatalf("nps: %d %s", r.status, r.raw)
	}
	groups := r.body["groups"].([]any)
	if len(groups) != len(records)-1 {
		t.Logf("the CSV has %d groups, the JSON %d", len(records)-1, len(groups))
		return false
	}
	col := map[string]int{}
	for i, name := range records[0] {
		col[name] = i
	}
	for i, g := range groups {
		g := g.(map[string]any)
		row := records[i+1]
		if key := g["key"].(map[string]any)[dim]; row[col[dim]] != key {
			t.Logf("row %d: CSV %s %q, JSON %q", i, dim, row[col[dim]], key)
			return false
		}
		for _, f := range []string{"nps", "ci_low", "ci_high", "responses", "promoters", "passives", "detractors"} {
			jv := ""
			if v, ok := g[f].(float64); ok {
				jv = strconv.FormatFloat(v, 'f', -1, 64)
			}
			if row[col[f]] != jv {
				t.Logf("group %v %s: CSV %q, JSON %q", g["key"], f, row[col[f]], jv)
				return false
			}
		}
		// The JSON has no shares: they are the counts in percent of n,
		// rounded to two decimals.
		n := g["responses"].(float64)
		for f, count := range map[string]string{"promoter_share": "promoters", "passive_share": "passives", "detractor_share": "detractors"} {
			share, err := strconv.ParseFloat(row[col[f]], 64)
			if err != nil || math.Abs(share-100*g[count].(float64)/n) > 0.005 {
				t.Fatalf("group %v %s: CSV %q, counts %v of %v (%v)", g["key"], f, row[col[f]], g[count], n, err)
			}
		}
	}
	return true
}
