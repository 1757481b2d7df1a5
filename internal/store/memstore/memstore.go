// Package memstore is the embedded storage engine: everything in this
// process's memory, one lock, no dependencies. It is the default for `make
// run` and single-node trials; it forgets everything on restart.
package memstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

var _ store.Store = (*Store)(nil)

// sweepEvery bounds how often Record walks all buckets and ids to drop the
// expired ones; between sweeps, expired data is only ignored.
const sweepEvery = 5 * time.Minute

// logChanges bounds the in-process change log, in changes (not batches: a
// batch may hold 10,000): readers that fall further behind warm up again.
// It also bounds the memory the log holds, whatever the batch sizes.
const logChanges = 65_536

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("memstore: closed")

// Store is the memory engine.
type Store struct {
	opts store.Options

	mu        sync.Mutex
	closed    bool
	ids       map[string]storedEntry
	offers    map[string]storedEntry // by offer id, apart from responses
	buckets   *store.Buckets
	lastSweep time.Time
	// The change log: the last logLength batches, seq of the newest, and a
	// channel closed (and replaced) whenever a batch is appended.
	log      []store.LogEntry
	logLen   int // changes held in log
	seq      uint64
	appended chan struct{}
}

type storedEntry struct {
	store.Entry
	expires time.Time
	// answeredEarly marks an offer that an answer named before the offer
	// itself was recorded; it has no entry yet.
	answeredEarly bool
}

// New makes an empty memory engine.
func New(opts store.Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{
		opts:     opts,
		ids:      make(map[string]storedEntry),
		offers:   make(map[string]storedEntry),
		buckets:  store.NewBuckets(opts, nil),
		appended: make(chan struct{}),
	}
}

// Record upserts a batch; it holds the lock for the whole batch, so a batch
// is atomic to every reader.
func (s *Store) Record(ctx context.Context, batch []store.Response) (store.RecordResult, error) {
	var res store.RecordResult
	if err := ctx.Err(); err != nil {
		return res, err
	}
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return res, ErrClosed
	}
	s.maybeSweep(now)
	var changes []store.Change
	for _, r := range batch {
		r = s.opts.Derive(r)
		ids := s.ids
		if r.Kind == store.KindOffer {
			ids = s.offers
		}
		change, outcome := s.upsert(ids, r, now)
		res.Count(outcome)
		if change == nil {
			continue
		}
		changes = append(changes, *change)
		if link := s.opts.OfferOf(r); link != "" {
			if c := s.answer(link, now); c != nil {
				changes = append(changes, *c)
			}
		}
	}
	if len(changes) > 0 {
		s.appendLog(changes)
	}
	return res, nil
}

// upsert records one response or offer in ids (its kind's records) and
// returns the change it made, nil for a duplicate or a stale version.
func (s *Store) upsert(ids map[string]storedEntry, r store.Response, now time.Time) (*store.Change, store.Outcome) {
	next := store.EntryOf(r, s.opts.Rollups)
	old, known := ids[r.ID]
	known = known && now.Before(old.expires)
	if known && old.answeredEarly {
		// An answer named this offer before it came: it is answered, and
		// new (nothing of it is counted yet).
		next.Answered, known = true, false
	}
	if known {
		if !r.AtGiven {
			next.At = old.At
		}
		if next.Version == 0 {
			next.Version = old.Version // unversioned: the stored version stays
		}
		// An offer once answered stays answered through its updates.
		next.Answered = next.Answered || old.Answered
	}
	change := &store.Change{New: next, Payload: store.PayloadOf(r)}
	outcome := store.Accepted
	switch {
	case known && old.Stale(next):
		return nil, store.Stale
	case known && old.Same(next, r.AtGiven):
		if next.Version > old.Version {
			// Nothing to count, but an older version with other
			// content must now be stale.
			old.Version = next.Version
			ids[r.ID] = old
		}
		return nil, store.Duplicate
	case known:
		s.buckets.Apply(old.Entry, -1, now, nil)
		change.Old = &old.Entry
		outcome = store.Updated
	}
	s.buckets.Apply(next, +1, now, nil)
	ids[r.ID] = storedEntry{Entry: next, expires: time.Unix(next.At, 0).Add(s.opts.Retention.Dedupe)}
	return change, outcome
}

// answer marks offer id answered, where and when it was made, and returns
// the change; an offer not yet recorded is remembered as answered for when
// it comes (producers send offers and answers by different doors).
func (s *Store) answer(id string, now time.Time) *store.Change {
	old, known := s.offers[id]
	switch {
	case !known || !now.Before(old.expires):
		s.offers[id] = storedEntry{answeredEarly: true, expires: now.Add(s.opts.Retention.Dedupe)}
		return nil
	case old.answeredEarly || old.Answered:
		return nil
	}
	next := old.Entry
	next.Answered = true
	s.buckets.Apply(old.Entry, -1, now, nil)
	s.buckets.Apply(next, +1, now, nil)
	s.offers[id] = storedEntry{Entry: next, expires: old.expires}
	return &store.Change{New: next, Old: &old.Entry, Payload: store.PayloadOf(store.Response{ID: id, Kind: store.KindOffer})}
}

func (s *Store) appendLog(changes []store.Change) {
	s.seq++
	s.log = append(s.log, store.LogEntry{Pos: store.Position{Seq: s.seq}, Changes: changes})
	s.logLen += len(changes)
	drop := 0
	for s.logLen > logChanges && drop < len(s.log)-1 {
		s.logLen -= len(s.log[drop].Changes)
		drop++
	}
	if drop > 0 {
		// Copy down so the dropped entries' changes can be collected.
		s.log = append(s.log[:0], s.log[drop:]...)
	}
	close(s.appended)
	s.appended = make(chan struct{})
}

func (s *Store) maybeSweep(now time.Time) {
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	s.buckets.Sweep(now)
	for _, ids := range []map[string]storedEntry{s.ids, s.offers} {
		for id, e := range ids {
			if !now.Before(e.expires) {
				delete(ids, id)
			}
		}
	}
}

// Query sums the window's buckets of the covering rollup.
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	return s.buckets.Query(q, s.opts.Now())
}

// Snapshot copies the buckets of some rollups, all as of the newest log
// position.
func (s *Store) Snapshot(ctx context.Context, rollups []store.Rollup) (store.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return store.Snapshot{}, err
	}
	want := make(map[string]bool, len(rollups))
	for _, r := range rollups {
		want[r.Name()] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.Snapshot{}, ErrClosed
	}
	snap := store.Snapshot{Start: store.Position{Seq: s.seq}}
	s.buckets.Each(s.opts.Now(), want, func(k store.BucketKey, groups map[string]store.Tally) {
		snap.Buckets = append(snap.Buckets, store.SnapshotBucket{Key: k, Groups: groups, AsOf: snap.Start})
	})
	return snap, nil
}

// Tail returns the batches after pos, waiting up to block for one.
func (s *Store) Tail(ctx context.Context, pos store.Position, block time.Duration) ([]store.LogEntry, error) {
	timer := time.NewTimer(block)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		if pos.Ms != 0 || pos.Seq > s.seq {
			s.mu.Unlock()
			return nil, store.ErrLogGap // a position from another engine
		}
		if pos.Seq < s.seq {
			oldest := s.log[0].Pos.Seq
			if pos.Seq+1 < oldest {
				s.mu.Unlock()
				return nil, store.ErrLogGap
			}
			out := append([]store.LogEntry(nil), s.log[pos.Seq+1-oldest:]...)
			s.mu.Unlock()
			return out, nil
		}
		wait := s.appended
		s.mu.Unlock()
		select {
		case <-wait:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// History returns up to n of the newest batches, oldest first.
func (s *Store) History(_ context.Context, n int) ([]store.LogEntry, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	from := max(0, len(s.log)-n)
	return append([]store.LogEntry(nil), s.log[from:]...), nil
}

// Ping fails only after Close: memory is always reachable.
func (s *Store) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	return nil
}

// Close drops the data; later calls fail with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		s.ids, s.offers, s.buckets, s.log = nil, nil, nil, nil
		close(s.appended)
	}
	return nil
}
