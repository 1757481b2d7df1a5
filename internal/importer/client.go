package importer

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/pkg/client"
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
	userAgent    = "pulseboard-import"
)

// clock is the import's clock as the API client reads it.
type clock struct {
	now   func() time.Time
	after func(time.Duration) <-chan time.Time
}

func (c clock) Now() time.Time                         { return c.now() }
func (c clock) After(d time.Duration) <-chan time.Time { return c.after(d) }

// apiClient is the import's client of the server's API (pkg/client): it
// posts the batches and retries them while the server is unavailable or
// unreachable. own says its http.Client was made here, so its idle
// connections are closed at the end.
type apiClient struct {
	*client.Client
	server string
	http   *http.Client
	own    bool
	kind   store.Kind // what the batches hold: responses or offers
}

func newClient(o Options) (*apiClient, error) {
	c := &apiClient{server: o.Server, http: o.HTTPClient, kind: o.Kind}
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
	var err error
	c.Client, err = client.New(o.Server, client.WithToken(o.Token), client.WithUserAgent(userAgent), client.WithHTTPClient(c.http),
		client.WithClock(clock{now: o.Now, after: o.After}), client.WithRetry(client.Retry{Attempts: attempts, MaxWait: maxWait}))
	return c, err
}

// close lets go of the connections the client opened.
func (c *apiClient) close() {
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
func (c *apiClient) probe(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	once, err := client.New(c.server, client.WithUserAgent(userAgent), client.WithHTTPClient(c.http), client.WithRetry(client.Retry{Attempts: 1}))
	if err != nil {
		return err
	}
	// Any reply, an error status or a body that is not the health check's,
	// is an answer; only the transport's *url.Error is not.
	var urlErr *url.Error
	if err := once.Health(ctx); errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return nil
}

// post sends one NDJSON body; retrying, when not nil, hears of each retry
// before its wait. A retry cannot count anything twice: ids are upsert
// keys. A status it cannot get past is a *client.Error; a cancelled ctx
// returns its cause.
func (c *apiClient) post(ctx context.Context, ndjson []byte, retrying func(client.RetryEvent)) (client.Recorded, error) {
	if retrying != nil {
		ctx = client.WithRetryHook(ctx, retrying)
	}
	if c.kind == store.KindOffer {
		return c.SendOffersBody(ctx, client.Body{Format: client.NDJSON, Data: ndjson})
	}
	return c.SendResponsesBody(ctx, client.Body{Format: client.NDJSON, Data: ndjson})
}

// why is what a retry's console line says failed.
func why(err error) string {
	var e *client.Error
	if errors.As(err, &e) {
		return e.Status
	}
	return err.Error()
}
