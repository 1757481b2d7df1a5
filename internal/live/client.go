package live

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// client is one connected screen: exactly one reader goroutine and one
// writer goroutine own its connection.
type client struct {
	hub  *hub
	conn *websocket.Conn
	// send queues prepared messages; when it is full, resync is set and the
	// writer sends the latest snapshot instead of the backlog (conflation).
	send   chan *websocket.PreparedMessage
	resync atomic.Bool
	// wake nudges the writer to look at resync.
	wake chan struct{}
	done chan struct{}
	once sync.Once
	// may re-checks the screen's access when the board's definition
	// changes (nil: always allowed); release frees its per-address slot.
	may     Access
	release func()
}

func newClient(h *hub, conn *websocket.Conn, may Access, release func()) *client {
	return &client{
		hub: h, conn: conn, may: may, release: release,
		send: make(chan *websocket.PreparedMessage, sendQueue),
		wake: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// offer queues a message without ever blocking the caller.
func (c *client) offer(pm *websocket.PreparedMessage) {
	select {
	case c.send <- pm:
	default:
		c.requestSnapshot()
	}
}

func (c *client) requestSnapshot() {
	c.resync.Store(true)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// close sends a close frame with a reason (bounded by writeWait) and drops
// the connection. It is safe from any goroutine and idempotent.
func (c *client) close(code int, reason string) {
	c.once.Do(func() {
		_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
		_ = c.conn.Close()
		close(c.done)
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

// writePump writes queued messages and pings. A write that does not finish
// within writeWait drops the client.
func (c *client) writePump() {
	ping := time.NewTicker(pingPeriod)
	defer func() {
		ping.Stop()
		c.hub.remove(c)
	}()
	write := func(pm *websocket.PreparedMessage) bool {
		_ = c.conn.SetWriteDeadline(time.Now().Add(writeWait))
		if err := c.conn.WritePreparedMessage(pm); err != nil {
			c.hub.observer.ScreenDropped()
			c.close(CloseTooSlow, "too slow")
			return false
		}
		return true
	}
	for {
		var pm *websocket.PreparedMessage
		select {
		case <-c.done:
			return
		case pm = <-c.send:
		case <-c.wake:
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close(CloseTooSlow, "too slow")
				return
			}
			continue
		}
		if c.resync.Swap(false) {
			c.drain()
			pm = c.hub.snapshot()
		}
		if pm != nil && !write(pm) {
			return
		}
	}
}

// drain drops queued messages: a snapshot replaces them.
func (c *client) drain() {
	for {
		select {
		case <-c.send:
		default:
			return
		}
	}
}
