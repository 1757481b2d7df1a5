package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/live"
	pbclient "github.com/pulseboard/pulseboard/pkg/client"
)

// screen is a test WebSocket client that keeps the board state the way the
// browser script does.
type screen struct {
	t     *testing.T
	conn  *websocket.Conn
	epoch string
	seq   uint64
	tiles map[string]board.TileView
}

func dial(t *testing.T, addr, name string) *screen {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/boards/"+name+"/live", nil)
	if err != nil {
		t.Fatalf("dial %s: %v", name, err)
	}
	t.Cleanup(func() { conn.Close() })
	return &screen{t: t, conn: conn, tiles: map[string]board.TileView{}}
}

// watch dials a board's socket like dial and fails the test unless the
// board's first message arrives within 2 s.
func watch(t *testing.T, addr, name string) *screen {
	t.Helper()
	s := dial(t, addr, name)
	if _, err := s.next(2 * time.Second); err != nil {
		t.Fatalf("first message of %s: %v", name, err)
	}
	return s
}

// next reads one message, applies it, and checks seq continuity.
func (s *screen) next(timeout time.Duration) (live.Envelope, error) {
	_ = s.conn.SetReadDeadline(time.Now().Add(timeout))
	var e live.Envelope
	if err := s.conn.ReadJSON(&e); err != nil {
		return e, err
	}
	switch e.Type {
	case live.TypeSnapshot:
		s.tiles = map[string]board.TileView{}
		s.epoch, s.seq = e.Epoch, e.Seq
	case live.TypeUpdate:
		if e.Epoch != s.epoch || e.Seq != s.seq+1 {
			s.t.Errorf("update %s/%d after %s/%d: a gap", e.Epoch, e.Seq, s.epoch, s.seq)
		}
		s.seq = e.Seq
	}
	for _, raw := range e.Tiles {
		var tv board.TileView
		if err := json.Unmarshal(raw, &tv); err != nil {
			s.t.Fatalf("tile: %v", err)
		}
		s.tiles[tv.ID] = tv
	}
	return e, nil
}

// closedWith reads until the server closes the socket, and checks the code.
func (s *screen) closedWith(code int, timeout time.Duration) {
	s.t.Helper()
	for {
		_, err := s.next(timeout)
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, code) {
			s.t.Fatalf("socket ended with %v, want close code %d", err, code)
		}
		return
	}
}

// nextOfType reads messages until one of the given type arrives.
func (s *screen) nextOfType(typ string, timeout time.Duration) live.Envelope {
	s.t.Helper()
	for {
		e, err := s.next(timeout)
		if err != nil {
			s.t.Fatalf("screen: no %s message: %v", typ, err)
		}
		if e.Type == typ {
			return e
		}
	}
}

// until reads messages until cond holds on the screen's state.
func (s *screen) until(what string, timeout time.Duration, cond func() bool) {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			s.t.Fatalf("screen: %s did not happen within %s", what, timeout)
		}
		if _, err := s.next(left); err != nil {
			s.t.Fatalf("screen: waiting for %s: %v", what, err)
		}
	}
}

func (s *screen) headline(id string) *float64 {
	if tv, ok := s.tiles[id]; ok && tv.Figure != nil {
		return tv.Figure.NPS
	}
	return nil
}

func postOne(t *testing.T, c client, id string, score int, team string) {
	t.Helper()
	c.record(pbclient.Response{ID: id, Score: pbclient.Score(score), Channel: "phone", Team: team})
}

// TestScreenFollowsIngest connects a screen, posts responses, and checks
// that the board's tiles move to exactly what GET /api/v1/nps reports.
func TestScreenFollowsIngest(t *testing.T) {
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			m, c := startNow(t, args...)
			s := dial(t, m.Addr(), "floor")
			if e, err := s.next(2 * time.Second); err != nil || e.Type != live.TypeSnapshot || len(e.Tiles) != 10 || e.Seq == 0 {
				t.Fatalf("first message %+v, %v: want a snapshot of the banner and the 9 tiles", e, err)
			}
			if s.headline("nps-1h") != nil {
				t.Fatalf("empty store, but the headline shows %v", *s.headline("nps-1h"))
			}
			for i := range 10 {
				postOne(t, c, fmt.Sprintf("a%d", i), []int{10, 9, 3, 8, 10}[i%5], "billing")
			}
			_, want := c.overall("window=1h")
			sent := time.Now()
			s.until("the 1h headline shows the API's NPS", 2*time.Second, func() bool {
				got := s.headline("nps-1h")
				return got != nil && *got == want.(float64)
			})
			if took := time.Since(sent); took > time.Second {
				t.Errorf("screen saw the change after %s", took)
			}
			// The breakdown tile agrees with the API's breakdown.
			r := c.get("/api/v1/nps?window=1h&by=channel")
			g := r.body["groups"].([]any)[0].(map[string]any)
			rows := s.tiles["channels"].Rows
			if len(rows) != 1 || rows[0].Label != "phone" || *rows[0].NPS != g["nps"].(float64) {
				t.Errorf("channels tile %+v, API %v", rows, g)
			}
			// So does the board's JSON.
			b := c.get("/api/v1/boards/floor")
			if b.status != 200 || !strings.Contains(b.raw, `"id":"nps-1h"`) {
				t.Errorf("GET board: %d %s", b.status, b.raw)
			}
		})
	}
}

// TestSlowScreen stalls one screen (it never reads) while others watch a
// busy board: the others see every answer within a second, and the stalled
// one is dropped.
func TestSlowScreen(t *testing.T) {
	m, c := startNow(t, "--broadcast-interval", "50ms")

	// The stalled screen also shrinks its receive buffer, as a hung TV on a
	// slow network would.
	stallDialer := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return conn, err
	}}
	stalled, _, err := stallDialer.Dial("ws://"+m.Addr()+"/boards/supervisor/live", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()

	var mu sync.Mutex
	acked := []time.Time{{}} // acked[k]: when the k-th answer was acknowledged
	worst := time.Duration(0)
	screens := make([]*screen, 5)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := range screens {
		s := dial(t, m.Addr(), "supervisor")
		screens[i] = s
		wg.Add(1)
		go func() {
			defer wg.Done()
			seen := int64(0)
			for {
				if _, err := s.next(3 * time.Second); err != nil {
					select {
					case <-done:
					default:
						t.Errorf("good screen: %v", err)
					}
					return
				}
				f := s.tiles["nps-15m"].Figure
				if f == nil {
					continue
				}
				now := time.Now()
				mu.Lock()
				for ; seen < f.Responses && int(seen+1) < len(acked); seen++ {
					worst = max(worst, now.Sub(acked[seen+1]))
				}
				mu.Unlock()
			}
		}()
	}
	for waited := 0; m.live.Clients()["supervisor"] < 6; waited++ {
		if waited > 200 {
			t.Fatalf("screens did not register: %v", m.live.Clients())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Many changes with long comments make big updates, quickly.
	long := strings.Repeat("the queue was long and nobody called back ", 40)
	deadline := time.Now().Add(10 * time.Second)
	for i := 1; time.Now().Before(deadline) && m.live.Clients()["supervisor"] > 5; i++ {
		body := fmt.Sprintf(`{"id":"s%d","score":%d,"channel":"chat","team":"t%d","agent":"ag%d","comment":%q}`, i, i%11, i%7, i%40, long)
		if r := c.post(body, "application/json"); r.status != 202 {
			t.Fatalf("post %d", r.status)
		}
		mu.Lock()
		acked = append(acked, time.Now())
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
	}
	if n := m.live.Clients()["supervisor"]; n != 5 {
		t.Fatalf("the stalled screen is still connected after 10 s (%d screens)", n)
	}
	time.Sleep(300 * time.Millisecond) // the last answers reach the screens
	close(done)
	for _, s := range screens {
		s.conn.Close()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if worst > time.Second {
		t.Errorf("a good screen saw an answer %s after it was acknowledged, with a stalled screen on the board", worst)
	}
	t.Logf("%d answers; worst delay to a good screen %s", len(acked)-1, worst)
}

// TestNoGoroutineLeak connects and disconnects thousands of screens and
// checks that every goroutine they started is gone.
func TestNoGoroutineLeak(t *testing.T) {
	m, _ := startNow(t)
	dialer := websocket.Dialer{}
	s := dial(t, m.Addr(), "floor") // warm the hub
	s.next(2 * time.Second)
	runtime.GC()
	base := runtime.NumGoroutine()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	for i := range 3000 {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			conn, _, err := dialer.Dial("ws://"+m.Addr()+"/boards/floor/live", nil)
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
				return
			}
			_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, _, _ = conn.ReadMessage()
			if i%2 == 0 {
				_ = conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
			}
			conn.Close()
		}(i)
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		runtime.GC()
		n := runtime.NumGoroutine()
		if n <= base+5 && m.live.Clients()["floor"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after 3000 screens came and went, %d before; %d screens registered\n%s", n, base, m.live.Clients()["floor"], buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBoardsReload edits the boards file under a running server: screens
// are told to reload, and the new board is served.
func TestBoardsReload(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "boards.yaml")
	write := func(title string) {
		yaml := fmt.Sprintf("boards:\n- name: wall\n  title: %s\n  tiles:\n  - {id: n, view: headline, window: 1h}\n", title)
		if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("First")
	m, _ := startNow(t, "--boards", path)
	s := dial(t, m.Addr(), "wall")
	if e, err := s.next(2 * time.Second); err != nil || e.Title != "First" {
		t.Fatalf("snapshot %+v %v", e, err)
	}
	write("Second")
	s.nextOfType(live.TypeReload, 5*time.Second)
	c := client{t: t, base: "http://" + m.Addr()}
	if r := c.get("/api/v1/boards/wall"); !strings.Contains(r.raw, `"title":"Second"`) {
		t.Fatalf("board after reload: %s", r.raw)
	}
}

// TestCrossSiteSocketRefused: a page on another site cannot open a board's
// socket; the board's own origin can.
func TestCrossSiteSocketRefused(t *testing.T) {
	m, _ := startNow(t)
	h := http.Header{"Origin": {"https://evil.example"}}
	_, res, err := websocket.DefaultDialer.Dial("ws://"+m.Addr()+"/boards/floor/live", h)
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site socket: err %v, response %v", err, res)
	}
	h = http.Header{"Origin": {"http://" + m.Addr()}}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+m.Addr()+"/boards/floor/live", h)
	if err != nil {
		t.Fatalf("same-origin socket: %v", err)
	}
	conn.Close()
}

// TestShutdownSaysGoingAway: on Close, screens get close code 1001.
func TestShutdownSaysGoingAway(t *testing.T) {
	m, _ := startNow(t)
	s := dial(t, m.Addr(), "floor")
	s.next(2 * time.Second)
	go m.Close(t.Context())
	s.closedWith(websocket.CloseGoingAway, 5*time.Second)
}

// TestClientMessages: resync gets a snapshot; a frame over the read limit
// closes the socket with 1009.
func TestClientMessages(t *testing.T) {
	m, _ := startNow(t)
	s := watch(t, m.Addr(), "floor")
	if err := s.conn.WriteJSON(map[string]string{"type": "resync"}); err != nil {
		t.Fatal(err)
	}
	if e, err := s.next(2 * time.Second); err != nil || e.Type != live.TypeSnapshot {
		t.Fatalf("after resync: %+v %v, want a snapshot", e, err)
	}
	if err := s.conn.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 5000))); err != nil {
		t.Fatal(err)
	}
	s.closedWith(websocket.CloseMessageTooBig, 2*time.Second)
}

// TestMetrics: /metrics shows what happened: ingest by status and result,
// screens per board, the runtime.
func TestMetrics(t *testing.T) {
	m, c := startNow(t)
	watch(t, m.Addr(), "floor") // stays open: the metrics count it
	postOne(t, c, "m1", 9, "billing")
	postOne(t, c, "m1", 9, "billing")
	c.post(`{"id":"bad","score":11,"channel":"sms"}`, "application/json")
	r := c.get("/metrics")
	for _, want := range []string{
		`pulseboard_responses_total{result="accepted"} 1`,
		`pulseboard_responses_total{result="duplicate"} 1`,
		`pulseboard_ingest_requests_total{code="202"} 2`,
		`pulseboard_ingest_requests_total{code="422"} 1`,
		`pulseboard_ws_clients{board="floor"} 1`,
		`pulseboard_aggregator_stale 0`,
		`go_goroutines `,
		`process_open_fds `,
	} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestFirstScreenGetsCurrentBoard: a board nobody watched while answers
// came in shows them to the next screen at once, not at the next change.
func TestFirstScreenGetsCurrentBoard(t *testing.T) {
	m, c := startNow(t)
	s := watch(t, m.Addr(), "floor")
	s.conn.Close()
	for m.live.Clients()["floor"] != 0 {
		time.Sleep(10 * time.Millisecond)
	}
	postOne(t, c, "late-1", 10, "billing")
	time.Sleep(600 * time.Millisecond) // the loop has run, with nobody watching
	s2 := dial(t, m.Addr(), "floor")
	e, err := s2.next(2 * time.Second)
	if err != nil || e.Type != live.TypeSnapshot {
		t.Fatalf("first message %+v %v", e, err)
	}
	if f := s2.tiles["responses"].Figure; f == nil || f.Responses != 1 {
		t.Fatalf("the new screen's snapshot is stale: %+v", s2.tiles["responses"])
	}
}

// TestSocketProtocolVersions: ?v=2 gets v2 (markup, no view model, the
// version in the envelope); no v or v=1 gets v1 as before; any other v is
// refused before the upgrade (or the event stream) with a 400 problem
// saying what was wrong.
func TestSocketProtocolVersions(t *testing.T) {
	m, _ := startNow(t)
	for query, want := range map[string]int{"": 0, "?v=1": 0, "?v=2": 2} {
		conn, _, err := websocket.DefaultDialer.Dial("ws://"+m.Addr()+"/boards/floor/live"+query, nil)
		if err != nil {
			t.Fatalf("%q: %v", query, err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, data, err := conn.ReadMessage()
		conn.Close()
		if err != nil {
			t.Fatalf("%q: %v", query, err)
		}
		var e live.Envelope
		if err := json.Unmarshal(data, &e); err != nil || e.Type != live.TypeSnapshot || e.V != want || len(e.Tiles) == 0 {
			t.Fatalf("%q: %s snapshot v%d with %d tiles, %v; want v%d", query, e.Type, e.V, len(e.Tiles), err, want)
		}
		var tile map[string]any
		if err := json.Unmarshal(e.Tiles[1], &tile); err != nil {
			t.Fatal(err)
		}
		_, hasView := tile["view"]
		if html, _ := tile["html"].(string); !strings.HasPrefix(html, "<section") || hasView != (want == 0) {
			t.Fatalf("%q: tile %.200s; want markup, and the view model in v1 only", query, e.Tiles[1])
		}
	}
	c := client{t: t, base: "http://" + m.Addr()}
	for _, query := range []string{"?v=3", "?v=2&v=2", "?v=two"} {
		// The event stream reads v as the socket does.
		for _, path := range []string{"/boards/floor/live", "/boards/floor/events"} {
			r := c.get(path + query)
			if r.status != http.StatusBadRequest || r.header.Get("Content-Type") != "application/problem+json" ||
				!strings.Contains(r.raw, "query parameter v") {
				t.Errorf("%s%s: %d %s", path, query, r.status, r.raw)
			}
		}
	}
}
