package live

import (
	"bytes"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, with small
// kernel buffers so a few hundred KiB fill them.
func tcpPair(t *testing.T) (server *net.TCPConn, client *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	server, client = s.(*net.TCPConn), c.(*net.TCPConn)
	_ = server.SetWriteBuffer(16 << 10)
	_ = client.SetReadBuffer(16 << 10)
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// A write larger than the kernel buffers returns at once; the rest is
// written, in order, once the peer reads, and drained is called.
func TestWireNeverWaits(t *testing.T) {
	server, client := tcpPair(t)
	w := newWire(server)
	var drained atomic.Int32
	w.notify(func() { drained.Add(1) }, func(err error) { t.Errorf("failed: %v", err) })

	var want bytes.Buffer
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096) // 64 KiB
	began := time.Now()
	for i := range 3 {
		chunk[0] = byte('A' + i)
		if _, err := w.Write(chunk); err != nil {
			t.Fatal(err)
		}
		want.Write(chunk)
	}
	if took := time.Since(began); took > 100*time.Millisecond {
		t.Fatalf("three writes past the kernel buffer took %s: they waited for the peer", took)
	}
	if !w.backlogged() {
		t.Fatal("192 KiB fit in 16 KiB buffers without a backlog")
	}
	got := make([]byte, want.Len())
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatal("bytes arrived out of order or changed")
	}
	deadline := time.Now().Add(time.Second)
	for w.backlogged() || drained.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("backlogged %v, drained called %d times", w.backlogged(), drained.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

// backloggedWire returns a wire with bytes waiting for a peer that does
// not read, the peer, and what the wire reports as failed.
func backloggedWire(t *testing.T) (*wire, *net.TCPConn, <-chan error) {
	server, client := tcpPair(t)
	w := newWire(server)
	failed := make(chan error, 2)
	w.notify(func() {}, func(err error) { failed <- err })
	chunk := make([]byte, 128<<10)
	for w.Write(chunk); !w.backlogged(); w.Write(chunk) {
	}
	return w, client, failed
}

// A peer that never reads fails the wire within writeWait, once, and
// later writes fail at once instead of piling up.
func TestWireDropsAPeerThatNeverReads(t *testing.T) {
	w, _, failed := backloggedWire(t)
	select {
	case <-failed:
	case <-time.After(writeWait + 2*time.Second):
		t.Fatal("a peer that never reads was not failed within writeWait")
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("a failed wire took more bytes")
	}
	select {
	case err := <-failed:
		t.Fatalf("failed twice: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
}

// The backlog is bounded: past maxBacklog a write fails instead of
// holding the screen's memory.
func TestWireBacklogIsBounded(t *testing.T) {
	server, _ := tcpPair(t)
	w := newWire(server)
	w.notify(func() {}, func(error) {})
	chunk := make([]byte, 32<<10)
	var err error
	for i := 0; i < 64 && err == nil; i++ {
		_, err = w.Write(chunk)
	}
	if err != errBacklogFull {
		t.Fatalf("2 MiB to a peer that does not read: got %v, want errBacklogFull", err)
	}
}

// A peer that hangs up while bytes wait for it is not a slow one: the
// wire fails, but failed (which drops the screen as too slow and counts
// it) is not called; the screen's reader sees the hang-up and closes it.
func TestWireHangUpIsNotTooSlow(t *testing.T) {
	w, client, failed := backloggedWire(t)
	_ = client.SetLinger(0) // a reset, as from a TV switched off mid-write
	client.Close()
	deadline := time.Now().Add(time.Second)
	for w.backlogged() {
		if time.Now().After(deadline) {
			t.Fatal("the drain did not notice the hang-up")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-failed:
		t.Fatalf("a hang-up was reported as too slow: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	if _, err := w.Write([]byte("more")); err == nil {
		t.Fatal("a wire whose peer hung up took more bytes")
	}
}
