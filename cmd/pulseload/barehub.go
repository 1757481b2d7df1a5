package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The bare hub is the yardstick for the live path: the plainest tuned
// gorilla broadcast hub (a reader and a writer goroutine and a buffered
// channel per connection, one prepared message per broadcast, compression
// and buffers set as the server sets them), run as its own process so its
// memory and CPU are read from /proc like the server's. It is fed the
// server's own messages: one upstream socket per board relays every
// message the server sends to that board to all of the hub's screens. So
// the screens see the same bytes at the same moments, and only the
// delivery differs.

// bareHubCommand is the hidden subcommand that runs the hub.
const bareHubCommand = "barehub"

// Timing of a bare-hub connection, as in gorilla's own examples.
const (
	bareWriteWait  = 2 * time.Second
	barePongWait   = 60 * time.Second
	barePingPeriod = barePongWait * 9 / 10
	bareSendQueue  = 16
)

type bareBoard struct {
	mu    sync.Mutex
	conns map[*bareConn]struct{}
	// join is sent to a screen when it joins: the last snapshot the relay
	// read. In v2 an update patches the state before it, so a joining
	// screen needs the snapshot; pulseload's screens join before answers
	// flow, so it is also the current state.
	join *websocket.PreparedMessage
}

// snapshotPrefix starts a snapshot message in both versions.
var snapshotPrefix = []byte(`{"type":"snapshot"`)

func (b *bareBoard) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.conns)
}

type bareConn struct {
	ws   *websocket.Conn
	send chan *websocket.PreparedMessage
}

type bareHub struct {
	boards    map[string]*bareBoard
	connected atomic.Int32 // upstream sockets open
	upgrader  websocket.Upgrader
}

func newBareHub(names []string) *bareHub {
	h := &bareHub{boards: map[string]*bareBoard{}}
	for _, n := range names {
		h.boards[n] = &bareBoard{conns: map[*bareConn]struct{}{}}
	}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize: 512, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{},
		EnableCompression: true,
		CheckOrigin:       func(*http.Request) bool { return true },
	}
	return h
}

// relay reads one board's messages from the server and broadcasts each.
func (h *bareHub) relay(ctx context.Context, url string, b *bareBoard) error {
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer conn.Close()
	h.connected.Add(1)
	defer h.connected.Add(-1)
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
		if err != nil {
			return err
		}
		b.mu.Lock()
		if bytes.HasPrefix(data, snapshotPrefix) {
			b.join = pm
		}
		for c := range b.conns {
			select {
			case c.send <- pm:
			default: // a full queue: the screen misses this one
			}
		}
		b.mu.Unlock()
	}
}

func (h *bareHub) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/boards/"), "/live")
	b := h.boards[name]
	if b == nil {
		http.NotFound(w, r)
		return
	}
	ws, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &bareConn{ws: ws, send: make(chan *websocket.PreparedMessage, bareSendQueue)}
	b.mu.Lock()
	b.conns[c] = struct{}{}
	if b.join != nil {
		c.send <- b.join
	}
	b.mu.Unlock()
	go c.write()
	go func() {
		defer func() {
			b.mu.Lock()
			delete(b.conns, c)
			b.mu.Unlock()
			close(c.send)
		}()
		ws.SetReadLimit(4096)
		_ = ws.SetReadDeadline(time.Now().Add(barePongWait))
		ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(barePongWait)) })
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
}

func (c *bareConn) write() {
	ping := time.NewTicker(barePingPeriod)
	defer func() {
		ping.Stop()
		c.ws.Close()
	}()
	for {
		select {
		case pm, ok := <-c.send:
			if !ok {
				return
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(bareWriteWait))
			if c.ws.WritePreparedMessage(pm) != nil {
				return
			}
		case <-ping.C:
			if c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(bareWriteWait)) != nil {
				return
			}
		}
	}
}

// runBareHub serves the hub on a free loopback port until interrupted,
// announcing its address on stderr the way the server does.
func runBareHub(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("pulseload "+bareHubCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	upstream := fs.String("upstream", "", "the server's loopback base URL")
	boards := fs.Int("boards", 20, "boards to relay (load-01 ...)")
	protocol := fs.Int("protocol", 2, "the live protocol version to relay (?v=)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if !isLoopback(*upstream) {
		fmt.Fprintln(stderr, "pulseload barehub: -upstream must be a loopback URL")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	names := boardNames(*boards)
	h := newBareHub(names)
	wsBase := "ws" + strings.TrimPrefix(*upstream, "http")
	for _, n := range names {
		go func() {
			if err := h.relay(ctx, fmt.Sprintf("%s/boards/%s/live?v=%d", wsBase, n, *protocol), h.boards[n]); err != nil && ctx.Err() == nil {
				fmt.Fprintln(stderr, "pulseload barehub: relay", n, err)
			}
		}()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/boards/", h.serve)
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if int(h.connected.Load()) < len(names) {
			http.Error(w, "relays not connected", http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(stderr, "pulseload barehub:", err)
		return 1
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	fmt.Fprintf(stderr, "msg=serving addr=%s\n", ln.Addr())
	if err := srv.Serve(ln); err != nil && ctx.Err() == nil {
		fmt.Fprintln(stderr, "pulseload barehub:", err)
		return 1
	}
	return 0
}
