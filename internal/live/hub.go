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

	mu      sync.Mutex
	clients map[*client]struct{}
	def     board.Board
	title   string
	epoch   string
	seq     uint64
	stale   bool
	order   []string // tile ids in board order
	// tiles is each tile as last published. Only publish replaces it, and
	// the broadcaster never runs two publishes at once (publishMu), so
	// publish reads it without the lock while it computes patches.
	tiles map[string]*tileState
	// screens counts the screens of each protocol version, so an update
	// is encoded (and v2's patches computed) only for versions watched.
	screens [versions]int
	// snap caches the snapshot of the current (epoch, seq, stale) in each
	// protocol version.
	snap [versions]*message
	// published is false until the first computation; publishedAt is
	// the time of the state published, which its snapshots carry.
	published   bool
	publishedAt time.Time
	lastSent    time.Time
	// lastComment is when event streams last got a keep-alive comment.
	lastComment time.Time
	// endCode, once set, is how the hub ended (its board removed, the
	// server shutting down): a screen that joins after is closed with it.
	endCode   int
	endReason string
}

func newHub(def board.Board, o Observer) *hub {
	return &hub{name: def.Name, observer: o, def: def, clients: make(map[*client]struct{}), tiles: make(map[string]*tileState)}
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
	h.screens[c.version]++
	// A screen that resumes (an event stream reconnecting with the id of
	// the state it holds) needs no snapshot: the board's epoch and seq are
	// shared by every version, so it takes the next update in its own.
	if h.published && !c.resumes(h.epoch, h.seq) {
		if snap := h.snapshotLocked(c.version); snap != nil {
			c.offer(snap, true)
		}
	}
	h.mu.Unlock()
	c.flush()
	return true
}

func (h *hub) remove(c *client) {
	h.mu.Lock()
	h.forgetLocked(c)
	h.mu.Unlock()
	c.close(websocket.CloseNormalClosure, "")
}

// forgetLocked removes a screen from the hub, once.
func (h *hub) forgetLocked(c *client) {
	if _, ok := h.clients[c]; ok {
		delete(h.clients, c)
		h.screens[c.version]--
	}
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
// screens it was queued for, for the caller to deliver. Calls must not
// overlap (the broadcaster holds publishMu): see tiles.
func (h *hub) publish(v board.View, render TileRenderer, epoch string, stale bool, now time.Time) ([]*client, error) {
	next := make(map[string]*tileState, len(v.Tiles))
	order := make([]string, len(v.Tiles))
	for i, t := range v.Tiles {
		ts, err := encodeTile(t, render)
		if err != nil {
			return nil, err
		}
		next[t.ID] = ts
		order[i] = t.ID
	}
	h.mu.Lock()
	watchedV2 := h.screens[ProtocolV2] > 0
	h.mu.Unlock()
	// Once per board and tick, whatever the number of v2 screens.
	patches := patchTiles(h.tiles, next, watchedV2)

	h.mu.Lock()
	defer h.mu.Unlock()
	fresh := !h.published || epoch != h.epoch || v.Title != h.title || !slices.Equal(order, h.order)
	var changed [versions][]json.RawMessage
	if !fresh {
		for _, id := range order {
			old, cur := h.tiles[id], next[id]
			if !bytes.Equal(cur.v1, old.v1) {
				changed[ProtocolV1] = append(changed[ProtocolV1], cur.v1)
			}
			if cur.html != old.html {
				if p, ok := patches[id]; ok {
					changed[ProtocolV2] = append(changed[ProtocolV2], p)
				} else {
					changed[ProtocolV2] = append(changed[ProtocolV2], cur.v2)
				}
			}
		}
		if len(changed[ProtocolV1]) == 0 && len(changed[ProtocolV2]) == 0 && stale == h.stale {
			return nil, nil
		}
	}
	if epoch != h.epoch {
		h.seq = 0
	}
	h.published, h.publishedAt, h.epoch, h.title, h.stale, h.order, h.tiles = true, now, epoch, v.Title, stale, order, next
	h.seq++
	h.snap = [versions]*message{}
	var msgs [versions]*message
	for ver := ProtocolV1; ver < versions; ver++ {
		if h.screens[ver] == 0 {
			continue // a screen that joins gets a snapshot
		}
		if fresh {
			msgs[ver] = h.snapshotLocked(ver)
			continue
		}
		var err error
		if msgs[ver], err = h.prepare(Envelope{Type: TypeUpdate, Tiles: changed[ver]}, ver, now); err != nil {
			return nil, err
		}
	}
	return h.fanOut(msgs, now, true), nil
}

// TileRenderer renders a tile's HTML for browsers, which swap it in by id
// (nil: JSON only; v2 screens, which get markup only, then get no tiles).
type TileRenderer func(board.TileView) (string, error)

// heartbeat tells screens the server is alive, with the current seq. It
// returns the screens to deliver to.
func (h *hub) heartbeat(now time.Time) ([]*client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.published || now.Sub(h.lastSent) < HeartbeatEvery {
		return nil, nil
	}
	msgs, err := h.prepareAll(Envelope{Type: TypeHeartbeat}, now)
	if err != nil {
		return nil, err
	}
	return h.fanOut(msgs, now, true), nil
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
			h.forgetLocked(c)
		}
	}
	var targets []*client
	if msgs, err := h.prepareAll(Envelope{Type: TypeReload}, now); err == nil {
		targets = h.fanOut(msgs, now, false)
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
	return h.snapshotLocked(c.version)
}

// snapshotLocked is the current snapshot in a protocol version, encoded
// once for all its screens, stamped with the time its state was published
// (a resync's answer too).
func (h *hub) snapshotLocked(ver int) *message {
	if h.snap[ver] != nil {
		return h.snap[ver]
	}
	tiles := make([]json.RawMessage, len(h.order))
	for i, id := range h.order {
		tiles[i] = h.tiles[id].wire(ver)
	}
	msg, err := h.prepare(Envelope{Type: TypeSnapshot, Title: h.title, Tiles: tiles}, ver, h.publishedAt)
	if err != nil {
		return nil
	}
	h.snap[ver] = msg
	return msg
}

// prepare fills the envelope's common fields and encodes it once for all
// screens of a protocol version.
func (h *hub) prepare(e Envelope, ver int, now time.Time) (*message, error) {
	e.Board, e.Epoch, e.Seq, e.At, e.Stale = h.name, h.epoch, h.seq, now.UTC(), h.stale
	data, err := encodeEnvelope(e, ver)
	if err != nil {
		return nil, fmt.Errorf("encode %s message: %w", e.Type, err)
	}
	return newMessage(data, h.epoch, h.seq)
}

// prepareAll encodes a message without tiles in every protocol version.
func (h *hub) prepareAll(e Envelope, now time.Time) ([versions]*message, error) {
	var out [versions]*message
	for ver := ProtocolV1; ver < versions; ver++ {
		var err error
		if out[ver], err = h.prepare(e, ver, now); err != nil {
			return out, err
		}
	}
	return out, nil
}

// fanOut queues each screen its version's message without writing, and
// returns them: the caller delivers once the hub's lock is released, so
// joins and leaves never wait on socket writes. state is false for a
// message a snapshot does not replace (see outgoing).
func (h *hub) fanOut(msgs [versions]*message, now time.Time, state bool) []*client {
	out := make([]*client, 0, len(h.clients))
	for c := range h.clients {
		if msg := msgs[c.version]; msg != nil {
			c.offer(msg, state)
		} else {
			// Not encoded for its version, which screens says nobody
			// speaks: never, but a snapshot would hold what it said.
			c.markResync()
		}
		out = append(out, c)
	}
	h.lastSent = now
	return out
}
