package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/pkg/api"
)

// The wire types the server shares (pkg/api).
type (
	// Response is one survey response to send.
	Response = api.Response
	// Score is a response's NPS answer, 0..10, or NoScore.
	Score = api.Score
	// Offer is one offered survey to send (SendOffers).
	Offer = api.Offer
	// Recorded is what the server did with a batch.
	Recorded = api.Recorded
	// Problem is a problem details body (RFC 9457).
	Problem = api.Problem
	// ItemError is one problem of one item of a refused batch.
	ItemError = api.ItemError
)

// NoScore is the Score of an answer that carries CSAT alone.
const NoScore = api.NoScore

// Error is a reply that is not a success: its status and what the server
// said about it. Read it with errors.As:
//
//	var e *client.Error
//	if errors.As(err, &e) && e.StatusCode == http.StatusUnprocessableEntity {
//		for _, item := range e.Problem.Errors { … }
//	}
type Error struct {
	// Method and Path are the request's (the path without the query).
	Method, Path string
	// StatusCode is the HTTP status, Status its line ("422 Unprocessable
	// Entity").
	StatusCode int
	Status     string
	// Problem is the problem details body, as much of it as the reply
	// held: Type (urn:pulseboard:problem:<code>, or about:blank for a route
	// that does not exist), Title, Detail, RequestID, and for a refused
	// batch, Errors, one per problem of an item.
	Problem Problem
	// Body is the reply's body, trimmed and cut short, when it held no
	// problem details (a proxy's page, a plain-text error).
	Body string
	// RetryAfter is how long the server asked to wait before trying again
	// (its Retry-After header); 0 when it did not say.
	RetryAfter    time.Duration
	hasRetryAfter bool
}

// Code is the server's classification of the error, the end of the
// problem type: "invalid", "bad_request", "unauthorized", "forbidden",
// "not_found", "too_many", "conflict", "too_large", "unsupported",
// "unavailable" or "internal". It is "" for a reply that was not one of
// Pulseboard's problems.
func (e *Error) Code() string {
	code, ok := strings.CutPrefix(e.Problem.Type, api.ProblemTypePrefix)
	if !ok {
		return ""
	}
	return code
}

// itemsInMessage is how many item errors Error() lists.
const itemsInMessage = 3

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %s", e.Method, e.Path, e.Status)
	switch {
	case e.Problem.Detail != "":
		b.WriteString(": " + e.Problem.Detail)
	case e.Body != "":
		b.WriteString(": " + e.Body)
	}
	for i, it := range e.Problem.Errors {
		if i == itemsInMessage {
			fmt.Fprintf(&b, "; and %d more", len(e.Problem.Errors)-i)
			break
		}
		if it.Field != "" {
			fmt.Fprintf(&b, "; item %d: %s: %s", it.Index, it.Field, it.Reason)
		} else {
			fmt.Fprintf(&b, "; item %d: %s", it.Index, it.Reason)
		}
	}
	return b.String()
}

// readError reads a reply that is not a success, and closes its body.
func (c *Client) readError(cl call, res *http.Response) *Error {
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, maxErrorBody))
	e := &Error{Method: cl.method, Path: cl.path, StatusCode: res.StatusCode, Status: res.Status}
	e.RetryAfter, e.hasRetryAfter = c.retryAfter(res.Header.Get("Retry-After"))
	err := json.Unmarshal(body, &e.Problem)
	// A field of another type (a proxy's own JSON) leaves the rest read.
	var typeErr *json.UnmarshalTypeError
	if (err != nil && !errors.As(err, &typeErr)) || (e.Problem.Detail == "" && e.Problem.Title == "") {
		e.Problem = Problem{}
		e.Body = truncate(strings.TrimSpace(string(body)), maxErrorText)
	}
	return e
}
