package alert

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pulseboard/pulseboard/internal/store"
)

// TestRedirectNotFollowed: a receiver that answers 307 does not get the
// signed body re-posted to wherever it points; the 3xx is a failed attempt,
// retried and then dead-lettered like any other.
func TestRedirectNotFollowed(t *testing.T) {
	var mu sync.Mutex
	hits := 0
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(target.Close)
	redirects := 0
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		redirects++
		mu.Unlock()
		http.Redirect(w, r, target.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	cfg := fastConfig(redirector.URL)
	cfg.Retries = 2
	h := memHarness(t, cfg)
	record(t, h.store, store.Response{ID: "d1", Score: 1, Dims: store.Dims{Channel: "phone"}, Comment: "agent was rude"})
	dead := waitDeadLetters(t, h, 1)
	if d := dead[0]; d.Attempts != 2 || !strings.Contains(d.LastError, "307") {
		t.Errorf("dead letter %+v, want 2 attempts ending in a 307", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 || redirects != 2 {
		t.Errorf("the redirect's target got %d posts (want 0), the receiver %d (want 2)", hits, redirects)
	}
}

// TestPrivateReceiverRefused: without the operator's allowance, a receiver
// whose address is loopback is never dialled, whether the URL names the
// address or a host name that resolves to it (checked at dial time, so a
// name that changes its answer cannot get around it); the delivery fails
// with the reason and ends as a dead letter.
func TestPrivateReceiverRefused(t *testing.T) {
	rcv := newReceiver(t, 0)
	byName := strings.Replace(rcv.srv.URL, "127.0.0.1", "localhost", 1)
	cfg := fastConfig(rcv.srv.URL, byName)
	cfg.AllowPrivateReceivers = false
	cfg.Retries = 2
	h := memHarness(t, cfg)
	record(t, h.store, store.Response{ID: "d1", Score: 1, Dims: store.Dims{Channel: "phone"}})
	for _, d := range waitDeadLetters(t, h, 2) {
		if !strings.Contains(d.LastError, "loopback") {
			t.Errorf("%s: last error %q, want the refusal", d.URL, d.LastError)
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.attempts) != 0 {
		t.Errorf("the private receiver was reached: %v", rcv.attempts)
	}
}

// TestCheckReceivers: receivers named by a literal loopback, link-local,
// private or unspecified address (or localhost) fail validation with the
// reason and the way to allow them, unless allowed.
func TestCheckReceivers(t *testing.T) {
	for url, want := range map[string]string{
		"http://127.0.0.1:8080/x":         "loopback",
		"http://localhost:9/x":            "loopback",
		"http://[::1]/x":                  "loopback",
		"http://[::ffff:127.0.0.1]/x":     "loopback",
		"http://10.1.2.3/x":               "private",
		"https://192.168.0.10/x":          "private",
		"http://172.16.5.4/x":             "private",
		"http://[fd00::1]/x":              "private",
		"http://169.254.169.254/metadata": "link-local",
		"http://[fe80::1]/x":              "link-local",
		"http://0.0.0.0/x":                "unspecified",
		"http://0.1.2.3/x":                "unspecified",
		"https://crm.example.com/hook":    "",
		"http://8.8.8.8/x":                "",
		"http://[2001:db8::1]/x":          "",
	} {
		for _, digest := range []bool{false, true} {
			text := fmt.Sprintf("webhooks: [%q]", url)
			if digest {
				text = fmt.Sprintf("digest: {webhooks: [%q]}", url)
			}
			c := parseTestConfig(t, text)
			c.AllowPrivateReceivers = false
			err := c.CheckReceivers()
			switch {
			case want == "" && err != nil:
				t.Errorf("%s: %v", text, err)
			case want != "" && (err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), url)):
				t.Errorf("%s: %v, want an error naming %s and the URL", text, err, want)
			}
			c.AllowPrivateReceivers = true
			if err := c.CheckReceivers(); err != nil {
				t.Errorf("%s, allowed: %v", text, err)
			}
		}
	}
}
