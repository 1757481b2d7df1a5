package store

import (
	"fmt"
	"math/rand/v2"
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

// TestBucketsSmallGroups: most groups of a minute bucket hold an answer or
// two (an agent, a team and channel), and minute buckets are kept a day:
// at a busy center they are most of an aggregator's memory. Before CSAT
// and offers each group held an 11-counter distribution (88 bytes, about
// 140 bytes a map entry), and a 30-minute soak still grew by 8% filling
// them; a full Tally (144 bytes) is about 175 a map entry. A group with
// few counters must cost at most 80 bytes, map and key header included
// (its name is shared).
func TestBucketsSmallGroups(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	cal, err := window.NewCalendar(time.UTC, now)
	if err != nil {
		t.Fatal(err)
	}
	agent := MustRollup(Agent)
	opts := Options{Rollups: []Rollup{agent}, Calendar: cal, Retention: DefaultRetention()}
	const groups = 200_000
	names := make([]string, groups)
	for i := range names {
		names[i] = canonical(fmt.Sprintf("agent-%06d", i))
	}
	b := NewBuckets(opts, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i, name := range names {
		e := Entry{At: now.Unix(), Score: i % 11, CSAT: i%5 + 1, Groups: []RollupGroup{{Rollup: agent.Name(), Group: name}}}
		if i%3 == 0 {
			e = Entry{At: now.Unix(), Score: NoScore, Offer: true, Answered: i%2 == 0, Groups: e.Groups}
		}
		b.Apply(e, +1, now, nil)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	// Three buckets (minute, hour, day) hold every group.
	per := float64(after.HeapAlloc-before.HeapAlloc) / (3 * groups)
	t.Logf("%.1f bytes per group and bucket", per)
	if per > 80 {
		t.Errorf("%.1f bytes per group and bucket, want at most 80", per)
	}
	runtime.KeepAlive(b)
	// And the counts are right.
	got, err := b.Query(Query{Span: window.Span{From: now.Add(-time.Minute), To: now.Add(time.Minute)}}, now)
	if err != nil {
		t.Fatal(err)
	}
	var want Tally
	for i := range groups {
		if i%3 == 0 {
			want.Offered++
			if i%2 == 0 {
				want.Answered++
			}
			continue
		}
		want.NPS[i%11]++
		want.CSAT[i%5]++
	}
	if got[0].Tally() != want {
		t.Errorf("overall %+v, want %+v", got[0].Tally(), want)
	}
}

// TestCountsMatchTally: a group's compact counts, under any sequence of
// additions and retractions of any cells, hold what a full Tally does.
func TestCountsMatchTally(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	for round := range 2000 {
		var c counts
		var want Tally
		for range rng.IntN(40) {
			cell := uint8(rng.IntN(numCells))
			n := int64(rng.IntN(5)) - 2
			if rng.IntN(50) == 0 {
				n = int64(rng.Int32()) * 4 // beyond a small counter
			}
			c.add(cell, n)
			want.addCell(cell, n)
		}
		if got := c.tally(); got != want {
			t.Fatalf("round %d: %+v, want %+v", round, got, want)
		}
	}
}
