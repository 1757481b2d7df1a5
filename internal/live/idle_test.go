package live

import (
	"runtime"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// BenchmarkIdleScreen measures what an idle screen holds in the server:
// each iteration opens one loopback screen, which reads its snapshot and
// then sends nothing. It reports the goroutine stacks and the heap in use
// per screen after a collection (the test's own end of each socket, a
// net.TCPConn, is in the heap figure too). Run it with -benchtime 2000x.
func BenchmarkIdleScreen(b *testing.B) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	bc, srv := floorServer(b, clock, nil)
	snapshotRawScreen(b, srv.URL) // the board is published
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for range b.N {
		snapshotRawScreen(b, srv.URL)
	}
	for bc.Clients()["floor"] < b.N+1 {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	time.Sleep(200 * time.Millisecond) // the handlers' goroutines end
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(int64(after.StackInuse)-int64(before.StackInuse))/float64(b.N), "stack-B/screen")
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(b.N), "heap-B/screen")
}
