package live

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// The loop applies every replacement of the registry's boards: a changed
// board's screens get reload, a removed board's screens are closed with
// 4004.
func TestLoopAppliesRegistryReplacements(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := floorServer(t, clock, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go bc.Run(ctx)
	reg := bc.boards.(*boards.Registry)

	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if e, err := readEnvelope(conn, 3*time.Second); err != nil || e.Type != TypeSnapshot {
		t.Fatalf("first message %q, %v: want the snapshot of its join", e.Type, err)
	}
	defs := reg.Boards()
	defs[0].Title = "Floor, rearranged"
	reg.Set(defs)
	for {
		e, err := readEnvelope(conn, 3*time.Second)
		if err != nil {
			t.Fatalf("no reload after the floor board changed: %v", err)
		}
		if e.Type == TypeReload {
			break
		}
	}
	reg.Set(defs[1:])
	for {
		_, err := readEnvelope(conn, 3*time.Second)
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, CloseBoardRemoved) {
			t.Fatalf("socket ended with %v, want close code %d", err, CloseBoardRemoved)
		}
		break
	}
}

// Between a replacement and the loop applying it, a screen sees what the
// registry holds, as the board's page does: a board just added opens (and
// is not told to reload when the loop catches up), one just removed does
// not.
func TestServeReadsTheRegistry(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, _ := floorServer(t, clock, nil)
	reg := bc.boards.(*boards.Registry)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := bc.Serve(w, r, strings.TrimPrefix(r.URL.Path, "/"), nil); errors.Is(err, ErrNoBoard) {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	defs := reg.Boards()
	lobby := defs[0]
	lobby.Name, lobby.Title = "lobby", "Lobby"
	defs = append(slices.DeleteFunc(defs, func(b board.Board) bool { return b.Name == "supervisor" }), lobby)
	reg.Set(defs) // no loop runs: nothing applies it yet

	_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/supervisor", nil)
	if err == nil || res == nil || res.StatusCode != http.StatusNotFound {
		t.Fatalf("socket to a board the registry no longer holds: %v, %v; want 404", err, res)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/lobby", nil)
	if err != nil {
		t.Fatalf("socket to a board the registry just got: %v", err)
	}
	defer conn.Close()
	if e, err := readEnvelope(conn, 3*time.Second); err != nil || e.Type != TypeSnapshot || e.Title != "Lobby" {
		t.Fatalf("first message %q %q, %v: want the lobby's snapshot", e.Type, e.Title, err)
	}
	bc.applyBoards() // the loop catches up
	if e, err := readEnvelope(conn, 300*time.Millisecond); err == nil {
		t.Fatalf("got %q after the loop applied the set the screen joined under; want nothing", e.Type)
	}
	if n := bc.Clients()["lobby"]; n != 1 {
		t.Fatalf("%d screens on the lobby board, want 1", n)
	}
}
