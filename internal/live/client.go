package live

import (
	"bufio"
	"errors"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
)

// client is one connected screen, on a WebSocket (conn, wire and br) or
// on an event stream (events, sse.go). A socket's reader goroutine owns its reads.
// Writes have no goroutine of their own: whoever queues a message (the
// fan-out, a join, a resync request) flushes the queue, and since the wire
// never waits, that costs a system call and no parked goroutine. Only a
// screen whose kernel buffer is full gets a goroutine, for the rest of
// that one write.
type client struct {
	hub  *hub
	conn *websocket.Conn
	wire *wire
	// br is the library's read buffer: the reader parks on the socket
	// only when it is empty.
	br *bufio.Reader
	// events is set instead of the three above for a screen on an event
	// stream, whose own goroutine writes what the others queue (flush
	// wakes it).
	events *eventStream
	// resume is the state an event stream's screen says it holds
	// (Last-Event-ID): when it is the hub's, the join sends no snapshot.
	resume eventID

	mu sync.Mutex
	// queue holds prepared messages not written yet; when it is full,
	// resync is set and the next write is the latest snapshot instead of
	// the backlog (conflation); only a reload outlives it.
	queue  []outgoing
	resync bool
	ping   bool
	// writing is true while one goroutine writes; the others leave their
	// messages in the queue for it.
	writing bool
	closed  bool
	once    sync.Once
	// may re-checks the screen's access when the board's definition
	// changes (nil: always allowed); release frees its per-address slot.
	may     Access
	release func()
	// version is the protocol the screen speaks: it picks which encoding
	// of each message the screen gets.
	version int
}

// outgoing is a queued message.
type outgoing struct {
	pm *message
	// state: the message tells the board's state at its seq (an update, a
	// heartbeat, a snapshot), which a snapshot taken later holds too; a
	// reload it does not.
	state bool
}

func newClient(h *hub, conn *websocket.Conn, w *wire, br *bufio.Reader, may Access, release func(), version int) *client {
	c := &client{hub: h, conn: conn, wire: w, br: br, may: may, release: release, version: version}
	w.notify(c.flush, func(error) {
		h.observer.ScreenDropped()
		c.close(CloseTooSlow, "too slow")
	})
	return c
}

// offer queues a message without writing it; the caller flushes. It never
// blocks on the screen. state tells whether a later snapshot holds what
// the message says (see outgoing).
func (c *client) offer(pm *message, state bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if len(c.queue) >= sendQueue {
		c.resyncLocked()
		if state {
			return // the snapshot will hold it
		}
		// A reload still goes: it can push the queue past sendQueue,
		// by one message per edit of the boards file, for a screen that
		// is dropped anyway if it stays behind for writeWait.
	}
	c.queue = append(c.queue, outgoing{pm, state})
}

// resumes reports whether the screen already holds this state of the
// board, so it needs no snapshot to follow its updates.
func (c *client) resumes(epoch string, seq uint64) bool {
	return c.resume.epoch != "" && c.resume.epoch == epoch && c.resume.seq == seq
}

// admitted re-checks the screen's access against a board definition.
func (c *client) admitted(def board.Board) bool {
	return c.may == nil || c.may(def)
}

// requestPing queues a ping; the caller flushes.
func (c *client) requestPing() {
	c.mu.Lock()
	c.ping = true
	c.mu.Unlock()
}

// requestSnapshot replaces what is queued, but reloads, with the current
// snapshot.
func (c *client) requestSnapshot() {
	c.mu.Lock()
	c.resyncLocked()
	c.mu.Unlock()
	c.flush()
}

// markResync marks the screen for a snapshot without flushing; the
// caller delivers.
func (c *client) markResync() {
	c.mu.Lock()
	if !c.closed {
		c.resyncLocked()
	}
	c.mu.Unlock()
}

// resyncLocked marks the screen for a snapshot of the latest state, and
// drops the queued messages that snapshot will hold.
func (c *client) resyncLocked() {
	c.dropStateLocked()
	c.resync = true
}

// dropStateLocked drops the queued messages any snapshot taken now holds
// (keeping the queue's array, without them): all but reloads.
func (c *client) dropStateLocked() {
	c.queue = slices.DeleteFunc(c.queue, func(o outgoing) bool { return o.state })
}

// flush writes what is queued: on a socket from the caller's goroutine,
// as those writes never wait; on an event stream, whose writes may, by
// waking the stream's own goroutine.
func (c *client) flush() {
	if c.events != nil {
		c.events.wake()
		return
	}
	c.write()
}

// write writes what is queued, unless another goroutine is writing (it
// will take it) or earlier bytes still wait for the screen (the wire's
// drain calls flush when they are gone).
func (c *client) write() {
	for {
		c.mu.Lock()
		if c.writing || c.closed || (c.wire != nil && c.wire.backlogged()) {
			c.mu.Unlock()
			return
		}
		var pm *message
		snapshot, ping := false, false
		switch {
		case c.resync:
			c.resync, snapshot = false, true
		case c.ping:
			c.ping, ping = false, true
		case len(c.queue) > 0:
			pm = c.queue[0].pm
			c.queue = slices.Delete(c.queue, 0, 1)
		default:
			c.mu.Unlock()
			return
		}
		c.writing = true
		c.mu.Unlock()

		var err error
		switch {
		case ping && c.events != nil:
			err = c.events.comment()
		case ping:
			err = c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
		case snapshot:
			// Outside c.mu: the hub's lock is taken before a client's
			// everywhere else.
			if pm = c.hub.resnapshot(c); pm != nil {
				err = c.send(pm)
			}
		default:
			err = c.send(pm)
		}
		c.mu.Lock()
		c.writing = false
		c.mu.Unlock()
		if err != nil {
			if errors.Is(err, errBacklogFull) || errors.Is(err, errTooSlow) {
				c.hub.observer.ScreenDropped()
				c.close(CloseTooSlow, "too slow")
				return
			}
			// The wire failed or was closed: the reader sees it too and
			// removes the screen.
			c.close(websocket.CloseNormalClosure, "")
			return
		}
	}
}

// send writes one message on the screen's transport.
func (c *client) send(m *message) error {
	if c.events != nil {
		return c.events.send(m)
	}
	return c.conn.WritePreparedMessage(m.ws)
}

// deliverChunk is how many screens one goroutine writes to in a fan-out:
// enough that starting it is cheap next to the writes.
const deliverChunk = 128

// deliver flushes every screen's queue, spread over the cores. The writes
// do not wait, so this returns once every message is in a kernel buffer
// or in the backlog of a screen that is behind.
func deliver(cs []*client) {
	n := min(runtime.GOMAXPROCS(0), (len(cs)+deliverChunk-1)/deliverChunk)
	if n <= 1 {
		for _, c := range cs {
			c.flush()
		}
		return
	}
	size := (len(cs) + n - 1) / n
	var wg sync.WaitGroup
	for part := range slices.Chunk(cs, size) {
		wg.Go(func() {
			for _, c := range part {
				c.flush()
			}
		})
	}
	wg.Wait()
}

// close sends a close frame with a reason (if the socket has room for it)
// and drops the connection. It is safe from any goroutine and idempotent.
func (c *client) close(code int, reason string) {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.queue = nil
		c.mu.Unlock()
		if c.events != nil {
			c.events.end(code, reason)
			if c.release != nil {
				c.release()
			}
			return
		}
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
		_ = c.conn.Close()
		if c.release != nil {
			c.release()
		}
	})
}

// readPump reads client messages until the connection fails. Its only
// command is resync; pongs keep the read deadline moving.
func (c *client) readPump() {
	defer c.hub.remove(c)
	c.conn.SetReadLimit(maxMessageSize)
	_ = c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error {
		return c.conn.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		// Park shallow while the screen is quiet, which is nearly always;
		// a frame already in the buffer is read at once.
		if c.br.Buffered() == 0 {
			if err := c.wire.waitReadable(); err != nil {
				c.close(websocket.CloseNormalClosure, "")
				return
			}
		}
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			// An oversized frame has already been answered with 1009 by
			// the library; anything else ends the connection quietly.
			c.close(websocket.CloseNormalClosure, "")
			return
		}
		if m, err := ParseClientMessage(data); err == nil && m.Type == TypeResync {
			c.requestSnapshot()
		}
	}
}
