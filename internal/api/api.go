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
	// Offer is one offered survey as producers send it.
	Offer = wire.Offer
	// Score is a response's NPS answer or wire.NoScore.
	Score = wire.Score
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
		ID: r.ID, Score: wire.Score(r.Score), CSAT: r.CSAT, OfferID: r.OfferID,
		Channel: r.Dims.Channel, Segment: r.Dims.Segment, Team: r.Dims.Team, Agent: r.Dims.Agent,
		Journey: r.Dims.Journey, Comment: r.Comment, Tags: r.Tags, Version: r.Version,
		Custom: customOf(r.Dims), At: atOf(r),
	}
	if r.Score == store.NoScore {
		w.Score = wire.NoScore
	}
	return w
}

// OfferOf is the wire form of a validated offer (Kind store.KindOffer).
func OfferOf(r store.Response) Offer {
	return Offer{
		ID: r.ID, Channel: r.Dims.Channel, Segment: r.Dims.Segment, Team: r.Dims.Team, Agent: r.Dims.Agent,
		Journey: r.Dims.Journey, Custom: customOf(r.Dims), At: atOf(r), Version: r.Version,
	}
}

// customOf is the custom dimensions' values by name, nil when none.
func customOf(d store.Dims) map[string]string {
	custom := d.Custom()
	if len(custom) == 0 {
		return nil
	}
	out := make(map[string]string, len(custom))
	for _, c := range custom {
		out[string(c.Dim)] = c.Value
	}
	return out
}

// atOf is the time sent: in UTC, and only when the item was given one.
func atOf(r store.Response) string {
	if !r.AtGiven {
		return ""
	}
	return r.At.UTC().Format(time.RFC3339Nano)
}

// RecordedOf is the reply for a store's result.
func RecordedOf(r store.RecordResult) Recorded {
	return Recorded{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale}
}

// ResultOf is the store's result a reply describes.
func ResultOf(r Recorded) store.RecordResult {
	return store.RecordResult{Accepted: r.Accepted, Updated: r.Updated, Duplicates: r.Duplicates, Stale: r.Stale}
}
