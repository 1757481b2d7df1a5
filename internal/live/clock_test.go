package live

import (
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// Every message carries the injected clock's time: the snapshot a screen
// gets when it joins, an update, and the snapshot that answers a resync.
func TestMessagesCarryTheInjectedClock(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(storetest.Start) // far from the real time
	bc, srv := floorServer(t, clock, nil)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	check := func(what string, want time.Time) Envelope {
		t.Helper()
		e, err := readEnvelope(conn, 3*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !e.At.Equal(want) {
			t.Fatalf("%s (%q) at %v, want the injected %v", what, e.Type, e.At, want)
		}
		return e
	}
	check("the join's snapshot", storetest.Start)
	f := newFeeder(t, bc, clock)
	clock.Advance(time.Minute)
	f.publish(10)
	check("an update", storetest.Start.Add(time.Minute))
	// A resync is answered with the current state's snapshot, stamped
	// when that state was published, not with the real clock's time.
	clock.Advance(time.Minute)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"resync"}`)); err != nil {
		t.Fatal(err)
	}
	if e := check("the resync's snapshot", storetest.Start.Add(time.Minute)); e.Type != TypeSnapshot {
		t.Fatalf("answer to a resync: %q", e.Type)
	}
}
