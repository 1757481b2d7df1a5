package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// The bare hub relays every message its upstream sends for a board to
// each of its screens, in order, starting with the last one before they
// joined: the yardstick sees the server's own bytes.
func TestBareHubRelaysUpstreamMessages(t *testing.T) {
	feed := make(chan string)
	up := websocket.Upgrader{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/boards/load-01/live" {
			http.NotFound(w, r)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for m := range feed {
			if ws.WriteMessage(websocket.TextMessage, []byte(m)) != nil {
				return
			}
		}
	}))
	defer upstream.Close()

	h := newBareHub([]string{"load-01"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_ = h.relay(ctx, "ws"+strings.TrimPrefix(upstream.URL, "http")+"/boards/load-01/live", h.boards["load-01"])
	}()
	hub := httptest.NewServer(http.HandlerFunc(h.serve))
	defer hub.Close()
	for h.connected.Load() < 1 {
		time.Sleep(time.Millisecond)
	}
	feed <- `{"type":"snapshot","n":1}`
	// Wait until the hub has it as its join message, then join.
	for {
		b := h.boards["load-01"]
		b.mu.Lock()
		last := b.join
		b.mu.Unlock()
		if last != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	var screens []*websocket.Conn
	for range 3 {
		ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hub.URL, "http")+"/boards/load-01/live", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		screens = append(screens, ws)
	}
	for _, ws := range screens {
		expect(t, ws, `{"type":"snapshot","n":1}`)
	}
	// All three have joined (each read the join message); now relay more.
	for h.boards["load-01"].size() < 3 {
		time.Sleep(time.Millisecond)
	}
	feed <- `{"n":2}`
	feed <- `{"n":3}`
	for _, ws := range screens {
		expect(t, ws, `{"n":2}`)
		expect(t, ws, `{"n":3}`)
	}
	// A screen joining after updates starts from the snapshot: a protocol v2
	// update only patches the state before it.
	late, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hub.URL, "http")+"/boards/load-01/live", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	expect(t, late, `{"type":"snapshot","n":1}`)
	if _, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(hub.URL, "http")+"/boards/nope/live", nil); err == nil {
		t.Fatal("the hub served a board it does not relay")
	}
	close(feed)
}

func expect(t *testing.T, ws *websocket.Conn, want string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}
