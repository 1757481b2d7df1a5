package importer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/ingest"
)

// Client settings.
const (
	// attempts bounds the tries of one batch while the server is
	// unavailable (503, 502, 504, 429) or unreachable.
	attempts = 10
	maxWait  = 30 * time.Second
	// requestTimeout bounds one request; the server's own write timeout is
	// 60 s.
	requestTimeout = 2 * time.Minute
	// probeTimeout bounds the check that a server answers at all, before
	// anything is read or sent: a server that is not running fails the
	// import in about a second, not after every retry of the first batch.
	probeTimeout = 2 * time.Second
	// maxReply bounds how much of a reply is read.
	maxReply  = 1 << 20
	userAgent = "pulseboard-import"
)

// responsesPath is where responses are posted.
const responsesPath = "/api/v1/responses"

// client posts NDJSON batches of responses to one server's ingest API and
// retries while the server is unavailable. It knows nothing of files, rows
// or progress: a Go client package for the API can be made of it.
type client struct {
	server   string // base URL, no trailing slash
	token    string
	http     *http.Client
	own      bool // http was made here: close its idle connections at the end
	attempts int
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
}

func newClient(o Options) *client {
	c := &client{server: o.Server, token: o.Token, http: o.HTTPClient, attempts: attempts, now: o.Now, sleep: o.Sleep}
	if c.http == nil {
		// http.DefaultTransport is any RoundTripper: a program's
		// instrumentation, or a test's checking wrapper, may have put
		// another in its place. Only Go's own is cloned to keep a
		// connection per worker; another is used as it is.
		var tr http.RoundTripper = http.DefaultTransport
		if dt, ok := tr.(*http.Transport); ok {
			own := dt.Clone()
			own.MaxIdleConnsPerHost = o.Workers
			tr = own
		}
		c.http = &http.Client{Transport: tr, Timeout: requestTimeout}
		c.own = true
	}
	return c
}

// close lets go of the connections the client opened.
func (c *client) close() {
	if c.own {
		// Connections dialed but never used would hold up a server's
		// graceful shutdown for seconds.
		c.http.CloseIdleConnections()
	}
}

// probe asks the server's /healthz once, briefly. Only a server that cannot
// be reached fails here, with the network's reason; any HTTP answer will do,
// since the posts explain a wrong address or token with the server's own
// reply.
func (c *client) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.server+"/healthz", nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", userAgent)
	res, err := c.http.Do(req)
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return err
	}
	res.Body.Close()
	return nil
}

// retry is an attempt that failed and will be made again after wait.
type retry struct {
	why      string // the status, or the network's error
	wait     time.Duration
	attempt  int // the attempt about to be made, from 2
	attempts int // of how many at most
}

// post sends one NDJSON body and returns the server's counts, retrying
// while the server is unavailable or unreachable; retrying, when not nil,
// hears of each retry before its wait. A retry cannot count anything
// twice: ids are upsert keys. A status it cannot get past is a
// *refusedError; a cancelled ctx returns its cause.
func (c *client) post(ctx context.Context, ndjson []byte, retrying func(retry)) (api.Recorded, error) {
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.server+responsesPath, bytes.NewReader(ndjson))
		if err != nil {
			return api.Recorded{}, err
		}
		req.Header.Set("Content-Type", ingest.TypeNDJSON)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("User-Agent", userAgent)
		var why string
		wait := time.Duration(-1) // no Retry-After: back off
		res, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return api.Recorded{}, context.Cause(ctx)
			}
			why = err.Error()
		} else {
			body, _ := io.ReadAll(io.LimitReader(res.Body, maxReply))
			res.Body.Close()
			switch res.StatusCode {
			case http.StatusAccepted, http.StatusOK:
				var r api.Recorded
				if err := json.Unmarshal(body, &r); err != nil {
					return api.Recorded{}, fmt.Errorf("unreadable reply %q: %v", truncate(string(body), 200), err)
				}
				return r, nil
			case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout, http.StatusTooManyRequests:
				why = res.Status
				wait = c.retryAfter(res.Header.Get("Retry-After"))
			default:
				return api.Recorded{}, readRefusal(res, body)
			}
		}
		if attempt == c.attempts {
			return api.Recorded{}, fmt.Errorf("giving up after %d attempts: %s", attempt, why)
		}
		if wait < 0 {
			wait = backoff(attempt)
		}
		if retrying != nil {
			retrying(retry{why: why, wait: wait, attempt: attempt + 1, attempts: c.attempts})
		}
		if err := c.sleep(ctx, wait); err != nil {
			return api.Recorded{}, err
		}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); -1 when
// there is none.
func (c *client) retryAfter(v string) time.Duration {
	if v == "" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(time.Duration(n)*time.Second, maxWait)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(c.now()), 0), maxWait)
	}
	return -1
}

// backoff doubles from 250 ms, with jitter so workers do not retry in step.
func backoff(attempt int) time.Duration {
	d := min(250*time.Millisecond<<(attempt-1), 10*time.Second)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, or returns ctx's cause when it ends first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
