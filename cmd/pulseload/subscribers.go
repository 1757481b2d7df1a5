package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// crowd is a set of screens; each follows one board and measures how long
// after an answer's acknowledgement its count reaches the screen.
type crowd struct {
	acks     *ackLog
	latency  latencies
	messages atomic.Int64
	bytes    atomic.Int64
	dropped  atomic.Int64 // closed by the server or failed while open
	failed   atomic.Int64 // could not connect
	open     atomic.Int64
	conns    []*websocket.Conn
	mu       sync.Mutex
	measure  atomic.Bool // latencies count only while ingest runs
	compress bool
	wg       sync.WaitGroup
	// wire counts the bytes the screens read from their sockets (frames,
	// compressed or not): see countingDial.
	wire atomic.Int64
	// firstError is why the first screen that failed to subscribe failed,
	// firstDrop why the first one dropped was (Centrifugo's screens).
	firstError, firstDrop atomic.Value
	// protocol is the version screens ask for (?v=); updateSizes are the
	// payloads of the updates they get, uncompressed.
	protocol    int
	updateSizes sizes
}

var countKey = []byte(`"id":"responses"`)
var respKey = []byte(`"responses":`)
var tileKey = []byte(`{"id":`)
var numKey = []byte(`data-num`)
var updatePrefix = []byte(`{"type":"update"`)

// countOf finds the count tile's total in a message without decoding the
// whole envelope: cheap enough for ten thousand screens on the same cores.
// In v1 it is the tile's "responses"; in v2 the count's data-num, in the
// tile's patch ("data-num","123") or markup (data-num=\"123\").
func countOf(msg []byte) (int64, bool) {
	i := bytes.Index(msg, countKey)
	if i < 0 {
		return 0, false
	}
	tile := msg[i+len(countKey):]
	if j := bytes.Index(tile, tileKey); j >= 0 {
		tile = tile[:j] // the next tile's numbers are not the count
	}
	var k int
	if j := bytes.Index(tile, respKey); j >= 0 {
		k = j + len(respKey)
	} else if j := bytes.Index(tile, numKey); j >= 0 {
		k = j + len(numKey)
		for k < len(tile) && bytes.IndexByte([]byte(`",=\`), tile[k]) >= 0 {
			k++
		}
	} else {
		return 0, false
	}
	end := k
	for end < len(tile) && tile[end] >= '0' && tile[end] <= '9' {
		end++
	}
	n, err := strconv.ParseInt(string(tile[k:end]), 10, 64)
	return n, err == nil
}

// connect opens n screens spread over boards, at most perSecond a second.
func (c *crowd) connect(ctx context.Context, wsBase string, boards []string, n int, perSecond int) {
	// Like a browser, screens offer permessage-deflate.
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024, EnableCompression: c.compress,
		NetDialContext: c.countingDial}
	tick := time.NewTicker(time.Second / time.Duration(max(perSecond, 1)))
	defer tick.Stop()
	for i := range n {
		if ctx.Err() != nil {
			return
		}
		<-tick.C
		url := fmt.Sprintf("%s/boards/%s/live?v=%d", wsBase, boards[i%len(boards)], c.protocol)
		conn, _, err := dialer.DialContext(ctx, url, nil)
		if err != nil {
			c.failed.Add(1)
			continue
		}
		c.mu.Lock()
		c.conns = append(c.conns, conn)
		c.mu.Unlock()
		c.open.Add(1)
		c.wg.Add(1)
		go c.follow(conn)
	}
}

func (c *crowd) follow(conn *websocket.Conn) {
	defer c.wg.Done()
	defer c.open.Add(-1)
	base := int64(-1) // the count in the first snapshot: answers from before the run
	last := int64(0)
	// One buffer per screen, reused: the load generator shares the cores
	// with the server, so its own garbage would show up in the server's
	// delays.
	var buf bytes.Buffer
	for {
		buf.Reset()
		_, r, err := conn.NextReader()
		if err == nil {
			_, err = buf.ReadFrom(r)
		}
		msg := buf.Bytes()
		if err != nil {
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway) && !isClosedByUs(err) {
				c.dropped.Add(1)
			}
			return
		}
		now := time.Now()
		c.messages.Add(1)
		c.bytes.Add(int64(len(msg)))
		if bytes.HasPrefix(msg, updatePrefix) {
			c.updateSizes.add(len(msg))
		}
		n, ok := countOf(msg)
		if !ok {
			continue
		}
		if base < 0 {
			base, last = n, n
			continue
		}
		if n <= last {
			continue
		}
		last = n
		if !c.measure.Load() {
			continue
		}
		if at, ok := c.acks.when(n - base); ok {
			c.latency.add(now.Sub(at))
		}
	}
}

// stall opens n screens that never read, as a hung TV would: with a small
// receive buffer, so the server's writes to them block within a few
// updates. The server should drop them without delaying anybody else.
func stall(ctx context.Context, wsBase string, boards []string, n int) []*websocket.Conn {
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return conn, err
	}}
	var out []*websocket.Conn
	for i := range n {
		conn, _, err := dialer.DialContext(ctx, fmt.Sprintf("%s/boards/%s/live", wsBase, boards[i%len(boards)]), nil)
		if err == nil {
			out = append(out, conn)
		}
	}
	return out
}

func isClosedByUs(err error) bool {
	return bytes.Contains([]byte(err.Error()), []byte("use of closed network connection"))
}

// closeAll disconnects every screen and waits for their readers.
func (c *crowd) closeAll() {
	c.mu.Lock()
	for _, conn := range c.conns {
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
		_ = conn.Close()
	}
	c.conns = nil
	c.mu.Unlock()
	c.wg.Wait()
}
