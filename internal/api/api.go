// Package api holds the JSON bodies of Pulseboard's ingest API as they
// travel on the wire: what a producer sends (Response), what the server
// answers when it recorded a batch (Recorded), and what it answers when it
// did not (Problem). The server (httpapi) writes the replies and clients
// (the CSV importer) read them with these same types, so the two sides
// cannot drift apart.
//
// Decoding a request stays in internal/ingest, which reads fields as text to
// tell a missing field from an empty one and 7 from 7.0; Response is the
// shape a client encodes, and a contract test checks that ingest reads it
// back unchanged.
//
// The package depends on no HTTP framework, so any client can import it.
package api

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Response is one survey response as producers send it to
// POST /api/v1/responses: one object, an array of them, or one per NDJSON
// line. The JSON names are ingest's Field* names.
type Response struct {
	ID      string   `json:"id"`
	Score   int      `json:"score"`
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
	// and the server stamps its own receive time, as for any producer. It
	// is text, not a time.Time, because encoding/json re-validates what a
	// MarshalJSON method returns: a time.Time made encoding a row about half
	// again as slow, which a bulk import of a million rows feels.
	At string `json:"at,omitempty"`
	// Version orders changes to one id; 0 is unversioned.
	Version uint64 `json:"version,omitempty"`
}

// ResponseOf is the wire form of a validated response. Its time is sent in
// UTC, and only when the response was given one.
func ResponseOf(r store.Response) Response {
	w := Response{
		ID: r.ID, Score: r.Score,
		Channel: r.Dims.Channel, Segment: r.Dims.Segment, Team: r.Dims.Team, Agent: r.Dims.Agent,
		Journey: r.Dims.Journey, Comment: r.Comment, Tags: r.Tags, Version: r.Version,
	}
	if custom := r.Dims.Custom(); len(custom) > 0 {
		w.Custom = make(map[string]string, len(custom))
		for _, c := range custom {
			w.Custom[string(c.Dim)] = c.Value
		}
	}
	if r.AtGiven {
		w.At = r.At.UTC().Format(time.RFC3339Nano)
	}
	return w
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

// Recorded is the 202 body of an ingest (POST /api/v1/responses and the
// webhooks): what the store did with the batch.
type Recorded struct {
	Accepted   int `json:"accepted"`
	Updated    int `json:"updated"`
	Duplicates int `json:"duplicates"`
	// Stale counts responses older (by version) than the stored one: not
	// applied. Left out when 0, so replies without versions read as before.
	Stale int `json:"stale,omitempty"`
}

// RecordedOf is the reply for a store's result.
func RecordedOf(r store.RecordResult) Recorded {
	return Recorded{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale}
}

// RecordResult is the store's result a reply describes.
func (r Recorded) RecordResult() store.RecordResult {
	return store.RecordResult{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale}
}

// MediaTypeProblem is the Content-Type of a Problem body.
const MediaTypeProblem = "application/problem+json"

// ProblemTypePrefix starts the Type of a problem the server classified:
// the rest is its fault code, e.g. "urn:pulseboard:problem:invalid".
const ProblemTypePrefix = "urn:pulseboard:problem:"

// Problem is an RFC 9457 problem details body, with two extensions: the
// request id (to find the request in the server's logs) and, for a batch,
// one error per problem of each item.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []fault.Detail `json:"errors,omitempty"`
}
