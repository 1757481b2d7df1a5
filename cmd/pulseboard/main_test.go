package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/config"
	"github.com/pulseboard/pulseboard/internal/openapi/openapitest"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	pbclient "github.com/pulseboard/pulseboard/pkg/client"
)

// TestMain stops the shared Redis servers after the run, and checks every
// response the tests read from a server against docs/openapi.json
// (openapitest; with -v it lists the (route, status) pairs it checked).
func TestMain(m *testing.M) { os.Exit(openapitest.Main(m, redistest.Run)) }

const token = "test-ingest-token-0123"

// startNow starts the real program like start, with its clock at the real
// time (the importer validates rows against the real clock), and a client of
// its API.
func startNow(t *testing.T, args ...string) (*Main, client) {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock, args...)
	return m, client{t: t, base: "http://" + m.Addr()}
}

// start boots the real program on a free port with an injected clock.
func start(t *testing.T, clock *storetest.Clock, args ...string) *Main {
	t.Helper()
	m, err := tryStart(t, clock, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return m
}

// tryStart boots the program and stops it when the test ends.
func tryStart(t *testing.T, clock *storetest.Clock, args ...string) (*Main, error) {
	t.Helper()
	// Boards are open, as with `make run`; access tests turn it off.
	args = append([]string{"--ingest-tokens", token, "--timezone", "America/New_York", "--config", "", "--public-boards"}, args...)
	cfg, err := config.Load(args, func(string) string { return "" })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	m := NewMain(cfg, testLogger(t))
	m.Now = clock.Now
	if err := m.Run(context.Background()); err != nil {
		m.Close(context.Background())
		return nil, err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return m, nil
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// testLogger sends the program's warnings and errors to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type client struct {
	t    *testing.T
	base string
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (c client) do(method, path, contentType, auth string, body io.Reader) reply {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth != "" {
		req.Header.Set("Authorization", "Bearer "+auth)
	}
	return c.send(req)
}

// send makes a request and reads its reply, JSON or not.
func (c client) send(req *http.Request) reply {
	c.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	r := reply{status: res.StatusCode, header: res.Header, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (c client) post(body, contentType string) reply {
	return c.do("POST", "/api/v1/responses", contentType, token, strings.NewReader(body))
}

func (c client) get(path string) reply { return c.do("GET", path, "", "", nil) }

// api is the Go client of the server's API (pkg/client), with token,
// without retries: a test sees what the server answered.
func (c client) api(token string) *pbclient.Client {
	c.t.Helper()
	api, err := pbclient.New(c.base, pbclient.WithToken(token), pbclient.WithRetry(pbclient.Retry{Attempts: 1}))
	if err != nil {
		c.t.Fatal(err)
	}
	return api
}

// nps asks GET /api/v1/nps?query (window, from, to, by and filters, as in
// a URL) through the Go client, and fails the test unless it answers.
func (c client) nps(query string) pbclient.NPS {
	c.t.Helper()
	vals, err := url.ParseQuery(query)
	if err != nil {
		c.t.Fatal(err)
	}
	q := pbclient.NPSQuery{Window: vals.Get("window"), Filters: map[string]string{}}
	for key := range vals {
		switch key {
		case "window":
		case "from", "to":
			at, err := time.Parse(time.RFC3339, vals.Get(key))
			if err != nil {
				c.t.Fatalf("%s: %v", key, err)
			}
			if key == "from" {
				q.From = at
			} else {
				q.To = at
			}
		case "by":
			q.By = strings.Split(vals.Get(key), ",")
		default:
			q.Filters[key] = vals.Get(key)
		}
	}
	got, err := c.api("").NPS(context.Background(), q)
	if err != nil {
		c.t.Fatalf("GET nps?%s: %v", query, err)
	}
	return got
}

// overall returns the responses and NPS (nil without responses) of the
// one group of an nps query.
func (c client) overall(query string) (float64, any) {
	c.t.Helper()
	got := c.nps(query)
	if len(got.Groups) != 1 {
		c.t.Fatalf("GET nps?%s: %d groups, want 1", query, len(got.Groups))
	}
	g := got.Groups[0]
	if g.NPS == nil {
		return float64(g.Responses), nil
	}
	return float64(g.Responses), *g.NPS
}

// record sends responses through the Go client with the ingest token, and
// fails the test unless the server recorded them.
func (c client) record(rs ...pbclient.Response) pbclient.Recorded {
	c.t.Helper()
	rec, err := c.api(token).SendResponses(context.Background(), pbclient.JSON, rs)
	if err != nil {
		c.t.Fatalf("record: %v", err)
	}
	return rec
}

func engines(t *testing.T) map[string][]string {
	return map[string][]string{
		"memory": nil,
		"redis":  {"--redis-url", redistest.URL(t), "--tenant", redistest.Namespace(t)},
	}
}

// TestIngestAndQuery exercises the HTTP contract end to end on both engines.
func TestIngestAndQuery(t *testing.T) {
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			clock := &storetest.Clock{}
			clock.Set(storetest.Start)
			m := start(t, clock, args...)
			c := client{t: t, base: "http://" + m.Addr()}
			at := storetest.Start.Add(-5 * time.Minute).Format(time.RFC3339)

			// 75 promoters, 20 passives, 5 detractors: NPS 70.
			var nd strings.Builder
			for i := range 100 {
				score := 10
				if i >= 75 {
					score = 8
				}
				if i >= 95 {
					score = 2
				}
				fmt.Fprintf(&nd, `{"id":"r%d","score":%d,"channel":"phone","team":"alpha","at":%q}`+"\n", i, score, at)
			}
			r := c.post(nd.String(), "application/x-ndjson")
			if r.status != 202 || r.body["accepted"] != 100.0 {
				t.Fatalf("ndjson: %d %s", r.status, r.raw)
			}
			if n, score := c.overall("window=15m"); n != 100 || score != 70.0 {
				t.Fatalf("overall = %v responses, NPS %v; want 100, 70", n, score)
			}
			// A duplicate, a change (detractor becomes promoter), a new one.
			r = c.post(fmt.Sprintf(`[{"id":"r0","score":10,"channel":"phone","team":"alpha","at":%q},
				{"id":"r99","score":9,"channel":"phone","team":"alpha","at":%q},
				{"id":"e1","score":0,"channel":"email","team":"beta"}]`, at, at), "application/json")
			if r.status != 202 || r.body["accepted"] != 1.0 || r.body["updated"] != 1.0 || r.body["duplicates"] != 1.0 {
				t.Fatalf("upserts: %d %s", r.status, r.raw)
			}
			if n, score := c.overall("window=1h&channel=phone"); n != 100 || score != 72.0 {
				t.Fatalf("phone = %v, %v; want 100, 72", n, score)
			}
			// A range over those minutes answers the same, and its CSV
			// carries the same numbers and the span it covers.
			from := storetest.Start.Add(-10 * time.Minute).Truncate(time.Minute)
			if n, score := c.overall("from=" + from.Format(time.RFC3339) + "&channel=phone"); n != 100 || score != 72.0 {
				t.Fatalf("range: %v, %v; want 100, 72", n, score)
			}
			csv := c.get("/api/v1/nps?format=csv&by=channel&from=" + url.QueryEscape(from.In(time.FixedZone("", -5*3600)).Format(time.RFC3339)))
			wantRow := "phone,72,"
			if csv.status != 200 || !strings.Contains(csv.raw, "\n"+wantRow) || !strings.Contains(csv.raw, ",100,76,20,4,") ||
				!strings.Contains(csv.raw, from.UTC().Format(time.RFC3339)) {
				t.Fatalf("CSV range: %d %s", csv.status, csv.raw)
			}
			r = c.get("/api/v1/nps?window=today&by=team,channel")
			groups := r.body["groups"].([]any)
			if r.status != 200 || len(groups) != 2 {
				t.Fatalf("by team,channel: %d %s", r.status, r.raw)
			}
			beta := groups[1].(map[string]any)
			if key := beta["key"].(map[string]any); key["team"] != "beta" || key["channel"] != "email" || beta["nps"] != -100.0 || beta["low_sample"] != true {
				t.Fatalf("beta group: %v", beta)
			}
			if d := beta["distribution"].([]any); len(d) != 11 || d[0] != 1.0 {
				t.Fatalf("distribution %v", d)
			}

			// Bad input: nothing is recorded.
			r = c.post(`[{"id":"ok","score":5,"channel":"chat"},{"id":"bad","score":11,"channel":"chat"}]`, "application/json")
			if r.status != 422 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("invalid batch: %d %s", r.status, r.raw)
			}
			errs := r.body["errors"].([]any)
			if len(errs) != 1 || errs[0].(map[string]any)["index"] != 1.0 || errs[0].(map[string]any)["field"] != "score" {
				t.Fatalf("problem details: %s", r.raw)
			}
			if n, _ := c.overall("window=1h&channel=chat"); n != 0 {
				t.Fatalf("a rejected batch recorded %v responses", n)
			}
			if r := c.do("POST", "/api/v1/responses", "application/json", "", strings.NewReader(`{}`)); r.status != 401 || r.header.Get("WWW-Authenticate") == "" {
				t.Fatalf("no token: %d", r.status)
			}
			if r := c.do("POST", "/api/v1/responses", "application/json", "wrong-token-0123456789", strings.NewReader(`{}`)); r.status != 401 {
				t.Fatalf("wrong token: %d", r.status)
			}
			big := `[` + strings.Repeat(`{"id":"x","score":1,"channel":"sms"},`, 10_000) + `{"id":"y","score":1,"channel":"sms"}]`
			if r := c.post(big, "application/json"); r.status != 413 {
				t.Fatalf("10,001 items: %d %s", r.status, r.raw)
			}
			huge := `{"id":"x","score":1,"channel":"sms","comment":"` + strings.Repeat("a", 9<<20) + `"}`
			if r := c.post(huge, "application/json"); r.status != 413 {
				t.Fatalf("9 MiB body: %d", r.status)
			}
			if r := c.post(`id=1`, "text/plain"); r.status != 415 {
				t.Fatalf("text/plain: %d", r.status)
			}
			for _, q := range []string{"window=3h", "by=colour", "teams=alpha", "by=segment&agent=ann", "from=2026-11-23T15:00:30Z", "window=1h&from=2026-11-23T15:00:00Z"} {
				if r := c.get("/api/v1/nps?" + q); r.status != 400 || r.body["detail"] == nil {
					t.Errorf("nps?%s: %d %s", q, r.status, r.raw)
				}
			}
			// The index page's overview paints the API's numbers at once.
			_, hour := c.overall("window=1h")
			page := c.get("/")
			want := `data-fmt="score">` + board.FormatScore(hour.(float64)) + `<`
			if page.status != 200 || !strings.Contains(page.raw, `data-testid="tile-nps-1h"`) || !strings.Contains(page.raw, want) {
				t.Errorf("index page lacks %s:\n%s", want, page.raw)
			}
			csp := page.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'self'") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("index page CSP %q", csp)
			}
			if r := c.get("/healthz"); r.status != 200 {
				t.Errorf("healthz %d", r.status)
			}
			if r := c.get("/readyz"); r.status != 200 {
				t.Errorf("readyz %d", r.status)
			}
			if r := c.get("/nope"); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("unknown route: %d %s", r.status, r.raw)
			}
		})
	}
}

// TestRedisOutage kills Redis under a running server: ingest answers 503
// with Retry-After and /readyz fails; when Redis returns, both recover
// without a restart.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Private(t)
	_, c := startNow(t, "--redis-url", srv.URL)
	body := `{"id":"o1","score":9,"channel":"phone"}`
	if r := c.post(body, "application/json"); r.status != 202 {
		t.Fatalf("before outage: %d %s", r.status, r.raw)
	}
	srv.Kill()
	r := c.post(`{"id":"o2","score":9,"channel":"phone"}`, "application/json")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Fatalf("during outage: %d %s (Retry-After %q)", r.status, r.raw, r.header.Get("Retry-After"))
	}
	if r := c.get("/readyz"); r.status != 503 {
		t.Fatalf("readyz during outage: %d", r.status)
	}
	// The failed commands show in the metrics, by command.
	if r := c.get("/metrics"); !regexp.MustCompile(`pulseboard_redis_errors_total\{command="[a-z]+"\} [1-9]`).MatchString(r.raw) {
		t.Errorf("no Redis errors counted during the outage:\n%s", grepLines(r.raw, "pulseboard_redis"))
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The restarted Redis is empty (no persistence here): o2 is new again.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c.post(`{"id":"o2","score":9,"channel":"phone"}`, "application/json")
		if r.status == 202 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingest did not recover: %d %s", r.status, r.raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := c.get("/readyz"); r.status != 200 {
		t.Fatalf("readyz after recovery: %d", r.status)
	}
}

func TestBadConfigIsOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"--timezone", "Mars/Olympus", "--config", ""}, func(string) string { return "" }, &stdout, &stderr)
	if code != 2 || strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 || !strings.Contains(stderr.String(), "timezone") {
		t.Fatalf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"--help"}, func(string) string { return "" }, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "PULSEBOARD_REDIS_URL") {
		t.Fatalf("--help: exit %d, %q", code, stdout.String())
	}
}

// buildOnce builds the real binary once per test run.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "pulseboard-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "pulseboard")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is the real binary running as its own process.
type process struct {
	cmd  *exec.Cmd
	addr string
	logs *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startProcess runs the binary on a free port and waits for it to serve.
func startProcess(t *testing.T, env []string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"--addr", "127.0.0.1:0", "--config", "", "--public-boards"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, logs: &syncBuffer{}}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("logs of %s:\n%s", p.addr, p.logs.String())
		}
	})
	served := regexp.MustCompile(`msg=serving addr=(\S+)`)
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		p.logs.Write([]byte(sc.Text() + "\n"))
		if m := served.FindStringSubmatch(sc.Text()); m != nil {
			p.addr = m[1]
			break
		}
	}
	if p.addr == "" {
		t.Fatalf("server did not log its address:\n%s", p.logs.String())
	}
	go io.Copy(p.logs, stderr)
	return p
}

// TestSIGTERM starts the real binary with demo traffic and checks that
// SIGTERM makes it exit 0 well within 10 s.
func TestSIGTERM(t *testing.T) {
	p := startProcess(t, []string{"PULSEBOARD_INGEST_TOKENS=" + token}, "--demo")
	c := client{t: t, base: "http://" + p.addr}
	// Demo traffic makes numbers appear.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := c.overall("window=30d"); n > 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("demo history did not appear within 5 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	_, port, _ := strings.Cut(p.addr, ":")
	hc := exec.Command(binary(t), "healthcheck", "--config", "")
	hc.Env = append(os.Environ(), "PULSEBOARD_ADDR=:"+port)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck against a live server: %v %s", err, out)
	}
	s := watch(t, p.addr, "floor")
	began := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
	for {
		if _, err := s.next(2 * time.Second); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseGoingAway) {
				t.Errorf("screen after SIGTERM: %v, want close 1001", err)
			}
			break
		}
	}
	hc = exec.Command(binary(t), "healthcheck", "--config", "")
	hc.Env = append(os.Environ(), "PULSEBOARD_ADDR=:"+port)
	if err := hc.Run(); err == nil {
		t.Fatal("healthcheck passed with the server stopped")
	}
}

// grepLines keeps the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
