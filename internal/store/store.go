// Package store holds the storage contract of Pulseboard: what a survey
// response is, which rollup groups get counters, how a batch is upserted and
// how a window is read back. Engines live in sub-packages named after the
// technology they wrap (memstore, redisstore); storetest is the one
// conformance suite both must pass.
//
// The contract, in short:
//   - Record upserts a batch by response id, atomically: a response seen
//     before with the same content is a duplicate (counted, not applied); one
//     whose score, dimensions, comment, tags or explicit time changed has its
//     old contribution retracted and the new one applied. A response sent
//     again without "at" keeps the time it was first recorded with.
//   - A response may carry a version (the producer's own counter or
//     timestamp). One whose version is lower than the stored one's is stale:
//     counted, not applied, so a retried or replayed older delivery never
//     puts an old answer back. An unversioned response is applied as before
//     (last writer wins) and leaves the stored version in place; an equal
//     version with other content is applied too.
//   - Every response adds one count to the 0..10 distribution of each rollup
//     group it belongs to, in a minute, an hour and a day bucket (see package
//     window). Buckets expire after their retention; a bucket already past its
//     retention when a late response arrives is not written.
//   - Query composes a window exactly from those buckets and returns one
//     distribution per group.
//   - Nothing is acknowledged (Record returns nil) before it is durable in
//     the engine.
//   - Every batch that changed something is one entry of the engine's change
//     log, written in the same atomic step as its counters; Feed (Snapshot,
//     Tail, History) is how a node follows it (see changelog.go).
package store

import (
	"context"
	"time"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Store is the contract both engines implement. Consumers (ingest, the HTTP
// API, the aggregator, alerting) declare the subset they use; this full
// interface exists so the conformance suite and the program's wiring have
// one name for it. The change feed is part of it: every node follows the
// engine's log (the aggregator, and alerting on the memory engine), so an
// engine without one could not run the program.
type Store interface {
	// Record upserts a batch of validated responses.
	Record(ctx context.Context, batch []Response) (RecordResult, error)
	// Query returns the distribution of every group of q over q.Span.
	Query(ctx context.Context, q Query) ([]Group, error)
	// Ping reports whether the engine can serve requests.
	Ping(ctx context.Context) error
	// Close releases the engine's resources; it is safe to call twice.
	Close() error
	Feed
}

// Response is one validated survey answer, or an offered survey (Kind).
// Both go through Record, so a batch that mixes them is one round trip.
type Response struct {
	ID string
	// Kind is KindResponse (the zero value) or KindOffer. An offer has
	// only an id, dimensions, a time and a version; it lives apart from
	// responses (an offer and a response may share an id).
	Kind Kind
	// Score is the 0..10 NPS score, NoScore when the answer has CSAT
	// alone; CSAT is the 1..5 satisfaction score, 0 when not given. An
	// answer has at least one of the two.
	Score int
	CSAT  int
	// OfferID names the offer this answers; empty, the engine matches it
	// by its own id when Options.OfferIDsShared, else it is unsolicited.
	OfferID string
	Dims    Dims
	// Comment and Tags do not feed counters; they are part of a response's
	// content, so changing them makes an upsert an update.
	Comment string
	Tags    []string
	// At is when the customer answered. AtGiven is false when the producer
	// left it out and At was defaulted to the receive time: a repeat of such a
	// response keeps its first time instead of moving.
	At      time.Time
	AtGiven bool
	// Version orders the versions of one response, higher is newer; 0 means
	// the producer gave none. Ingest accepts 1 to MaxVersion.
	Version uint64
	// Themes are what the comment is about, found by the engine's
	// Options.Themes when it records the response (sorted, once each); not
	// sent by producers, and not part of the fingerprint: they follow from
	// the comment.
	Themes []string
}

// Kind says what Record is given.
type Kind uint8

// The kinds.
const (
	KindResponse Kind = iota
	KindOffer
)

// kindOfferName is an offer's kind in payloads and the API.
const kindOfferName = "offer"

// NoScore is the Score of an answer without an NPS score.
const NoScore = -1

// MaxVersion is the highest version: 2^53-1, so it survives a JSON client
// that reads numbers as doubles and Redis's Lua, whose numbers are doubles.
const MaxVersion = 1<<53 - 1

// RecordResult says what a batch did.
type RecordResult struct {
	Accepted   int // ids seen for the first time
	Updated    int // known ids whose content changed
	Duplicates int // known ids sent again unchanged
	Stale      int // known ids sent with a lower version than the stored one: not applied
}

// Outcome is what recording one response or offer did.
type Outcome uint8

// The outcomes, as RecordResult counts them.
const (
	Accepted Outcome = iota
	Updated
	Duplicate
	Stale
)

// Count adds one outcome.
func (r *RecordResult) Count(o Outcome) {
	switch o {
	case Accepted:
		r.Accepted++
	case Updated:
		r.Updated++
	case Duplicate:
		r.Duplicates++
	case Stale:
		r.Stale++
	}
}

// Add accumulates another partial result (engines record large batches in
// chunks).
func (r *RecordResult) Add(o RecordResult) {
	r.Accepted += o.Accepted
	r.Updated += o.Updated
	r.Duplicates += o.Duplicates
	r.Stale += o.Stale
}

// Query asks for the groups of one breakdown over one span.
type Query struct {
	// By lists the dimensions to break down by; empty means one overall group.
	By []Dimension
	// Filters keep only responses whose dimension equals the value.
	Filters map[Dimension]string
	Span    window.Span
}

// Group is one row of a query answer.
type Group struct {
	// Key holds the value of every By dimension for this group.
	Key map[Dimension]string
	// Counts are the NPS scores.
	Counts nps.Distribution
	// CSAT are the satisfaction answers.
	CSAT csat.Distribution
	// Offered is the surveys offered in the span and Answered how many of
	// them got a response, at any time (see Tally).
	Offered, Answered int64
}

// Tally is the group's counts as one value.
func (g Group) Tally() Tally {
	return Tally{NPS: g.Counts, CSAT: g.CSAT, Offered: g.Offered, Answered: g.Answered}
}

// Options are what both engines need to know about the data they hold.
type Options struct {
	// Schema is the dimensions responses carry (the zero value: the
	// built-ins); every rollup is over dimensions of it.
	Schema    Schema
	Rollups   []Rollup
	Calendar  window.Calendar
	Retention Retention
	// Now is the engine's clock; tests inject one. Nil means time.Now.
	Now func() time.Time
	// Themes finds the themes of a comment (sorted, once each), the groups
	// of rollups holding theme; nil finds none.
	Themes func(comment string) []string
	// OfferIDsShared matches a response that names no offer with the
	// offer of its own id: for producers that give a survey and its
	// answer the interaction's id. Off, such a response is unsolicited.
	OfferIDsShared bool
}

// OfferOf returns the id of the offer a response answers, "" for none.
func (o Options) OfferOf(r Response) string {
	switch {
	case r.Kind == KindOffer:
		return ""
	case r.OfferID != "":
		return r.OfferID
	case o.OfferIDsShared:
		return r.ID
	}
	return ""
}

// Derive sets what an engine derives from a response before counting it:
// its themes. Both engines call it on every response they record, so the
// groups and the change log's payload agree.
func (o Options) Derive(r Response) Response {
	r.Themes = nil
	if o.Themes != nil && r.Comment != "" {
		r.Themes = o.Themes(r.Comment)
	}
	return r
}

// Retention says how long each kind of bucket, and the memory of a response
// id used for upserts, is kept. The id is remembered for Dedupe after the
// response's own time; ingest rejects responses older than that, so a
// response is never counted twice.
type Retention struct {
	Minute time.Duration
	Hour   time.Duration
	Day    time.Duration
	Dedupe time.Duration
}

// DefaultRetention keeps minutes for a little over the 24h window, hours for
// a little over the 30d window, and days (and ids) for over a year.
func DefaultRetention() Retention {
	return Retention{
		Minute: 26 * time.Hour,
		Hour:   32 * 24 * time.Hour,
		Day:    400 * 24 * time.Hour,
		Dedupe: 400 * 24 * time.Hour,
	}
}

// Expires returns when bucket id of granularity g leaves its retention:
// retention counts from the bucket's end.
func (o Options) Expires(g window.Gran, id int64) time.Time {
	return o.Calendar.End(g, id).Add(o.Retention.Of(g))
}

// Cover is how both engines read span at now: from the buckets still kept,
// widened where an edge's fine buckets have expired (window.Calendar.Cover).
// The API asks for it too, to say what an answer covers.
func (o Options) Cover(span window.Span, now time.Time) window.Cover {
	return o.Calendar.Cover(span, func(g window.Gran, id int64) bool { return now.Before(o.Expires(g, id)) })
}

// Of returns the retention of one granularity.
func (r Retention) Of(g window.Gran) time.Duration {
	switch g {
	case window.Minute:
		return r.Minute
	case window.Hour:
		return r.Hour
	default:
		return r.Day
	}
}
