package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/pkg/client"
)

var testNow = time.Date(2026, 11, 23, 15, 32, 41, 0, time.UTC)

// testClient is a client of srv whose waits are recorded, not waited.
func testClient(t *testing.T, srv *httptest.Server) (*apiClient, *[]time.Duration) {
	var mu sync.Mutex
	var waits []time.Duration
	c, err := newClient(Options{
		Server: srv.URL, Token: "tok-0123456789abcdef", HTTPClient: srv.Client(), Workers: 1,
		Now: func() time.Time { return testNow },
		After: func(d time.Duration) <-chan time.Time {
			mu.Lock()
			waits = append(waits, d)
			mu.Unlock()
			ch := make(chan time.Time, 1)
			ch <- testNow
			return ch
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, &waits
}

// TestClientRetries: the import's client sends NDJSON as the importer,
// tries a batch again while the server is unavailable (the waits follow
// Retry-After, on the import's clock), and tells each retry before its
// wait, as the console line says it.
func TestClientRetries(t *testing.T) {
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if r.URL.Path != "/api/v1/responses" || r.Header.Get("Content-Type") != "application/x-ndjson" ||
			r.Header.Get("Authorization") != "Bearer tok-0123456789abcdef" || r.Header.Get("User-Agent") != "pulseboard-import" {
			t.Errorf("request %s %s %v", r.Method, r.URL.Path, r.Header)
		}
		if body, _ := io.ReadAll(r.Body); string(body) != "{}\n" {
			t.Errorf("attempt %d sent %q", calls, body)
		}
		switch calls {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", testNow.Add(12*time.Second).Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
		case 3:
			w.WriteHeader(http.StatusBadGateway)
		default:
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{"accepted":1,"updated":2,"duplicates":3,"stale":4}`)
		}
	}))
	defer srv.Close()
	c, waits := testClient(t, srv)
	var told []string
	got, err := c.post(context.Background(), []byte("{}\n"), func(r client.RetryEvent) {
		told = append(told, fmt.Sprintf("%s %s %d/%d", why(r.Err), r.Wait, r.Attempt, r.Attempts))
	})
	if err != nil || got != (api.Recorded{Accepted: 1, Updated: 2, Duplicates: 3, Stale: 4}) {
		t.Fatalf("post: %+v, %v", got, err)
	}
	if len(*waits) != 3 || (*waits)[0] != 7*time.Second || (*waits)[1] != 12*time.Second ||
		(*waits)[2] < 500*time.Millisecond || (*waits)[2] > time.Second {
		t.Errorf("waits %v, want 7s, 12s and the third backoff, 500ms-1s", *waits)
	}
	want := []string{"503 Service Unavailable 7s 2/10", "429 Too Many Requests 12s 3/10", fmt.Sprintf("502 Bad Gateway %s 4/10", (*waits)[2])}
	if fmt.Sprint(told) != fmt.Sprint(want) {
		t.Errorf("retries told %q, want %q", told, want)
	}
}

func TestClientGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, waits := testClient(t, srv)
	_, err := c.post(context.Background(), []byte("{}\n"), nil)
	if err == nil || err.Error() != "giving up after 10 attempts: POST /api/v1/responses: 503 Service Unavailable" || len(*waits) != 9 {
		t.Fatalf("err %v after %d waits", err, len(*waits))
	}
}

func TestClientRefusals(t *testing.T) {
	var mu sync.Mutex
	var status int
	var body, contentType string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	defer srv.Close()
	c, _ := testClient(t, srv)
	problem := func(p api.Problem) string {
		p.Type, p.Title = api.ProblemTypePrefix+"x", http.StatusText(p.Status)
		b, _ := json.Marshal(p)
		return string(b)
	}
	lines := []int{4, 6, 9}
	for _, tc := range []struct {
		status      int
		contentType string
		body        string
		want        string
	}{
		{422, api.MediaTypeProblem, problem(api.Problem{Status: 422, Detail: "2 of 3 responses are invalid; nothing was recorded",
			Errors: []fault.Detail{{Index: 0, Field: "at", Reason: "is in the future"}, {Index: 2, Reason: "must be a JSON object"}, {Index: 7, Field: "id", Reason: "is required"}}}),
			"the server refused lines 4-9: 422 Unprocessable Entity: 2 of 3 responses are invalid; nothing was recorded" +
				"\n  line 4: at: is in the future\n  line 9: must be a JSON object\n  line ?: id: is required"},
		{401, api.MediaTypeProblem, problem(api.Problem{Status: 401, Detail: "a valid ingest token is required"}),
			"the server refused lines 4-9: 401 Unauthorized: a valid ingest token is required\n(check --token or PULSEBOARD_INGEST_TOKENS)"},
		{413, "text/html", "<html>  too big  </html>\n",
			"the server refused lines 4-9: 413 Request Entity Too Large: <html>  too big  </html>\n(pass a smaller --batch)"},
		{404, "text/plain", "", "the server refused lines 4-9: 404 Not Found"},
		// A proxy's JSON with a status of another type still has its detail read.
		{400, "application/json", `{"status":"error","detail":"no such route"}`, "the server refused lines 4-9: 400 Bad Request: no such route"},
		{500, "text/plain", strings.Repeat("x", 400), "the server refused lines 4-9: 500 Internal Server Error: " + strings.Repeat("x", 300) + "…"},
	} {
		mu.Lock()
		status, contentType, body = tc.status, tc.contentType, tc.body
		mu.Unlock()
		_, err := c.post(context.Background(), []byte("{}\n"), nil)
		var refused *client.Error
		if !errors.As(err, &refused) {
			t.Fatalf("%d: %v, want a refusal", tc.status, err)
		}
		if got := refusal("lines 4-9", refused, lines).Error(); got != tc.want {
			t.Errorf("%d:\n%s\nwant\n%s", tc.status, got, tc.want)
		}
	}
}

func TestClientProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound) // any answer will do
	}))
	c, _ := testClient(t, srv)
	if err := c.probe(context.Background()); err != nil {
		t.Fatalf("probe of a server that answers: %v", err)
	}
	srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.server = "http://" + ln.Addr().String()
	ln.Close()
	if err := c.probe(context.Background()); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("probe of nothing: %v", err)
	}
}

// countingTransport is a RoundTripper that is not an *http.Transport, as a
// program's instrumentation (or a test's) may install as
// http.DefaultTransport.
type countingTransport struct {
	base http.RoundTripper
	n    int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return c.base.RoundTrip(r)
}

// A client made without an HTTPClient goes through http.DefaultTransport
// whatever its type: it used to assume an *http.Transport and panicked.
func TestClientOverAnyDefaultTransport(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	t.Cleanup(srv.Close)
	orig := http.DefaultTransport
	ct := &countingTransport{base: orig}
	http.DefaultTransport = ct
	t.Cleanup(func() { http.DefaultTransport = orig })
	c, err := newClient(Options{Server: srv.URL, Token: "tok-0123456789abcdef", Workers: 4, Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.probe(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ct.n != 1 {
		t.Errorf("%d requests went through http.DefaultTransport, want 1", ct.n)
	}
}
