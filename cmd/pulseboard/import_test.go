package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// importRun runs `pulseboard import args...` in-process.
func importRun(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"import"}, args...), func(string) string { return "" }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// importRunStdin runs `pulseboard import args...` in-process with stdin as
// its standard input.
func importRunStdin(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runImport(args, func(string) string { return "" }, stdin, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// distribution returns the 0..10 counts of the one group of an nps query.
func (c client) distribution(query string) [11]int {
	c.t.Helper()
	got := c.nps(query)
	if len(got.Groups) != 1 {
		c.t.Fatalf("GET nps?%s: %d groups, want 1", query, len(got.Groups))
	}
	var d [11]int
	for i, n := range got.Groups[0].Distribution {
		d[i] = int(n)
	}
	return d
}

// csvFixture is a generated CSV file and what a brute-force count of its
// rows says the server should hold.
type csvFixture struct {
	text      string
	rows      int
	byScore   [11]int
	byChannel map[string]int
}

// importFixture writes n rows with a mapped score column ("How likely"),
// aliases for the rest, no id column (ids are derived), times in every
// accepted format in America/New_York, some empty, and quoted comments over
// several lines.
func importFixture(t *testing.T, n int) csvFixture {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	f := csvFixture{byChannel: map[string]int{}}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"How likely", "Source", "Segment", "Team_Name", "agent_name", "Feedback", "Tags", "Created At", "Ticket URL"})
	base := time.Now().Add(-2 * time.Minute)
	formats := []func(time.Time) string{
		func(t time.Time) string { return t.Format(time.RFC3339) },
		func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) },
		func(t time.Time) string { return t.In(ny).Format("2006-01-02 15:04:05") },
		func(t time.Time) string { return t.In(ny).Format("2006-01-02T15:04:05") },
		func(t time.Time) string { return t.In(ny).Format("2006-01-02 15:04") },
		func(t time.Time) string { return t.In(ny).Format("2006-01-02") },
		func(t time.Time) string { return t.In(ny).Format("01/02/2006 15:04") },
		func(t time.Time) string { return t.In(ny).Format("01/02/2006") },
		func(t time.Time) string { return t.In(ny).Format("02.01.2006 15:04") },
		func(t time.Time) string { return fmt.Sprint(t.Unix()) },
		func(time.Time) string { return "" }, // the server's time
	}
	channels := []string{"phone", "email", "chat", "sms"}
	for i := range n {
		score := (i * 7) % 11
		channel := channels[i%len(channels)]
		comment := fmt.Sprintf("answer %d", i)
		if i%5 == 0 {
			comment = fmt.Sprintf("answer %d, over\nseveral \"lines\"\n", i)
		}
		at := formats[i%len(formats)](base.Add(-time.Duration(i) * 7 * time.Minute))
		w.Write([]string{fmt.Sprint(score), channel, "smb", []string{"billing", "sales"}[i%2], "Agent " + fmt.Sprint(i%9),
			comment, "vip;renewal", at, "https://example.com/t/" + fmt.Sprint(i)})
		f.rows++
		f.byScore[score]++
		f.byChannel[channel]++
	}
	w.Flush()
	f.text = b.String()
	return f
}

func TestImportCSV(t *testing.T) {
	m, c := startNow(t)
	fix := importFixture(t, 600)
	path := writeFile(t, "responses.csv", fix.text)
	server := "http://" + m.Addr()
	args := []string{"--server", server, "--token", token, "--map", "score=How likely", "--timezone", "America/New_York", "--batch", "37", path}

	code, out, errOut := importRun(t, args...)
	if code != 0 {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, fmt.Sprintf("rows read:   %d\n", fix.rows)) || !strings.Contains(out, fmt.Sprintf("accepted:    %d\n", fix.rows)) ||
		!strings.Contains(out, "invalid:     0\n") || !strings.HasSuffix(out, fmt.Sprintf("imported %d rows: %d new, 0 updated, 0 already there\n", fix.rows, fix.rows)) {
		t.Fatalf("summary:\n%s", out)
	}
	if !strings.Contains(errOut, `score="How likely"`) || !strings.Contains(errOut, "ids are derived") || !strings.Contains(errOut, "importing") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if got := c.distribution("window=30d"); got != fix.byScore {
		t.Fatalf("distribution %v, brute force %v", got, fix.byScore)
	}
	for ch, n := range fix.byChannel {
		if got, _ := c.overall("window=30d&channel=" + ch); int(got) != n {
			t.Errorf("channel %s: %v responses, brute force %d", ch, got, n)
		}
	}
	if got, _ := c.overall("window=30d&team=billing"); int(got) != fix.rows/2 {
		t.Errorf("team billing: %v responses, want %d", got, fix.rows/2)
	}

	// The same file again: the derived ids make every row a duplicate.
	code, out, errOut = importRun(t, args...)
	if code != 0 || !strings.Contains(out, "accepted:    0\n") || !strings.Contains(out, "updated:     0\n") ||
		!strings.Contains(out, fmt.Sprintf("duplicates:  %d\n", fix.rows)) ||
		!strings.HasSuffix(out, fmt.Sprintf("nothing new: the server already had all %d rows (0 new, 0 updated, %d already there)\n", fix.rows, fix.rows)) {
		t.Fatalf("re-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := c.distribution("window=30d"); got != fix.byScore {
		t.Fatalf("after re-run: distribution %v, brute force %v", got, fix.byScore)
	}
}

// TestImportServerNotRunning: against an address where nothing listens, the
// import fails at once with one line that says so, before reading the file
// or retrying anything (it used to take about 37 s and 20 retry lines).
func TestImportServerNotRunning(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := "http://" + ln.Addr().String()
	ln.Close()
	path := writeFile(t, "r.csv", "id,score,channel\na,9,phone\n")
	t0 := time.Now()
	code, out, errOut := importRun(t, "--server", server, "--token", token, path)
	took := time.Since(t0)
	if code != 1 || took > 3*time.Second || strings.Count(errOut, "\n") != 1 ||
		!strings.Contains(errOut, "no server answers at "+server) || !strings.Contains(errOut, "connection refused") {
		t.Fatalf("exit %d after %s\nstdout:\n%s\nstderr:\n%s", code, took, out, errOut)
	}
}

func TestImportInvalidRow(t *testing.T) {
	m, c := startNow(t)
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	text := "id,nps,channel,comment,answered_at\n" + // 1
		"r1,9,phone,\"two\n" + // 2
		"lines\"," + at + "\n" + // 3
		"r2,10,email,,\n" + // 4
		"r3,11,chat,too high," + at + "\n" + // 5
		"r4,3,chat,,\n" + // 6
		"r5,0,sms,,\n" // 7
	path := writeFile(t, "bad.csv", text)
	server := "http://" + m.Addr()

	code, out, errOut := importRun(t, "--server", server, "--token", token, path)
	if code != 1 || !strings.Contains(out, "line 5: score: must be an integer from 0 to 10") || !strings.Contains(out, "nothing was imported") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n, _ := c.overall("window=30d"); n != 0 {
		t.Fatalf("an invalid file recorded %v responses", n)
	}
	code, out, _ = importRun(t, "--dry-run", path) // no token needed
	if code != 1 || !strings.Contains(out, "line 5: score:") || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}

	code, out, errOut = importRun(t, "--server", server, "--token", token, path, "--skip-invalid")
	if code != 0 || !strings.Contains(out, "accepted:    4\n") || !strings.Contains(out, "invalid:     1\n") ||
		!strings.Contains(out, "line 5: score: must be an integer from 0 to 10") {
		t.Fatalf("--skip-invalid: exit %d\n%s\n%s", code, out, errOut)
	}
	want := [11]int{0: 1, 3: 1, 9: 1, 10: 1}
	if got := c.distribution("window=30d"); got != want {
		t.Fatalf("distribution %v, want %v", got, want)
	}
}

// TestImportSameIDInFileOrder: rows of one id in separate batches reach the
// server in file order, whatever the concurrency, so the last one wins.
func TestImportSameIDInFileOrder(t *testing.T) {
	m, c := startNow(t)
	var b strings.Builder
	b.WriteString("id,score,channel\n")
	for round := range 5 {
		for i := range 40 {
			fmt.Fprintf(&b, "id-%d,%d,phone\n", i, round*2) // final round: 8
		}
	}
	code, out, errOut := importRun(t, "--server", "http://"+m.Addr(), "--token", token, "--batch", "3", writeFile(t, "ids.csv", b.String()))
	if code != 0 || !strings.Contains(out, "accepted:    40\n") || !strings.Contains(out, "updated:     160\n") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := c.distribution("window=1h"); got != [11]int{8: 40} {
		t.Fatalf("distribution %v, want 40 eights", got)
	}
}

// TestImportVersions: a version column reaches the server, an older row
// after a newer one of the same id is stale, and the import counts it as
// acknowledged (not as a row the server lost).
func TestImportVersions(t *testing.T) {
	m, c := startNow(t)
	text := "id,score,channel,version\nv-1,9,phone,2\nv-1,3,phone,1\nv-2,7,phone,\n"
	code, out, errOut := importRun(t, "--server", "http://"+m.Addr(), "--token", token, "--batch", "1", writeFile(t, "v.csv", text))
	if code != 0 || !strings.Contains(out, "accepted:    2\n") || !strings.Contains(out, "stale:       1\n") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := c.distribution("window=1h"); got != [11]int{7: 1, 9: 1} {
		t.Fatalf("distribution %v, want the 9 of version 2 and the 7", got)
	}
}

// TestImportRetries uses a stand-in server: 503 and dropped connections are
// retried, a 422 names the file lines, a 401 stops.
func TestImportRetries(t *testing.T) {
	var calls, failures atomic.Int32
	var mode atomic.Value
	mode.Store("flaky")
	var bodies atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"status":401,"detail":"a valid ingest token is required"}`)
			return
		}
		if r.URL.Path != "/api/v1/responses" || r.Header.Get("Content-Type") != "application/x-ndjson" {
			http.Error(w, "bad request "+r.URL.Path, 400)
			return
		}
		body, _ := io.ReadAll(r.Body)
		n := bytes.Count(body, []byte("\n"))
		switch mode.Load() {
		case "flaky":
			switch failures.Add(1) {
			case 1:
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(503)
				return
			case 2:
				// Drop the connection without an answer.
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return
			}
		case "invalid":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(422)
			fmt.Fprint(w, `{"status":422,"detail":"1 of 2 responses are invalid; nothing was recorded","errors":[{"index":0,"field":"at","reason":"is in the future"}]}`)
			return
		}
		bodies.Add(int32(n))
		w.WriteHeader(202)
		fmt.Fprintf(w, `{"accepted":%d,"updated":0,"duplicates":0}`, n)
	}))
	defer srv.Close()

	text := "id,score,channel,comment\na,1,phone,\"x\ny\"\nb,2,phone,\nc,3,phone,\n"
	path := writeFile(t, "r.csv", text)
	code, out, errOut := importRun(t, "--server", srv.URL+"/", "--token", token, "--batch", "2", path)
	if code != 0 || !strings.Contains(out, "accepted:    3\n") || bodies.Load() != 3 || !strings.Contains(errOut, "503 Service Unavailable; retrying") {
		t.Fatalf("flaky: exit %d, %d rows received\n%s\n%s", code, bodies.Load(), out, errOut)
	}

	mode.Store("invalid")
	// "-" reads standard input, via a temporary file.
	code, out, errOut = importRunStdin(t, strings.NewReader(text), "--server", srv.URL, "--token", token, "--batch", "10", "-")
	if code != 1 || !strings.Contains(errOut, "422 Unprocessable Entity: 1 of 2 responses are invalid") {
		t.Fatalf("422: exit %d\n%s\n%s", code, out, errOut)
	}
	// Index 0 of whichever batch was refused is named by its file line.
	if !regexp.MustCompile(`\n  line [245]: at: is in the future`).MatchString(errOut) {
		t.Fatalf("422 lines:\n%s", errOut)
	}

	code, _, errOut = importRun(t, "--server", srv.URL, "--token", "wrong-token-0123456789", path)
	if code != 1 || !strings.Contains(errOut, "401 Unauthorized: a valid ingest token is required") || !strings.Contains(errOut, "--token") {
		t.Fatalf("401: exit %d\n%s", code, errOut)
	}
}

func TestImportUsage(t *testing.T) {
	good := writeFile(t, "ok.csv", "score,channel\n5,phone\n")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--token", token}, 2, "want exactly one FILE.csv"},
		{[]string{"--token", token, good, good}, 2, "want exactly one FILE.csv"},
		{[]string{good}, 2, "no ingest token"},
		{[]string{"--token", token, "--batch", "10001", good}, 2, "--batch 10001"},
		{[]string{"--token", token, "--timezone", "Mars/Olympus", good}, 2, "unknown time zone"},
		{[]string{"--token", token, "--server", "localhost:8080", good}, 2, "--server"},
		{[]string{"--token", token, "--map", "colour=x", good}, 2, `unknown field "colour"`},
		{[]string{"--token", token, "--dimensions", "colour", "--map", "colour=x,region=y", good}, 2, `unknown field "region"`},
		{[]string{"--token", token, "--dimensions", "team", good}, 2, `--dimensions: dimension "team" is built in`},
		{[]string{"--token", token, "--nope", good}, 2, "flag provided but not defined"},
		{[]string{"--token", token, "--kind", "surveys", good}, 2, `--kind "surveys": must be responses or offers`},
		{[]string{"--token", token, "--kind", "offers", "--map", "score=x", good}, 2, `unknown field "score"`},
		{[]string{"--kind", "offers", "--dry-run", writeFile(t, "offers.csv", "id,where\ncall-1,phone\n")}, 1, "--map channel=COLUMN"},
		{[]string{"--token", token, filepath.Join(t.TempDir(), "missing.csv")}, 1, "no such file"},
		{[]string{"--dry-run", writeFile(t, "nochannel.csv", "score,where\n5,phone\n")}, 1, "--map channel=COLUMN"},
	} {
		code, out, errOut := importRun(t, tc.args...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("import %q: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
	code, out, _ := importRun(t, "--help")
	if code != 0 || !strings.Contains(out, "usage: pulseboard import") || !strings.Contains(out, "-skip-invalid") {
		t.Fatalf("--help: exit %d\n%s", code, out)
	}
	// Flags after FILE; a valid dry run exits 0 without a server.
	code, out, _ = importRun(t, good, "--dry-run")
	if code != 0 || !strings.Contains(out, "dry run: 1 rows are valid") {
		t.Fatalf("dry run: exit %d\n%s", code, out)
	}
	// The token comes from the server's own setting when not given.
	var stdout, stderr bytes.Buffer
	env := func(k string) string {
		return map[string]string{"PULSEBOARD_INGEST_TOKENS": " , " + token + ",other-token-0123456789"}[k]
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(401)
			return
		}
		w.WriteHeader(202)
		fmt.Fprint(w, `{"accepted":1,"updated":0,"duplicates":0}`)
	}))
	defer srv.Close()
	if code := run([]string{"import", "--server", srv.URL, good}, env, &stdout, &stderr); code != 0 {
		t.Fatalf("token from env: exit %d\n%s\n%s", code, stdout.String(), stderr.String())
	}
}
