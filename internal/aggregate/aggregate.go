// Package aggregate keeps, on every node, an in-memory replica of the
// engine's counters for the rollups boards use. It warms up from a snapshot,
// then follows the engine's change log, so boards are computed from memory
// and every node shows the same numbers as the engine within a log read.
package aggregate

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// Feed is what the aggregator reads from an engine: a snapshot, then the
// change log. Every store.Store has it (store.Feed is the engines' side of
// the same contract, which the conformance suite checks); it is declared
// here, on the reader's side, so the aggregator names only what it reads.
type Feed interface {
	Snapshot(ctx context.Context, rollups []store.Rollup) (store.Snapshot, error)
	Tail(ctx context.Context, pos store.Position, block time.Duration) ([]store.LogEntry, error)
	History(ctx context.Context, n int) ([]store.LogEntry, error)
}

// Timing of the follow loop.
const (
	// tailBlock is how long one log read waits; it also bounds how soon a
	// Redis that lost its data is noticed while no one writes.
	tailBlock = 2 * time.Second
	// retryMin and retryMax bound the backoff while the engine fails.
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
	// sweepEvery drops expired buckets from the replica.
	sweepEvery = time.Minute
	// recentLength is how many recent answers the feed keeps.
	recentLength = 200
)

// Status says whether the replica can be trusted.
type Status struct {
	// Epoch changes whenever the replica is rebuilt (start, re-warm after a
	// log gap): numbers from different epochs may not continue each other.
	Epoch string
	// Ready is false until the first warm-up finished.
	Ready bool
	// Stale is true while the engine cannot be read: numbers are the last
	// known ones.
	Stale bool
	// Pos is the change log position the replica reflects.
	Pos store.Position
}

// Aggregator is one node's replica. Its methods are safe for concurrent use.
type Aggregator struct {
	feed    Feed
	opts    store.Options
	rollups []store.Rollup
	log     *slog.Logger
	// process distinguishes this process's epochs from another's.
	process uint32
	changed chan struct{}

	mu      sync.RWMutex
	replica *store.Replica
	// rewarm asks Run to rebuild the replica; the old one keeps answering
	// (as stale) until the new one is ready.
	rewarm bool
	warms  uint64
	stale  bool
	recent []store.Answer
}

// New makes an aggregator for the given rollups (those some board reads).
func New(feed Feed, opts store.Options, rollups []store.Rollup, logger *slog.Logger) *Aggregator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &Aggregator{
		feed: feed, opts: opts, rollups: rollups, log: logger,
		process: binary.BigEndian.Uint32(b[:]),
		changed: make(chan struct{}, 1),
	}
}

// Changed delivers a signal after the replica or its status changed;
// signals coalesce, so a slow reader sees one for many changes.
func (a *Aggregator) Changed() <-chan struct{} { return a.changed }

func (a *Aggregator) signal() {
	select {
	case a.changed <- struct{}{}:
	default:
	}
}

// Run warms up and follows the log until ctx ends. Engine failures mark the
// replica stale and are retried with backoff; a log gap rebuilds it.
func (a *Aggregator) Run(ctx context.Context) {
	backoff := retryMin
	lastSweep := a.opts.Now()
	for ctx.Err() == nil {
		if a.needsWarm() {
			if err := a.warm(ctx); err != nil {
				a.fail(ctx, "warm up", err, &backoff)
				continue
			}
			backoff = retryMin
		}
		entries, err := a.feed.Tail(ctx, a.Status().Pos, tailBlock)
		switch {
		case errors.Is(err, store.ErrLogGap):
			a.log.Warn("change log gap; warming up again", slog.String("pos", a.Status().Pos.String()))
			a.mu.Lock()
			a.rewarm, a.stale = true, true
			a.mu.Unlock()
			a.signal()
			continue
		case err != nil:
			a.fail(ctx, "follow the change log", err, &backoff)
			continue
		}
		backoff = retryMin
		now := a.opts.Now()
		a.apply(entries, now)
		if now.Sub(lastSweep) >= sweepEvery {
			a.mu.Lock()
			a.replica.Sweep(now)
			a.mu.Unlock()
			lastSweep = now
		}
	}
}

func (a *Aggregator) needsWarm() bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.replica == nil || a.rewarm
}

// fail marks the replica stale and waits before the next try.
func (a *Aggregator) fail(ctx context.Context, doing string, err error, backoff *time.Duration) {
	if ctx.Err() != nil {
		return
	}
	a.mu.Lock()
	wasStale := a.stale
	a.stale = true
	a.mu.Unlock()
	if !wasStale {
		a.log.Warn("aggregator: engine unavailable; boards show their last numbers as stale", slog.String("doing", doing), slog.Any("err", err))
		a.signal()
	}
	select {
	case <-ctx.Done():
	case <-time.After(*backoff):
	}
	*backoff = min(*backoff*2, retryMax)
}

func (a *Aggregator) warm(ctx context.Context) error {
	start := time.Now()
	snap, err := a.feed.Snapshot(ctx, a.rollups)
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	hist, err := a.feed.History(ctx, recentLength)
	if err != nil {
		return fmt.Errorf("recent answers: %w", err)
	}
	replica := store.NewReplica(a.opts, a.rollups, snap)
	a.mu.Lock()
	a.replica = replica
	a.rewarm = false
	a.warms++
	a.stale = false
	a.recent = a.recent[:0]
	for _, e := range hist {
		a.remember(e)
	}
	a.mu.Unlock()
	a.log.Info("aggregator warmed up", slog.Int("buckets", len(snap.Buckets)), slog.String("pos", snap.Start.String()),
		slog.Duration("took", time.Since(start)), slog.String("epoch", a.Status().Epoch))
	a.signal()
	return nil
}

func (a *Aggregator) apply(entries []store.LogEntry, now time.Time) {
	a.mu.Lock()
	wasStale := a.stale
	a.stale = false
	for _, e := range entries {
		a.replica.Apply(e, now)
		a.remember(e)
	}
	a.mu.Unlock()
	if len(entries) > 0 || wasStale {
		a.signal()
	}
}

// commentKey marks a payload with a comment: the engine writes payloads
// with "comment" omitted when empty, and a quote inside a JSON string is
// always escaped, so the bare key appears only as a key.
var commentKey = []byte(`"comment":`)

// remember keeps the newest commented answers by time (feeds show
// comments); a changed answer replaces its old version. New answers without
// a comment, most of the traffic, are skipped without decoding. Called with
// the lock held.
func (a *Aggregator) remember(e store.LogEntry) {
	for _, c := range e.Changes {
		if c.Old == nil && !bytes.Contains(c.Payload, commentKey) {
			continue
		}
		var p store.Payload
		if err := json.Unmarshal(c.Payload, &p); err != nil {
			continue // payloads are written by the engine; a bad one is not worth a feed
		}
		if c.Old != nil {
			for i := range a.recent {
				if a.recent[i].ID == p.ID {
					a.recent = append(a.recent[:i], a.recent[i+1:]...)
					break
				}
			}
		}
		if p.Comment == "" || !p.HasScore() {
			continue // feeds show NPS answers' comments
		}
		ans := store.Answer{Payload: p, At: time.Unix(c.New.At, 0).UTC()}
		if len(a.recent) < recentLength {
			a.recent = append(a.recent, ans)
			continue
		}
		// Full: keep the newest answers by their time, so a backfill or an
		// import of old answers never pushes today's out of the feed.
		oldest := 0
		for i := range a.recent {
			if a.recent[i].At.Before(a.recent[oldest].At) {
				oldest = i
			}
		}
		if ans.At.After(a.recent[oldest].At) {
			a.recent[oldest] = ans
		}
	}
}

// ErrNotReady means the first warm-up has not finished.
var ErrNotReady = errors.New("aggregator: not warmed up yet")

// Query answers from the replica.
func (a *Aggregator) Query(q store.Query) ([]store.Group, error) {
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.replica == nil {
		return nil, ErrNotReady
	}
	return a.replica.Query(q, a.opts.Now())
}

// Recent returns up to n of the newest commented answers that keep passes,
// by their time, newest first (late answers arrive out of order).
func (a *Aggregator) Recent(n int, keep func(store.Answer) bool) []store.Answer {
	a.mu.RLock()
	out := make([]store.Answer, 0, len(a.recent))
	for _, ans := range a.recent {
		if keep == nil || keep(ans) {
			out = append(out, ans)
		}
	}
	a.mu.RUnlock()
	slices.SortStableFunc(out, func(x, y store.Answer) int { return y.At.Compare(x.At) })
	return out[:min(n, len(out))]
}

// Status reports the replica's state.
func (a *Aggregator) Status() Status {
	a.mu.RLock()
	defer a.mu.RUnlock()
	s := Status{Epoch: fmt.Sprintf("%08x-%d", a.process, a.warms), Ready: a.replica != nil, Stale: a.stale}
	if a.replica != nil {
		s.Pos = a.replica.Pos()
	}
	return s
}
