// Package live pushes board views to screens over WebSockets: one hub per
// board, a view computed once per change, encoded once per protocol version
// its screens speak (v2's tile patches included: versions.go) and fanned out
// as a message (message.go) that serves both transports, a prepared
// WebSocket frame and, for the SSE fallback (sse.go), an event. A slow screen never delays the others: its queue is
// bounded, and when it overflows the screen gets the latest snapshot
// instead of the backlog. The wire protocol is documented in
// docs/PROTOCOL.md.
//
// # Goroutines
//
// A connected screen holds one goroutine: its reader (client.readPump).
// While the screen is quiet, which is nearly always, the reader parks on
// the socket itself (wire.waitReadable: a one-byte MSG_PEEK through
// syscall.RawConn, which waits on Go's poller and honours the read
// deadline), a few frames deep, so the garbage collector keeps its stack
// at the smallest size, 2 KiB; it calls into gorilla only once bytes have
// arrived or gorilla's read buffer still holds some. The HTTP handler's
// goroutine ends after the upgrade (the connection is hijacked).
//
// No screen has a writer goroutine. Whoever queues a message (the
// broadcaster's loop in a fan-out, a screen joining, the reader answering
// a resync) flushes it through the screen's wire, whose writes never wait:
// the bytes go to the kernel's send buffer at once, and what does not fit
// is kept and written by a drain goroutine started for that screen alone,
// which ends when the backlog is written, or when the screen has not taken
// a part of it within writeWait (the screen is then dropped as too slow). A fan-out (deliver) writes from short-lived
// goroutines, at most one per 128 screens and GOMAXPROCS in all; to 128
// screens or fewer it writes from the caller's goroutine.
//
// A screen on an event stream (sse.go, the fallback for networks that
// block WebSockets) holds one goroutine too, its request's handler, which
// is also its only writer: flush wakes it instead of writing, since a
// net/http response's writes may wait; each of its writes is bounded by
// writeWait. It takes no lock of its own (its close signals the handler
// through a channel), so the lock order below holds for it unchanged.
//
// Where the socket offers no syscall.RawConn (not unix, or not TCP), the
// reader parks inside gorilla's read and every write takes a drain
// goroutine, bounded by writeWait as a writer goroutine would be.
//
// # Lock order
//
// A goroutine that holds a lock takes only locks further down this list:
//
//  1. Broadcaster.mu (the hubs) or Broadcaster.publishMu (computing and
//     publishing, between the loop and a first screen joining): never both
//     at once. Both may be held across a delivery, whose writes do not
//     wait. Under either, the board registry (package boards) is read for
//     definitions and views; its lock is a leaf.
//  2. client.once: a screen's close runs under it, and is never called
//     with a hub's or a client's lock held. It takes client.mu briefly,
//     writes the close frame (5, 6) and frees the screen's per-address
//     slot (addressSlots.mu, a leaf).
//  3. hub.mu: a hub queues messages for its screens under it (offer,
//     requestPing, and resnapshot's drop of a screen's stale queue).
//  4. client.mu: nothing is taken under it. flush releases it before
//     writing and before asking the hub for a snapshot, so a client's lock
//     is never held while a hub's is taken.
//  5. gorilla's write lock (the Conn's mu channel), taken inside every
//     write call.
//  6. wire.mu: innermost. The wire calls back (drained: the screen's flush;
//     failed: its close) and writes a backlog with no lock held.
//
// No hub or client lock is held during a socket write.
//
// # What the wire assumes of gorilla/websocket (v1.5.3) and net/http
//
// The write path reaches under gorilla: it hands gorilla a read buffer
// through the hijacker, ignores gorilla's write deadlines and writes
// backlogs beside gorilla's writer, and parks the reader on the socket
// before reading through gorilla. It rests on these behaviours; each has a
// test in wire_gorilla_test.go that fails if an upgrade changes it. When
// upgrading gorilla, run them and read server.go (Upgrade,
// bufioReaderSize), conn.go (write, WriteControl, WritePreparedMessage,
// SetReadDeadline, SetWriteDeadline, the default handlers) and prepared.go
// against this list.
//
//  1. The read buffer hand-off. Upgrade takes the connection through the
//     ResponseWriter's Hijack (the hijacker) and reads and writes only
//     through the net.Conn that returns (the wire). With
//     Upgrader.ReadBufferSize 0 it reads frames through the bufio.Reader
//     Hijack returns when that is larger than 256 bytes; the hijacker
//     returns a fresh 512-byte one over the wire, which the reader asks
//     (Buffered) before it parks on the socket. Were gorilla to read into
//     a buffer of its own, a frame that arrived with the one before it
//     would wait there while the reader parked: a ping or a resync left
//     unanswered until the next bytes or pongWait. With a WriteBufferPool,
//     an idle Conn holds no write buffer. (TestGorillaUsesTheWireAndItsBuffers,
//     TestGorillaLeavesTheNextFrameInTheHandedBuffer)
//  2. Bytes before the handshake. gorilla refuses a client that sent data
//     before its answer by looking at the reader Hijack returns; as that
//     reader is fresh, the hijacker looks at net/http's instead. gorilla
//     then writes an HTTP error to the hijacked response, which the
//     hijacker drops. (TestHijackerRefusesBytesBeforeTheHandshake)
//  3. No write buffering. WritePreparedMessage writes the message's cached
//     frame with one Write of the whole frame, and WriteControl one Write
//     per frame, under gorilla's write lock; nothing stays in gorilla when
//     the call returns. So flush can ask the wire whether it is backlogged
//     right after a write, and the drain's callback is the only wake-up a
//     screen behind needs. (TestGorillaWritesPreparedFramesWholeAndAtOnce)
//  4. gorilla's own writes go through the wire. The pong its default ping
//     handler sends and the reply its default close handler sends (from
//     the reader's goroutine, inside ReadMessage), its 1009 and 1002
//     closes on an oversized message or a protocol error, and close's
//     close frame are WriteControl calls,
//     which gorilla allows beside any other call and serializes with its
//     write lock; while a drain owns the socket they join the backlog in
//     order. Data messages are written by flush alone (its writing flag):
//     gorilla panics on concurrent ones. A close frame written while a
//     backlog waits is lost with it, as close shuts the socket at once.
//     (TestGorillaControlFramesJoinTheBacklogInOrder)
//  5. Write deadlines. gorilla calls SetWriteDeadline on its net.Conn
//     before every write: its stored deadline (zero, as this package sets
//     none) for a message, the given one for a control frame (now + 1 s for
//     its own pongs). wire.SetWriteDeadline ignores them: the socket's
//     write deadline is the drain's, set for each backlog and cleared when
//     it is written. Were gorilla's to reach the socket, a write without
//     one would lift the drain's limit and a screen that pings would keep
//     pushing it back: a stuck screen would never be dropped. It also
//     saves a system call per write. (TestGorillaWriteDeadlinesDoNotReachTheSocket)
//  6. Read deadlines. gorilla's SetReadDeadline goes straight to the
//     socket, and its writes never set one (wire.SetDeadline, which
//     Upgrade calls to clear the server's deadlines, sets only the read
//     deadline), so pongWait ends a silent screen while its reader is
//     parked outside gorilla. (TestGorillaReadDeadlineWakesTheParkedReader)
//  7. net/http clears a connection's deadlines when it is hijacked (the
//     server's WriteTimeout is a minute). The wire relies on it, as it
//     passes gorilla's own clearing on to the read deadline only: a write
//     deadline left from the request would fail every write after it.
//     (TestHTTPWriteTimeoutDoesNotOutliveTheHandshake)
//  8. Compression. With EnableCompression gorilla agrees permessage-deflate
//     with server_no_context_takeover and client_no_context_takeover, and
//     a PreparedMessage caches one frame per (server, compressed, level):
//     an update is compressed once for every screen that agreed it (this
//     package sets no per-connection level) and sent plain to the others.
//     (TestGorillaCompressesPreparedFramesOnceForAll)
//
// TestIdleScreenHoldsOneGoroutine checks the goroutine count above.
//
// # Why not the plain design
//
// The plain gorilla design, a reader and a writer goroutine and a channel
// per screen, is the yardstick in docs/BENCHMARKS.md (the bare hub), and it
// does not meet the figures this design does: at 2,000 screens
// (2026-12-02, make loadtest) 11.0 KiB per idle screen against 8.5, p50
// 62 ms against 32; at 10,000 screens (2026-12-01) 9.9-10.1 KiB against
// 7.1-7.3 (the target is 8), and p99 940 and 2,200 ms against 463 and 548.
// The half-way design, keeping the wire but letting the reader park inside
// gorilla (no hand-off, no MSG_PEEK), needs no gorilla internals for reads
// but doubles each idle reader's stack: BenchmarkIdleScreen gives 4,096
// bytes of stack per screen against 2,179, heap unchanged at about 3.6 KB
// (2026-12-02, docs/BENCHMARKS.md), which puts 10,000 screens near 9 KiB
// each, over the target. The design buys memory and tail latency, not
// delivery speed: in-process, BenchmarkBroadcast costs what the bare hub's
// BenchmarkBareHub does in the same run (2026-12-02, -benchtime 300x, a
// loaded machine: 23.2 against 21.6 µs per screen at 100 screens, 34.6
// against 35.6 at 1,000).
package live
