package live

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// Pings and updates go through the same fan-out, to every screen, in
// order: each screen sees its snapshot, then the ping (answered with a
// pong, which keeps the server's read deadline moving), then the update.
// A resync request is answered with a snapshot from the reader's side.
func TestFanOutPingsUpdatesAndResyncs(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := floorServer(t, clock, nil)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	const n = 300 // more than one deliverChunk, so the fan-out splits
	type screen struct {
		conn  *websocket.Conn
		pings chan struct{}
	}
	var screens []screen
	for range n {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		s := screen{conn: conn, pings: make(chan struct{}, 4)}
		conn.SetPingHandler(func(data string) error {
			s.pings <- struct{}{}
			return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		screens = append(screens, s)
	}
	read := func(s screen) Envelope {
		t.Helper()
		_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, data, err := s.conn.ReadMessage() // also runs the ping handler
		if err != nil {
			t.Fatal(err)
		}
		var e Envelope
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, s := range screens {
		if e := read(s); e.Type != TypeSnapshot {
			t.Fatalf("first message %q, want a snapshot", e.Type)
		}
	}
	h := bc.hubs["floor"]
	for h.size() < n {
		time.Sleep(time.Millisecond)
	}
	deliver(h.ping())
	view, st, err := floorView(bc, clock)
	if err != nil {
		t.Fatal(err)
	}
	view.Tiles[0].Title = "changed"
	targets, err := h.publish(view, nil, st.Epoch, false, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	deliver(targets)
	for i, s := range screens {
		e := read(s)
		if e.Type != TypeUpdate || len(e.Tiles) != 1 {
			t.Fatalf("screen %d: %q with %d tiles, want the one-tile update", i, e.Type, len(e.Tiles))
		}
		select {
		case <-s.pings:
		default:
			t.Fatalf("screen %d: the update came without the ping before it", i)
		}
	}
	if err := screens[0].conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"resync"}`)); err != nil {
		t.Fatal(err)
	}
	if e := read(screens[0]); e.Type != TypeSnapshot {
		t.Fatalf("answer to a resync: %q, want a snapshot", e.Type)
	}
}
