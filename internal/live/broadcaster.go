package live

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
)

// Source is the node's aggregator as the broadcaster uses it.
type Source interface {
	board.Source
	Status() aggregate.Status
	Changed() <-chan struct{}
}

// Options configure a broadcaster.
type Options struct {
	// Interval is the coalescing tick: views are recomputed at most this
	// often, and only when something changed or a minute passed.
	Interval time.Duration
	// AllowedOrigins may open sockets besides the page's own origin.
	AllowedOrigins []string
	Now            func() time.Time
	Logger         *slog.Logger
	// RenderTile adds each tile's markup to the messages, for browsers.
	RenderTile TileRenderer
	// Observer is told about fan-outs and dropped screens (metrics).
	Observer Observer
	// MaxPerIP caps the sockets one client address holds open (0: none).
	MaxPerIP int
	// Changed, when set, signals changes that do not come from the
	// aggregator (the alert state: banners, follow-ups).
	Changed <-chan struct{}
}

// Access decides whether a screen may watch a board. It is asked when the
// screen connects and again whenever the board's definition changes, so a
// pairing removed from the definition ends the screen's session.
type Access func(board.Board) bool

// Observer receives the broadcaster's measurements.
type Observer interface {
	// Broadcast reports how long one board update took to reach every
	// screen's socket (its kernel buffer, or the backlog of one behind).
	Broadcast(took time.Duration)
	// ScreenDropped reports a screen closed as too slow.
	ScreenDropped()
}

type noObserver struct{}

func (noObserver) Broadcast(time.Duration) {}
func (noObserver) ScreenDropped()          {}

// ErrNoBoard means no board has the requested name.
var ErrNoBoard = errors.New("no such board")

// Broadcaster owns one hub per board and the loop that feeds them.
type Broadcaster struct {
	src      Source
	comp     board.Computer
	opts     Options
	upgrader websocket.Upgrader
	reloads  chan []board.Board

	// publishMu serializes computing and publishing, between the loop and a
	// first screen joining a board nobody watched.
	publishMu sync.Mutex

	mu     sync.RWMutex
	hubs   map[string]*hub
	boards []board.Board
	closed bool

	// perIP counts open sockets by client address, for MaxPerIP.
	ipMu  sync.Mutex
	perIP map[string]int
}

// New makes a broadcaster for the given boards.
func New(src Source, comp board.Computer, boards []board.Board, opts Options) *Broadcaster {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Interval <= 0 {
		opts.Interval = 250 * time.Millisecond
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	b := &Broadcaster{src: src, comp: comp, opts: opts, hubs: make(map[string]*hub), reloads: make(chan []board.Board, 1), perIP: map[string]int{}}
	allowed := make([]string, len(opts.AllowedOrigins))
	for i, o := range opts.AllowedOrigins {
		allowed[i] = strings.ToLower(o)
	}
	b.upgrader = websocket.Upgrader{
		// No read buffer of the library's own: it reads through the one
		// the hijacker hands it (readBufferSize), which the screen's reader
		// consults before it parks.
		ReadBufferSize: 0,
		// Write buffers come from a pool and are held only during a write,
		// not by idle connections.
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		// permessage-deflate without context takeover: a prepared message
		// is compressed once for all screens that negotiated it, so board
		// updates (JSON with tile markup) shrink several times at no cost
		// per screen.
		EnableCompression: true,
		CheckOrigin:       func(r *http.Request) bool { return originAllowed(r, allowed) },
	}
	b.setBoards(boards)
	return b
}

// originAllowed accepts the page's own origin, configured ones, and clients
// that send no Origin (not browsers, so not a cross-site page).
func originAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Host, r.Host) || slices.Contains(allowed, strings.ToLower(origin))
}

// Boards returns the current board definitions.
func (b *Broadcaster) Boards() []board.Board {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return slices.Clone(b.boards)
}

// Board returns one board definition.
func (b *Broadcaster) Board(name string) (board.Board, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	h := b.hubs[name]
	if h == nil {
		return board.Board{}, false
	}
	return h.definition(), true
}

// View computes a board's current view (for the JSON API and first paint).
func (b *Broadcaster) View(name string) (board.View, aggregate.Status, error) {
	def, ok := b.Board(name)
	if !ok {
		return board.View{}, aggregate.Status{}, ErrNoBoard
	}
	return b.Compute(def)
}

// Compute computes any board definition from this node's aggregator, such
// as the overview on the index page.
func (b *Broadcaster) Compute(def board.Board) (board.View, aggregate.Status, error) {
	st := b.src.Status()
	v, err := b.comp.Compute(def, b.src, b.opts.Now())
	return v, st, err
}

// SetBoards replaces the board definitions (a reload); the loop applies
// them.
func (b *Broadcaster) SetBoards(boards []board.Board) {
	select {
	case <-b.reloads: // a newer set replaces one not applied yet
	default:
	}
	b.reloads <- boards
}

// setBoards applies a set of definitions: new boards get hubs, changed ones
// tell their screens to reload, removed ones close their screens.
func (b *Broadcaster) setBoards(boards []board.Board) {
	now := b.opts.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	keep := make(map[string]bool, len(boards))
	for _, def := range boards {
		keep[def.Name] = true
		h := b.hubs[def.Name]
		switch {
		case h == nil:
			b.hubs[def.Name] = newHub(def, b.opts.Observer)
		case !reflect.DeepEqual(h.definition(), def):
			h.reload(def, now)
		}
	}
	for name, h := range b.hubs {
		if !keep[name] {
			h.end(CloseBoardRemoved, "board removed")
			delete(b.hubs, name)
		}
	}
	b.boards = boards
}

func (b *Broadcaster) hubList() []*hub {
	b.mu.RLock()
	defer b.mu.RUnlock()
	out := make([]*hub, 0, len(b.hubs))
	for _, h := range b.hubs {
		out = append(out, h)
	}
	return out
}

// Run feeds the hubs until ctx ends: on each tick, if the aggregator
// changed or a minute began (windows slide), every watched board is
// recomputed and its changes pushed; otherwise screens get heartbeats.
func (b *Broadcaster) Run(ctx context.Context) {
	tick := time.NewTicker(b.opts.Interval)
	defer tick.Stop()
	ping := time.NewTicker(pingPeriod)
	defer ping.Stop()
	dirty := true
	var lastMinute time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-b.src.Changed():
			dirty = true
		case <-b.opts.Changed:
			dirty = true
		case <-ping.C:
			for _, h := range b.hubList() {
				deliver(h.ping())
			}
		case boards := <-b.reloads:
			b.setBoards(boards)
			dirty = true
		case <-tick.C:
			now := b.opts.Now()
			if minute := now.Truncate(time.Minute); !minute.Equal(lastMinute) {
				lastMinute, dirty = minute, true
			}
			if dirty {
				dirty = false
				b.publishAll(now)
				continue
			}
			for _, h := range b.hubList() {
				targets, err := h.heartbeat(now)
				if err != nil {
					b.opts.Logger.Error("heartbeat", slog.String("board", h.name), slog.Any("err", err))
				}
				deliver(targets)
			}
		}
	}
}

func (b *Broadcaster) publishAll(now time.Time) {
	for _, h := range b.hubList() {
		if h.size() == 0 {
			continue // computed when a screen joins
		}
		if err := b.publish(h, now); err != nil {
			b.opts.Logger.Error("publish board", slog.String("board", h.name), slog.Any("err", err))
		}
	}
}

func (b *Broadcaster) publish(h *hub, now time.Time) error {
	b.publishMu.Lock()
	defer b.publishMu.Unlock()
	st := b.src.Status()
	if !st.Ready {
		return nil // nothing true to show yet; screens keep their first paint
	}
	v, err := b.comp.Compute(h.definition(), b.src, now)
	if err != nil {
		return err
	}
	began := time.Now()
	targets, err := h.publish(v, b.opts.RenderTile, st.Epoch, st.Stale, now)
	deliver(targets)
	if len(targets) > 0 {
		b.opts.Observer.Broadcast(time.Since(began))
	}
	return err
}

// Serve upgrades a request to a board's live socket. The screen gets a
// snapshot at once, then updates. may (nil: anyone) decides whether the
// screen may watch; one that may not gets its socket closed with
// CloseNotPaired, the one answer a browser's script can read.
func (b *Broadcaster) Serve(w http.ResponseWriter, r *http.Request, name string, may Access) error {
	b.mu.RLock()
	h, closed := b.hubs[name], b.closed
	b.mu.RUnlock()
	if h == nil {
		return ErrNoBoard
	}
	if closed {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return nil
	}
	ip := clientIP(r)
	if !b.takeSlot(ip) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many live screens from this address", http.StatusTooManyRequests)
		return nil
	}
	release := sync.OnceFunc(func() { b.releaseSlot(ip) })
	hj := &hijacker{ResponseWriter: w}
	conn, err := b.upgrader.Upgrade(hj, r, nil)
	if err != nil {
		release()
		return nil // the upgrader has answered the client (403 on a foreign origin)
	}
	if may != nil && !may(h.definition()) {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(CloseNotPaired, "not paired"), time.Now().Add(writeWait))
		_ = conn.Close()
		release()
		return nil
	}
	// The loop skips boards nobody watches, so a board's state is only
	// current while it has screens: bring it up to date for the first one.
	if !h.isPublished() || h.size() == 0 {
		if err := b.publish(h, b.opts.Now()); err != nil {
			b.opts.Logger.Error("publish board", slog.String("board", name), slog.Any("err", err))
		}
	}
	if tc, ok := hj.wire.tcp(); ok {
		_ = tc.SetWriteBuffer(socketSendBuffer)
	}
	c := newClient(h, conn, hj.wire, hj.br, may, release)
	if h.join(c) {
		go c.readPump()
	}
	return nil
}

// clientIP is the address a socket comes from. Forwarded headers are not
// trusted: behind a proxy every screen shares its address, which the
// max_screens_per_ip setting documents.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// takeSlot counts a socket against its address's cap.
func (b *Broadcaster) takeSlot(ip string) bool {
	b.ipMu.Lock()
	defer b.ipMu.Unlock()
	if b.opts.MaxPerIP > 0 && b.perIP[ip] >= b.opts.MaxPerIP {
		return false
	}
	b.perIP[ip]++
	return true
}

func (b *Broadcaster) releaseSlot(ip string) {
	b.ipMu.Lock()
	defer b.ipMu.Unlock()
	if b.perIP[ip]--; b.perIP[ip] <= 0 {
		delete(b.perIP, ip)
	}
}

// Clients counts connected screens per board.
func (b *Broadcaster) Clients() map[string]int {
	out := map[string]int{}
	for _, h := range b.hubList() {
		out[h.name] = h.size()
	}
	return out
}

// Close disconnects every screen with "going away" and refuses new ones.
// http.Server.Shutdown does not close hijacked connections; this does.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	for _, h := range b.hubList() {
		h.end(websocket.CloseGoingAway, "server shutting down")
	}
}
