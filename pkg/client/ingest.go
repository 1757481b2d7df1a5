package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/pulseboard/pulseboard/pkg/api"
)

// Format is how an ingest body is encoded; its value is the body's
// Content-Type.
type Format string

// The formats the ingest API reads.
const (
	// JSON is one object, or an array of them.
	JSON Format = api.MediaTypeJSON
	// NDJSON is one object per line. The server reads it line by line, and
	// its errors for a line that is not JSON name the line and column.
	NDJSON Format = api.MediaTypeNDJSON
)

// Body is an encoded ingest body. EncodeResponses makes one; a program
// that writes its own bodies (a load generator formatting its lines, an
// importer batching encoded rows) makes it directly and sends it with
// SendResponsesBody. Data is sent again as it is on a retry.
type Body struct {
	Format Format
	Data   []byte
}

// Limits of one ingest request, as a server has them by default
// (PULSEBOARD_MAX_BODY_BYTES and PULSEBOARD_MAX_BATCH may change them):
// past them it answers 413.
const (
	DefaultMaxBatch     = 10000
	DefaultMaxBodyBytes = 8 << 20
)

const responsesPath = "/api/v1/responses"

// SendResponse sends one response, as one JSON object.
func (c *Client) SendResponse(ctx context.Context, r Response) (Recorded, error) {
	data, err := AppendResponse(nil, r)
	if err != nil {
		return Recorded{}, err
	}
	return c.SendResponsesBody(ctx, Body{Format: JSON, Data: data})
}

// SendResponses sends rs as one batch, a JSON array or NDJSON. The server
// validates a batch whole: when one item is invalid nothing is recorded,
// and the *Error's Problem.Errors name each bad item by its index in rs.
// An empty rs sends nothing.
func (c *Client) SendResponses(ctx context.Context, f Format, rs []Response) (Recorded, error) {
	if len(rs) == 0 {
		return Recorded{}, nil
	}
	b, err := EncodeResponses(f, rs)
	if err != nil {
		return Recorded{}, err
	}
	return c.SendResponsesBody(ctx, b)
}

// SendResponsesBody sends a body that is already encoded. It is retried
// like every ingest: the ids make a resend count nothing twice.
func (c *Client) SendResponsesBody(ctx context.Context, b Body) (Recorded, error) {
	return c.ingest(ctx, responsesPath, b)
}

const offersPath = "/api/v1/offers"

// SendOffers sends offered surveys as one batch to POST /api/v1/offers, a
// JSON array or NDJSON, with the same limits, validation, retries and
// reply as SendResponses: an offer's id is its upsert key, so a resent
// offer is a duplicate. An empty os sends nothing.
func (c *Client) SendOffers(ctx context.Context, f Format, os []Offer) (Recorded, error) {
	if len(os) == 0 {
		return Recorded{}, nil
	}
	b, err := EncodeOffers(f, os)
	if err != nil {
		return Recorded{}, err
	}
	return c.SendOffersBody(ctx, b)
}

// SendOffersBody sends a body of offers that is already encoded.
func (c *Client) SendOffersBody(ctx context.Context, b Body) (Recorded, error) {
	return c.ingest(ctx, offersPath, b)
}

// EncodeOffers encodes os as one body: a JSON array, or NDJSON.
func EncodeOffers(f Format, os []Offer) (Body, error) {
	return encodeBatch(f, os, AppendOffer)
}

// AppendOffer appends o's JSON object to dst, with its custom dimensions
// as top-level fields and without a newline.
func AppendOffer(dst []byte, o Offer) ([]byte, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return dst, fmt.Errorf("encode offer %q: %w", o.ID, err)
	}
	return append(dst, api.AppendCustom(b, o.Custom)...), nil
}

// ingest posts an encoded batch to an ingest endpoint and reads the counts
// of its reply. Every ingest endpoint takes the same formats and answers
// the same way, so another kind of item needs its type, its path and two
// methods that call this.
func (c *Client) ingest(ctx context.Context, path string, b Body) (Recorded, error) {
	cl := call{method: http.MethodPost, path: path, body: b.Data, contentType: string(b.Format), accept: "application/json", idempotent: true}
	res, err := c.do(ctx, cl)
	if err != nil {
		return Recorded{}, err
	}
	var rec Recorded
	return rec, decodeReply(cl, res, &rec)
}

// EncodeResponses encodes rs as one body: a JSON array, or NDJSON.
func EncodeResponses(f Format, rs []Response) (Body, error) {
	return encodeBatch(f, rs, AppendResponse)
}

// encodeBatch encodes items as a JSON array or NDJSON, each with appendOne.
func encodeBatch[T any](f Format, items []T, appendOne func([]byte, T) ([]byte, error)) (Body, error) {
	var data []byte
	var err error
	switch f {
	case JSON:
		data = append(data, '[')
		for i, it := range items {
			if i > 0 {
				data = append(data, ',')
			}
			if data, err = appendOne(data, it); err != nil {
				return Body{}, fmt.Errorf("encode item %d: %w", i, err)
			}
		}
		data = append(data, ']')
	case NDJSON:
		for i, it := range items {
			if data, err = appendOne(data, it); err != nil {
				return Body{}, fmt.Errorf("encode item %d: %w", i, err)
			}
			data = append(data, '\n')
		}
	default:
		return Body{}, fmt.Errorf("encode a batch as %q: the formats are %s and %s", f, JSON, NDJSON)
	}
	return Body{Format: f, Data: data}, nil
}

// AppendResponse appends r's JSON object to dst, with its custom
// dimensions as top-level fields and without a newline. HTML characters in
// comments are kept as they are, not escaped.
func AppendResponse(dst []byte, r Response) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return dst, fmt.Errorf("encode response %q: %w", r.ID, err)
	}
	out := buf.Bytes()
	out = out[:len(out)-1] // the encoder's newline
	return api.AppendCustom(out, r.Custom), nil
}
