package main

import (
	"bufio"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/live"
)

// stream is a board's event stream (GET /boards/NAME/events) read as a
// third-party client would, with the board's state applied.
type stream struct {
	t      *testing.T
	res    *http.Response
	events chan sseEvent
}

type sseEvent struct {
	id, typ, data string
	err           error
}

// openStream opens a board's event stream with the headers given (name,
// value pairs) through client hc (nil: the default client); the status
// is the caller's to check.
func openStream(t *testing.T, hc *http.Client, url string, header ...string) *stream {
	t.Helper()
	if hc == nil {
		hc = http.DefaultClient
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	t.Cleanup(func() { res.Body.Close() })
	s := &stream{t: t, res: res, events: make(chan sseEvent, 256)}
	go func() {
		br := bufio.NewReader(res.Body)
		var e sseEvent
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				s.events <- sseEvent{err: err}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch {
			case line == "":
				if e.data != "" {
					s.events <- e
				}
				e = sseEvent{}
			case field == "id":
				e.id = value
			case field == "event":
				e.typ = value
			case field == "data":
				e.data += value
			}
		}
	}()
	return s
}

// next returns the next event with data within timeout.
func (s *stream) next(timeout time.Duration) sseEvent {
	s.t.Helper()
	select {
	case e := <-s.events:
		if e.err != nil {
			s.t.Fatalf("the stream ended: %v", e.err)
		}
		return e
	case <-time.After(timeout):
		s.t.Fatalf("no event within %s", timeout)
	}
	return sseEvent{}
}

// message is the next event as a protocol message.
func (s *stream) message(timeout time.Duration) live.Envelope {
	s.t.Helper()
	e := s.next(timeout)
	var env live.Envelope
	if err := json.Unmarshal([]byte(e.data), &env); err != nil || e.typ != "" {
		s.t.Fatalf("event %+v: want a message (%v)", e, err)
	}
	return env
}

// TestEventStreamFollowsIngest: a screen on the SSE fallback gets the
// board's snapshot, then the update an answer makes, as a socket would,
// and /metrics counts it among the board's screens and as a stream.
func TestEventStreamFollowsIngest(t *testing.T) {
	m, c := startNow(t)
	s := openStream(t, nil, "http://"+m.Addr()+"/boards/floor/events")
	if s.res.StatusCode != 200 || s.res.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" ||
		s.res.Header.Get("X-Accel-Buffering") != "no" || s.res.Header.Get("Content-Encoding") != "" {
		t.Fatalf("GET /boards/floor/events: %d %v", s.res.StatusCode, s.res.Header)
	}
	snap := s.message(3 * time.Second)
	if snap.Type != live.TypeSnapshot || snap.Board != "floor" {
		t.Fatalf("first message %q of %q", snap.Type, snap.Board)
	}
	postOne(t, c, "sse-1", 10, "billing")
	for {
		e := s.message(3 * time.Second)
		if e.Type == live.TypeUpdate {
			if e.Epoch != snap.Epoch || e.Seq != snap.Seq+1 {
				t.Fatalf("update %s/%d after snapshot %s/%d", e.Epoch, e.Seq, snap.Epoch, snap.Seq)
			}
			break
		}
	}
	met := c.get("/metrics").raw
	for _, want := range []string{`pulseboard_ws_clients{board="floor"} 1`, "pulseboard_sse_clients 1"} {
		if !strings.Contains(met, want) {
			t.Errorf("/metrics lacks %q: %s", want, grepLines(met, "clients"))
		}
	}
}

// TestEventStreamAccess: the stream follows the socket's rules. A private
// board's stream ends at once with the close event 4003 for a stranger,
// and opens for a paired screen (its cookie) or an admin token; a private
// template's board is refused with 401 before any stream; and
// /boards/TEMPLATE/events is a page, the template's board for the value
// "events", as /boards/TEMPLATE/live is.
func TestEventStreamAccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "boards.yaml")
	privateBoards(t, path, true)
	m, _ := startNow(t, "--boards", path, "--public-boards=false", "--admin-tokens", adminToken)
	base := "http://" + m.Addr()

	stranger := openStream(t, nil, base+"/boards/wall/events")
	if e := stranger.next(3 * time.Second); stranger.res.StatusCode != 200 || e.typ != "close" || e.data != `{"code":4003,"reason":"not paired"}` {
		t.Fatalf("a stranger's stream: %d, event %+v; want the close event 4003", stranger.res.StatusCode, e)
	}

	tv := newTVBrowser(t, base)
	if res, _ := tv.get("/boards/wall?token=" + lobbyToken); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("pairing: %d", res.StatusCode)
	}
	paired := openStream(t, tv.http, base+"/boards/wall/events")
	if e := paired.message(3 * time.Second); e.Type != live.TypeSnapshot {
		t.Fatalf("the paired screen's first message %q", e.Type)
	}
	admin := openStream(t, nil, base+"/boards/wall/events", "Authorization", "Bearer "+adminToken)
	if e := admin.message(3 * time.Second); e.Type != live.TypeSnapshot {
		t.Fatalf("the admin's first message %q", e.Type)
	}
	if public := openStream(t, nil, base+"/boards/open/events"); public.message(3*time.Second).Type != live.TypeSnapshot {
		t.Fatal("a public board's stream did not start with a snapshot")
	}

	m2, _ := startNow(t, "--public-boards=false", "--admin-tokens", adminToken)
	base2 := "http://" + m2.Addr()
	if s := openStream(t, nil, base2+"/boards/team/billing/events"); s.res.StatusCode != http.StatusUnauthorized ||
		!strings.HasPrefix(s.res.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("a private template's board: %d %s, want a 401 problem", s.res.StatusCode, s.res.Header.Get("Content-Type"))
	}
	if s := openStream(t, nil, base2+"/boards/team/events", "Authorization", "Bearer "+adminToken); strings.HasPrefix(s.res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatal("/boards/team/events is the page of the template's board for the value \"events\", not a stream")
	}
}

// TestEventStreamEndsOnShutdown: on Close a stream gets the close event
// 1001 at once, so the HTTP drain does not wait for it to the timeout.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	m, _ := startNow(t)
	s := openStream(t, nil, "http://"+m.Addr()+"/boards/floor/events")
	s.message(3 * time.Second)
	began := time.Now()
	done := make(chan error, 1)
	go func() { done <- m.Close(t.Context()) }()
	if e := s.next(3 * time.Second); e.typ != "close" || !strings.Contains(e.data, `"code":1001`) {
		t.Fatalf("event %+v, want the close event 1001", e)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("shutdown took %s with a stream open", took)
	}
}
