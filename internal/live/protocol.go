package live

import (
	"encoding/json"
	"fmt"
	"time"
)

// Message types, server to client.
const (
	TypeSnapshot  = "snapshot"
	TypeUpdate    = "update"
	TypeHeartbeat = "heartbeat"
	TypeReload    = "reload"
)

// TypeResync is the one client-to-server message: "send me a snapshot".
const TypeResync = "resync"

// Envelope is every server-to-client message.
type Envelope struct {
	Type string `json:"type"`
	// V is the protocol version of the message: 2 on every v2 message,
	// absent (0) on v1's, which are as they were before versions existed.
	V     int    `json:"v,omitempty"`
	Board string `json:"board"`
	// Epoch names a continuous history of this board's numbers on this
	// server; a new epoch means updates do not continue the old ones.
	Epoch string `json:"epoch"`
	// Seq numbers snapshots and updates within an epoch, from 1, without
	// gaps; heartbeats repeat the current one.
	Seq uint64    `json:"seq"`
	At  time.Time `json:"at"`
	// Stale is true while the server cannot read its store: numbers are the
	// last known ones.
	Stale bool   `json:"stale"`
	Title string `json:"title,omitempty"`
	// Tiles are whole tiles: all of them in a snapshot, the changed ones in
	// an update; in v2, an update's tiles may be patches instead.
	Tiles []json.RawMessage `json:"tiles,omitempty"`
}

// ClientMessage is what a screen may send.
type ClientMessage struct {
	Type string `json:"type"`
}

// ParseClientMessage reads one client frame: a JSON object whose type is a
// known command. Anything else is an error, and the reader ignores it (a
// screen never gets disconnected for a message it should not have sent; the
// read limit bounds what it can cost).
func ParseClientMessage(data []byte) (ClientMessage, error) {
	var m ClientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return ClientMessage{}, fmt.Errorf("client message: %w", err)
	}
	if m.Type != TypeResync {
		return ClientMessage{}, fmt.Errorf("client message: unknown type %q", m.Type)
	}
	return m, nil
}

// Close codes beyond the standard ones (1001 going away on shutdown, 1009
// message too big).
const (
	// CloseTooSlow: the screen did not take its messages in time.
	CloseTooSlow = 4001
	// CloseNotPaired: the screen has no valid pairing for the board, or
	// its pairing was revoked; it should say so and stop reconnecting.
	CloseNotPaired = 4003
	// CloseBoardRemoved: the board was removed from the configuration.
	CloseBoardRemoved = 4004
)

// Timing and limits of a connection. Socket deadlines made from them are
// on the real clock (time.Now), not Options.Now: the kernel times a socket
// out against the real clock, and a test's injected clock stands still.
const (
	// writeWait bounds one write: a screen that takes longer is too slow,
	// and is dropped so it cannot hold memory or goroutines.
	writeWait = 2 * time.Second
	// pongWait is how long a silent connection lives; pings every
	// pingPeriod keep a healthy one alive through proxies.
	pongWait   = 60 * time.Second
	pingPeriod = pongWait * 9 / 10
	// maxMessageSize caps client messages: they are tiny commands.
	maxMessageSize = 4096
	// socketSendBuffer caps the kernel's send buffer per screen (Linux
	// doubles it): without it, autotuning lets a stalled screen pin
	// megabytes before its writes block and writeWait can drop it.
	socketSendBuffer = 64 << 10
	// sendQueue is how many messages wait for a screen before it is switched
	// to a snapshot of the latest state.
	sendQueue = 16
	// HeartbeatEvery lets a screen tell "quiet" from "dead": it shows stale
	// after missing two.
	HeartbeatEvery = 5 * time.Second
)
