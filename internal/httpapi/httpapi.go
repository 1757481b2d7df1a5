// Package httpapi wires Pulseboard's HTTP interface with Echo: the routes in
// one place (routes.go), handlers grouped by resource with a file each
// (responses, nps, boards, followups, alerts, webhooks, admin, health,
// home), errors mapped to RFC 9457 problem details in one function
// (problem.go).
package httpapi

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/claimlink"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/internal/metrics"
	"github.com/pulseboard/pulseboard/internal/session"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/themes"
	"github.com/pulseboard/pulseboard/internal/webhook"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Recorder stores validated responses.
type Recorder interface {
	Record(ctx context.Context, batch []store.Response) (store.RecordResult, error)
}

// Querier answers window queries.
type Querier interface {
	Query(ctx context.Context, q store.Query) ([]store.Group, error)
}

// Pinger tells whether the store is reachable.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Decoder turns a request body into validated responses, or offers
// (ingest.Decoder).
type Decoder interface {
	Decode(body io.Reader, contentType string, now time.Time) ([]store.Response, error)
	DecodeKind(kind store.Kind, body io.Reader, contentType string, now time.Time) ([]store.Response, error)
}

// Boards is the board registry as the API reads it: the current
// definitions (Index: templates with their instances), and the view of one
// computed at a given time.
type Boards interface {
	Boards() []board.Board
	Board(name string) (board.Board, bool)
	Index() []boards.Entry
	// Discovered is false until the templates' values were first found.
	Discovered() bool
	Compute(def board.Board, now time.Time) (board.View, aggregate.Status, error)
}

// Screens serves boards' live sockets, and their event streams for
// networks that block sockets.
type Screens interface {
	Serve(w http.ResponseWriter, r *http.Request, name string, may live.Access) error
	ServeEvents(w http.ResponseWriter, r *http.Request, name string, may live.Access) error
}

// Alerts is the alert service as the admin API uses it.
type Alerts interface {
	Inbox(ctx context.Context, filter alert.InboxFilter) ([]alert.Item, error)
	FollowUp(ctx context.Context, id string) (alert.Item, error)
	Queues() []alert.Queue
	Claim(ctx context.Context, id, by string) (alert.FollowUp, error)
	Resolve(ctx context.Context, id, by, note string) (alert.FollowUp, error)
	Reassign(ctx context.Context, id string, r alert.Reassignment) (alert.Item, error)
	Alerts(ctx context.Context) ([]alert.Active, error)
	DeadLetters(ctx context.Context, n int) ([]alert.Delivery, error)
	Redrive(ctx context.Context, id string) error
}

// Deps is everything the handlers use.
type Deps struct {
	Recorder     Recorder
	Querier      Querier
	Pinger       Pinger
	Decoder      Decoder
	Boards       Boards
	Screens      Screens
	IngestTokens *auth.Tokens
	// AdminTokens open the admin endpoints and every board.
	AdminTokens *auth.Tokens
	// ViewerTokens, each named after its person, read the query API,
	// every board and the console, and work the follow-ups (identity.go).
	ViewerTokens *auth.Users
	// Sessions signs the sign-in cookie; nil makes a random key (sessions
	// then end with the process and are not shared across nodes).
	Sessions *session.Codec
	// SessionTTL is how long a sign-in lasts; 0 is DefaultSessionTTL.
	SessionTTL time.Duration
	// TrustedUserHeader names the person in a request from a trusted
	// proxy (oauth2-proxy's X-Forwarded-User); "" is off.
	TrustedUserHeader string
	// TrustedProxies are the peers whose TrustedUserHeader is believed.
	TrustedProxies []netip.Prefix
	// TrustedAdmins are proxy users with the admin role, not viewer.
	TrustedAdmins []string
	// PublicBoards opens every board and the query API without a token.
	PublicBoards bool
	// IngestRate is each ingest token's responses per second (0: no
	// limit), with a burst of IngestBurst.
	IngestRate  float64
	IngestBurst int
	// ReloadBoards re-reads the boards file now (admin); nil when boards
	// come from the built-in set.
	ReloadBoards func(ctx context.Context) ([]board.Board, error)
	// ChangeLog lists a group's recent answers on the console; nil lists
	// none.
	ChangeLog ChangeLog
	// Alerts serves follow-ups, alerts and dead letters; nil answers 404.
	Alerts Alerts
	// AlertsTimeout bounds a request's calls into the alert state, so a
	// stalled Redis gets a prompt 503 instead of a request that hangs
	// through the client's retries; 0 for no bound.
	AlertsTimeout time.Duration
	// Metrics records ingest; nil records nothing.
	Metrics *metrics.Metrics
	// Webhooks are the survey-tool adapters; nil turns webhooks off.
	Webhooks *webhook.Hooks
	Calendar window.Calendar
	// Retention is the engine's: which buckets a span can still be read
	// from (zero: store.DefaultRetention).
	Retention store.Retention
	// Schema holds the dimensions queries may name; the zero value has the
	// built-ins only.
	Schema store.Schema
	// Themes is the dictionary the engine matches comments with: a theme
	// filter must name one of its themes, groups by theme carry its
	// labels, and the console shows each answer's evidence. nil has no
	// themes, so every theme filter is refused.
	Themes       *themes.Dictionary
	Rollups      []store.Rollup
	MinSample    int64
	MaxBodyBytes int64
	// FrameAncestors may embed the pages (CSP frame-ancestors).
	FrameAncestors []string
	Logger         *slog.Logger
	Now            func() time.Time
}

// API holds the handlers' dependencies.
type API struct {
	Deps
	overview *board.Board
	limits   *rateLimits
	sessions *session.Codec
	signins  signinLimits
	// links checks claim links (links.go); linkCSRFKey makes the CSRF
	// tokens of their page for browsers not signed in. Both are derived
	// from the session key.
	links       *claimlink.Signer
	linkCSRFKey []byte
}

// DefaultSessionTTL is how long a sign-in lasts: a working day and then
// some, so a supervisor signs in once a shift.
const DefaultSessionTTL = 12 * time.Hour

// New builds the Echo instance with every route.
func New(d Deps) *echo.Echo {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Retention == (store.Retention{}) {
		d.Retention = store.DefaultRetention()
	}
	if d.SessionTTL <= 0 {
		d.SessionTTL = DefaultSessionTTL
	}
	a := &API{Deps: d, overview: overview(d.Rollups, d.Logger), limits: newRateLimits(d.IngestRate, d.IngestBurst), sessions: d.Sessions}
	if a.sessions == nil {
		// Only tests and embedders get here: the program makes the codec
		// and says what a random key means (cmd/pulseboard).
		key, err := session.RandomKey()
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		a.sessions = session.NewCodec(key)
	}
	a.links = claimlink.FromSessionKey(a.sessions.Derive)
	a.linkCSRFKey = a.sessions.Derive("claim-link-csrf")
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = a.handleError
	a.routes(e)
	return e
}
