package store

import (
	"time"
	"unique"

	"github.com/pulseboard/pulseboard/internal/window"
)

// BucketKey names one bucket of one rollup.
type BucketKey struct {
	Rollup string
	Gran   window.Gran
	ID     int64
}

// Buckets is an in-memory set of bucket counters with the same rules as the
// engines: an entry counts in its minute, hour and day bucket of each of its
// rollup groups; a bucket past its retention is neither written nor read; a
// retraction from a bucket that no longer exists does nothing. The memory
// engine stores its data in one, and each node's aggregator mirrors the
// engine's buckets in one. It is not safe for concurrent use.
type Buckets struct {
	opts    Options
	rollups map[string]bool
	m       map[BucketKey]*bucket
}

// bucket holds the counts of each group, by value: a pointer per group
// would cost an allocation and GC work for each of millions of groups.
type bucket struct {
	expires time.Time
	groups  map[string]counts
}

// NewBuckets makes an empty set that keeps the given rollups (all of
// opts.Rollups when rollups is nil).
func NewBuckets(opts Options, rollups []Rollup) *Buckets {
	if rollups == nil {
		rollups = opts.Rollups
	}
	names := make(map[string]bool, len(rollups))
	for _, r := range rollups {
		names[r.Name()] = true
	}
	return &Buckets{opts: opts, rollups: names, m: make(map[BucketKey]*bucket)}
}

// Keeps reports whether the set counts a rollup.
func (b *Buckets) Keeps(rollup string) bool { return b.rollups[rollup] }

// Expires returns when a bucket leaves its retention.
func (b *Buckets) Expires(g window.Gran, id int64) time.Time {
	return b.opts.Expires(g, id)
}

// Apply adds (sign +1) or retracts (sign −1) an entry's counts. skip, when
// not nil, leaves out buckets that already hold this change (an aggregator
// replaying a log over a snapshot).
func (b *Buckets) Apply(e Entry, sign int64, now time.Time, skip func(BucketKey) bool) {
	at := time.Unix(e.At, 0)
	cal := b.opts.Calendar
	cells, ncells := e.cells()
	for _, g := range window.Grans {
		id := cal.Bucket(g, at)
		expires := b.Expires(g, id)
		if !now.Before(expires) {
			continue
		}
		for _, rg := range e.Groups {
			if !b.rollups[rg.Rollup] {
				continue // a rollup that is not configured (any more)
			}
			k := BucketKey{Rollup: rg.Rollup, Gran: g, ID: id}
			if skip != nil && skip(k) {
				continue
			}
			bk := b.m[k]
			if bk == nil {
				if sign < 0 {
					continue
				}
				bk = &bucket{expires: expires, groups: make(map[string]counts)}
				k.Rollup = canonical(k.Rollup)
				b.m[k] = bk
			}
			d := bk.groups[rg.Group]
			for _, cell := range cells[:ncells] {
				d.add(cell, sign)
			}
			// Always the canonical name: assigning to an existing string
			// key stores the key given (Go replaces string keys).
			bk.groups[canonical(rg.Group)] = d
		}
	}
}

// canonical returns the one shared copy of a rollup or group name that
// becomes a map key. A name decoded from a change log message is a
// substring of the whole message (up to a thousand changes): kept as a key,
// it kept the message alive for as long as the bucket lives, a day for a
// minute bucket, and a map assignment to an existing string key stores the
// key it is given, so every count of a group must use the canonical one. One copy for all buckets also costs less than a copy each;
// the unique package drops it once no bucket uses it.
func canonical(s string) string { return unique.Make(s).Value() }

// Put replaces a bucket's counts (loading a snapshot).
func (b *Buckets) Put(k BucketKey, groups map[string]Tally) {
	packed := make(map[string]counts, len(groups))
	for g, t := range groups {
		packed[canonical(g)] = countsOf(t)
	}
	b.m[k] = &bucket{expires: b.Expires(k.Gran, k.ID), groups: packed}
}

// Each calls fn for every live bucket of the given rollups (snapshots).
func (b *Buckets) Each(now time.Time, rollups map[string]bool, fn func(BucketKey, map[string]Tally)) {
	for k, bk := range b.m {
		if !rollups[k.Rollup] || !now.Before(bk.expires) {
			continue
		}
		groups := make(map[string]Tally, len(bk.groups))
		for g, c := range bk.groups {
			groups[g] = c.tally()
		}
		fn(k, groups)
	}
}

// Sweep drops buckets past their retention.
func (b *Buckets) Sweep(now time.Time) {
	for k, bk := range b.m {
		if !now.Before(bk.expires) {
			delete(b.m, k)
		}
	}
}

// Len is the number of buckets held (for metrics and tests).
func (b *Buckets) Len() int { return len(b.m) }

// Query answers q from the set, composing the span as the engines do:
// over Options.Cover, which may be wider than q.Span at an old edge.
func (b *Buckets) Query(q Query, now time.Time) ([]Group, error) {
	plan, err := PlanQuery(b.opts.Rollups, q)
	if err != nil {
		return nil, err
	}
	// By pointer: a Tally is too large to copy in and out of a map for
	// every group of every bucket.
	sums := make(map[string]*Tally)
	for _, ref := range b.opts.Cover(q.Span, now).Refs {
		bk := b.m[BucketKey{Rollup: plan.Rollup.Name(), Gran: ref.Gran, ID: ref.ID}]
		if bk == nil || !now.Before(bk.expires) {
			continue
		}
		for g, c := range bk.groups {
			t := sums[g]
			if t == nil {
				t = new(Tally)
				sums[g] = t
			}
			c.addTo(t)
		}
	}
	f := NewFolder(plan)
	for g, t := range sums {
		if err := f.Add(g, *t); err != nil {
			return nil, err
		}
	}
	return f.Groups(), nil
}
