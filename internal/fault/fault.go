// Package fault is Pulseboard's one error type: a few codes that the HTTP
// layer maps to status codes in exactly one place (httpapi), a message safe
// to show a client, and optional per-item details for batch validation.
package fault

import (
	"errors"
	"fmt"
	"time"

	"github.com/pulseboard/pulseboard/pkg/api"
)

// Code classifies an error by what the caller can do about it.
type Code string

// The codes. Internal is the default for anything not classified.
const (
	Invalid      Code = "invalid"      // the request is wrong; fix it (422 or 400)
	BadRequest   Code = "bad_request"  // malformed query or parameters (400)
	Unauthorized Code = "unauthorized" // missing or wrong credentials (401)
	Forbidden    Code = "forbidden"    // valid credentials, but not for this (403)
	NotFound     Code = "not_found"    // no such thing (404)
	TooMany      Code = "too_many"     // over a rate or connection limit; retry later (429)
	Conflict     Code = "conflict"     // not allowed in the current state (409)
	TooLarge     Code = "too_large"    // body or batch over the limit (413)
	Unsupported  Code = "unsupported"  // content type not accepted (415)
	Unavailable  Code = "unavailable"  // the store cannot be reached; retry (503)
	Internal     Code = "internal"     // a bug or an unexpected failure (500)
)

// Detail locates one problem inside a batch: the item's index (0-based), the
// field, and why it is wrong. It is the wire's item error (pkg/api), so the
// details a validation finds are what a problem body carries, with no
// copy between the two.
type Detail = api.ItemError

// Error is an error with a code and a client-safe message.
type Error struct {
	Code    Code
	Message string
	Details []Detail
	// RetryAfter, when set, is sent as the Retry-After header: how long the
	// client should wait before trying again.
	RetryAfter time.Duration
	// Err is the underlying cause; it is logged, never sent to clients.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New makes an error with a code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a code and a client-safe message to a cause.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
