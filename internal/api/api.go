// Package api is the server's side of Pulseboard's ingest wire format.
// The types themselves are pkg/api's, the one definition the server
// (httpapi) and clients (pkg/client, the CSV importer) share, so the two
// sides cannot drift apart; this package names them for the server's code
// and converts them to and from the store's types, which a public package
// cannot see.
//
// Decoding a request stays in internal/ingest, which reads fields as text to
// tell a missing field from an empty one and 7 from 7.0; Response is the
// shape a client encodes, and a contract test checks that ingest reads it
// back unchanged.
package api

import (
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	wire "github.com/pulseboard/pulseboard/pkg/api"
)

// The wire types, as pkg/api defines them.
type (
	// Response is one survey response as producers send it.
	Response = wire.Response
	// Recorded is the 202 body of an ingest.
	Recorded = wire.Recorded
	// Problem is an RFC 9457 problem details body.
	Problem = wire.Problem
)

// MediaTypeProblem is the Content-Type of a Problem body.
const MediaTypeProblem = wire.MediaTypeProblem

// ProblemTypePrefix starts the Type of a problem the server classified:
// the rest is its fault code, e.g. "urn:pulseboard:problem:invalid".
const ProblemTypePrefix = wire.ProblemTypePrefix

// AppendCustom adds custom fields to an encoded response (wire.AppendCustom).
func AppendCustom(obj []byte, custom map[string]string) []byte {
	return wire.AppendCustom(obj, custom)
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

// RecordedOf is the reply for a store's result.
func RecordedOf(r store.RecordResult) Recorded {
	return Recorded{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale}
}

// ResultOf is the store's result a reply describes.
func ResultOf(r Recorded) store.RecordResult {
	return store.RecordResult{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale}
}
