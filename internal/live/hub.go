package live

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
)

// hub is one board's screens and the board's last published state. The
// broadcaster is the only writer of that state; screens join and leave from
// their own goroutines.
type hub struct {
	name     string
	observer Observer
	// now is the broadcaster's clock, for the time a snapshot taken for a
	// join or a resync carries.
	now func() time.Time

	mu      sync.Mutex
	clients map[*client]struct{}
	def     board.Board
	title   string
	epoch   string
	seq     uint64
	stale   bool
	order   []string          // tile ids in board order
	tiles   map[string][]byte // last published JSON of each tile
	// snap caches the snapshot of the current (epoch, seq, stale).
	snap *message
	// published is false until the first computation.
	published bool
	lastSent  time.Time
	// lastComment is when event streams last got a keep-alive comment.
	lastComment time.Time
	// endCode, once set, is how the hub ended (its board removed, the
	// server shutting down): a screen that joins after is closed with it.
	endCode   int
	endReason string
}

func newHub(def board.Board, o Observer, now func() time.Time) *hub {
	return &hub{name: def.Name, observer: o, now: now, def: def, clients: make(map[*client]struct{}), tiles: make(map[string][]byte)}
}

// join adds a screen and queues the current snapshot for it in one step,
// so every later update follows the snapshot; then it writes it. It
// reports false, having closed the screen, when the hub ended or the
// board's definition no longer admits the screen: the screen was let in
// before taking this lock, and a removal, shutdown or revocation may have
// landed in between, after the hub last looked at its screens.
func (h *hub) join(c *client) bool {
	h.mu.Lock()
	if code, reason := h.endCode, h.endReason; code != 0 {
		h.mu.Unlock()
		c.close(code, reason)
		return false
	}
	if !c.admitted(h.def) {
		h.mu.Unlock()
		c.close(CloseNotPaired, "access revoked")
		return false
	}
	h.clients[c] = struct{}{}
	if h.published && !c.resumes(h.epoch, h.seq) {
		if snap := h.snapshotLocked(h.now()); snap != nil {
			c.offer(snap, true)
		}
	}
	h.mu.Unlock()
	c.flush()
	return true
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
	c.close(websocket.CloseNormalClosure, "")
}

func (h *hub) size() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients)
}

func (h *hub) isPublished() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.published
}

// definition returns the board the hub shows.
func (h *hub) definition() board.Board {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.def
}

// publish records a freshly computed view and sends what changed: a
// snapshot when the epoch changed (or on the first publish), an update with
// the changed tiles otherwise, nothing when nothing changed. It returns the
// screens it was queued for, for the caller to deliver.
func (h *hub) publish(v board.View, render TileRenderer, epoch string, stale bool, now time.Time) ([]*client, error) {
	encoded := make(map[string][]byte, len(v.Tiles))
	order := make([]string, len(v.Tiles))
	for i, t := range v.Tiles {
		b, err := encodeTile(t, render)
		if err != nil {
			return nil, err
		}
		encoded[t.ID] = b
		order[i] = t.ID
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	fresh := !h.published || epoch != h.epoch || v.Title != h.title || !slices.Equal(order, h.order)
	var changed []json.RawMessage
	if !fresh {
		for _, id := range order {
			if !bytes.Equal(encoded[id], h.tiles[id]) {
				changed = append(changed, encoded[id])
			}
		}
		if len(changed) == 0 && stale == h.stale {
			return nil, nil
		}
	}
	if epoch != h.epoch {
		h.seq = 0
	}
	h.published, h.epoch, h.title, h.stale, h.order, h.tiles = true, epoch, v.Title, stale, order, encoded
	h.seq++
	h.snap = nil
	msg := h.snapshotLocked(now)
	if !fresh {
		var err error
		if msg, err = h.prepare(Envelope{Type: TypeUpdate, Tiles: changed}, now); err != nil {
			return nil, err
		}
	}
	return h.fanOut(msg, now, true), nil
}

// TileRenderer renders a tile's HTML for browsers, which swap it in by id
// (nil: JSON only).
type TileRenderer func(board.TileView) (string, error)

// wireTile is a tile on the wire: the view model and, for browsers, its
// server-rendered markup.
type wireTile struct {
	board.TileView
	HTML string `json:"html,omitempty"`
}

func encodeTile(t board.TileView, render TileRenderer) ([]byte, error) {
	w := wireTile{TileView: t}
	if render != nil {
		html, err := render(t)
		if err != nil {
			return nil, err
		}
		w.HTML = html
	}
	b, err := json.Marshal(w)
	if err != nil {
		return nil, fmt.Errorf("encode tile %s: %w", t.ID, err)
	}
	return b, nil
}

// heartbeat tells screens the server is alive, with the current seq. It
// returns the screens to deliver to.
func (h *hub) heartbeat(now time.Time) ([]*client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.published || now.Sub(h.lastSent) < HeartbeatEvery {
		return nil, nil
	}
	msg, err := h.prepare(Envelope{Type: TypeHeartbeat}, now)
	if err != nil {
		return nil, err
	}
	return h.fanOut(msg, now, true), nil
}

// ping queues a WebSocket ping for every screen, whose pong keeps its read
// deadline moving, and returns the screens to deliver to.
func (h *hub) ping() []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		if c.events != nil {
			continue // kept alive by keepAlive's comments
		}
		c.requestPing()
		out = append(out, c)
	}
	return out
}

// keepAlive queues a comment for the screens on an event stream when the
// board sent them nothing for every (by the broadcaster's clock): proxies
// close a response that stays silent, and before a board's first publish
// no heartbeat goes. It returns the screens to deliver to.
func (h *hub) keepAlive(now time.Time, every time.Duration) []*client {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now.Sub(h.lastSent) < every || now.Sub(h.lastComment) < every {
		return nil
	}
	h.lastComment = now
	var out []*client
	for c := range h.clients {
		if c.events != nil {
			c.requestPing()
			out = append(out, c)
		}
	}
	return out
}

// reload tells screens the board's definition changed: they reload the
// page to get the new layout. Screens the new definition no longer admits
// (a revoked pairing) are closed with CloseNotPaired instead.
func (h *hub) reload(def board.Board, now time.Time) {
	h.mu.Lock()
	h.def = def
	h.published = false // the next publish is a snapshot
	var revoked []*client
	for c := range h.clients {
		if !c.admitted(def) {
			revoked = append(revoked, c)
			delete(h.clients, c)
		}
	}
	var targets []*client
	if msg, err := h.prepare(Envelope{Type: TypeReload}, now); err == nil {
		targets = h.fanOut(msg, now, false)
	}
	h.mu.Unlock()
	for _, c := range revoked {
		c.close(CloseNotPaired, "access revoked")
	}
	deliver(targets)
}

// end disconnects every screen with a code and reason, and every screen
// that tries to join later.
func (h *hub) end(code int, reason string) {
	h.mu.Lock()
	h.endCode, h.endReason = code, reason
	clients := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.close(code, reason)
	}
}

// resnapshot returns the full current state for a screen being resynced,
// and drops from its queue the messages the snapshot already holds. Both
// happen under the hub's lock, under which every message was queued, so
// the next update the screen sees is the snapshot's seq + 1. Without the
// drop, updates queued while the screen was behind would follow a
// snapshot taken after them: a repeated seq, which a screen takes for a
// gap and asks again.
func (h *hub) resnapshot(c *client) *message {
	h.mu.Lock()
	defer h.mu.Unlock()
	c.mu.Lock()
	c.dropStateLocked()
	c.mu.Unlock()
	return h.snapshotLocked(h.now())
}

func (h *hub) snapshotLocked(now time.Time) *message {
	if h.snap != nil {
		return h.snap
	}
	tiles := make([]json.RawMessage, len(h.order))
	for i, id := range h.order {
		tiles[i] = h.tiles[id]
	}
	msg, err := h.prepare(Envelope{Type: TypeSnapshot, Title: h.title, Tiles: tiles}, now)
	if err != nil {
		return nil
	}
	h.snap = msg
	return msg
}

// prepare fills the envelope's common fields and encodes it once for all
// screens.
func (h *hub) prepare(e Envelope, now time.Time) (*message, error) {
	e.Board, e.Epoch, e.Seq, e.At, e.Stale = h.name, h.epoch, h.seq, now.UTC(), h.stale
	data, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", e.Type, err)
	}
	return newMessage(data, h.epoch, h.seq)
}

// fanOut queues msg for every screen without writing, and returns them:
// the caller delivers once the hub's lock is released, so joins and
// leaves never wait on socket writes. state is false for a message a
// snapshot does not replace (see outgoing).
func (h *hub) fanOut(msg *message, now time.Time, state bool) []*client {
	out := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		c.offer(msg, state)
		out = append(out, c)
	}
	h.lastSent = now
	return out
}
