package live

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// wire is a screen's TCP connection as the websocket library sees it, with
// writes that never wait. A write goes to the kernel's send buffer at once;
// whatever the buffer cannot take is kept and written by a goroutine
// started for that screen alone, bounded by writeWait. So the few
// goroutines that fan a tick out to thousands of screens never block on a
// slow one, and an idle screen holds no writer goroutine at all.
type wire struct {
	net.Conn
	raw syscall.RawConn // nil: the connection cannot be written without waiting

	mu sync.Mutex
	// backlog holds bytes the kernel has not taken yet; while it is not
	// empty, a drain goroutine owns the socket's writes and every write
	// appends to it, so bytes keep their order.
	backlog []byte
	// draining is written under mu and read without it: the fan-out asks
	// before every write.
	draining atomic.Bool
	err      error
	// drained is called when a backlog has been written; failed when it
	// could not be within writeWait (not when the peer hung up).
	drained func()
	failed  func(error)
}

// maxBacklog bounds what a screen may have waiting beyond its kernel
// buffer: one message and a few control frames. The fan-out does not write
// to a screen with a backlog, so more means the screen is not reading.
const maxBacklog = 256 << 10

var errBacklogFull = errors.New("screen's backlog is full")

func newWire(conn net.Conn) *wire {
	w := &wire{Conn: conn}
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			w.raw = raw
		}
	}
	return w
}

// Write takes all of p or fails; it never waits for the peer.
func (w *wire) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return 0, w.err
	}
	if w.draining.Load() {
		if len(w.backlog)+len(p) > maxBacklog {
			w.err = errBacklogFull
			return 0, w.err
		}
		w.backlog = append(w.backlog, p...)
		return len(p), nil
	}
	n, err := w.writeNow(p)
	if err != nil {
		w.err = fmt.Errorf("write to screen: %w", err)
		return n, w.err
	}
	if n < len(p) {
		w.backlog = append(w.backlog[:0], p[n:]...)
		w.draining.Store(true)
		go w.drain()
	}
	return len(p), nil
}

// drain writes the backlog with the ordinary, waiting write, then hands the
// socket back.
func (w *wire) drain() {
	for {
		w.mu.Lock()
		buf := w.backlog
		w.backlog = nil
		if len(buf) == 0 {
			// The limit was for this backlog: a screen that caught up
			// gets the socket back without it, or the next write, maybe
			// minutes later, would fail at once as timed out. Cleared
			// before the fan-out may write again, under the lock its
			// writes take.
			_ = w.Conn.SetWriteDeadline(time.Time{})
			w.draining.Store(false)
			done := w.drained
			w.mu.Unlock()
			if done != nil {
				done()
			}
			return
		}
		w.mu.Unlock()
		_ = w.Conn.SetWriteDeadline(time.Now().Add(writeWait))
		if _, err := w.Conn.Write(buf); err != nil {
			w.mu.Lock()
			closed := w.err != nil
			if !closed {
				w.err = fmt.Errorf("write to screen: %w", err)
			}
			w.draining.Store(false)
			failed := w.failed
			w.mu.Unlock()
			// Only a backlog not taken within writeWait makes the screen
			// too slow; a peer that hung up is gone, and the screen's
			// reader, woken by the same hang-up, closes it uncounted.
			if failed != nil && !closed && errors.Is(err, os.ErrDeadlineExceeded) {
				failed(err)
			}
			return
		}
	}
}

// backlogged reports whether earlier bytes still wait for the peer.
func (w *wire) backlogged() bool {
	return w.draining.Load()
}

// notify sets the callbacks, once the screen they belong to exists.
func (w *wire) notify(drained func(), failed func(error)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.drained, w.failed = drained, failed
}

// SetWriteDeadline is a no-op: writes do not wait, and drain sets its own
// for each backlog, and clears it when the backlog is gone.
func (w *wire) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets only the read deadline, for the same reason.
func (w *wire) SetDeadline(t time.Time) error { return w.Conn.SetReadDeadline(t) }

func (w *wire) Close() error {
	w.mu.Lock()
	if w.err == nil {
		w.err = net.ErrClosed
	}
	w.mu.Unlock()
	return w.Conn.Close()
}

// tcp returns the TCP connection under the wire, if it is one.
func (w *wire) tcp() (*net.TCPConn, bool) {
	tc, ok := w.Conn.(*net.TCPConn)
	return tc, ok
}

// hijacker hands the websocket library a wire instead of the bare
// connection when it takes the socket over from net/http, and a read
// buffer the screen's reader can ask whether bytes are waiting in it.
type hijacker struct {
	http.ResponseWriter
	wire *wire
	br   *bufio.Reader
	// hijacked: net/http has handed the connection over, and the response
	// writer must not be written any more.
	hijacked bool
}

// readBufferSize is each screen's read buffer. Screens send only tiny
// commands and pongs; the websocket library uses a buffer handed to it
// only when it is larger than 256 bytes.
const readBufferSize = 512

func (h *hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot hand over its connection")
	}
	conn, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, fmt.Errorf("take over the connection: %w", err)
	}
	h.hijacked = true
	// The library refuses bytes sent before its answer, but it now sees
	// the fresh buffer below, not this one: check here instead.
	if brw.Reader.Buffered() > 0 {
		conn.Close()
		return nil, nil, errors.New("client sent data before the handshake finished")
	}
	h.wire = newWire(conn)
	h.br = bufio.NewReaderSize(h.wire, readBufferSize)
	return h.wire, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// WriteHeader and Write drop the HTTP error the websocket library answers
// a refused hand-over with: the connection is already closed, and net/http
// would log each write to a hijacked connection as a warning.
func (h *hijacker) WriteHeader(code int) {
	if !h.hijacked {
		h.ResponseWriter.WriteHeader(code)
	}
}

func (h *hijacker) Write(p []byte) (int, error) {
	if h.hijacked {
		return 0, http.ErrHijacked
	}
	return h.ResponseWriter.Write(p)
}
