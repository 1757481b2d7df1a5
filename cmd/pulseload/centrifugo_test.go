package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// realCentrifugo is the Centrifugo binary the comparison runs: the one in
// $PULSELOAD_CENTRIFUGO, else the cached build. A test does not build it
// (go install takes minutes): `make centrifugo` does, once.
func realCentrifugo(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("PULSELOAD_CENTRIFUGO"); bin != "" {
		return bin
	}
	path, err := centrifugoCachePath()
	if err == nil {
		if _, err = os.Stat(path); err == nil {
			return path
		}
	}
	t.Skipf("no Centrifugo %s binary (%v): `make centrifugo` builds it", centrifugoVersion, err)
	return ""
}

// Every key of the generated config is one Centrifugo v6 knows: its own
// `defaultconfig` lists them all. (Centrifugo ignores unknown keys, so a
// key renamed between versions would silently fall back to a default.)
func TestCentrifugoConfigKeysExist(t *testing.T) {
	bin := realCentrifugo(t)
	out, err := exec.Command(bin, "defaultconfig", "--dry-run").Output()
	if err != nil {
		t.Fatal(err)
	}
	var defaults map[string]any
	if err := json.Unmarshal(out, &defaults); err != nil {
		t.Fatal(err)
	}
	raw, err := centrifugoConfig(12345, "k")
	if err != nil {
		t.Fatal(err)
	}
	var ours map[string]any
	if err := json.Unmarshal(raw, &ours); err != nil {
		t.Fatal(err)
	}
	var walk func(path string, ours, defaults map[string]any)
	walk = func(path string, ours, defaults map[string]any) {
		for k, v := range ours {
			d, ok := defaults[k]
			if !ok {
				t.Errorf("Centrifugo %s has no key %s%s", centrifugoVersion, path, k)
				continue
			}
			if sub, ok := v.(map[string]any); ok {
				dsub, ok := d.(map[string]any)
				if !ok {
					t.Errorf("%s%s is not an object in Centrifugo's config", path, k)
					continue
				}
				walk(path+k+".", sub, dsub)
			}
		}
	}
	walk("", ours, defaults)
}

// The whole path on the real Centrifugo: a relay subscribed to a board
// republishes each message through the HTTP API, screens connected with
// the JSON protocol receive Pulseboard's exact bytes, measure their delay
// from the first message's count, and answer the server's pings, so they
// stay connected past several ping intervals.
func TestCentrifugoRelaysToScreens(t *testing.T) {
	bin := realCentrifugo(t)
	// Ping every second and expect the pong within half of one, so the test
	// sees pings answered (or screens dropped) within a few seconds.
	t.Setenv("CENTRIFUGO_CLIENT_PING_INTERVAL", "1s")
	t.Setenv("CENTRIFUGO_CLIENT_PONG_TIMEOUT", "500ms")
	key := randomKey()
	cf, err := spawnCentrifugo(bin, t.TempDir(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer cf.stop(context.Background())

	feed := make(chan string, 8)
	up := websocket.Upgrader{}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
	msg := func(n int) string {
		return fmt.Sprintf(`{"type":"update","tiles":[{"id":"responses","figure":{"responses":%d}}]}`, n)
	}
	// The join snapshot: 7 answers from before the run.
	feed <- `{"type":"snapshot","tiles":[{"id":"responses","figure":{"responses":7}}]}`

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	relay := newCFRelay("http://"+cf.addr, key)
	go func() {
		_ = relay.follow(ctx, "ws"+strings.TrimPrefix(upstream.URL, "http")+"/boards/load-01/live", "load-01")
	}()
	waitFor(t, "the relay's first message", func() bool { return relay.connected.Load() == 1 })

	acks := &ackLog{}
	c := &crowd{acks: acks, compress: true}
	c.connectCentrifugo(ctx, "ws://"+cf.addr+"/connection/websocket", []string{"load-01"}, 3, 100)
	if c.open.Load() != 3 {
		t.Fatalf("%d screens subscribed, %d failed: %v", c.open.Load(), c.failed.Load(), c.firstError.Load())
	}
	if err := relay.replayLast(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the replayed snapshot on every screen", func() bool { return c.messages.Load() == 3 })

	// Three ping intervals pass: screens that did not answer are gone.
	time.Sleep(3500 * time.Millisecond)
	if c.open.Load() != 3 || c.dropped.Load() != 0 {
		t.Fatalf("after 3 pings: %d open, %d dropped", c.open.Load(), c.dropped.Load())
	}

	c.measure.Store(true)
	acks.add(2, time.Now()) // answers 1 and 2 of the run are acknowledged
	feed <- msg(9)
	waitFor(t, "the update on every screen", func() bool { return c.messages.Load() == 6 })
	if n := c.latency.count(); n != 3 {
		t.Fatalf("%d delay samples, want one per screen", n)
	}
	if d := c.latency.quantile(0.99); d > 5*time.Second {
		t.Fatalf("delay %s", d)
	}
	if relay.errors.Load() != 0 {
		t.Fatalf("%d relay errors", relay.errors.Load())
	}
	// The screens read the envelope around Pulseboard's exact bytes.
	want := `"data":` + msg(9)
	if per := c.bytes.Load() / c.messages.Load(); per < int64(len(want)) {
		t.Fatalf("%d bytes per message, shorter than the relayed message", per)
	}
	// A batch (what the relay sends when messages queued up while a
	// publish was in flight) arrives whole and in order.
	acks.add(2, time.Now())
	if err := relay.publish(ctx, "load-01", []byte(msg(10)), []byte(msg(11))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the batch on every screen", func() bool { return c.messages.Load() == 12 })
	if n := c.latency.count(); n != 9 {
		t.Fatalf("%d delay samples after the batch, want 3 per screen", n)
	}
	if relay.batched.Load() != 1 {
		t.Fatalf("%d batched requests", relay.batched.Load())
	}
	c.closeAll()
	close(feed)
}

// A publish that Centrifugo refuses (a wrong API key) is an error, not a
// message silently lost.
func TestCentrifugoPublishRefused(t *testing.T) {
	bin := realCentrifugo(t)
	cf, err := spawnCentrifugo(bin, t.TempDir(), randomKey())
	if err != nil {
		t.Fatal(err)
	}
	defer cf.stop(context.Background())
	relay := newCFRelay("http://"+cf.addr, "not-the-key")
	if err := relay.publish(context.Background(), "load-01", []byte(`{"n":1}`)); err == nil {
		t.Fatal("a publish with the wrong key succeeded")
	}
}

// The screens' client speaks the protocol as Centrifugo does: replies may
// come several to a frame, one per line, and a refused subscribe is an
// error naming Centrifugo's reason.
func TestCentrifugoHandshakeRefused(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			var cmd struct{ ID int }
			_ = json.Unmarshal(data, &cmd)
			reply := fmt.Sprintf(`{"id":%d,"connect":{"client":"x","version":"6.9.1","ping":25,"pong":true}}`, cmd.ID)
			if cmd.ID == 2 {
				reply = `{}` + "\n" + `{"id":2,"error":{"code":103,"message":"permission denied"}}`
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte(reply))
		}
	}))
	defer srv.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	err = cfHandshake(conn, "load-01")
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("handshake error = %v, want Centrifugo's reason", err)
	}
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
