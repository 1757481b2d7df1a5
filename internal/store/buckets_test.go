package store

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
)

// TestBucketsKeepNoMessage: an aggregator applies entries decoded from
// change log messages, whose group and rollup names are substrings of a
// message of up to a thousand changes. Kept as map keys, each new group of
// each new minute bucket kept its whole message alive: a 30-minute soak
// grew by 5.5 MB of Redis replies. The set must keep only the names, also
// when a group it holds is counted again: assigning to a map's existing
// string key stores the new key (Go replaces string keys on assignment),
// which kept the message of every group's latest answer alive.
func TestBucketsKeepNoMessage(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	cal, err := window.NewCalendar(time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	team := MustRollup(Team)
	b := NewBuckets(Options{Rollups: []Rollup{team}, Calendar: cal, Retention: DefaultRetention()}, nil)
	// 200 messages of 256 KiB each, one new group per message in a new
	// minute: 50 MiB if the set keeps the messages.
	const messages, size = 200, 256 << 10
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	apply := func(at time.Time, group string, pad int) {
		line := fmt.Sprintf("fp;%d;9;team=%s;", at.Unix(), group) + strings.Repeat("x", pad)
		e, err := DecodeEntry(line[:strings.LastIndexByte(line, ';')])
		if err != nil {
			t.Fatal(err)
		}
		b.Apply(e, 1, now, nil)
	}
	for i := range messages {
		// Half the messages bring a new group in a new minute, half count
		// again a group counted before from a small message.
		if i%2 == 0 {
			apply(now.Add(-time.Duration(i)*time.Minute), fmt.Sprintf("new%03d", i), size)
		} else {
			apply(now, fmt.Sprintf("old%03d", i), 0)
			apply(now, fmt.Sprintf("old%03d", i), size)
		}
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Fatalf("the buckets hold %d MiB after %d messages of %d KiB: they keep the messages their names came from", grew>>20, messages, size>>10)
	}
	if b.Len() < messages/2 {
		t.Fatal("nothing applied")
	}
	runtime.KeepAlive(b)
}
