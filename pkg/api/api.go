// Package api is the wire format of Pulseboard's ingest API, the one
// definition both sides use: what a producer sends to
// POST /api/v1/responses (Response), what the server answers when it
// recorded a batch (Recorded), and what it answers when it did not
// (Problem, with one ItemError per problem of an item).
//
// The server (internal/httpapi) writes its replies with these types and
// the Go client (pkg/client) reads them with the same ones, so the two
// cannot drift apart. The package depends only on the standard library,
// so any program may import it.
package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
)

// Media types of ingest bodies and error replies.
const (
	// MediaTypeJSON is a body of one response or an array of them.
	MediaTypeJSON = "application/json"
	// MediaTypeNDJSON is a body of one response per line.
	MediaTypeNDJSON = "application/x-ndjson"
	// MediaTypeProblem is the Content-Type of a Problem body.
	MediaTypeProblem = "application/problem+json"
)

// ProblemTypePrefix starts the Type of a problem the server classified:
// the rest is its code, e.g. "urn:pulseboard:problem:invalid".
const ProblemTypePrefix = "urn:pulseboard:problem:"

// Response is one survey response as producers send it to
// POST /api/v1/responses: one object, an array of them, or one per NDJSON
// line. The response id is an upsert key: sending it again is counted as a
// duplicate, not twice, which is what makes a retried ingest safe.
type Response struct {
	ID string `json:"id"`
	// Score is the 0..10 NPS answer; NoScore leaves it out, for an answer
	// that carries CSAT alone.
	Score Score `json:"score,omitzero"`
	// CSAT is the 1..5 satisfaction answer; 0 leaves it out.
	CSAT int `json:"csat,omitempty"`
	// OfferID names the offer (POST /api/v1/offers) this answers; empty,
	// the server matches it by ID when it shares ids with offers, else it
	// is an unsolicited answer.
	OfferID string   `json:"offer_id,omitempty"`
	Channel string   `json:"channel"`
	Segment string   `json:"segment,omitempty"`
	Team    string   `json:"team,omitempty"`
	Agent   string   `json:"agent,omitempty"`
	Journey string   `json:"journey,omitempty"`
	Comment string   `json:"comment,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	// Custom holds the configured dimensions' values by name. They travel
	// as top-level fields, which encoding/json cannot write from a map
	// without a MarshalJSON method (and its cost on every row), so
	// AppendCustom adds them to the encoded object.
	Custom map[string]string `json:"-"`
	// At is when the response was given, in RFC 3339; empty leaves it out,
	// and the server stamps its own receive time. It is text, not a
	// time.Time, because encoding/json re-validates what a MarshalJSON
	// method returns: a time.Time made encoding a row about half again as
	// slow, which a bulk import of a million rows feels.
	At string `json:"at,omitempty"`
	// Version orders changes to one id (higher is newer); 0 is
	// unversioned, and the last write wins.
	Version uint64 `json:"version,omitempty"`
}

// Score is an NPS answer, 0..10, or NoScore.
type Score int

// NoScore is the Score of an answer without an NPS score (CSAT alone): it
// is left out of the JSON.
const NoScore Score = -1

// IsZero reports whether s is left out of the JSON (omitzero): only
// NoScore is, since 0 is a score.
func (s Score) IsZero() bool { return s == NoScore }

// Offer is one offered survey as producers send it to POST /api/v1/offers,
// in the same formats as responses: after an interaction, the customer was
// asked. The offer id is an upsert key like a response's; an answer names it
// in its OfferID. The response rate of a group is its answered offers over
// its offers, counted where and when the offer was made.
type Offer struct {
	ID      string `json:"id"`
	Channel string `json:"channel"`
	Segment string `json:"segment,omitempty"`
	Team    string `json:"team,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Journey string `json:"journey,omitempty"`
	// Custom holds the configured dimensions' values by name, written by
	// AppendCustom as for a Response.
	Custom map[string]string `json:"-"`
	// At is when the survey was offered, in RFC 3339; empty is the
	// server's receive time.
	At      string `json:"at,omitempty"`
	Version uint64 `json:"version,omitempty"`
}

// AppendCustom adds custom fields, sorted by name, to the JSON object that
// ends obj (followed by at most white space, such as json.Encoder's
// newline), and returns the result.
func AppendCustom(obj []byte, custom map[string]string) []byte {
	if len(custom) == 0 {
		return obj
	}
	end := bytes.LastIndexByte(obj, '}')
	if end < 0 {
		return obj
	}
	tail := slices.Clone(obj[end:])
	out := obj[:end]
	names := slices.Sorted(maps.Keys(custom))
	for _, name := range names {
		k, _ := json.Marshal(name) // strings: Marshal cannot fail
		v, _ := json.Marshal(custom[name])
		if len(out) > 0 && out[len(out)-1] != '{' {
			out = append(out, ',')
		}
		out = append(append(append(out, k...), ':'), v...)
	}
	return append(out, tail...)
}

// Recorded is the 202 body of an ingest (POST /api/v1/responses,
// POST /api/v1/offers and the webhooks): what the store did with the batch.
type Recorded struct {
	Accepted   int `json:"accepted"`   // new ids
	Updated    int `json:"updated"`    // known ids with a change
	Duplicates int `json:"duplicates"` // known ids sent again unchanged
	// Stale counts responses older (by version) than the stored one: not
	// applied. Left out when 0, so replies without versions read as before.
	Stale int `json:"stale,omitempty"`
}

// Total is every response the reply accounts for.
func (r Recorded) Total() int { return r.Accepted + r.Updated + r.Duplicates + r.Stale }

// Problem is an RFC 9457 problem details body, with two extensions: the
// request id (to find the request in the server's logs) and, for a batch,
// one error per problem of each item.
type Problem struct {
	Type      string      `json:"type"`
	Title     string      `json:"title"`
	Status    int         `json:"status"`
	Detail    string      `json:"detail,omitempty"`
	Instance  string      `json:"instance,omitempty"`
	RequestID string      `json:"request_id,omitempty"`
	Errors    []ItemError `json:"errors,omitempty"`
}

// ItemError locates one problem inside a batch: the item's index (0-based),
// the field, and why it is wrong. For a body that is not valid JSON the
// reason says where: the byte offset, or the NDJSON line and column.
type ItemError struct {
	Index  int    `json:"index"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}
