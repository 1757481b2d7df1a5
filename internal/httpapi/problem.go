package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/views"
)

// retryAfterSeconds is what a 503 tells clients to wait: long enough for a
// Redis failover or restart to begin answering, short enough not to pile up
// a backlog at the producers.
const retryAfterSeconds = "2"

// statusOf is the one mapping from fault codes to HTTP statuses.
func statusOf(code fault.Code) int {
	switch code {
	case fault.Invalid:
		return http.StatusUnprocessableEntity
	case fault.BadRequest:
		return http.StatusBadRequest
	case fault.Unauthorized:
		return http.StatusUnauthorized
	case fault.Forbidden:
		return http.StatusForbidden
	case fault.NotFound:
		return http.StatusNotFound
	case fault.TooMany:
		return http.StatusTooManyRequests
	case fault.Conflict:
		return http.StatusConflict
	case fault.TooLarge:
		return http.StatusRequestEntityTooLarge
	case fault.Unsupported:
		return http.StatusUnsupportedMediaType
	case fault.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// errAlertState marks an error of the alert state (follow-ups, alerts,
// dead letters), which lives apart from the store: on Redis, behind its
// own client and timeout.
var errAlertState = errors.New("alert state")

// unavailableWhat names what a 503 waited for, in its log line, so an
// operator looks at the right thing: the store, the alert state, or this
// node's copy of the numbers still warming up.
func unavailableWhat(err error) string {
	switch {
	case errors.Is(err, errAlertState):
		return "alert state unavailable"
	case errors.Is(err, aggregate.ErrNotReady):
		return "numbers still loading"
	}
	return "store unavailable"
}

// handleError writes every error as problem JSON. Only internal errors are
// logged with their cause; the client gets a generic message for those.
func (a *API) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	p := api.Problem{Instance: c.Request().URL.Path, RequestID: c.Response().Header().Get(echo.HeaderXRequestID)}
	var code fault.Code
	var he *echo.HTTPError
	if fe, ok := fault.As(err); ok {
		code = fe.Code
		p.Status = statusOf(code)
		p.Detail = fe.Message
		p.Errors = fe.Details
	} else if errors.As(err, &he) {
		// Echo's own errors: unknown route, wrong method.
		p.Status = he.Code
		code = fault.Code(http.StatusText(he.Code))
		if msg, ok := he.Message.(string); ok {
			p.Detail = msg
		}
	} else {
		code = fault.Internal
		p.Status = http.StatusInternalServerError
	}
	if p.Status >= 500 && code != fault.Unavailable {
		a.Logger.Error("request failed", slog.String("request_id", p.RequestID),
			slog.String("path", p.Instance), slog.Any("err", err))
		p.Detail = "an internal error occurred; the request id helps find it in the logs"
	}
	if code == fault.Unavailable {
		a.Logger.Warn(unavailableWhat(err), slog.String("request_id", p.RequestID), slog.Any("err", err))
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	if fe, ok := fault.As(err); ok && fe.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(fe.RetryAfter.Seconds()))))
	}
	if code == fault.Unauthorized {
		c.Response().Header().Set("WWW-Authenticate", `Bearer realm="pulseboard"`)
	}
	if p.Status == http.StatusNotFound && wantsHTML(c.Request()) {
		// A browser on an address with nothing behind it (a mistyped board
		// address on a TV) gets a page with a way back, not JSON.
		page := views.NotFound(views.NotFoundPage{Message: "There is no page at " + p.Instance + ".", Screen: views.ScreenOptions{}})
		if err := render(c, http.StatusNotFound, page); err != nil {
			a.Logger.Debug("write not-found page", slog.Any("err", err))
		}
		return
	}
	p.Title = http.StatusText(p.Status)
	p.Type = "about:blank"
	if fe, ok := fault.As(err); ok {
		p.Type = api.ProblemTypePrefix + string(fe.Code)
	}
	c.Response().Header().Set(echo.HeaderContentType, api.MediaTypeProblem)
	c.Response().WriteHeader(p.Status)
	if c.Request().Method == http.MethodHead {
		return
	}
	if err := jsonEncode(c.Response(), p); err != nil {
		a.Logger.Debug("write problem", slog.Any("err", err))
	}
}
