package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/views"
)

// event is one Server-Sent Event as a client parses it, or a comment line
// (comment set, the rest empty).
type event struct {
	id, typ, data, retry, comment string
	err                           error
}

// readEvents parses a stream's events and comments as they come, until it
// ends (the last item carries the error).
func readEvents(body io.Reader) <-chan event {
	out := make(chan event, 1024)
	go func() {
		br := bufio.NewReader(body)
		var e event
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				out <- event{err: err}
				return
			}
			line = strings.TrimSuffix(line, "\n")
			switch {
			case line == "":
				if e != (event{}) {
					out <- e
				}
				e = event{}
			case strings.HasPrefix(line, ":"):
				out <- event{comment: strings.TrimSpace(line[1:])}
			default:
				field, value, _ := strings.Cut(line, ":")
				value = strings.TrimPrefix(value, " ")
				switch field {
				case "id":
					e.id = value
				case "event":
					e.typ = value
				case "data":
					e.data += value
				case "retry":
					e.retry = value
				}
			}
		}
	}()
	return out
}

// nextEvent returns the next event that carries data (a message or a
// close), skipping the retry field and comments.
func nextEvent(t *testing.T, got <-chan event, timeout time.Duration) event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-got:
			if e.err != nil {
				t.Fatalf("the stream ended: %v", e.err)
			}
			if e.data != "" {
				return e
			}
		case <-deadline:
			t.Fatalf("no event within %s", timeout)
		}
	}
}

func envelopeOfEvent(t *testing.T, e event) Envelope {
	t.Helper()
	var env Envelope
	if err := json.Unmarshal([]byte(e.data), &env); err != nil {
		t.Fatalf("event data %q: %v", e.data, err)
	}
	return env
}

// bothServer serves the floor board's socket at / and its event stream at
// /events, with may (nil: anyone), from bc; configure (nil: nothing)
// adjusts the server before it starts.
func bothServer(t *testing.T, bc *Broadcaster, may Access, configure func(*http.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/events") {
			_ = bc.ServeEvents(w, r, "floor", may)
			return
		}
		_ = bc.Serve(w, r, "floor", may)
	}))
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(bc.Close) // first: it ends the streams the server's Close waits for
	return srv
}

// openEvents opens a stream with the headers given (name, value pairs) and
// checks its response's headers.
func openEvents(t *testing.T, url string, header ...string) (*http.Response, <-chan event) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", res.StatusCode)
	}
	for h, want := range map[string]string{"Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no", "Content-Encoding": ""} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "no-cache") {
		t.Errorf("Cache-Control %q: a cache would hold the stream", cc)
	}
	return res, readEvents(res.Body)
}

func eventsFixture(t *testing.T, o Options, may Access, configure func(*http.Server)) (*Broadcaster, *httptest.Server, *storetest.Clock) {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	bc := floorBroadcaster(t, clock, o)
	return bc, bothServer(t, bc, may, configure), clock
}

// A stream carries the socket's messages byte for byte, each an event
// whose id is its epoch and seq: the snapshot on joining, then updates,
// then heartbeats, from the same fan-out.
func TestEventsAreTheSocketsMessages(t *testing.T) {
	bc, srv, clock := eventsFixture(t, Options{}, nil, nil)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, events := openEvents(t, srv.URL+"/events")
	retry := <-events
	if retry.retry == "" {
		t.Fatalf("first item %+v, want the retry field", retry)
	}
	same := func(what string) Envelope {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, frame, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("%s on the socket: %v", what, err)
		}
		e := nextEvent(t, events, 3*time.Second)
		if e.data != string(frame) {
			t.Fatalf("%s: the event's data differs from the socket's frame:\n%.300s\n%.300s", what, e.data, frame)
		}
		env := envelopeOfEvent(t, e)
		if want := fmt.Sprintf("%s/%d", env.Epoch, env.Seq); e.id != want || env.Epoch == "" {
			t.Fatalf("%s: event id %q, want %q", what, e.id, want)
		}
		if e.typ != "" {
			t.Fatalf("%s: event type %q: messages are unnamed events (onmessage)", what, e.typ)
		}
		return env
	}
	if env := same("the join's snapshot"); env.Type != TypeSnapshot {
		t.Fatalf("first message %q", env.Type)
	}
	f := newFeeder(t, bc, clock)
	f.publish(10)
	if env := same("an update"); env.Type != TypeUpdate {
		t.Fatalf("second message %q", env.Type)
	}
	clock.Advance(HeartbeatEvery)
	targets, err := f.h.heartbeat(clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	deliver(targets)
	if env := same("a heartbeat"); env.Type != TypeHeartbeat {
		t.Fatalf("third message %q", env.Type)
	}
	if n := bc.Clients()["floor"]; n != 2 {
		t.Fatalf("%d screens on the board, want the socket and the stream", n)
	}
	if n := bc.EventStreams(); n != 1 {
		t.Fatalf("%d event streams, want 1", n)
	}
}

// A stream reopened with the id of the board's current state resumes: no
// snapshot, the next event is the next update. With an older id, another
// epoch's or a malformed one, it starts from a snapshot. The id comes in
// the Last-Event-ID header, or for a script that reopens its stream, in
// the last_event_id parameter.
func TestEventStreamResumesOrSnapshots(t *testing.T) {
	bc, srv, clock := eventsFixture(t, Options{}, nil, nil)
	res, events := openEvents(t, srv.URL+"/events")
	nextEvent(t, events, 3*time.Second)
	res.Body.Close()
	waitFor(t, "the stream's end", func() bool { return bc.Clients()["floor"] == 0 })
	f := newFeeder(t, bc, clock)
	current := func() (string, uint64) {
		f.h.mu.Lock()
		defer f.h.mu.Unlock()
		return f.h.epoch, f.h.seq
	}
	for _, tc := range []struct {
		name    string
		id      func(epoch string, seq uint64) string
		inQuery bool
		resumes bool
	}{
		{"current id in the header", func(e string, s uint64) string { return fmt.Sprintf("%s/%d", e, s) }, false, true},
		{"current id in the parameter", func(e string, s uint64) string { return fmt.Sprintf("%s/%d", e, s) }, true, true},
		{"older seq", func(e string, s uint64) string { return fmt.Sprintf("%s/%d", e, s-1) }, false, false},
		{"other epoch", func(e string, s uint64) string { return fmt.Sprintf("other-%s/%d", e, s) }, false, false},
		{"malformed", func(string, uint64) string { return "garbage" }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Back to the board's computed state, the one a joining
			// screen finds (the feeder's updates are made up).
			if err := bc.publish(f.h, clock.Now()); err != nil {
				t.Fatal(err)
			}
			id := tc.id(current())
			url := srv.URL + "/events"
			var header []string
			if tc.inQuery {
				url += "?" + LastEventIDParam + "=" + id
			} else {
				header = []string{"Last-Event-ID", id}
			}
			res, events := openEvents(t, url, header...)
			defer res.Body.Close()
			waitFor(t, "the join", func() bool { return bc.Clients()["floor"] == 1 })
			if tc.resumes {
				seq := f.publish(10)
				e := envelopeOfEvent(t, nextEvent(t, events, 3*time.Second))
				if e.Type != TypeUpdate || e.Seq != seq {
					t.Fatalf("first message %q seq %d, want the update %d", e.Type, e.Seq, seq)
				}
			} else if e := envelopeOfEvent(t, nextEvent(t, events, 3*time.Second)); e.Type != TypeSnapshot {
				t.Fatalf("first message %q, want a snapshot", e.Type)
			}
			res.Body.Close()
			waitFor(t, "the stream's end", func() bool { return bc.Clients()["floor"] == 0 })
		})
	}
}

// A stream that stays silent for the keep-alive period, on the
// broadcaster's clock, gets a comment line; not before. Here the period is
// shorter than the heartbeat's, which would otherwise fill the silence.
func TestEventStreamKeepAliveFollowsTheClock(t *testing.T) {
	bc, srv, clock := eventsFixture(t, Options{KeepAlive: 3 * time.Second, Interval: 10 * time.Millisecond}, nil, nil)
	_, events := openEvents(t, srv.URL+"/events")
	nextEvent(t, events, 3*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go bc.Run(ctx)
	silent := time.After(300 * time.Millisecond) // 30 ticks of the loop
	for done := false; !done; {
		select {
		case e := <-events:
			t.Fatalf("%+v before the clock moved", e)
		case <-silent:
			done = true
		}
	}
	clock.Advance(3 * time.Second)
	select {
	case e := <-events:
		if e.comment == "" {
			t.Fatalf("%+v, want a comment", e)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("no comment after the keep-alive period")
	}
}

// A private board's stream, for a screen that may not watch it, ends with
// a close event saying not paired (4003), as a socket's close frame does;
// the screen never joins.
func TestEventStreamRefusesAScreenWithoutAccess(t *testing.T) {
	bc, srv, _ := eventsFixture(t, Options{}, func(board.Board) bool { return false }, nil)
	_, events := openEvents(t, srv.URL+"/events")
	e := nextEvent(t, events, 3*time.Second)
	if e.typ != "close" || e.data != `{"code":4003,"reason":"not paired"}` {
		t.Fatalf("event %+v, want the close event 4003", e)
	}
	if e := <-events; e.err != io.EOF {
		t.Fatalf("after the close event: %+v, want the end of the stream", e)
	}
	if n := bc.Clients()["floor"]; n != 0 {
		t.Fatalf("%d screens joined", n)
	}
}

// A stream's screen whose access is revoked by a change of the board's
// definition gets the close event 4003 too, and the board's removal 4004.
func TestEventStreamIsToldWhyItEnds(t *testing.T) {
	allowed := true
	may := func(def board.Board) bool { return allowed && def.Title != "revoked" }
	bc, srv, _ := eventsFixture(t, Options{}, may, nil)
	_, events := openEvents(t, srv.URL+"/events")
	nextEvent(t, events, 3*time.Second)
	defs := bc.boards.Boards()
	for i := range defs {
		if defs[i].Name == "floor" {
			defs[i].Title = "revoked"
		}
	}
	reload(bc, defs)
	e := nextEvent(t, events, 3*time.Second)
	if e.typ != "close" || !strings.Contains(e.data, `"code":4003`) {
		t.Fatalf("event %+v, want the close event 4003", e)
	}
	waitFor(t, "the revoked stream's end", func() bool { return bc.Clients()["floor"] == 0 })
}

// Screens of both transports count against one address's cap.
func TestEventStreamsShareTheAddressCap(t *testing.T) {
	bc, srv, _ := eventsFixture(t, Options{MaxPerIP: 2}, nil, nil)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	res, _ := openEvents(t, srv.URL+"/events")
	third, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	third.Body.Close()
	if third.StatusCode != http.StatusTooManyRequests || third.Header.Get("Retry-After") == "" {
		t.Fatalf("a third screen from one address: %d, Retry-After %q; want 429 with Retry-After", third.StatusCode, third.Header.Get("Retry-After"))
	}
	// A stream that ends frees its slot. The handler releases it as it
	// returns, a moment after the screen left the hub: wait for the slot
	// itself (waiting for the hub alone let the next stream in early, and
	// flaked with a 429 in CI).
	res.Body.Close()
	waitFor(t, "the stream's end", func() bool {
		bc.slots.mu.Lock()
		defer bc.slots.mu.Unlock()
		total := 0
		for _, n := range bc.slots.n {
			total += n
		}
		return bc.Clients()["floor"] == 1 && total == 1
	})
	again, _ := openEvents(t, srv.URL+"/events")
	again.Body.Close()
}

// A foreign page's stream is refused, as its socket would be.
func TestEventStreamChecksTheOrigin(t *testing.T) {
	_, srv, _ := eventsFixture(t, Options{}, nil, nil)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/events", nil)
	req.Header.Set("Origin", "https://elsewhere.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d, want 403", res.StatusCode)
	}
}

// The server's read and write timeouts, meant for requests, do not end a
// stream: it lasts as long as its screen.
func TestEventStreamOutlivesTheServersTimeouts(t *testing.T) {
	bc, srv, clock := eventsFixture(t, Options{}, nil, func(s *http.Server) {
		s.ReadTimeout, s.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	})
	_, events := openEvents(t, srv.URL+"/events")
	nextEvent(t, events, 3*time.Second)
	time.Sleep(600 * time.Millisecond)
	seq := newFeeder(t, bc, clock).publish(10)
	if e := envelopeOfEvent(t, nextEvent(t, events, 3*time.Second)); e.Seq != seq {
		t.Fatalf("seq %d, want %d", e.Seq, seq)
	}
}

// A stream that does not take its events is dropped within its write
// limit and counted, as a socket is; the other screens get their updates
// meanwhile.
func TestStuckEventStreamIsDroppedAndCounted(t *testing.T) {
	obs := &countingObserver{}
	bc, srv, clock := eventsFixture(t, Options{Observer: obs}, nil, func(s *http.Server) {
		// A small send buffer, as the sockets' (socketSendBuffer), so a
		// few updates fill it.
		s.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetWriteBuffer(16384)
			}
			return ctx
		}
	})
	// The stuck screen: a small receive buffer, and it never reads.
	stuck, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	_ = stuck.(*net.TCPConn).SetReadBuffer(16384)
	if _, err := fmt.Fprintf(stuck, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the stuck screen's join", func() bool { return bc.Clients()["floor"] == 1 })
	_, events := openEvents(t, srv.URL+"/events")
	nextEvent(t, events, 3*time.Second)
	f := newFeeder(t, bc, clock)
	began := time.Now()
	for bc.Clients()["floor"] > 1 {
		if time.Since(began) > writeWait+3*time.Second {
			t.Fatal("a stream that never reads is still open after its write limit")
		}
		seq := f.publish(32 << 10)
		// The reading screen keeps up meanwhile.
		for {
			e := envelopeOfEvent(t, nextEvent(t, events, 2*time.Second))
			if e.Seq == seq {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := obs.dropped.Load(); n != 1 {
		t.Fatalf("%d screens counted as dropped, want 1", n)
	}
}

// On shutdown a stream is told so (1001) and ends, so the HTTP server's
// drain does not wait for it.
func TestEventStreamEndsOnShutdown(t *testing.T) {
	bc, srv, _ := eventsFixture(t, Options{}, nil, nil)
	_, events := openEvents(t, srv.URL+"/events")
	nextEvent(t, events, 3*time.Second)
	bc.Close()
	e := nextEvent(t, events, 3*time.Second)
	if e.typ != "close" || e.data != `{"code":1001,"reason":"server shutting down"}` {
		t.Fatalf("event %+v, want the close event 1001", e)
	}
	if e := <-events; e.err != io.EOF {
		t.Fatalf("after the close event: %+v, want the end of the stream", e)
	}
}

// A stream speaks the protocol version its address asks for (v, as a
// socket's), with the messages a socket of that version gets, byte for
// byte: v2's snapshot in markup, then patches; v1's whole tiles. A v2
// stream that resumes gets its next update in v2. A bad v is refused with
// ErrBadVersion before anything is written.
func TestEventStreamsSpeakTheSocketsVersion(t *testing.T) {
	bc, srv, clock := eventsFixture(t, Options{RenderTile: views.TileHTML}, nil, nil)
	type pair struct {
		query  string
		conn   *websocket.Conn
		events <-chan event
		res    *http.Response
	}
	var pairs []*pair
	for _, q := range []string{"", "?v=1", "?v=2"} {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/live"+q, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		res, events := openEvents(t, srv.URL+"/events"+q)
		pairs = append(pairs, &pair{q, conn, events, res})
	}
	// same reads the next message of a version's socket and stream, checks
	// they are the same bytes, and returns it.
	same := func(p *pair, what string) string {
		t.Helper()
		_ = p.conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		_, frame, err := p.conn.ReadMessage()
		if err != nil {
			t.Fatalf("%q: %s on the socket: %v", p.query, what, err)
		}
		e := nextEvent(t, p.events, 3*time.Second)
		if e.data != string(frame) {
			t.Fatalf("%q: %s: the event's data differs from the socket's frame:\n%.300s\n%.300s", p.query, what, e.data, frame)
		}
		return e.data
	}
	for _, p := range pairs {
		v2 := p.query == "?v=2"
		if data := same(p, "the snapshot"); strings.Contains(data, `"v":2`) != v2 || !strings.Contains(data, `"type":"snapshot"`) {
			t.Fatalf("%q: snapshot %.300s", p.query, data)
		}
	}
	f := newFeeder(t, bc, clock)
	f.render = views.TileHTML
	seq := f.publish(10)
	for _, p := range pairs {
		v2 := p.query == "?v=2"
		data := same(p, "an update")
		env := Envelope{}
		if err := json.Unmarshal([]byte(data), &env); err != nil || env.Type != TypeUpdate || env.Seq != seq {
			t.Fatalf("%q: %.300s (%v), want the update %d", p.query, data, err, seq)
		}
		if v2 != (env.V == ProtocolV2) || v2 != strings.Contains(data, `"patch":[[`) {
			t.Fatalf("%q: update %.400s; want a patch in v2 only", p.query, data)
		}
	}

	// The v2 stream leaves, and comes back holding the current state.
	v2 := pairs[2]
	v2.res.Body.Close()
	waitFor(t, "the v2 stream's end", func() bool { return bc.Clients()["floor"] == 5 })
	f.h.mu.Lock()
	id := fmt.Sprintf("%s/%d", f.h.epoch, f.h.seq)
	f.h.mu.Unlock()
	res, events := openEvents(t, srv.URL+"/events?v=2", "Last-Event-ID", id)
	defer res.Body.Close()
	waitFor(t, "the resumed stream's join", func() bool { return bc.Clients()["floor"] == 6 })
	seq = f.publish(10)
	e := nextEvent(t, events, 3*time.Second)
	env := envelopeOfEvent(t, e)
	if env.Type != TypeUpdate || env.Seq != seq || env.V != ProtocolV2 || !strings.Contains(e.data, `"patch":[[`) {
		t.Fatalf("resumed v2 stream's first message %.400s; want the v2 update %d with a patch", e.data, seq)
	}

	for _, q := range []string{"?v=3", "?v=2&v=2", "?v=", "?v=two"} {
		rec := httptest.NewRecorder()
		err := bc.ServeEvents(rec, httptest.NewRequest(http.MethodGet, "/events"+q, nil), "floor", nil)
		if !errors.Is(err, ErrBadVersion) || !strings.Contains(err.Error(), "query parameter v") {
			t.Errorf("%s: %v, want ErrBadVersion naming the parameter", q, err)
		}
		if rec.Body.Len() != 0 || rec.Header().Get("Content-Type") != "" {
			t.Errorf("%s: wrote %q (%v) before refusing", q, rec.Body.String(), rec.Header())
		}
	}
}
