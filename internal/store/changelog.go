package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Position is a place in an engine's change log: a Redis stream id
// "ms-seq", or the memory engine's sequence number (Ms 0). The zero value is
// "before everything".
type Position struct {
	Ms, Seq uint64
}

// After reports whether p comes after q.
func (p Position) After(q Position) bool {
	return p.Ms > q.Ms || (p.Ms == q.Ms && p.Seq > q.Seq)
}

// IsZero reports whether p is the zero position.
func (p Position) IsZero() bool { return p == Position{} }

// String writes the position as a stream id.
func (p Position) String() string { return fmt.Sprintf("%d-%d", p.Ms, p.Seq) }

// ParsePosition reads "ms-seq"; "" and "0" are the zero position.
func ParsePosition(s string) (Position, error) {
	if s == "" || s == "0" {
		return Position{}, nil
	}
	ms, seq, ok := strings.Cut(s, "-")
	if !ok {
		return Position{}, fmt.Errorf("change log position %q: want ms-seq", s)
	}
	a, err1 := strconv.ParseUint(ms, 10, 64)
	b, err2 := strconv.ParseUint(seq, 10, 64)
	if err1 != nil || err2 != nil {
		return Position{}, fmt.Errorf("change log position %q: want ms-seq", s)
	}
	return Position{Ms: a, Seq: b}, nil
}

// Change is one applied upsert: the new entry, the entry it replaced (nil
// for a new response) and the response's payload (JSON of Payload).
type Change struct {
	New     Entry
	Old     *Entry
	Payload []byte
}

// LogEntry is one batch's changes at its log position.
type LogEntry struct {
	Pos     Position
	Changes []Change
}

// ErrLogGap means the change log no longer continues from the position a
// reader asked for: it was trimmed past it, or the engine lost its data (a
// Redis restarted without persistence). The reader must warm up again from a
// snapshot.
var ErrLogGap = errors.New("change log gap: warm up again")

// SnapshotBucket is one bucket's counts as of a log position: it holds every
// change up to AsOf and none after.
type SnapshotBucket struct {
	Key    BucketKey
	Groups map[string]Tally
	AsOf   Position
}

// Snapshot is an engine's buckets for some rollups and the position to tail
// the log from. A bucket missing from it has only changes after Start.
type Snapshot struct {
	Start   Position
	Buckets []SnapshotBucket
}

// Feed is how a node follows an engine: a snapshot to warm up from, then
// the change log. It is part of Store, so both engines implement it, and
// storetest checks the contract below on each of them.
type Feed interface {
	// Snapshot returns the buckets of the given rollups, each with the log
	// position it reflects, and Start, the position to tail from: replaying
	// the log after Start over the buckets (skipping, per bucket, changes
	// up to its AsOf) gives the engine's counters.
	Snapshot(ctx context.Context, rollups []Rollup) (Snapshot, error)
	// Tail returns the next log entries after pos (all of them, or the
	// first few: an engine may cap one read), oldest first, each at a
	// position after the one before; the zero position is before the first
	// entry. With nothing after pos it waits up to block for an entry, and
	// returns none (and no error) when none came. It returns ErrLogGap when
	// the log does not continue from pos: trimmed past it, lost, or a
	// position the log never reached.
	Tail(ctx context.Context, pos Position, block time.Duration) ([]LogEntry, error)
	// History returns up to n of the newest log entries, oldest first, to
	// refill feeds of recent answers after a warm-up, or to find the log's
	// end. It says nothing about counters.
	History(ctx context.Context, n int) ([]LogEntry, error)
}

// EncodeChange writes a change as one change log line: new entry, old entry
// (empty for a new response) and payload, tab-separated.
func EncodeChange(c Change) string {
	old := ""
	if c.Old != nil {
		old = c.Old.Encode()
	}
	return c.New.Encode() + "\t" + old + "\t" + string(c.Payload)
}

// DecodeChanges parses the lines of a change log entry.
func DecodeChanges(s string) ([]Change, error) {
	lines := strings.Split(s, "\n")
	out := make([]Change, 0, len(lines))
	for _, line := range lines {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 {
			return nil, fmt.Errorf("change log line %q: want 3 parts", line)
		}
		var c Change
		var err error
		if c.New, err = DecodeEntry(parts[0]); err != nil {
			return nil, err
		}
		if parts[1] != "" {
			old, err := DecodeEntry(parts[1])
			if err != nil {
				return nil, err
			}
			c.Old = &old
		}
		c.Payload = []byte(parts[2])
		out = append(out, c)
	}
	return out, nil
}
