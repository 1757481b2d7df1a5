package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

// surveys is what recordSurveys wrote: the offers and the answers, as
// recorded, so a test counts them by brute force.
type surveys struct {
	offers, answers []store.Response
}

// recordSurveys records, straight into m's store, offers on four channels
// over the last 9 hours (none in the last 15 minutes) at channel-dependent
// rates, answers to some of them (CSAT alone, or CSAT and a score), and a
// few unsolicited CSAT answers.
func recordSurveys(t *testing.T, m *Main, now time.Time, seed uint64, prefix string) surveys {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 16))
	rates := map[string]float64{"phone": .35, "chat": .22, "email": .09, "sms": .15}
	channels := []string{"phone", "chat", "email", "sms"}
	var s surveys
	for i := range 900 {
		ch := channels[rng.IntN(len(channels))]
		at := now.Add(-15*time.Minute - time.Duration(rng.IntN(int(8*time.Hour+45*time.Minute)))).Truncate(time.Second)
		o := store.Response{Kind: store.KindOffer, ID: fmt.Sprintf("%soffer-%d", prefix, i), At: at, AtGiven: true, Version: 1,
			Dims: store.Dims{Channel: ch, Team: "billing"}}
		s.offers = append(s.offers, o)
		if rng.Float64() >= rates[ch] {
			continue
		}
		a := store.Response{ID: fmt.Sprintf("%sanswer-%d", prefix, i), OfferID: o.ID, At: at.Add(time.Minute), AtGiven: true, Version: 1,
			Score: store.NoScore, CSAT: 1 + min(4, rng.IntN(6)), Dims: o.Dims}
		if rng.IntN(2) == 0 {
			a.Score = rng.IntN(11)
		}
		s.answers = append(s.answers, a)
	}
	for i := range 20 {
		s.answers = append(s.answers, store.Response{ID: fmt.Sprintf("%sunsolicited-%d", prefix, i), At: now.Add(-time.Duration(1+rng.IntN(400)) * time.Minute),
			AtGiven: true, Version: 1, Score: store.NoScore, CSAT: 1 + rng.IntN(5), Dims: store.Dims{Channel: "chat", Team: "billing"}})
	}
	if _, err := m.store.Record(context.Background(), append(append([]store.Response(nil), s.offers...), s.answers...)); err != nil {
		t.Fatal(err)
	}
	return s
}

// count is the brute force over what was recorded: offers made in span
// (on channel, "" for all) and how many of them were answered, and the
// CSAT answers given in span and how many were 4 or 5.
func (s surveys) count(span window.Span, channel string) (offered, answered, answers, satisfied int64) {
	answeredIDs := map[string]bool{}
	for _, a := range s.answers {
		if a.OfferID != "" {
			answeredIDs[a.OfferID] = true
		}
		if span.Contains(a.At) && (channel == "" || a.Dims.Channel == channel) && a.CSAT != 0 {
			answers++
			if a.CSAT >= 4 {
				satisfied++
			}
		}
	}
	for _, o := range s.offers {
		if span.Contains(o.At) && (channel == "" || o.Dims.Channel == channel) {
			offered++
			if answeredIDs[o.ID] {
				answered++
			}
		}
	}
	return
}

// TestBrowserSurveyTiles opens the shipped supervisor board in Chromium
// with offers and CSAT answers recorded, and reads its response rate and
// CSAT tiles and the headlines' rate lines against a count over the raw
// offers and answers; records more and sees the screen follow (v2
// patches); runs axe-core on it and the other shipped boards at a laptop's
// and a TV's size, and checks that at those and a wall's nothing is cut
// off; reads the console's CSAT and rate columns. With
// PULSEBOARD_SURVEY_SHOTS=dir it keeps its photographs of the boards and
// the console there.
func TestBrowserSurveyTiles(t *testing.T) {
	if _, err := os.Stat(axePath); err != nil {
		t.Fatalf("axe-core is needed for the accessibility test; run scripts/test-deps (make test does): %v", err)
	}
	ctx := browser(t)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock, "--min-sample", "30")
	base := "http://" + m.Addr()
	now := clock.Now()
	s := recordSurveys(t, m, now, 1, "")
	zone, err := time.LoadLocation("America/New_York") // tryStart's --timezone
	if err != nil {
		t.Fatal(err)
	}
	cal := window.MustCalendar(zone)

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1920, 1080), chromedp.Navigate(base+"/boards/supervisor"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="tile-response-rate"]`))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "status live", 3*time.Second, func() bool { return textOf(ctx, `[data-testid="status"]`) == "live" })

	// expect lists what the screen must show, each selector with its text.
	expect := func() map[string]string {
		span := cal.Span(window.Rolling8h, now)
		want := map[string]string{}
		o, a, n, sat := s.count(span, "")
		rate, cs := board.ShareOf("", a, o, 30), board.ShareOf("", sat, n, 30)
		want[`[data-testid="tile-response-rate"] [data-testid="rate"]`] = rate.Percent
		want[`[data-testid="tile-response-rate"] [data-testid="rate-counts"]`] = fmt.Sprintf("%s of %s offered", thousands(a), thousands(o))
		want[`[data-testid="tile-csat"] [data-testid="csat"]`] = cs.Percent
		want[`[data-testid="tile-csat"] [data-testid="csat-counts"]`] = fmt.Sprintf("%s of %s satisfied", thousands(sat), thousands(n))
		want[`[data-testid="tile-nps-8h"] [data-testid="rate-line"]`] = fmt.Sprintf("Response rate %s · %s of %s offered", rate.Percent, thousands(a), thousands(o))
		// Nothing was offered in the last 15 minutes: no rate line.
		want[`[data-testid="tile-nps-15m"] [data-testid="rate-line"]`] = ""
		o30, a30, _, _ := s.count(cal.Span(window.Rolling30d, now), "")
		want[`[data-testid="tile-nps-30d"] [data-testid="rate-line"]`] = fmt.Sprintf("Response rate %s · %s of %s offered",
			board.ShareOf("", a30, o30, 30).Percent, thousands(a30), thousands(o30))
		for _, ch := range []string{"phone", "chat", "email", "sms"} {
			o, a, n, sat := s.count(span, ch)
			if o < 30 {
				t.Fatalf("%s: %d offers in 8h, the test wants at least the minimum sample", ch, o)
			}
			want[`[data-testid="tile-response-rate"] [data-testid="row-`+ch+`"] [data-testid="row-share"]`] = board.ShareOf("", a, o, 30).Percent
			want[`[data-testid="tile-response-rate"] [data-testid="row-`+ch+`"] .row-sub`] = fmt.Sprintf("%s/%s", thousands(a), thousands(o))
			if n > 0 {
				want[`[data-testid="tile-csat"] [data-testid="row-`+ch+`"] [data-testid="row-share"]`] = board.ShareOf("", sat, n, 30).Percent
			}
		}
		return want
	}
	check := func(what string) {
		t.Helper()
		want := expect()
		for start := time.Now(); ; time.Sleep(100 * time.Millisecond) {
			var bad []string
			for sel, w := range want {
				if got := strings.Join(strings.Fields(textOf(ctx, sel)), " "); got != w {
					bad = append(bad, fmt.Sprintf("%s: %q, want %q", sel, got, w))
				}
			}
			if len(bad) == 0 {
				t.Logf("%s: %d texts as counted, after %s", what, len(want), time.Since(start))
				return
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("%s: the screen differs from the counts:\n  %s", what, strings.Join(bad, "\n  "))
			}
		}
	}
	check("first paint")

	// More offers and answers arrive: the open screen follows.
	more := recordSurveys(t, m, now, 2, "more-")
	s.offers, s.answers = append(s.offers, more.offers...), append(s.answers, more.answers...)
	check("after more answers")

	// Every shipped board whose headlines now have a rate line, at a
	// laptop's, a TV's and a wall's size: no serious accessibility
	// violation, the page fits its screen, and nothing is cut off.
	shots := os.Getenv("PULSEBOARD_SURVEY_SHOTS")
	for _, name := range []string{"supervisor", "floor", "team-billing"} {
		for _, size := range [][2]int64{{1366, 768}, {1920, 1080}, {3840, 2160}} {
			what := fmt.Sprintf("%s board with offers at %dx%d", name, size[0], size[1])
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(size[0], size[1]), chromedp.Navigate(base+"/boards/"+name),
				chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`)), chromedp.Sleep(1500*time.Millisecond)); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if size[0] < 3840 {
				checkAxe(t, ctx, what)
			}
			// The tiles' text stays inside them: nothing cut at the bottom,
			// no line squeezed under its text's height, no rate line cut
			// short, no scrolling.
			cut, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('.tile-response_rate, .tile-csat, .tile-headline')].flatMap(tile => {
  const box = tile.getBoundingClientRect();
  return [...tile.querySelectorAll('.num, .share-meta, .rate-line, .change, .share-row, .csat-mix, .headline-meta')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.height > 0 && (r.bottom > box.bottom + 1 || e.scrollHeight > e.clientHeight + 1 ||
      (e.classList.contains('rate-line') && e.scrollWidth > e.clientWidth + 1));
  }).map(e => tile.id + ' ' + e.className);
}).concat(document.documentElement.scrollHeight > innerHeight + 1 || document.documentElement.scrollWidth > innerWidth + 1 ? ['the page scrolls'] : [])`))
			if err != nil {
				t.Fatal(err)
			}
			if len(cut) > 0 {
				t.Errorf("%s: cut off: %v", what, cut)
			}
			if lines, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.rate-line').length`)); lines == 0 {
				t.Errorf("%s: no headline shows its response rate", what)
			}
			if shots != "" {
				png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(shots, fmt.Sprintf("%s-surveys-%dx%d.png", name, size[0], size[1])), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	// The console's table has the CSAT and response rate columns, each
	// row's as counted.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768), chromedp.Navigate(base+"/console?window=8h&by=channel"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`))); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []string{"phone", "email"} {
		o, a, n, sat := s.count(cal.Span(window.Rolling8h, now), ch)
		r, c := board.ShareOf("", a, o, 30), board.ShareOf("", sat, n, 30)
		row := `[data-testid="groups"] [data-testid="row-` + ch + `"] `
		if got := textOf(ctx, row+`[data-testid="rate"]`); !strings.HasPrefix(got, r.Percent+" ("+r.Interval+")") {
			t.Errorf("console %s: rate %q, want %s (%s)", ch, got, r.Percent, r.Interval)
		}
		if got := textOf(ctx, row+`[data-testid="csat"]`); !strings.HasPrefix(got, c.Percent+" ("+c.Interval+")") {
			t.Errorf("console %s: CSAT %q, want %s (%s)", ch, got, c.Percent, c.Interval)
		}
	}
	checkAxe(t, ctx, "console with survey columns at 1366x768")

	if shots != "" {
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(shots, "console-surveys-1366x768.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// thousands writes 12345 as "12,345", as the boards do.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
