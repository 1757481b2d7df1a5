// Package memstore is the embedded storage engine: everything in this
// process's memory, one lock, no dependencies. It is the default for `make
// run` and single-node trials; it forgets everything on restart.
package memstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

var _ store.Store = (*Store)(nil)

// sweepEvery bounds how often Record walks all buckets and ids to drop the
// expired ones; between sweeps, expired data is only ignored.
const sweepEvery = 5 * time.Minute

// ErrClosed is returned by every call after Close.
var ErrClosed = errors.New("memstore: closed")

// Store is the memory engine.
type Store struct {
	opts    store.Options
	rollups map[string]bool

	mu        sync.Mutex
	closed    bool
	ids       map[string]storedEntry
	buckets   map[bucketKey]*bucket
	lastSweep time.Time
}

type storedEntry struct {
	store.Entry
	expires time.Time
}

type bucketKey struct {
	rollup string
	gran   window.Gran
	id     int64
}

type bucket struct {
	expires time.Time
	groups  map[string]*nps.Distribution
}

// New makes an empty memory engine.
func New(opts store.Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	names := make(map[string]bool, len(opts.Rollups))
	for _, r := range opts.Rollups {
		names[r.Name()] = true
	}
	return &Store{
		opts:    opts,
		rollups: names,
		ids:     make(map[string]storedEntry),
		buckets: make(map[bucketKey]*bucket),
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
	for _, r := range batch {
		next := store.EntryOf(r, s.opts.Rollups)
		old, known := s.ids[r.ID]
		known = known && now.Before(old.expires)
		if known && !r.AtGiven {
			next.At = old.At
		}
		switch {
		case known && old.Same(next, r.AtGiven):
			res.Duplicates++
			continue
		case known:
			s.apply(old.Entry, -1, now)
			res.Updated++
		default:
			res.Accepted++
		}
		s.apply(next, +1, now)
		s.ids[r.ID] = storedEntry{Entry: next, expires: time.Unix(next.At, 0).Add(s.opts.Retention.Dedupe)}
	}
	return res, nil
}

// apply adds (sign +1) or retracts (sign −1) an entry's counts in its minute,
// hour and day buckets, skipping buckets already past their retention. A
// retraction from a bucket that has expired does nothing: its counts are
// gone with it.
func (s *Store) apply(e store.Entry, sign int64, now time.Time) {
	at := time.Unix(e.At, 0)
	cal := s.opts.Calendar
	for _, g := range window.Grans {
		id := cal.Bucket(g, at)
		expires := cal.End(g, id).Add(s.opts.Retention.Of(g))
		if !now.Before(expires) {
			continue
		}
		for _, rg := range e.Groups {
			if !s.rollups[rg.Rollup] {
				continue // a rollup that is no longer configured
			}
			k := bucketKey{rollup: rg.Rollup, gran: g, id: id}
			b := s.buckets[k]
			if b == nil {
				if sign < 0 {
					continue
				}
				b = &bucket{expires: expires, groups: make(map[string]*nps.Distribution)}
				s.buckets[k] = b
			}
			d := b.groups[rg.Group]
			if d == nil {
				d = new(nps.Distribution)
				b.groups[rg.Group] = d
			}
			d[e.Score] += sign
		}
	}
}

func (s *Store) maybeSweep(now time.Time) {
	if now.Sub(s.lastSweep) < sweepEvery {
		return
	}
	s.lastSweep = now
	for k, b := range s.buckets {
		if !now.Before(b.expires) {
			delete(s.buckets, k)
		}
	}
	for id, e := range s.ids {
		if !now.Before(e.expires) {
			delete(s.ids, id)
		}
	}
}

// Query sums the window's buckets of the covering rollup.
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	plan, err := store.PlanQuery(s.opts.Rollups, q)
	if err != nil {
		return nil, err
	}
	refs := s.opts.Calendar.Compose(q.Span)
	now := s.opts.Now()
	sums := make(map[string]nps.Distribution)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	for _, ref := range refs {
		b := s.buckets[bucketKey{rollup: plan.Rollup.Name(), gran: ref.Gran, id: ref.ID}]
		if b == nil || !now.Before(b.expires) {
			continue
		}
		for g, d := range b.groups {
			sums[g] = sums[g].Add(*d)
		}
	}
	s.mu.Unlock()
	f := store.NewFolder(plan)
	for g, d := range sums {
		if err := f.Add(g, d); err != nil {
			return nil, err
		}
	}
	return f.Groups(), nil
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
	s.closed = true
	s.ids, s.buckets = nil, nil
	return nil
}
