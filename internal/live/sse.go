package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Serving a screen over Server-Sent Events, for networks whose proxies
// block WebSockets: the same hub, the same messages in the same order,
// each one an event whose id is the state it leaves the screen in. The
// screen is another kind of client of the board's hub; what differs is
// only how its queue reaches it (docs/PROTOCOL.md, Server-Sent Events).
//
// An event stream is an ordinary HTTP response, so its writes go through
// net/http and may wait for the peer. They are not made by the fan-out
// but by the stream's own goroutine, the request's handler, which the
// fan-out only wakes: a stalled stream holds up nobody else, and one
// whose write has not finished within writeWait is dropped as too slow,
// as a socket is. That costs each stream a parked goroutine a socket does
// not have; streams are the fallback of the few screens that cannot open
// a socket, and in exchange they work through anything that passes HTTP,
// HTTP/2 included.

// DefaultKeepAlive is how long an event stream may go without a byte
// before it gets a comment line: well under the idle timeouts of the
// proxies it must cross (often 30 or 60 s).
const DefaultKeepAlive = 15 * time.Second

// errTooSlow: an event stream's write did not finish within writeWait.
var errTooSlow = errors.New("screen did not take its events in time")

// keepAliveComment is an SSE comment: clients ignore it, proxies see bytes.
var keepAliveComment = []byte(": keep-alive\n\n")

// eventStream is the write side of one screen's event stream.
type eventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// kick wakes the stream's goroutine to write what is queued.
	kick chan struct{}
	// done is closed when the screen is closed, with code and reason set
	// before.
	done         chan struct{}
	endOnce      sync.Once
	code         int
	reason       string
	broken       bool // a write failed: write nothing more
	closeWritten bool
}

func newEventStream(w http.ResponseWriter) *eventStream {
	return &eventStream{w: w, rc: http.NewResponseController(innermost(w)), kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// innermost is net/http's own writer under wrappers: some (Echo's) flush
// without reporting a failed flush, which would hide a stalled screen
// until its next write.
func innermost(w http.ResponseWriter) http.ResponseWriter {
	for {
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return w
		}
		w = u.Unwrap()
	}
}

// wake asks the stream's goroutine to write; it never waits.
func (s *eventStream) wake() {
	select {
	case s.kick <- struct{}{}:
	default: // already woken: it writes the whole queue
	}
}

// end asks the stream's goroutine to finish with a close event.
func (s *eventStream) end(code int, reason string) {
	s.endOnce.Do(func() {
		s.code, s.reason = code, reason
		close(s.done)
	})
}

func (s *eventStream) send(m *message) error { return s.write(m.sse()) }

func (s *eventStream) comment() error { return s.write(keepAliveComment) }

// write writes and flushes one event within writeWait. Only the stream's
// goroutine calls it.
func (s *eventStream) write(b []byte) error {
	if s.broken {
		return errStreamFailed
	}
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeWait))
	_, err := s.w.Write(b)
	if err == nil {
		err = s.rc.Flush()
	}
	if err != nil {
		s.broken = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("%w: %w", errTooSlow, err)
		}
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// errStreamFailed is the error of a write to a stream that already failed.
var errStreamFailed = errors.New("event stream already failed")

// closeEvent tells the screen why its stream ends: the codes and reasons
// of a socket's close frame (PROTOCOL.md: Close codes), as an event of
// type close, the last one of the stream.
func (s *eventStream) closeEvent(code int, reason string) {
	if s.closeWritten {
		return
	}
	s.closeWritten = true
	data, _ := json.Marshal(struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	}{code, reason})
	_ = s.write([]byte("event: close\ndata: " + string(data) + "\n\n"))
}

// run writes the screen's queue each time it is woken, until the screen
// is closed (its close event is then the last one) or its peer leaves.
func (s *eventStream) run(ctx context.Context, c *client) {
	for {
		select {
		case <-s.kick:
			c.write()
		case <-s.done:
			// Too slow: the peer takes nothing, a close event included.
			if s.code != CloseTooSlow && ctx.Err() == nil {
				s.closeEvent(s.code, s.reason)
			}
			return
		case <-ctx.Done():
			return
		}
	}
}

// eventID is the state an event leaves a screen in: an epoch and a seq.
type eventID struct {
	epoch string
	seq   uint64
}

// parseEventID reads an event id (appendEventID); anything else is the
// zero id, which resumes nothing.
func parseEventID(s string) eventID {
	i := strings.LastIndexByte(s, '/')
	if i <= 0 {
		return eventID{}
	}
	seq, err := strconv.ParseUint(s[i+1:], 10, 64)
	if err != nil {
		return eventID{}
	}
	return eventID{epoch: s[:i], seq: seq}
}

// LastEventIDParam is the query parameter that carries the last event id
// for a client that reopens its stream itself: a browser's EventSource
// sends the Last-Event-ID header only on its own reconnects, and a script
// cannot set it.
const LastEventIDParam = "last_event_id"

// lastEventID is the id a reconnecting screen says it has: the header
// first, else the query parameter.
func lastEventID(r *http.Request) eventID {
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		return parseEventID(v)
	}
	return parseEventID(r.URL.Query().Get(LastEventIDParam))
}

// retryMin and retrySpread bound the reconnection delay a stream asks of
// its client (the SSE retry field), chosen at random per stream so a wall
// of screens cut off together does not come back in step.
const (
	retryMin    = 1500 * time.Millisecond
	retrySpread = 3000 * time.Millisecond
)

// ServeEvents serves a board's events to a screen as a text/event-stream
// response, until the screen leaves or is closed. The rules are a
// socket's (Serve): the same origin check, per-address cap and access
// decision, asked again when the board's definition changes. A screen
// that may not watch gets a close event with CloseNotPaired, as a socket
// gets a close frame, since a browser's EventSource cannot read a status.
//
// The query parameter v picks the protocol version as a socket's does
// (absent: 1), and a bad one is answered the same way: an error wrapping
// ErrBadVersion, before anything is written. A resumed stream continues
// in the version it asks for; the page always asks for the one it spoke.
func (b *Broadcaster) ServeEvents(w http.ResponseWriter, r *http.Request, name string, may Access) error {
	version, err := versionOf(r)
	if err != nil {
		return err
	}
	h, closed := b.hubFor(name)
	if h == nil {
		return ErrNoBoard
	}
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil
	}
	if !b.upgrader.CheckOrigin(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return nil
	}
	ip := clientIP(r)
	if !b.slots.take(ip) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many live screens from this address", http.StatusTooManyRequests)
		return nil
	}
	release := sync.OnceFunc(func() { b.slots.release(ip) })
	defer release()

	s := newEventStream(w)
	// The server's read and write timeouts bound requests; a stream lasts
	// for days. Each write sets its own limit (writeWait). Without the
	// read deadline's removal, net/http would end the stream when its
	// watch for the peer's hang-up timed out.
	_ = s.rc.SetReadDeadline(time.Time{})
	_ = s.rc.SetWriteDeadline(time.Time{})
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-cache, no-store")
	// nginx (and proxies that copy it) would hold events in a buffer.
	hd.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	retry := retryMin + rand.N(retrySpread)
	if err := s.write([]byte("retry: " + strconv.FormatInt(retry.Milliseconds(), 10) + "\n\n")); err != nil {
		return nil // the screen left already
	}
	if may != nil && !may(h.definition()) {
		s.closeEvent(CloseNotPaired, "not paired")
		return nil
	}
	b.bringUp(h)
	c := &client{hub: h, events: s, resume: lastEventID(r), may: may, release: release, version: version}
	h.join(c) // a screen it refuses is closed, and run writes why
	s.run(r.Context(), c)
	h.remove(c)
	return nil
}
