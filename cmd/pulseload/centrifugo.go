package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Centrifugo is the field's reference server for this job, measured beside
// Pulseboard in the same run: the same screens subscribe to one channel per
// board, and a relay republishes every message Pulseboard sends for a board
// to that channel through Centrifugo's HTTP API. So the screens receive the
// same bytes (inside Centrifugo's push envelope) at the same moments, and
// only the delivery differs, as with the bare hub.
//
// It is built on demand from its Go module into a cache directory outside
// the repository, never as a dependency of the product's go.mod.
const (
	centrifugoModule  = "github.com/centrifugal/centrifugo/v6"
	centrifugoVersion = "v6.9.1"
)

// centrifugoBinary returns the path of the Centrifugo binary to run: bin
// when given, else the cached build, which it builds first (go install,
// a few minutes) when it is missing.
func centrifugoBinary(ctx context.Context, bin string, log io.Writer) (string, error) {
	if bin != "" {
		return bin, nil
	}
	path, err := centrifugoCachePath()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	progress(log, "building Centrifugo %s into %s (once; a few minutes)", centrifugoVersion, dir)
	cmd := exec.CommandContext(ctx, "go", "install", centrifugoModule+"@"+centrifugoVersion)
	// Outside any module, so the product's go.mod is neither read nor changed.
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOBIN="+dir)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install %s@%s: %w", centrifugoModule, centrifugoVersion, err)
	}
	return path, nil
}

// centrifugoCachePath is where the built binary is kept:
// $XDG_CACHE_HOME (else ~/.cache)/pulseboard/centrifugo-v6.9.1/centrifugo.
func centrifugoCachePath() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory for Centrifugo: %w", err)
	}
	return filepath.Join(cache, "pulseboard", "centrifugo-"+centrifugoVersion, "centrifugo"), nil
}

// centrifugoConfig is the generated configuration: anonymous connections
// without a token may subscribe to any channel without a namespace (one per
// board), the HTTP API takes a key, no history, presence or recovery. The
// WebSocket settings mirror the server's: permessage-deflate offered at
// gorilla's default level 1 for every message size, pooled write buffers,
// and a write that waits 2 s drops the screen.
// The keys are Centrifugo v6's (see `centrifugo defaultconfig -d`).
func centrifugoConfig(port int, apiKey string) ([]byte, error) {
	cfg := map[string]any{
		"http_server": map[string]any{"address": "127.0.0.1", "port": port},
		"log":         map[string]any{"level": "warn"},
		// The screens send no Origin header, which Centrifugo allows.
		"client": map[string]any{"allow_anonymous_connect_without_token": true},
		"channel": map[string]any{
			"without_namespace": map[string]any{"allow_subscribe_for_anonymous": true, "allow_subscribe_for_client": true},
		},
		"http_api": map[string]any{"key": apiKey},
		"websocket": map[string]any{
			"compression": true, "compression_level": 1, "compression_min_size": 0,
			"use_write_buffer_pool": true, "write_buffer_size": 4096, "read_buffer_size": 512,
			// Pulseboard drops a screen whose write has waited 2 s
			// (writeWait); Centrifugo's default is 1 s.
			"write_timeout": "2s",
		},
		"health":     map[string]any{"enabled": true},
		"prometheus": map[string]any{"enabled": true}, // go_goroutines at /metrics
		"usage_stats": map[string]any{
			"disabled": true, // loopback only: it must not phone home
		},
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// freePort asks the kernel for a free loopback port. Centrifugo takes a
// port number, not a listener, so there is a short window in which another
// process could take it; then the start fails and says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// spawnCentrifugo starts Centrifugo on a free loopback port with a
// generated config in dir, and waits until /health answers.
func spawnCentrifugo(bin, dir, apiKey string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg, err := centrifugoConfig(port, apiKey)
	if err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "centrifugo.json")
	if err := os.WriteFile(file, cfg, 0o600); err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "centrifugo.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child holds its own descriptor
	cmd := exec.Command(bin, "--config", file)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.exited = exited
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			out, _ := os.ReadFile(logFile.Name())
			return nil, fmt.Errorf("centrifugo exited at start: %s", bytes.TrimSpace(out))
		default:
		}
		if res, err := probeClient.Get("http://" + s.addr + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, fmt.Errorf("centrifugo did not answer /health within 30 s")
}

func randomKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cfRelay subscribes one Pulseboard screen per board and republishes each
// message body to the board's Centrifugo channel, in order.
type cfRelay struct {
	api, key  string
	client    *http.Client
	connected atomic.Int32
	errors    atomic.Int64
	// firstError is why the first failed publish failed.
	firstError atomic.Value
	latency    latencies    // publish round trips
	published  atomic.Int64 // messages
	batched    atomic.Int64 // requests that carried more than one
	mu         sync.Mutex
	last       map[string][]byte // each board's last message, for replayLast
}

func newCFRelay(api, key string) *cfRelay {
	return &cfRelay{api: api, key: key, last: map[string][]byte{},
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// follow relays one board until ctx ends or the upstream socket closes.
// Reading never waits for Centrifugo: a publish in flight would otherwise
// stall the socket until Pulseboard drops the relay as a hung screen.
// Messages that arrive meanwhile go out together in the next request.
func (r *cfRelay) follow(ctx context.Context, url, board string) error {
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer conn.Close()
	go func() { <-ctx.Done(); conn.Close() }()
	q := &cfQueue{wake: make(chan struct{}, 1)}
	go r.publishLoop(ctx, board, q)
	first := true
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if bytes.HasPrefix(data, snapshotPrefix) {
			// In v2 an update patches the state before it: the replay
			// that starts each screen is the snapshot.
			r.mu.Lock()
			r.last[board] = data
			r.mu.Unlock()
		}
		if first { // the join snapshot: no screen is subscribed yet
			first = false
			r.connected.Add(1)
			continue
		}
		q.push(data)
	}
}

// cfQueue holds one board's messages not yet published, in order.
type cfQueue struct {
	mu      sync.Mutex
	pending [][]byte
	wake    chan struct{}
}

func (q *cfQueue) push(m []byte) {
	q.mu.Lock()
	q.pending = append(q.pending, m)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default: // already woken
	}
}

func (q *cfQueue) take() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.pending
	q.pending = nil
	return out
}

// publishLoop publishes a board's pending messages, one request at a
// time so they keep their order: one message through /api/publish, more
// through /api/batch, which runs its commands in order.
func (r *cfRelay) publishLoop(ctx context.Context, board string, q *cfQueue) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		}
		msgs := q.take()
		if len(msgs) == 0 {
			continue
		}
		if err := r.publish(ctx, board, msgs...); err != nil && ctx.Err() == nil {
			if r.errors.Add(1) == 1 {
				r.firstError.Store(err.Error())
			}
		}
	}
}

// replayLast publishes each board's last snapshot again, once the screens
// have subscribed: Centrifugo keeps no history here, so this is the first
// message each screen sees, and it sets the count the screen measures from
// (as the join snapshot does on Pulseboard's own screens).
func (r *cfRelay) replayLast(ctx context.Context) error {
	r.mu.Lock()
	last := make(map[string][]byte, len(r.last))
	for b, m := range r.last {
		last[b] = m
	}
	r.mu.Unlock()
	for b, m := range last {
		if err := r.publish(ctx, b, m); err != nil {
			return err
		}
	}
	return nil
}

// publish posts messages to a channel: one through /api/publish, several
// through /api/batch. The messages are JSON, and Centrifugo's JSON protocol
// carries publication data verbatim, so the screens get Pulseboard's exact
// bytes inside the push envelope.
func (r *cfRelay) publish(ctx context.Context, channel string, msgs ...[]byte) error {
	one := func(body []byte, data []byte) []byte {
		body = append(body, `{"channel":`...)
		body = strconv.AppendQuote(body, channel)
		body = append(body, `,"data":`...)
		body = append(body, data...)
		return append(body, '}')
	}
	method := "/api/publish"
	var body []byte
	if len(msgs) == 1 {
		body = one(nil, msgs[0])
	} else {
		method = "/api/batch"
		body = append(body, `{"commands":[`...)
		for i, m := range msgs {
			if i > 0 {
				body = append(body, ',')
			}
			body = append(body, `{"publish":`...)
			body = append(one(body, m), '}')
		}
		body = append(body, "]}"...)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.api+method, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", r.key)
	began := time.Now()
	res, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	reply, _ := io.ReadAll(res.Body)
	r.latency.add(time.Since(began))
	r.published.Add(int64(len(msgs)))
	if len(msgs) > 1 {
		r.batched.Add(1)
	}
	if res.StatusCode != http.StatusOK || bytes.Contains(reply, []byte(`"error"`)) {
		return fmt.Errorf("publish to %s: %d %s", channel, res.StatusCode, bytes.TrimSpace(reply))
	}
	return nil
}

// Centrifugo's JSON protocol, the few frames a subscriber needs. Commands
// carry an id, and replies echo it; a frame may hold several replies, one
// per line. An empty object is a ping, which the client must answer with an
// empty object (v6: the server pings, the client pongs).
var (
	cfPing = []byte(`{}`)
	cfPush = []byte(`"push":`)
)

type cfReply struct {
	ID    uint32          `json:"id"`
	Error *cfError        `json:"error"`
	Push  json.RawMessage `json:"push"`
}

type cfError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// cfHandshake sends the connect and subscribe commands and waits for their
// replies. Errors name what Centrifugo refused.
func cfHandshake(conn *websocket.Conn, channel string) error {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	defer conn.SetReadDeadline(time.Time{})
	cmds := []string{`{"id":1,"connect":{"name":"pulseload"}}`,
		`{"id":2,"subscribe":{"channel":` + strconv.Quote(channel) + `}}`}
	for i, cmd := range cmds {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
			return err
		}
		want := uint32(i + 1)
		for got := false; !got; {
			_, data, err := conn.ReadMessage()
			if err != nil {
				return err
			}
			for line := range bytes.SplitSeq(data, []byte("\n")) {
				if len(bytes.TrimSpace(line)) == 0 {
					continue
				}
				var r cfReply
				if err := json.Unmarshal(line, &r); err != nil {
					return fmt.Errorf("centrifugo reply %q: %w", line, err)
				}
				if r.ID != want {
					continue
				}
				if r.Error != nil {
					return fmt.Errorf("centrifugo refused command %d: %d %s", want, r.Error.Code, r.Error.Message)
				}
				got = true
			}
		}
	}
	return nil
}

// connectCentrifugo opens n screens on Centrifugo's WebSocket endpoint,
// each subscribed to one board's channel, at most perSecond a second.
func (c *crowd) connectCentrifugo(ctx context.Context, wsURL string, boards []string, n int, perSecond int) {
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024,
		EnableCompression: c.compress, NetDialContext: c.countingDial}
	tick := time.NewTicker(time.Second / time.Duration(max(perSecond, 1)))
	defer tick.Stop()
	for i := range n {
		if ctx.Err() != nil {
			return
		}
		<-tick.C
		conn, _, err := dialer.DialContext(ctx, wsURL, nil)
		if err != nil {
			c.failed.Add(1)
			continue
		}
		if err := cfHandshake(conn, boards[i%len(boards)]); err != nil {
			conn.Close()
			c.failed.Add(1)
			if c.failed.Load() == 1 {
				c.firstError.Store(err.Error())
			}
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
		c.open.Add(1)
		c.wg.Add(1)
		go c.followCentrifugo(conn)
	}
}

// followCentrifugo reads a Centrifugo screen: it answers pings and measures
// each publication as follow measures Pulseboard's messages.
func (c *crowd) followCentrifugo(conn *websocket.Conn) {
	defer c.wg.Done()
	defer c.open.Add(-1)
	var t tally
	var buf bytes.Buffer
	for {
		buf.Reset()
		_, r, err := conn.NextReader()
		if err == nil {
			_, err = buf.ReadFrom(r)
		}
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !isClosedByUs(err) {
				if c.dropped.Add(1) == 1 {
					c.firstDrop.Store(err.Error()) // Centrifugo's close code and reason
				}
			}
			return
		}
		now := time.Now()
		for line := range bytes.SplitSeq(buf.Bytes(), []byte("\n")) {
			switch {
			case bytes.Equal(line, cfPing):
				if err := conn.WriteMessage(websocket.TextMessage, cfPing); err != nil {
					return
				}
			case bytes.Contains(line, cfPush):
				c.messages.Add(1)
				c.bytes.Add(int64(len(line)))
				c.see(&t, line, now)
			}
		}
	}
}

// tally is one screen's measuring state: the count in its first message
// (answers from before the run) and the last count it showed.
type tally struct {
	started    bool
	base, last int64
}

// see measures one message: when it raises the screen's count, the delay
// since the answer that first reached that count was acknowledged.
func (c *crowd) see(t *tally, msg []byte, now time.Time) {
	n, ok := countOf(msg)
	if !ok {
		return
	}
	if !t.started {
		t.started, t.base, t.last = true, n, n
		return
	}
	if n <= t.last {
		return
	}
	t.last = n
	if !c.measure.Load() {
		return
	}
	if at, ok := c.acks.when(n - t.base); ok {
		c.latency.add(now.Sub(at))
	}
}

// countingDial dials TCP and counts the bytes read from the socket: what
// the screens received on the wire, compressed or not, frames included.
func (c *crowd) countingDial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, n: &c.wire}, nil
}

type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var errNoCentrifugo = errors.New("-centrifugo needs -server-bin: the relay subscribes to a server this tool started")
