package alert

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// chatReceiver plays a Slack incoming webhook or a Teams Workflows
// webhook: it answers the first `limited` attempts with 429 and
// Retry-After: 1 (their rate limit), and then, while `broken`, 400 with the
// reason in the body, as they do for a message they refuse; otherwise
// Slack's 200 "ok" or Teams' 202.
type chatReceiver struct {
	kind    Kind
	srv     *httptest.Server
	limited int

	mu     sync.Mutex
	broken bool
	times  []time.Time
	bodies [][]byte
	signed bool
}

func newChatReceiver(t *testing.T, kind Kind, limited int, broken bool) *chatReceiver {
	r := &chatReceiver{kind: kind, limited: limited, broken: broken}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		n, broken := len(r.times), r.broken
		r.signed = r.signed || req.Header.Get(HeaderSignature) != ""
		r.mu.Unlock()
		switch {
		case n <= r.limited:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "rate_limited", http.StatusTooManyRequests)
		case broken && kind == KindSlack:
			http.Error(w, "invalid_blocks", http.StatusBadRequest)
		case broken:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}`)
		default:
			r.mu.Lock()
			r.bodies = append(r.bodies, body)
			r.mu.Unlock()
			if kind == KindSlack {
				w.Header().Set("Content-Type", "text/html")
				_, _ = io.WriteString(w, "ok")
				return
			}
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *chatReceiver) got() ([][]byte, []time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.bodies...), append([]time.Time(nil), r.times...), r.signed
}

func chatConfig(rs ...*chatReceiver) Config {
	c := fastConfig()
	c.Kinds = map[string]Kind{}
	for _, r := range rs {
		c.Webhooks = append(c.Webhooks, r.srv.URL)
		c.Kinds[r.srv.URL] = r.kind
	}
	return c
}

// TestChatDeliveryRetryAfter: a Slack and a Teams receiver each get the
// detractor in their own format, unsigned; their 429 with Retry-After: 1
// holds the retry back a second although the backoff is 50 ms; Slack's
// 200 "ok" and Teams' 202 are success (no further attempt). On both
// engines.
func TestChatDeliveryRetryAfter(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			sl, tm := newChatReceiver(t, KindSlack, 1, false), newChatReceiver(t, KindTeams, 1, false)
			cfg := chatConfig(sl, tm)
			h := map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness}[engine](t, cfg)
			record(t, h.store, store.Response{ID: "d1", Score: 2, Dims: store.Dims{Channel: "phone", Team: "billing", Agent: "Ana Lima"}, Comment: "<!channel> rude"})
			for _, r := range []*chatReceiver{sl, tm} {
				eventually(t, string(r.kind)+" delivery", 6*time.Second, func() bool { b, _, _ := r.got(); return len(b) == 1 })
				bodies, times, signed := r.got()
				if len(times) != 2 {
					t.Errorf("%s: %d attempts, want 2 (429, then success)", r.kind, len(times))
				} else if gap := times[1].Sub(times[0]); gap < 950*time.Millisecond {
					t.Errorf("%s: retried %v after a 429 with Retry-After: 1", r.kind, gap)
				}
				if signed {
					t.Errorf("%s: chat deliveries carry no signature", r.kind)
				}
				switch r.kind {
				case KindSlack:
					var m struct {
						Text   string            `json:"text"`
						Blocks []json.RawMessage `json:"blocks"`
					}
					must(t, json.Unmarshal(bodies[0], &m))
					if !strings.Contains(m.Text, "&lt;!channel&gt; rude") || len(m.Blocks) == 0 {
						t.Errorf("slack body %s", bodies[0])
					}
				case KindTeams:
					checkTeamsMessage(t, bodies[0])
				}
			}
			time.Sleep(200 * time.Millisecond)
			for _, r := range []*chatReceiver{sl, tm} {
				if _, times, _ := r.got(); len(times) != 2 {
					t.Errorf("%s: %d attempts after success, want 2", r.kind, len(times))
				}
			}
			if dead, _ := h.svc.DeadLetters(context.Background(), 10); len(dead) != 0 {
				t.Errorf("dead letters %+v", dead)
			}
		})
	}
}

// TestChatDeadLetters: a Slack and a Teams receiver that refuse the
// message (400 with the reason) get Retries attempts; the dead letters keep
// the receiver's kind and its reason, and a redrive once the receiver works
// delivers the same message. On both engines.
func TestChatDeadLetters(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			sl, tm := newChatReceiver(t, KindSlack, 0, true), newChatReceiver(t, KindTeams, 0, true)
			cfg := chatConfig(sl, tm)
			cfg.Retries = 2
			h := map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness}[engine](t, cfg)
			record(t, h.store, store.Response{ID: "d1", Score: 2, Dims: store.Dims{Channel: "phone"}})
			dead := waitDeadLetters(t, h, 2)
			for _, d := range dead {
				want := map[Kind]string{KindSlack: "invalid_blocks", KindTeams: "TriggerInputSchemaMismatch"}[d.Kind]
				if want == "" || d.Attempts != 2 || !strings.Contains(d.LastError, "400") || !strings.Contains(d.LastError, want) {
					t.Errorf("dead letter %s: kind %q, %d attempts, last error %q", d.URL, d.Kind, d.Attempts, d.LastError)
				}
			}
			for _, r := range []*chatReceiver{sl, tm} {
				r.mu.Lock()
				r.broken = false
				r.mu.Unlock()
			}
			for _, d := range dead {
				must(t, h.svc.Redrive(context.Background(), d.ID))
			}
			for _, r := range []*chatReceiver{sl, tm} {
				eventually(t, string(r.kind)+" redriven delivery", 5*time.Second, func() bool { b, _, _ := r.got(); return len(b) == 1 })
			}
			b, _, _ := tm.got()
			checkTeamsMessage(t, b[0])
		})
	}
}

// TestRetryAfter: seconds and HTTP dates, bounded by maxRetryAfter;
// nothing for garbage or a date past.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0":                             0,
		"-5":                            0,
		"soon":                          0,
		"86400":                         maxRetryAfter,
		"Wed, 02 Dec 2026 12:00:30 GMT": 30 * time.Second,
		"Wed, 02 Dec 2026 11:00:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", in, got, want)
		}
	}
}

// TestLogURLHidesChatCredentials: a Slack or Teams webhook URL is the
// credential that posts to the channel; logs name only its host.
func TestLogURLHidesChatCredentials(t *testing.T) {
	d := Delivery{Kind: KindSlack, URL: "https://hooks.slack.com/services/T000/B000/XXXXSECRET"}
	if got := logURL(d); strings.Contains(got, "SECRET") || !strings.Contains(got, "hooks.slack.com") {
		t.Errorf("logged as %q", got)
	}
	d = Delivery{URL: "https://crm.example.com/hook"}
	if got := logURL(d); got != d.URL {
		t.Errorf("a generic receiver logged as %q", got)
	}
}
