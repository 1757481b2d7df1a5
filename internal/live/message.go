package live

import (
	"strconv"
	"sync"

	"github.com/gorilla/websocket"
)

// message is one server-to-client message, encoded once for every screen
// of a board whatever its transport: a prepared WebSocket frame for the
// sockets, and an event of the stream (sse.go) for screens that cannot
// open one, built on first use so a board without such screens never
// pays for it.
type message struct {
	ws    *websocket.PreparedMessage
	data  []byte // the JSON envelope
	epoch string
	seq   uint64

	once  sync.Once
	event []byte
}

func newMessage(data []byte, epoch string, seq uint64) (*message, error) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return nil, err
	}
	return &message{ws: pm, data: data, epoch: epoch, seq: seq}, nil
}

// sse is the message as one Server-Sent Event: its id names the state it
// leaves the screen in (eventID), its data is the envelope, on one line
// (JSON holds no raw newline).
func (m *message) sse() []byte {
	m.once.Do(func() {
		b := make([]byte, 0, len(m.data)+len(m.epoch)+40)
		b = append(b, "id: "...)
		b = appendEventID(b, m.epoch, m.seq)
		b = append(b, "\ndata: "...)
		b = append(b, m.data...)
		m.event = append(b, "\n\n"...)
	})
	return m.event
}

// appendEventID writes an event id: epoch, a slash, seq. An epoch holds no
// slash, but the parser splits at the last one all the same.
func appendEventID(b []byte, epoch string, seq uint64) []byte {
	b = append(b, epoch...)
	b = append(b, '/')
	return strconv.AppendUint(b, seq, 10)
}
