package live

import (
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Serving a screen: the upgrade with its origin check, the per-address
// cap, the access check, and the join to the board's hub.

// newUpgrader is the screens' WebSocket upgrader. allowedOrigins may open
// sockets besides the page's own origin.
func newUpgrader(allowedOrigins []string) websocket.Upgrader {
	allowed := make([]string, len(allowedOrigins))
	for i, o := range allowedOrigins {
		allowed[i] = strings.ToLower(o)
	}
	return websocket.Upgrader{
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

// Serve upgrades a request to a board's live socket. The screen gets a
// snapshot at once, then updates. may (nil: anyone) decides whether the
// screen may watch; one that may not gets its socket closed with
// CloseNotPaired, the one answer a browser's script can read.
//
// The query parameter v picks the protocol version (absent: 1); any other
// value than 1 or 2 is answered with an error wrapping ErrBadVersion,
// before the upgrade and before anything is written.
func (b *Broadcaster) Serve(w http.ResponseWriter, r *http.Request, name string, may Access) error {
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
	ip := clientIP(r)
	if !b.slots.take(ip) {
		w.Header().Set("Retry-After", "60")
		http.Error(w, "too many live screens from this address", http.StatusTooManyRequests)
		return nil
	}
	release := sync.OnceFunc(func() { b.slots.release(ip) })
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
	b.bringUp(h)
	if tc, ok := hj.wire.tcp(); ok {
		_ = tc.SetWriteBuffer(socketSendBuffer)
	}
	c := newClient(h, conn, hj.wire, hj.br, may, release, version)
	if h.join(c) {
		go c.readPump()
	}
	return nil
}

// bringUp brings a board's state up to date for a screen about to join:
// the loop skips boards nobody watches, so a board's state is only
// current while it has screens.
func (b *Broadcaster) bringUp(h *hub) {
	if !h.isPublished() || h.size() == 0 {
		if err := b.publish(h, b.opts.Now()); err != nil {
			b.opts.Logger.Error("publish board", slog.String("board", h.name), slog.Any("err", err))
		}
	}
}

// hubFor finds the hub of a board the registry holds, and whether the
// broadcaster is closed. The registry is read under b.mu, as applyBoards
// reads it: a board a reload added, which the loop has not applied yet,
// gets its hub here (its page, which reads the registry, already shows
// it), and a board a reload removed gets none, so no screen joins a hub
// that nobody ends.
func (b *Broadcaster) hubFor(name string) (*hub, bool) {
	b.mu.RLock()
	_, ok := b.boards.Board(name)
	h, closed := b.hubs[name], b.closed
	b.mu.RUnlock()
	switch {
	case !ok:
		return nil, closed
	case h != nil:
		return h, closed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	def, ok := b.boards.Board(name) // again: a reload may have landed between the locks
	if !ok {
		return nil, b.closed
	}
	if h = b.hubs[name]; h == nil && !b.closed {
		h = b.newHub(def)
		b.hubs[name] = h
	}
	return h, b.closed
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

// addressSlots counts open sockets by client address, for MaxPerIP.
type addressSlots struct {
	max int // 0: no cap

	mu sync.Mutex
	n  map[string]int
}

// take counts a socket against its address's cap.
func (s *addressSlots) take(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.n[ip] >= s.max {
		return false
	}
	if s.n == nil {
		s.n = map[string]int{}
	}
	s.n[ip]++
	return true
}

func (s *addressSlots) release(ip string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n[ip]--; s.n[ip] <= 0 {
		delete(s.n, ip)
	}
}
