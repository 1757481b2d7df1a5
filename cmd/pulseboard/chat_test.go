package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// chatSink records what a chat webhook receives; it answers as Slack
// (200 "ok") or Teams Workflows (202) do.
type chatSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
}

func newChatSink(t *testing.T, status int) *chatSink {
	s := &chatSink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.bodies = append(s.bodies, b)
		s.mu.Unlock()
		w.WriteHeader(status)
		if status == http.StatusOK {
			_, _ = io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *chatSink) first() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		return nil
	}
	return s.bodies[0]
}

// TestChatClaimLink runs the real program with a Slack and a Teams
// receiver and public_url: a detractor with a hostile comment reaches both
// as a chat message whose button is a claim link; Microsoft's Adaptive
// Cards renderer renders the Teams card in Chromium without a parse or
// validation error and without a link made from the comment (screenshot
// docs/screenshots/teams-detractor.png); the claim link opens a page that
// passes axe-core, and pressing its button with a name typed claims the
// follow-up under that name (read back from the API) and leads to the
// inbox.
func TestChatClaimLink(t *testing.T) {
	slack, teams := newChatSink(t, http.StatusOK), newChatSink(t, http.StatusAccepted)
	alerts := fmt.Sprintf(`{webhooks: [{url: %q, kind: slack}, {url: %q, kind: teams}]}`, slack.srv.URL, teams.srv.URL)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	const viewer = "dana-viewer-token-0123"
	m := start(t, clock, "--alerts", alerts, "--alert-allow-private-receivers", "--public-url", "http://pulse.test",
		"--session-key", "a-session-key-of-at-least-32-chars", "--viewer-tokens", "dana:"+viewer)
	base := "http://" + m.Addr()
	c := client{t: t, base: base}
	comment := `<!channel> [urgent](https://evil.example) **now** call 030 1234 5678`
	body := fmt.Sprintf(`{"id":"chat-1","score":2,"channel":"phone","journey":"billing question","team":"billing","agent":"Ana Lima","comment":%q}`, comment)
	if r := c.post(body, "application/json"); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.raw)
	}
	eventually(t, "both chat messages", 10*time.Second, func() bool { return slack.first() != nil && teams.first() != nil })

	var sm struct {
		Blocks []struct {
			Type     string `json:"type"`
			Elements []struct {
				URL string `json:"url"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(slack.first(), &sm); err != nil {
		t.Fatal(err)
	}
	var link string
	for _, b := range sm.Blocks {
		if b.Type == "actions" && len(b.Elements) == 1 {
			link = b.Elements[0].URL
		}
	}
	if !strings.HasPrefix(link, "http://pulse.test/links/claim/chat-1?exp=") {
		t.Fatalf("Slack message has no claim link under public_url: %s", slack.first())
	}
	if !strings.Contains(string(teams.first()), `"url":"`+link+`"`) {
		t.Errorf("the Teams card lacks the same claim link %s: %s", link, teams.first())
	}

	ctx := browser(t)
	// The Teams card, rendered by Microsoft's renderer.
	cards := httptest.NewServer(http.FileServer(http.Dir("testdata/adaptivecards")))
	t.Cleanup(cards.Close)
	if _, err := os.Stat("testdata/adaptivecards/node_modules/adaptivecards/dist/adaptivecards.min.js"); err != nil {
		t.Fatalf("the adaptivecards renderer is needed; run scripts/test-deps (make test does): %v", err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(420, 900),
		chromedp.Navigate(cards.URL+"/render.html"),
		chromedp.WaitReady(chromedp.CSS("#card")),
	); err != nil {
		t.Fatalf("open the renderer: %v", err)
	}
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string]("renderCard("+string(teams.first())+")"))
	if err != nil {
		t.Fatalf("render the Teams card: %v", err)
	}
	if len(problems) > 0 {
		t.Errorf("the Teams card, by Microsoft's renderer:\n  %s", strings.Join(problems, "\n  "))
	}
	shot, err := chromedp.Run(ctx, chromedp.ScreenshotScale(chromedp.CSS("#card"), 2))
	if err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#card")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Detractor 2/10", "<!channel> [urgent](https://evil.example) **now** call [phone]", "Ana Lima", "billing question", "Claim it"} {
		if !strings.Contains(text, want) {
			t.Errorf("the rendered card does not show %q:\n%s", want, text)
		}
	}
	if dir := os.Getenv("PULSEBOARD_SCREENSHOTS"); dir != "" {
		if err := os.WriteFile(dir+"/teams-detractor.png", shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The claim link, on this server.
	local := strings.Replace(link, "http://pulse.test", base, 1)
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844), // a phone: the link is opened from a chat app
		chromedp.Navigate(local),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="claim-form"]`)),
	)
	if err != nil {
		t.Fatalf("open the claim link: %v", err)
	}
	checkAxe(t, ctx, "claim page")
	if dir := os.Getenv("PULSEBOARD_SCREENSHOTS"); dir != "" {
		if page, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(dir+"/claim-page.png", page, 0o644)
		}
	}
	if r := c.do("GET", "/api/v1/followups", "", viewer, nil); !strings.Contains(r.raw, `"status":"open"`) {
		t.Fatalf("opening the link changed the follow-up: %s", r.raw)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#claim-name"), "Sam Okafor"),
		chromedp.Click(chromedp.CSS(`[data-testid="claim-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="signin"]`)),
	)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	where, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	// Not signed in: the inbox sends the browser to sign in, and back.
	if !strings.Contains(where, "/signin?next=%2Fconsole%2Finbox%3Fdone%3Dclaimed%26id%3Dchat-1") {
		t.Errorf("after the claim the browser is at %s, want the inbox (through sign-in)", where)
	}
	r := c.do("GET", "/api/v1/followups?status=claimed", "", viewer, nil)
	if !strings.Contains(r.raw, `"claimed_by":"Sam Okafor"`) {
		t.Errorf("the follow-up is not claimed by the name typed: %s", r.raw)
	}
}
