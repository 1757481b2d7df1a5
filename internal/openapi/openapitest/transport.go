package openapitest

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
)

// Transport checks every response of a Pulseboard server that passes
// through it against the document, and records the (route, status) pairs
// and the failures in its Log. The body is checked when the caller reads
// it to its end; a body closed before (a stream, a response the test did
// not read) gets the status and media type checked only.
type Transport struct {
	Base      http.RoundTripper
	Validator *Validator
	Log       *Log
}

// fromPulseboard tells a Pulseboard server's response from any other a
// test's client receives (an alert receiver's, say): every response of the
// server carries a request id and its Content-Security-Policy
// (httpapi/middleware.go).
func fromPulseboard(res *http.Response) bool {
	return res.Header.Get("X-Request-Id") != "" &&
		strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "default-src 'none'; script-src 'self'")
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.Base.RoundTrip(req)
	if err != nil || !fromPulseboard(res) {
		return res, err
	}
	c := &checkedBody{ReadCloser: res.Body, t: t, method: req.Method, path: req.URL.EscapedPath(),
		status: res.StatusCode, contentType: res.Header.Get("Content-Type")}
	if req.Method == http.MethodHead || res.StatusCode == http.StatusSwitchingProtocols {
		c.finish(false)
		return res, nil
	}
	res.Body = c
	return res, nil
}

// maxChecked bounds what a body's check keeps in memory; longer bodies
// (a CSV of many groups, a profile) get the status and type checked only.
const maxChecked = 8 << 20

type checkedBody struct {
	io.ReadCloser
	t                         *Transport
	method, path, contentType string
	status                    int
	buf                       bytes.Buffer
	over                      bool
	once                      sync.Once
}

func (c *checkedBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if !c.over {
		if c.buf.Len()+n > maxChecked {
			c.over = true
		} else {
			c.buf.Write(p[:n])
		}
	}
	if err == io.EOF {
		c.finish(!c.over)
	}
	return n, err
}

func (c *checkedBody) Close() error {
	c.finish(false)
	return c.ReadCloser.Close()
}

func (c *checkedBody) finish(read bool) {
	c.once.Do(func() {
		var body []byte
		if read {
			body = c.buf.Bytes()
			if body == nil {
				body = []byte{}
			}
		}
		r, err := c.t.Validator.Check(c.method, c.path, c.status, c.contentType, body)
		c.t.Log.add(r, read, err)
	})
}

// Log gathers what a run checked.
type Log struct {
	mu       sync.Mutex
	seen     map[string]int // "METHOD route status" → responses with a checked body
	headers  map[string]int // the same, status and type only
	failures []string
}

func (l *Log) add(r Result, body bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen, l.headers = map[string]int{}, map[string]int{}
	}
	if err != nil {
		l.failures = append(l.failures, err.Error())
		return
	}
	if r.Route == "" || !r.Documented {
		return
	}
	k := fmt.Sprintf("%s %s %d", r.Method, r.Route, r.Status)
	if body {
		l.seen[k]++
	} else {
		l.headers[k]++
	}
}

// Failures lists the responses that did not match the document.
func (l *Log) Failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.failures...)
}

// Validated lists "METHOD route status" of every response whose body was
// checked, sorted.
func (l *Log) Validated() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.seen))
	for k := range l.seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Report is the run's coverage: each validated (route, status) pair with
// how many responses, and the pairs checked by status and type only.
func (l *Log) Report() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	b.WriteString("OpenAPI: responses validated against docs/openapi.json, by route and status:\n")
	for _, k := range sortedKeys(l.seen) {
		fmt.Fprintf(&b, "  %-60s %5d\n", k, l.seen[k])
	}
	var only []string
	for _, k := range sortedKeys(l.headers) {
		if l.seen[k] == 0 {
			only = append(only, k)
		}
	}
	if len(only) > 0 {
		b.WriteString("status and media type only (body not read to its end):\n")
		for _, k := range only {
			fmt.Fprintf(&b, "  %-60s %5d\n", k, l.headers[k])
		}
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Checked is the run's log, which Main fills.
var Checked = &Log{}

// validator is the run's, made by Main.
var validator *Validator

// Wrap makes a client's own transport (an httptest.Server's Client(), say)
// check what it carries too, into Checked. Before Main ran it returns rt
// unchanged.
func Wrap(rt http.RoundTripper) http.RoundTripper {
	if validator == nil {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	if _, done := rt.(*Transport); done {
		return rt
	}
	return &Transport{Base: rt, Validator: validator, Log: Checked}
}

// Main installs the checking transport as http.DefaultTransport (and so
// http.DefaultClient's, and every client's without a Transport of its
// own), runs the tests with run (m.Run, or a wrapper of it), then fails the
// run on any response that did not match the document. With -v, or when
// PULSEBOARD_OPENAPI_REPORT is set, it prints the coverage report. Use it
// from TestMain: os.Exit(openapitest.Main(m, nil)).
func Main(m *testing.M, run func(*testing.M) int) int {
	v, err := New()
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapitest:", err)
		return 1
	}
	validator = v
	http.DefaultTransport = &Transport{Base: http.DefaultTransport, Validator: v, Log: Checked}
	if run == nil {
		run = func(m *testing.M) int { return m.Run() }
	}
	code := run(m)
	if f := Checked.Failures(); len(f) > 0 {
		fmt.Fprintf(os.Stderr, "openapitest: %d responses do not match docs/openapi.json:\n  %s\n", len(f), strings.Join(f, "\n  "))
		code = 1
	}
	if testing.Verbose() || os.Getenv("PULSEBOARD_OPENAPI_REPORT") != "" {
		fmt.Print(Checked.Report())
	}
	return code
}

// FullRun reports whether the run is the whole package's (no -run filter),
// so a coverage check may expect every test to have run.
func FullRun() bool {
	f := flag.Lookup("test.run")
	return f == nil || f.Value.String() == ""
}

// CloseIdleConnections passes http.Client.CloseIdleConnections on to the
// wrapped transport.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if c, ok := t.Base.(closeIdler); ok {
		c.CloseIdleConnections()
	}
}
