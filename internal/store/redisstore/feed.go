package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/store"
)

// snapshotChunk is how many bucket hashes one MULTI reads together with the
// log position they reflect: small enough not to hold Redis for long, large
// enough to read a month of buckets in a few dozen round trips.
const snapshotChunk = 200

// tailCount caps the log entries one XREAD returns; an entry holds up to a
// whole chunk (1000 changes), so this bounds a read to a few MB.
const tailCount = 32

// tailGrace is how long past its block a log read may take before Redis
// counts as silent.
const tailGrace = time.Second

// Snapshot reads the buckets of the given rollups. Redis cannot read them
// all in one atomic step without blocking for long, so it reads them in
// chunks, each in a MULTI with the change log's newest id: every bucket
// carries the position it reflects, and the aggregator replays only later
// changes into it. The bucket index names the buckets, so nothing scans the
// keyspace (which holds a key per response). A bucket created after the
// index was read is not read at all; all of its changes come after Start,
// which is read first.
func (s *Store) Snapshot(ctx context.Context, rollups []store.Rollup) (store.Snapshot, error) {
	start, err := s.lastLogID(ctx)
	if err != nil {
		return store.Snapshot{}, err
	}
	snap := store.Snapshot{Start: start}
	ictx, cancel := s.bounded(ctx)
	all, err := s.rdb.ZRangeByScore(ictx, s.keys.BucketIndex(), &redis.ZRangeBy{
		Min: strconv.FormatInt(s.opts.Now().Unix(), 10), Max: "+inf",
	}).Result()
	cancel()
	if err != nil {
		return store.Snapshot{}, classify(err, "read the bucket index")
	}
	want := make(map[string]bool, len(rollups))
	for _, r := range rollups {
		want[r.Name()] = true
	}
	keys := all[:0]
	for _, k := range all {
		if b, err := s.parseBucket(k); err == nil && want[b.Rollup] {
			keys = append(keys, k)
		}
	}
	for len(keys) > 0 {
		n := min(len(keys), snapshotChunk)
		chunk := keys[:n]
		keys = keys[n:]
		if err := s.readChunk(ctx, chunk, &snap); err != nil {
			return store.Snapshot{}, err
		}
	}
	return snap, nil
}

func (s *Store) readChunk(ctx context.Context, keys []string, snap *store.Snapshot) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	tx := s.rdb.TxPipeline()
	last := tx.XRevRangeN(ctx, s.keys.ChangeLog(), "+", "-", 1)
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = tx.HGetAll(ctx, k)
	}
	if _, err := tx.Exec(ctx); err != nil {
		return classify(err, "read a snapshot chunk")
	}
	asOf, err := firstID(last.Val())
	if err != nil {
		return corrupt(err)
	}
	for i, cmd := range cmds {
		if len(cmd.Val()) == 0 {
			continue // expired between SCAN and now
		}
		key, err := s.parseBucket(keys[i])
		if err != nil {
			return corrupt(err)
		}
		groups := make(map[string]store.Tally)
		if err := addFields(groups, cmd.Val()); err != nil {
			return corrupt(err)
		}
		snap.Buckets = append(snap.Buckets, store.SnapshotBucket{Key: key, Groups: groups, AsOf: asOf})
	}
	return nil
}

// lastLogID returns the id of the change log's newest entry (zero when the
// log is empty or missing).
func (s *Store) lastLogID(ctx context.Context) (store.Position, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	msgs, err := s.rdb.XRevRangeN(ctx, s.keys.ChangeLog(), "+", "-", 1).Result()
	if err != nil {
		return store.Position{}, classify(err, "read the change log position")
	}
	return firstID(msgs)
}

func firstID(msgs []redis.XMessage) (store.Position, error) {
	if len(msgs) == 0 {
		return store.Position{}, nil
	}
	return store.ParsePosition(msgs[0].ID)
}

// Tail reads the log after pos with XREAD BLOCK. Every entry must name its
// predecessor; a mismatch means the log was trimmed past pos or lost (a
// Redis restarted empty), and the reader has to warm up again. When nothing
// arrives, it checks that the log still reaches pos, so a Redis that lost
// its data is noticed without waiting for the next write.
func (s *Store) Tail(ctx context.Context, pos store.Position, block time.Duration) ([]store.LogEntry, error) {
	// A read may overrun its block by tailGrace at most: past that Redis is
	// silent, and the caller should learn so (boards turn stale) rather
	// than wait for go-redis's own timeout of block + 10 s.
	rctx, cancel := context.WithTimeout(ctx, block+min(s.cfg.Timeout, tailGrace))
	defer cancel()
	streams, err := s.rdb.XRead(rctx, &redis.XReadArgs{
		Streams: []string{s.keys.ChangeLog(), pos.String()},
		Count:   tailCount,
		Block:   block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		last, err := s.lastLogID(ctx)
		if err != nil {
			return nil, err
		}
		if pos.After(last) {
			return nil, store.ErrLogGap
		}
		return nil, nil
	}
	if err != nil {
		return nil, classify(err, "read the change log")
	}
	var out []store.LogEntry
	prev := pos
	for _, st := range streams {
		for _, msg := range st.Messages {
			e, p, err := decodeMessage(msg)
			if err != nil {
				return nil, err
			}
			if p != prev {
				return nil, store.ErrLogGap
			}
			out = append(out, e)
			prev = e.Pos
		}
	}
	return out, nil
}

// History reads the newest n log entries.
func (s *Store) History(ctx context.Context, n int) ([]store.LogEntry, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	msgs, err := s.rdb.XRevRangeN(ctx, s.keys.ChangeLog(), "+", "-", int64(n)).Result()
	if err != nil {
		return nil, classify(err, "read the change log history")
	}
	out := make([]store.LogEntry, len(msgs))
	for i, msg := range msgs {
		e, _, err := decodeMessage(msg)
		if err != nil {
			return nil, err
		}
		out[len(msgs)-1-i] = e
	}
	return out, nil
}

// decodeMessage parses one change log entry and the id of the entry before
// it.
func decodeMessage(msg redis.XMessage) (store.LogEntry, store.Position, error) {
	id, err := store.ParsePosition(msg.ID)
	if err != nil {
		return store.LogEntry{}, store.Position{}, corrupt(err)
	}
	p, _ := msg.Values["p"].(string)
	prev, err := store.ParsePosition(p)
	if err != nil {
		return store.LogEntry{}, store.Position{}, corrupt(err)
	}
	c, _ := msg.Values["c"].(string)
	changes, err := store.DecodeChanges(c)
	if err != nil {
		return store.LogEntry{}, store.Position{}, corrupt(err)
	}
	return store.LogEntry{Pos: id, Changes: changes}, prev, nil
}

// corrupt marks data the engine cannot parse: a bug or foreign keys in the
// namespace, never a reason to retry.
func corrupt(err error) error {
	return fmt.Errorf("redis change log: %w", err)
}
