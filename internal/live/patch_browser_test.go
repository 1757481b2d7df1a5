package live

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/static"
	"github.com/pulseboard/pulseboard/views"
)

// browser starts Debian's headless Chromium in a fresh profile, off the
// network (as cmd/pulseboard's browser tests do).
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is needed for the browser tests (Debian: apt-get install chromium)")
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(1920, 1080),
	)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// The real static/board.js, in Chromium, applying the real server's v2
// patches to the real page, ends with every tile's DOM equal (isEqualNode)
// to what the tile's fresh markup parses to; it never asked for a resync
// (which would have hidden a patch it could not apply behind a snapshot),
// and no hostile text ran as script. Updates come every 90 ms, faster than
// a number's 700 ms tween, so patches land on numbers still moving.
func TestBrowserAppliesV2PatchesLikeASnapshot(t *testing.T) {
	ctx := browser(t)
	bc, srv, clock := patchServer(t)
	h := bc.hubs["floor"]
	rb := newRandomBoard(42)
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServerFS(static.FS)))
	mux.HandleFunc("/boards/floor", func(w http.ResponseWriter, r *http.Request) {
		page := views.BoardPage{View: rb.view(), Zone: "UTC", Clock: "12:00", Updated: "12:00:00"}
		if err := views.Board(page).Render(r.Context(), w); err != nil {
			t.Error(err)
		}
	})
	mux.Handle("/boards/floor/live", srv.Config.Handler)
	page := httptest.NewServer(mux)
	t.Cleanup(page.Close)

	if err := chromedp.Do(ctx, chromedp.Navigate(page.URL+"/boards/floor")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the page's socket", func() bool { return bc.Clients()["floor"] == 1 })
	// Count what the page sends (a resync is its only message).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__sent = [];
		WebSocket.prototype.send = (orig => function (d) { window.__sent.push(d); return orig.call(this, d); })(WebSocket.prototype.send);
		true`)); err != nil {
		t.Fatal(err)
	}
	// A Go screen beside it counts the patches sent.
	v2 := dialVersion(t, srv, "?v=2")
	scr := &goScreen{}
	if _, err := scr.take(readMsg(t, v2)); err != nil {
		t.Fatal(err)
	}
	stale := false
	var lastAt time.Time
	for step := range 60 {
		if step > 0 {
			rb.step()
		}
		if step%15 == 7 {
			stale = !stale
		}
		clock.Advance(time.Second)
		targets, err := h.publish(rb.view(), views.TileHTML, "e1", stale, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if len(targets) == 0 {
			continue
		}
		deliver(targets)
		lastAt = clock.Now()
		if _, err := scr.take(readMsg(t, v2)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(90 * time.Millisecond)
	}
	if scr.patched == 0 {
		t.Fatal("no tile was patched: the browser applied no patch")
	}
	// The page has taken the last message (it shows its time) and its
	// tweens and glows have ended (a glow outlasts its tween). This waits
	// for the browser and asserts nothing of its speed: on the shared
	// machine at load average 50 its timers ran 20 s late.
	settled := fmt.Sprintf(`document.getElementById('updated').textContent === %q && !document.querySelector('.changed')`,
		lastAt.UTC().Format("15:04:05"))
	deadline := time.Now().Add(time.Minute)
	for {
		done, err := chromedp.Run(ctx, chromedp.Evaluate[bool](settled))
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('updated').textContent +
				', ' + document.querySelectorAll('.changed').length + ' numbers glowing, sent ' + JSON.stringify(window.__sent)`))
			t.Fatalf("the page did not settle within a minute of the last update (%s): it shows %s", lastAt.UTC().Format("15:04:05"), state)
		}
		time.Sleep(100 * time.Millisecond)
	}
	final := rb.view()
	for _, tv := range final.Tiles {
		markup, err := views.TileHTML(tv)
		if err != nil {
			t.Fatal(err)
		}
		js := fmt.Sprintf(`(() => {
			const tpl = document.createElement('template');
			tpl.innerHTML = %s;
			const want = tpl.content.firstElementChild, got = document.getElementById(%s);
			return {Equal: !!got && got.isEqualNode(want), Got: got ? got.outerHTML : '', Want: want.outerHTML};
		})()`, jsString(markup), jsString("tile-"+tv.ID))
		res, err := chromedp.Run(ctx, chromedp.Evaluate[struct {
			Equal     bool
			Got, Want string
		}](js))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Equal {
			t.Errorf("tile %s on the page differs from its fresh markup\n got %s\nwant %s", tv.ID, res.Got, res.Want)
		}
	}
	sent, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__sent`))
	if err != nil {
		t.Fatal(err)
	}
	pwned, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__pwned === 1`))
	if err != nil {
		t.Fatal(err)
	}
	staleShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.classList.contains('is-stale')`))
	if err != nil {
		t.Fatal(err)
	}
	if len(sent) > 0 {
		t.Errorf("the page sent %q: it could not apply a patch", sent)
	}
	if pwned {
		t.Error("a hostile text ran as script")
	}
	if staleShown != stale {
		t.Errorf("page shows stale %v, the last message said %v", staleShown, stale)
	}
	t.Logf("%d tiles patched, %d whole", scr.patched, scr.whole)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x2028 || r == 0x2029 || r == '<':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
