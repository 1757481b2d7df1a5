// Package client is a Go client for Pulseboard's HTTP API: sending survey
// responses (POST /api/v1/responses) and offered surveys (POST
// /api/v1/offers, SendOffers), reading scores (GET /api/v1/nps, as
// JSON or CSV) and boards (GET /api/v1/boards), working the follow-up
// inbox (/api/v1/followups), asking who a token is (GET /api/v1/me) and
// whether a server is up (/healthz, /readyz).
//
//	c, err := client.New("http://localhost:8080", client.WithToken("demo-ingest-token"))
//	if err != nil { … }
//	rec, err := c.SendResponses(ctx, client.NDJSON, []client.Response{
//		{ID: "case-1001", Score: 9, Channel: "phone", Team: "billing"},
//	})
//
// # Errors
//
// A reply that is not a success is an *Error, which carries the status
// and the server's problem details (RFC 9457): its type, title, detail
// and, for a refused batch, one ItemError per problem of an item. Use
// errors.As to read it. A request that never got a reply (the server is
// unreachable) fails with the network's error.
//
// # Retries
//
// Requests that are safe to repeat are tried again while the server is
// busy or unavailable (429, 502, 503, 504) or unreachable: every GET, and
// ingest, which is idempotent because a response's id is an upsert key (a
// batch sent twice is counted once; the second time its responses come
// back as duplicates). The wait is the server's Retry-After (seconds or
// an HTTP date) or else an exponential backoff with jitter, and retries
// stop after Retry.Attempts tries, when the context ends, or when the
// context's deadline would pass before the next try. Follow-up actions
// (claim, resolve, reassign) change state and are not idempotent: they are
// tried again only when the request certainly did not reach the server
// (the connection could not be made, or 429), never after a 503 or a
// broken connection, which may have come after the change was made.
//
// # Types
//
// Response, Offer, Score, Recorded, Problem and ItemError are pkg/api's, the wire
// format the server itself writes and reads. The answers of the read
// endpoints (NPS, Board, FollowUp, …) are defined here; a test on the
// server's side checks that they hold every field the server sends.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/pkg/api"
)

// Defaults of the options.
const (
	// DefaultUserAgent is the User-Agent of a client without WithUserAgent.
	DefaultUserAgent = "pulseboard-go-client"
	// DefaultAttempts is how many times a request is tried at most.
	DefaultAttempts = 5
	// DefaultMinBackoff is the first wait without a Retry-After; each
	// further one doubles, up to DefaultMaxBackoff.
	DefaultMinBackoff = 250 * time.Millisecond
	DefaultMaxBackoff = 10 * time.Second
	// DefaultMaxWait is the longest Retry-After the client waits for.
	DefaultMaxWait = 30 * time.Second
	// DefaultTimeout bounds one attempt of a request when the client makes
	// its own http.Client. The server's own write timeout is 60 s.
	DefaultTimeout = 2 * time.Minute
)

// Limits of what the client reads.
const (
	// maxReply bounds a success body read into memory.
	maxReply = 32 << 20
	// maxErrorBody bounds an error body, and maxErrorText the part of one
	// that is not problem JSON kept for the message.
	maxErrorBody = 1 << 20
	maxErrorText = 300
)

// Clock is the time the client reads: Now for Retry-After dates, After to
// wait between attempts. A clockwork.Clock (real or fake) is one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Retry says how requests are tried again. Zero fields take the defaults.
type Retry struct {
	// Attempts is how many times a request is tried at most, the first
	// included: 1 never retries.
	Attempts int
	// MinBackoff is the wait after the first failure without a
	// Retry-After; it doubles each time up to MaxBackoff. Each wait is
	// drawn between half of that and all of it (jitter), so clients that
	// failed together do not come back together.
	MinBackoff, MaxBackoff time.Duration
	// MaxWait is the longest Retry-After honoured: a server that asks for
	// a longer wait gets its error returned instead.
	MaxWait time.Duration
	// OnRetry, when set, hears of every retry of this client before its
	// wait (see also WithRetryHook for one call's retries).
	OnRetry func(RetryEvent)
}

// RetryEvent is a failed attempt about to be made again.
type RetryEvent struct {
	Method, Path string
	// Attempt is the attempt about to be made, from 2, of at most Attempts.
	Attempt, Attempts int
	// Wait is how long the client waits before it.
	Wait time.Duration
	// Err is why the last attempt failed: an *Error for a status, else the
	// network's error.
	Err error
}

// Client calls one Pulseboard server. It is safe for concurrent use.
type Client struct {
	base      string // scheme, host and any path prefix, without the final /
	token     string
	userAgent string
	http      *http.Client
	clock     Clock
	retry     Retry
}

// Option configures a Client.
type Option func(*Client)

// WithToken sends token as "Authorization: Bearer": an ingest token to
// send responses, a viewer's or an admin's to read and work follow-ups.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithUserAgent names the program in the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// WithHTTPClient sends the requests with h (its transport, timeout, proxy,
// TLS settings). Without it the client makes its own, with DefaultTimeout.
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithClock reads time from clock: tests pass a fake one to drive the
// waits between attempts.
func WithClock(clock Clock) Option { return func(c *Client) { c.clock = clock } }

// WithRetry sets how requests are tried again; Retry{Attempts: 1} turns
// retries off.
func WithRetry(r Retry) Option { return func(c *Client) { c.retry = r } }

// New makes a client of the server at baseURL, such as
// "http://localhost:8080" or "https://example.com/pulseboard".
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("pulseboard client: base URL %q: must be an http:// or https:// URL without a query", baseURL)
	}
	c := &Client{base: strings.TrimRight(u.String(), "/"), userAgent: DefaultUserAgent, clock: realClock{}}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: DefaultTimeout}
	}
	r := &c.retry
	if r.Attempts <= 0 {
		r.Attempts = DefaultAttempts
	}
	if r.MinBackoff <= 0 {
		r.MinBackoff = DefaultMinBackoff
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = DefaultMaxBackoff
	}
	if r.MaxWait <= 0 {
		r.MaxWait = DefaultMaxWait
	}
	return c, nil
}

// retryHookKey is the context key of WithRetryHook.
type retryHookKey struct{}

// WithRetryHook returns a context whose calls tell fn of each retry before
// its wait, besides Retry.OnRetry: a caller that sends many batches can
// say which one is being retried.
func WithRetryHook(ctx context.Context, fn func(RetryEvent)) context.Context {
	return context.WithValue(ctx, retryHookKey{}, fn)
}

// call is one request, as many times as it is tried.
type call struct {
	method, path string // path escaped, from the API's root
	query        url.Values
	body         []byte
	contentType  string
	accept       string
	// idempotent calls may be repeated after any failure that may be
	// passing; the others only when the server certainly did not act.
	idempotent bool
}

// do makes the call, trying again as Retry allows, and returns a success
// reply (2xx), whose body the caller reads and closes; any other reply is
// an *Error.
func (c *Client) do(ctx context.Context, cl call) (*http.Response, error) {
	hook, _ := ctx.Value(retryHookKey{}).(func(RetryEvent))
	for attempt := 1; ; attempt++ {
		res, err := c.send(ctx, cl)
		if err == nil && res.StatusCode >= 200 && res.StatusCode < 300 {
			return res, nil
		}
		retryable, wait := false, time.Duration(-1)
		if err != nil {
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			retryable = cl.idempotent || notSent(err)
		} else {
			e := c.readError(cl, res)
			err = e
			switch res.StatusCode {
			case http.StatusTooManyRequests:
				// A rate limit refuses before acting: safe for any call.
				retryable = true
			case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
				retryable = cl.idempotent
			}
			if e.hasRetryAfter {
				wait = e.RetryAfter
			}
		}
		if !retryable {
			return nil, err
		}
		if attempt >= c.retry.Attempts {
			if attempt > 1 {
				return nil, fmt.Errorf("giving up after %d attempts: %w", attempt, err)
			}
			return nil, err
		}
		if wait > c.retry.MaxWait {
			return nil, err // the server asks for longer than this client waits
		}
		if wait < 0 {
			wait = c.backoff(attempt)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			// The next try could not begin in time: say why this one
			// failed rather than wait for the deadline.
			return nil, err
		}
		ev := RetryEvent{Method: cl.method, Path: cl.path, Attempt: attempt + 1, Attempts: c.retry.Attempts, Wait: wait, Err: err}
		if c.retry.OnRetry != nil {
			c.retry.OnRetry(ev)
		}
		if hook != nil {
			hook(ev)
		}
		select {
		case <-c.clock.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (while waiting to retry after: %w)", context.Cause(ctx), err)
		}
	}
}

// send makes one attempt.
func (c *Client) send(ctx context.Context, cl call) (*http.Response, error) {
	u := c.base + cl.path
	if len(cl.query) > 0 {
		u += "?" + cl.query.Encode()
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		return nil, err
	}
	if cl.contentType != "" {
		req.Header.Set("Content-Type", cl.contentType)
	}
	if cl.accept != "" {
		req.Header.Set("Accept", cl.accept)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", c.userAgent)
	return c.http.Do(req)
}

// notSent says the request failed before any of it reached a server: the
// connection could not be made. Only then is a call that is not
// idempotent tried again on a network error.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// backoff is the wait after the attempt-th failure without a Retry-After:
// MinBackoff doubled per attempt up to MaxBackoff, drawn between half of
// that and all of it.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.retry.MaxBackoff
	if shift := attempt - 1; shift < 32 {
		d = min(c.retry.MinBackoff<<shift, c.retry.MaxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header, seconds or an HTTP date; ok is
// false when there is none or it cannot be read.
func (c *Client) retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(c.clock.Now()), 0), true
	}
	return 0, false
}

// getJSON GETs path and decodes the JSON answer into out.
func (c *Client) getJSON(ctx context.Context, path string, query url.Values, out any) error {
	cl := call{method: http.MethodGet, path: path, query: query, accept: "application/json", idempotent: true}
	res, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	return decodeReply(cl, res, out)
}

// postJSON POSTs in as JSON and decodes the JSON answer into out.
func (c *Client) postJSON(ctx context.Context, path string, idempotent bool, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode the body of %s: %w", path, err)
	}
	cl := call{method: http.MethodPost, path: path, body: body, contentType: api.MediaTypeJSON, accept: "application/json", idempotent: idempotent}
	res, err := c.do(ctx, cl)
	if err != nil {
		return err
	}
	return decodeReply(cl, res, out)
}

// decodeReply reads a success reply's JSON body into out and closes it.
func decodeReply(cl call, res *http.Response, out any) error {
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxReply))
	if err != nil {
		return fmt.Errorf("%s %s: read the reply: %w", cl.method, cl.path, err)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: unreadable reply %q: %w", cl.method, cl.path, truncate(string(body), 200), err)
	}
	return nil
}

// truncate shortens s to n bytes and marks the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
