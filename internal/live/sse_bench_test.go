package live

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// eventsServer serves the floor board's event stream from a broadcaster
// like floorServer's.
func eventsServer(tb testing.TB, clock *storetest.Clock) (*Broadcaster, *httptest.Server) {
	tb.Helper()
	bc := floorBroadcaster(tb, clock, Options{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = bc.ServeEvents(w, r, "floor", nil)
	}))
	tb.Cleanup(srv.Close)
	tb.Cleanup(bc.Close) // first: it ends the streams the server's Close waits for
	return bc, srv
}

// rawStream opens an event stream over a bare connection and returns it
// after its first message (the snapshot), with a reader on it.
func rawStream(tb testing.TB, addr string) (net.Conn, *bufio.Reader) {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	if _, err := fmt.Fprintf(conn, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		tb.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			tb.Fatal(err)
		}
		if bytes.HasPrefix(line, []byte("data: ")) {
			return conn, br
		}
	}
}

// BenchmarkBroadcastEvents is BenchmarkBroadcast with every screen on an
// event stream: the same publish and fan-out, each stream written by its
// own goroutine through net/http (chunked framing).
func BenchmarkBroadcastEvents(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			clock := &storetest.Clock{}
			clock.Set(time.Now())
			bc, srv := eventsServer(b, clock)
			addr := srv.Listener.Addr().String()
			var received atomic.Int64
			for range n {
				_, br := rawStream(b, addr)
				go func() {
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if bytes.HasPrefix(line, []byte("data: ")) {
							received.Add(1)
						}
					}
				}()
			}
			h := bc.hubs["floor"]
			for h.size() < n {
				time.Sleep(time.Millisecond)
			}
			view, st, err := floorView(bc, clock)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				view.Tiles[0].Title = fmt.Sprintf("Last hour %d", i)
				targets, err := h.publish(view, nil, st.Epoch, false, clock.Now())
				if err != nil {
					b.Fatal(err)
				}
				deliver(targets)
				want := int64(n) * int64(i+1)
				for received.Load() < want {
					time.Sleep(20 * time.Microsecond)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/client")
		})
	}
}

// BenchmarkIdleEventStream is BenchmarkIdleScreen for event streams: what
// an idle stream holds in the server (its handler's goroutine, net/http's
// connection and buffers). Run it with -benchtime 2000x.
func BenchmarkIdleEventStream(b *testing.B) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := eventsServer(b, clock)
	addr := srv.Listener.Addr().String()
	rawStream(b, addr) // the board is published
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		rawStream(b, addr)
	}
	for bc.Clients()["floor"] < b.N+1 {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/float64(b.N), "stack-B/screen")
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(b.N), "heap-B/screen")
}
