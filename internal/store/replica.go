package store

import "time"

// Replica is an in-memory copy of an engine's buckets for some rollups,
// built from a Snapshot and kept current by applying the change log after
// it. Queries on it answer exactly what the engine would. It is not safe for
// concurrent use; the aggregator guards it.
type Replica struct {
	buckets *Buckets
	// asOf holds, for each snapshot bucket, the log position it already
	// reflects; a change at or before it is not applied to it again. It is
	// dropped once the log has passed every such position.
	asOf    map[BucketKey]Position
	maxAsOf Position
	pos     Position
}

// NewReplica loads a snapshot.
func NewReplica(opts Options, rollups []Rollup, snap Snapshot) *Replica {
	r := &Replica{buckets: NewBuckets(opts, rollups), asOf: make(map[BucketKey]Position, len(snap.Buckets)), pos: snap.Start}
	for _, b := range snap.Buckets {
		if !r.buckets.Keeps(b.Key.Rollup) {
			continue
		}
		r.buckets.Put(b.Key, b.Groups)
		if b.AsOf.After(snap.Start) {
			r.asOf[b.Key] = b.AsOf
			if b.AsOf.After(r.maxAsOf) {
				r.maxAsOf = b.AsOf
			}
		}
	}
	return r
}

// Pos is the position of the last applied log entry.
func (r *Replica) Pos() Position { return r.pos }

// Apply applies one log entry: each change retracts its old entry and adds
// its new one, in every bucket that does not already hold it.
func (r *Replica) Apply(e LogEntry, now time.Time) {
	var skip func(BucketKey) bool
	if len(r.asOf) > 0 {
		skip = func(k BucketKey) bool {
			asOf, ok := r.asOf[k]
			return ok && !e.Pos.After(asOf)
		}
	}
	for _, c := range e.Changes {
		if c.Old != nil {
			r.buckets.Apply(*c.Old, -1, now, skip)
		}
		r.buckets.Apply(c.New, +1, now, skip)
	}
	r.pos = e.Pos
	if len(r.asOf) > 0 && !r.maxAsOf.After(e.Pos) {
		r.asOf = nil
	}
}

// Query answers q from the copy.
func (r *Replica) Query(q Query, now time.Time) ([]Group, error) { return r.buckets.Query(q, now) }

// Sweep drops buckets past their retention.
func (r *Replica) Sweep(now time.Time) { r.buckets.Sweep(now) }
