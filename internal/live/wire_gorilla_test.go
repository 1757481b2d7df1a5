package live

// Tripwires on what the wire assumes of gorilla/websocket (and of
// net/http's hijack), tests for each assumption listed in doc.go. Each fails
// if a library upgrade changes the behaviour the wire rests on; each was
// seen to fail with the wire or upgrader changed to behave as the broken
// assumption would ("seen failing" below).

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// rawScreen opens a board socket by hand, so a test sees the bytes on the
// wire: it sends the opening handshake, offering extensions ("" none),
// followed in the same write by early (nil: nothing). It returns the
// connection, the reader the server's frames come through and the
// server's answer to the handshake.
func rawScreen(t testing.TB, srvURL, extensions string, early []byte) (net.Conn, *bufio.Reader, *http.Response, error) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srvURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req, err := http.NewRequest(http.MethodGet, srvURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if extensions != "" {
		req.Header.Set("Sec-WebSocket-Extensions", extensions)
	}
	var out bytes.Buffer
	if err := req.Write(&out); err != nil {
		t.Fatal(err)
	}
	out.Write(early)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write(out.Bytes()); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	return conn, br, resp, err
}

// openRawScreen is rawScreen for a handshake that must succeed.
func openRawScreen(t testing.TB, srvURL, extensions string) (net.Conn, *bufio.Reader, *http.Response) {
	t.Helper()
	conn, br, resp, err := rawScreen(t, srvURL, extensions, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	return conn, br, resp
}

// rawFloorScreen serves the floor board and opens one raw screen on it,
// returning it after its snapshot with the screen as the hub sees it.
func rawFloorScreen(t *testing.T) (*Broadcaster, *httptest.Server, net.Conn, *bufio.Reader, *client) {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := floorServer(t, clock, nil)
	conn, br := snapshotRawScreen(t, srv.URL)
	return bc, srv, conn, br, joined(t, bc.hubs["floor"])
}

// snapshotRawScreen opens a raw screen without extensions and reads its
// first frame, the snapshot.
func snapshotRawScreen(t testing.TB, srvURL string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, br, _ := openRawScreen(t, srvURL, "")
	if _, err := readFrame(conn, br, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	return conn, br
}

// rawFrame is one frame as a server sent it.
type rawFrame struct {
	b0      byte // FIN, RSV1-3 and the opcode
	payload []byte
	raw     []byte // the whole frame as it came
}

// readFrame reads one unmasked frame within timeout.
func readFrame(conn net.Conn, br *bufio.Reader, timeout time.Duration) (rawFrame, error) {
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	var raw bytes.Buffer
	r := io.TeeReader(br, &raw)
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return rawFrame{}, err
	}
	if hdr[1]&0x80 != 0 {
		return rawFrame{}, errors.New("a server frame is masked")
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return rawFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return rawFrame{}, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return rawFrame{}, fmt.Errorf("a frame of %d bytes", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return rawFrame{}, err
	}
	return rawFrame{b0: hdr[0], payload: payload, raw: raw.Bytes()}, nil
}

// envelopeOf decodes a text frame's payload.
func envelopeOf(t *testing.T, f rawFrame) Envelope {
	t.Helper()
	var e Envelope
	if err := json.Unmarshal(f.payload, &e); err != nil {
		t.Fatalf("frame %#x: %v", f.b0, err)
	}
	return e
}

// gorillaField reads an unexported field of gorilla's Conn. A test that
// needs one checks something only its internals show (which buffers an
// idle connection holds); if the field is gone, the upgrade changed it,
// and doc.go's assumptions must be read against the new code.
func gorillaField(t *testing.T, conn *websocket.Conn, name string) reflect.Value {
	t.Helper()
	f := reflect.ValueOf(conn).Elem().FieldByName(name)
	if !f.IsValid() {
		t.Fatalf("websocket.Conn has no field %q any more: check the assumptions in doc.go against this gorilla version", name)
	}
	return f
}

const (
	opText  = byte(websocket.TextMessage)
	opClose = byte(websocket.CloseMessage)
	opPing  = byte(websocket.PingMessage)
	opPong  = byte(websocket.PongMessage)
	finBit  = 0x80
	rsv1Bit = 0x40 // a compressed message (RFC 7692)
)

// Assumption 1: gorilla reads and writes through the connection the
// hijacker returns (the wire), and, given ReadBufferSize 0, reads frames
// through the hijacker's 512-byte reader: an idle connection holds that
// buffer and no write buffer (the pool's is taken only inside a
// NextWriter message, which the live package does not use).
//
// Seen failing with readBufferSize 256 (gorilla then reads into a buffer
// of its own), with the hijacker returning the bare connection, and
// without the WriteBufferPool.
func TestGorillaUsesTheWireAndItsBuffers(t *testing.T) {
	_, _, _, _, c := rawFloorScreen(t)
	if got := c.conn.NetConn(); got != net.Conn(c.wire) {
		t.Fatalf("gorilla's connection is a %T, not the wire: its writes would wait", got)
	}
	if got := gorillaField(t, c.conn, "br").Pointer(); got != uintptr(unsafe.Pointer(c.br)) {
		t.Fatal("gorilla reads through a buffer of its own, not the one the hijacker handed it: the reader would park with frames waiting in it")
	}
	if c.br.Size() != readBufferSize {
		t.Fatalf("read buffer of %d bytes, want %d", c.br.Size(), readBufferSize)
	}
	if n := gorillaField(t, c.conn, "writeBuf").Len(); n != 0 {
		t.Fatalf("an idle connection holds a write buffer of %d bytes", n)
	}
}

// Assumption 1, as a screen sees it: two frames that arrive in one segment
// are both answered. gorilla reads both into the read buffer; the reader
// parks on the socket only when that buffer is empty, so the second frame
// (a ping) is answered at once, not when the next bytes or the read
// deadline come.
//
// Seen failing with readBufferSize 256.
func TestGorillaLeavesTheNextFrameInTheHandedBuffer(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	_, srv := floorServer(t, clock, nil)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if e, err := readEnvelope(conn, 2*time.Second); err != nil || e.Type != TypeSnapshot {
		t.Fatalf("first message %q, %v: want a snapshot", e.Type, err)
	}
	ponged := make(chan struct{}, 1)
	conn.SetPongHandler(func(data string) error {
		if data == "second" {
			ponged <- struct{}{}
		}
		return nil
	})
	both := append(clientFrame(opText, true, []byte(`{"type":"resync"}`)), clientFrame(opPing, true, []byte("second"))...)
	if _, err := conn.NetConn().Write(both); err != nil {
		t.Fatal(err)
	}
	if e, err := readEnvelope(conn, 2*time.Second); err != nil || e.Type != TypeSnapshot {
		t.Fatalf("answer to the resync: %q, %v: want a snapshot", e.Type, err)
	}
	go func() { _, _, _ = conn.ReadMessage() }() // runs the pong handler
	select {
	case <-ponged:
	case <-time.After(2 * time.Second):
		t.Fatal("the ping that came in the same segment as the resync was not answered: gorilla holds it where the reader does not look before it parks")
	}
}

// serveFloor serves bc's floor board from a server configure (nil: none)
// adjusts before it starts.
func serveFloor(t *testing.T, bc *Broadcaster, configure func(*http.Server)) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = bc.Serve(w, r, "floor", nil)
	}))
	if configure != nil {
		configure(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// Assumption 2: the wire replaces gorilla's check for bytes sent before
// the handshake's answer (gorilla checks only the reader the hijacker
// returns, which is fresh), so such a client is still refused; and the
// HTTP error gorilla then writes to the hijacked response is dropped, not
// logged by net/http.
//
// Seen failing without the hijacker's check, and with its WriteHeader
// passing the error on.
func TestHijackerRefusesBytesBeforeTheHandshake(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, _ := floorServer(t, clock, nil)
	var logged syncBuffer
	srv := serveFloor(t, bc, func(s *http.Server) { s.ErrorLog = log.New(&logged, "", 0) })
	_, _, resp, err := rawScreen(t, srv.URL, "", clientFrame(opText, true, []byte(`{"type":"resync"}`)))
	if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
		t.Fatal("a client that sent a frame with its handshake was let in; the frame was lost")
	}
	if n := bc.Clients()["floor"]; n != 0 {
		t.Fatalf("%d screens on the board", n)
	}
	srv.Close() // the handler has returned
	if s := logged.String(); s != "" {
		t.Fatalf("net/http logged: %s", s)
	}
}

// syncBuffer is a buffer the server's goroutines may log to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Assumption 3: a prepared message is written as one whole frame, at once:
// when WritePreparedMessage returns, every byte of it is in the wire (the
// kernel's buffer or the backlog), none in a buffer of gorilla's that a
// later call would flush. The frames are valid RFC 6455 frames, byte for
// byte, at every length encoding.
//
// Seen failing with a wire that holds writes under 100 bytes back until
// the next one, as a buffering writer would.
func TestGorillaWritesPreparedFramesWholeAndAtOnce(t *testing.T) {
	_, _, conn, br, c := rawFloorScreen(t)
	for _, size := range []int{10, 300, 70000} {
		payload := bytes.Repeat([]byte("z"), size)
		m, err := newMessage(payload, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		c.offer(m, false)
		c.flush()
		f, err := readFrame(conn, br, 2*time.Second)
		if err != nil {
			t.Fatalf("%d bytes: the frame did not reach the socket when the write returned: %v", size, err)
		}
		if want := encodeFrame(opText, true, nil, payload); !bytes.Equal(f.raw, want) {
			t.Fatalf("%d bytes: the frame on the wire is not the RFC 6455 frame (%d bytes, want %d)", size, len(f.raw), len(want))
		}
	}
}

// Assumption 4: gorilla's own writes (here the pong its default ping
// handler sends from the reader's goroutine) go through the wire while a
// drain owns the socket, so they join the backlog behind the bytes queued
// before them (here a message written after the drain took its first
// chunk) and never land inside a frame. A gorilla client reads it all.
//
// Seen failing with writes during a drain put before the backlog, and
// with small ones written to the bare socket.
func TestGorillaControlFramesJoinTheBacklogInOrder(t *testing.T) {
	_, f, conn, c, _ := slowScreen(t, nil)
	f.backlog(c)
	backlog := func() int {
		c.wire.mu.Lock()
		defer c.wire.mu.Unlock()
		return len(c.wire.backlog)
	}
	// The drain takes the backlog and waits in its write, as the screen
	// does not read; what joins the backlog after that is the marker,
	// then the pong.
	waitFor(t, "the drain taking the backlog", func() bool { return backlog() == 0 })
	marker := []byte(`{"type":"marker"}`)
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, marker)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.conn.WritePreparedMessage(pm); err != nil {
		t.Fatal(err)
	}
	var ponged atomic.Bool
	conn.SetPongHandler(func(data string) error {
		if data == "mid-backlog" {
			ponged.Store(true)
		}
		return nil
	})
	if err := conn.WriteControl(websocket.PingMessage, []byte("mid-backlog"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	queued := len(encodeFrame(opText, true, nil, marker)) + len(encodeFrame(opPong, true, nil, []byte("mid-backlog")))
	waitFor(t, "the pong joining the backlog", func() bool { return backlog() >= queued || !c.wire.backlogged() })
	if !c.wire.backlogged() {
		t.Fatal("the pong did not join the backlog while the drain owned the socket (the screen does not read): gorilla wrote it around the wire")
	}
	for {
		e, err := readEnvelope(conn, 2*time.Second)
		if err != nil {
			t.Fatalf("reading the backlog: %v (frames out of order or torn)", err)
		}
		if ponged.Load() {
			t.Fatalf("the pong arrived before %q seq %d, which was queued before it", e.Type, e.Seq)
		}
		if e.Type == "marker" {
			break
		}
	}
	seq := f.publish(10) // something to read after the pong
	waitSeq(t, readAll(conn), seq, 2*time.Second)
	if !ponged.Load() {
		t.Fatal("the pong written during the backlog never arrived")
	}
}

// Assumption 5: gorilla sets a write deadline on its connection before
// every write (none for a message, now+1s for a pong it answers a ping
// with), and the wire ignores it: the deadline on the socket is the
// drain's own. Were gorilla's to reach the socket, a screen that does not
// read but keeps pinging (or any write with no deadline) would keep its
// backlog alive past writeWait, holding memory and a goroutine.
//
// Seen failing with wire.SetWriteDeadline passed on to the socket.
func TestGorillaWriteDeadlinesDoNotReachTheSocket(t *testing.T) {
	obs := &countingObserver{}
	bc, f, conn, c, _ := slowScreen(t, obs)
	f.backlog(c)
	waitStuckDropped(t, bc, obs, func() {
		// gorilla answers with a pong, deadline now+1s; and one write of
		// its own with none.
		_ = conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second))
		_ = c.conn.WriteControl(websocket.PongMessage, nil, time.Time{})
	})
}

// Assumption 6: gorilla's SetReadDeadline reaches the socket at once, so it
// wakes a reader parked on the socket (not in gorilla), and its writes do
// not touch the read deadline. A silent screen then ends at its deadline.
//
// Seen failing with a wire whose SetReadDeadline does nothing, and with
// one whose SetWriteDeadline sets the read deadline.
func TestGorillaReadDeadlineWakesTheParkedReader(t *testing.T) {
	bc, _, conn, br, c := rawFloorScreen(t)
	time.Sleep(50 * time.Millisecond) // the reader parks
	_ = c.conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	m, err := newMessage([]byte("a write after the deadline was set"), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	c.offer(m, false)
	c.flush()
	waitFor(t, "the silent screen's removal", func() bool { return bc.Clients()["floor"] == 0 })
	for {
		f, err := readFrame(conn, br, 2*time.Second)
		if err != nil {
			t.Fatalf("the socket ended without a close frame: %v", err)
		}
		if f.b0&0x0f == opClose {
			break
		}
	}
}

// Assumption 7: the write deadline net/http sets for a request
// (http.Server.WriteTimeout; the server's is a minute) is cleared when the
// connection is hijacked. The wire relies on it: it passes gorilla's
// SetDeadline(zero) on to the read deadline only, and a write deadline
// left on the socket would fail every non-waiting write after it.
//
// Seen failing with the hijacker setting a write deadline after the hijack.
func TestHTTPWriteTimeoutDoesNotOutliveTheHandshake(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, _ := floorServer(t, clock, nil)
	const timeout = 200 * time.Millisecond
	srv := serveFloor(t, bc, func(s *http.Server) { s.WriteTimeout = timeout })
	conn, br := snapshotRawScreen(t, srv.URL)
	time.Sleep(2 * timeout)
	seq := newFeeder(t, bc, clock).publish(10)
	f, err := readFrame(conn, br, 2*time.Second)
	if err != nil {
		t.Fatalf("an update after the server's WriteTimeout: %v", err)
	}
	if e := envelopeOf(t, f); e.Type != TypeUpdate || e.Seq != seq {
		t.Fatalf("got %q seq %d, want update %d", e.Type, e.Seq, seq)
	}
}

// Assumption 8: with EnableCompression, gorilla agrees permessage-deflate
// without context takeover with a screen that offers it, so a prepared
// message is compressed once and the same bytes serve every such screen;
// a screen that does not offer it gets the plain frame of the same
// message, and a gorilla client inflates the compressed one to the same
// payload.
//
// Seen failing with EnableCompression off.
func TestGorillaCompressesPreparedFramesOnceForAll(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	_, srv := floorServer(t, clock, nil)
	const offer = "permessage-deflate; client_max_window_bits"
	var frames []rawFrame
	for range 2 {
		conn, br, resp := openRawScreen(t, srv.URL, offer)
		if got, want := resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate; server_no_context_takeover; client_no_context_takeover"; got != want {
			t.Fatalf("extensions agreed: %q, want %q", got, want)
		}
		f, err := readFrame(conn, br, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, f)
	}
	if frames[0].b0 != finBit|rsv1Bit|opText {
		t.Fatalf("first byte %#x: the snapshot was not sent compressed", frames[0].b0)
	}
	if !bytes.Equal(frames[0].raw, frames[1].raw) {
		t.Fatal("two screens that agreed the same compression got different bytes for the same snapshot")
	}
	conn, br, resp := openRawScreen(t, srv.URL, "")
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		t.Fatalf("extensions %q for a screen that offered none", ext)
	}
	plain, err := readFrame(conn, br, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if plain.b0 != finBit|opText || len(plain.payload) <= len(frames[0].payload) {
		t.Fatalf("plain frame %#x of %d bytes, compressed %d", plain.b0, len(plain.payload), len(frames[0].payload))
	}
	d := websocket.Dialer{EnableCompression: true}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, plain.payload) {
		t.Fatal("a gorilla client inflated the compressed snapshot to something else than the plain one")
	}
}

// The package doc's count: an idle screen holds one goroutine, its reader.
// The handler's goroutine ends after the upgrade, and writes hold none.
//
// Seen failing with a second goroutine started per screen.
func TestIdleScreenHoldsOneGoroutine(t *testing.T) {
	bc, srv, _, _, _ := rawFloorScreen(t) // the board is published
	count := func() int {
		runtime.GC()
		return runtime.NumGoroutine()
	}
	base := count()
	const n = 50
	for range n {
		snapshotRawScreen(t, srv.URL)
	}
	waitFor(t, "every screen's join", func() bool { return bc.Clients()["floor"] == n+1 })
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := count() - base
		if got <= n+2 { // allow for a goroutine or two of the test's own
			if got < n {
				t.Fatalf("%d goroutines for %d screens: fewer than one reader each", got, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d idle screens hold %d goroutines, want one each", n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
