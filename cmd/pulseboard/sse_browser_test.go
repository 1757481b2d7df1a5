package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// socketBlockingProxy stands for a corporate proxy that passes HTTP but
// refuses WebSocket upgrades with 403, counting the refusals. It keeps the
// addresses of the event streams it passed and what they carried.
func socketBlockingProxy(t *testing.T, target string) (*httptest.Server, *atomic.Int32, *passed) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	refused := &atomic.Int32{}
	seen := &passed{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(res *http.Response) error {
		if strings.HasSuffix(res.Request.URL.Path, "/events") {
			seen.mu.Lock()
			seen.urls = append(seen.urls, res.Request.URL.RequestURI())
			seen.mu.Unlock()
			res.Body = &teeBody{ReadCloser: res.Body, to: seen}
		}
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			refused.Add(1)
			http.Error(w, "WebSockets are not allowed on this network", http.StatusForbidden)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, refused, seen
}

// passed is what a proxy saw of the event streams it passed.
type passed struct {
	mu     sync.Mutex
	urls   []string
	stream bytes.Buffer
}

func (p *passed) get() ([]string, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.urls), p.stream.String()
}

// teeBody copies an event stream into passed as the proxy reads it.
type teeBody struct {
	io.ReadCloser
	to *passed
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.to.mu.Lock()
	b.to.stream.Write(p[:n])
	b.to.mu.Unlock()
	return n, err
}

// TestBrowserFallsBackToEvents: behind a proxy that refuses WebSockets, the
// board's page falls back to the event stream, says so (the transport
// indicator, and data-transport for scripts), goes live, shows what an
// answer changes (a v2 patch over the stream: it asks for the socket's
// version), and still passes axe. Without the proxy the same page
// says it uses a WebSocket.
func TestBrowserFallsBackToEvents(t *testing.T) {
	// The fallback page in a tab of its own, closed at the end.
	first := browser(t)
	ctx, closeTab := chromedp.NewContext(first)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock)
	c := client{t: t, base: "http://" + m.Addr()}
	proxy, refused, seen := socketBlockingProxy(t, c.base)

	headline := `[data-testid="tile-nps-1h"] [data-testid="score"]`
	if err := chromedp.Do(ctx, chromedp.Navigate(proxy.URL+"/boards/floor"), chromedp.WaitVisible(chromedp.CSS(headline))); err != nil {
		t.Fatal(err)
	}
	transport := func() string {
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.dataset.transport || ''`))
		if err != nil {
			return ""
		}
		return out
	}
	took := eventually(t, "the fallback to the event stream", 10*time.Second, func() bool {
		return transport() == "sse" && textOf(ctx, `[data-testid="status"]`) == "live"
	})
	t.Logf("live by SSE %s after the page loaded, after %d refused upgrades", took, refused.Load())
	if n := refused.Load(); n < 2 {
		t.Fatalf("%d upgrades reached the proxy; the page should try the socket twice first", n)
	}
	if got := textOf(ctx, `[data-testid="transport"]`); got != "via SSE" {
		t.Fatalf("transport indicator %q, want \"via SSE\"", got)
	}

	for i := range 4 {
		if r := c.post(fmt.Sprintf(`{"id":"sse-b%d","score":%d,"channel":"phone","team":"billing"}`, i, []int{10, 9, 3, 10}[i]), "application/json"); r.status != 202 {
			t.Fatalf("post: %d %s", r.status, r.raw)
		}
	}
	_, hour := c.overall("window=1h")
	want := board.FormatScore(hour.(float64))
	took = eventually(t, "the headline "+want+" on screen", 3*time.Second, func() bool { return textOf(ctx, headline) == want })
	t.Logf("the answers on screen %s after they were acknowledged", took)
	// The stream speaks the socket's version, v2. The first answers gave
	// the tiles their shape, so they came whole; more answers change only
	// numbers and come as a patch, which the page applies.
	urls, _ := seen.get()
	if len(urls) == 0 || !strings.Contains(urls[0], "v=2") {
		t.Fatalf("event streams opened %q; want the page's ?v=2", urls)
	}
	for i := range 3 {
		if r := c.post(fmt.Sprintf(`{"id":"sse-c%d","score":%d,"channel":"phone","team":"billing"}`, i, []int{0, 2, 10}[i]), "application/json"); r.status != 202 {
			t.Fatalf("post: %d %s", r.status, r.raw)
		}
	}
	_, hour = c.overall("window=1h")
	want = board.FormatScore(hour.(float64))
	eventually(t, "the headline "+want+" on screen", 5*time.Second, func() bool { return textOf(ctx, headline) == want })
	_, stream := seen.get()
	if !strings.Contains(stream, `"type":"update","v":2`) || !strings.Contains(stream, `"patch":[[`) {
		i := max(0, strings.LastIndex(stream, `"type":"update"`)-100)
		t.Fatalf("no v2 update with a patch came over the stream; its last update:\n%.3000s", stream[i:])
	}
	if dir := os.Getenv("PULSEBOARD_SSE_SHOT"); dir != "" {
		if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			_ = os.WriteFile(dir, png, 0o644)
		}
	}
	checkAxe(t, ctx, "a board on the SSE fallback")

	// The screen that leaves frees its stream.
	closeTab()
	eventually(t, "the end of the closed tab's stream", 5*time.Second, func() bool { return m.live.EventStreams() == 0 })

	// Straight to the server, the page keeps its socket.
	ctx = first
	if err := chromedp.Do(ctx, chromedp.Navigate(c.base+"/boards/floor"), chromedp.WaitVisible(chromedp.CSS(headline))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a socket", 5*time.Second, func() bool {
		return transport() == "websocket" && textOf(ctx, `[data-testid="transport"]`) == "via WebSocket"
	})
}
