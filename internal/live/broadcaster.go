package live

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
)

// Source is the node's aggregator as the broadcaster uses it: a signal
// after its numbers or status changed.
type Source interface {
	Changed() <-chan struct{}
}

// Boards is the board registry (package boards) as live reads it: the
// current definitions, their views, and a signal after every replacement.
type Boards interface {
	Boards() []board.Board
	Board(name string) (board.Board, bool)
	Compute(def board.Board, now time.Time) (board.View, aggregate.Status, error)
	Subscribe() <-chan struct{}
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
	// KeepAlive is how long an event stream may stay silent before it
	// gets a comment line (0: DefaultKeepAlive), by Now's clock.
	KeepAlive time.Duration
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

// Broadcaster owns one hub per board and the loop that feeds them. The
// definitions are the registry's; a hub keeps the one its screens were
// admitted under, to tell a change from none when the registry is replaced.
type Broadcaster struct {
	src      Source
	boards   Boards
	reloads  <-chan struct{}
	opts     Options
	upgrader websocket.Upgrader
	slots    addressSlots

	// publishMu serializes computing and publishing, between the loop and a
	// first screen joining a board nobody watched.
	publishMu sync.Mutex

	mu     sync.RWMutex
	hubs   map[string]*hub
	closed bool
}

// New makes a broadcaster for the registry's boards.
func New(src Source, boards Boards, opts Options) *Broadcaster {
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
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = DefaultKeepAlive
	}
	b := &Broadcaster{
		src: src, boards: boards, reloads: boards.Subscribe(), opts: opts,
		upgrader: newUpgrader(opts.AllowedOrigins), slots: addressSlots{max: opts.MaxPerIP},
		hubs: make(map[string]*hub),
	}
	b.applyBoards()
	return b
}

// applyBoards brings the hubs in line with the registry's definitions: new
// boards get hubs, changed ones tell their screens to reload (or close
// those the new definition no longer admits), removed ones close their
// screens. The registry is read under b.mu, as hubFor reads it, so a
// screen joining meanwhile finds either the old hubs or the new ones.
func (b *Broadcaster) applyBoards() {
	now := b.opts.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	defs := b.boards.Boards()
	keep := make(map[string]bool, len(defs))
	for _, def := range defs {
		keep[def.Name] = true
		h := b.hubs[def.Name]
		switch {
		case h == nil:
			b.hubs[def.Name] = b.newHub(def)
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
}

func (b *Broadcaster) newHub(def board.Board) *hub {
	return newHub(def, b.opts.Observer)
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
// A replacement of the registry's definitions is applied at once.
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
		case <-b.reloads:
			b.applyBoards()
			dirty = true
		case <-tick.C:
			now := b.opts.Now()
			if minute := now.Truncate(time.Minute); !minute.Equal(lastMinute) {
				lastMinute, dirty = minute, true
			}
			if dirty {
				dirty = false
				b.publishAll(now)
			} else {
				for _, h := range b.hubList() {
					targets, err := h.heartbeat(now)
					if err != nil {
						b.opts.Logger.Error("heartbeat", slog.String("board", h.name), slog.Any("err", err))
					}
					deliver(targets)
				}
			}
			for _, h := range b.hubList() {
				deliver(h.keepAlive(now, b.opts.KeepAlive))
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
	v, st, err := b.boards.Compute(h.definition(), now)
	if !st.Ready {
		return nil // nothing true to show yet; screens keep their first paint
	}
	if err != nil {
		return err
	}
	// How long the fan-out took is a metric of elapsed time, taken on the
	// monotonic clock: Options.Now says what time the numbers are for, and
	// in tests it stands still.
	began := time.Now()
	targets, err := h.publish(v, b.opts.RenderTile, st.Epoch, st.Stale, now)
	deliver(targets)
	if len(targets) > 0 {
		b.opts.Observer.Broadcast(time.Since(began))
	}
	return err
}

// Clients counts connected screens per board.
func (b *Broadcaster) Clients() map[string]int {
	out := map[string]int{}
	for _, h := range b.hubList() {
		out[h.name] = h.size()
	}
	return out
}

// EventStreams counts the screens connected by Server-Sent Events; Clients
// counts them too.
func (b *Broadcaster) EventStreams() int {
	n := 0
	for _, h := range b.hubList() {
		h.mu.Lock()
		for c := range h.clients {
			if c.events != nil {
				n++
			}
		}
		h.mu.Unlock()
	}
	return n
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
