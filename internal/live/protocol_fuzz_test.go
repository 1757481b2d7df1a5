package live

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// FuzzClientMessage: whatever a screen sends, parsing does not panic, and
// what it accepts is exactly a known command that survives a round trip.
func FuzzClientMessage(f *testing.F) {
	for _, seed := range []string{`{"type":"resync"}`, `{"type":"resync","epoch":"x"}`, `{"type":"RESYNC"}`,
		`{"type":1}`, `[]`, `null`, ``, `{"type":"resync"`, "{\"type\":\"re\\u0073ync\"}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseClientMessage(data)
		if err != nil {
			if m != (ClientMessage{}) {
				t.Fatalf("an error with a message: %+v", m)
			}
			return
		}
		if m.Type != TypeResync {
			t.Fatalf("accepted type %q", m.Type)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := ParseClientMessage(again); err != nil || back != m {
			t.Fatalf("round trip of %s: %+v %v", again, back, err)
		}
	})
}

// FuzzClientFrames writes arbitrary bytes, as one or more client frames, to a
// real board socket on a real broadcaster: the server must neither panic nor
// hang on them, must close the socket or keep serving it, and must always
// let the next screen in with a snapshot.
func FuzzClientFrames(f *testing.F) {
	f.Add(byte(websocket.TextMessage), true, []byte(`{"type":"resync"}`))
	f.Add(byte(websocket.TextMessage), false, []byte(`{"type":"resync"}`))
	f.Add(byte(websocket.BinaryMessage), true, []byte{0, 1, 2})
	f.Add(byte(websocket.PingMessage), true, []byte("ping"))
	f.Add(byte(websocket.CloseMessage), true, []byte{3, 232})
	f.Add(byte(0x3), true, []byte("reserved opcode"))
	f.Add(byte(websocket.TextMessage), true, bytes.Repeat([]byte("x"), maxMessageSize+1))
	f.Add(byte(websocket.TextMessage), true, []byte{0xff, 0xfe})

	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := floorServer(f, clock, nil)
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	f.Fuzz(func(t *testing.T, opcode byte, fin bool, payload []byte) {
		conn, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer conn.Close()
		raw := conn.NetConn()
		_ = raw.SetWriteDeadline(time.Now().Add(time.Second))
		// A raw frame, masked as a client must: the opcode and FIN bit as
		// given, so fragments, control frames and reserved opcodes all occur.
		_, _ = raw.Write(clientFrame(opcode, fin, payload))
		// Then a ping of our own: a server whose reader is still in step
		// answers it (even inside a fragmented message); one that found
		// the frame bad has closed. Silence means a hung reader.
		_ = conn.WriteControl(websocket.PingMessage, []byte("probe"), time.Now().Add(time.Second))
		ponged := false
		conn.SetPongHandler(func(data string) error {
			if data == "probe" {
				ponged = true
				// ReadMessage waits for a data message; end the wait.
				_ = conn.SetReadDeadline(time.Now())
			}
			return nil
		})
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		for !ponged {
			if _, _, err := conn.ReadMessage(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() && !ponged {
					t.Fatalf("opcode %#x fin %v, %d bytes: the server neither answered a ping nor closed", opcode, fin, len(payload))
				}
				return // closed: a fine answer to a bad frame
			}
		}
	})
	// Afterwards a well-behaved screen still gets its snapshot.
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		f.Fatalf("dial after fuzzing: %v", err)
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var e Envelope
	if err := conn.ReadJSON(&e); err != nil || e.Type != TypeSnapshot {
		f.Fatalf("after fuzzing: %+v %v (%d screens)", e, err, bc.Clients()["floor"])
	}
}

// clientFrame encodes one masked WebSocket frame (RFC 6455 section 5.2).
func clientFrame(opcode byte, fin bool, payload []byte) []byte {
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	return encodeFrame(opcode, fin, &mask, payload)
}

// encodeFrame encodes one WebSocket frame, masked with mask unless it is
// nil (a server's frames are not masked).
func encodeFrame(opcode byte, fin bool, mask *[4]byte, payload []byte) []byte {
	b0 := opcode & 0x0f
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	var masked byte
	if mask != nil {
		masked = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		out = append(out, masked|byte(n))
	case n <= 0xffff:
		out = append(out, masked|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, masked|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	if mask == nil {
		return append(out, payload...)
	}
	out = append(out, mask[:]...)
	for i, c := range payload {
		out = append(out, c^mask[i%4])
	}
	return out
}
