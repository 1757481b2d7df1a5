package httpapi

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// logRequests writes one structured line per request, with its request id.
func (a *API) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		// Elapsed time, on the monotonic clock: a.Now is the business
		// clock, which tests hold still.
		start := time.Now()
		err := next(c)
		if err != nil {
			// Let the error handler write the status before it is logged.
			c.Error(err)
		}
		req, res := c.Request(), c.Response()
		level := slog.LevelInfo
		switch {
		case res.Status == http.StatusServiceUnavailable:
			level = slog.LevelWarn // the store or the alert state is away, or numbers still load: already logged once as a warning
		case res.Status >= 500:
			level = slog.LevelError
		}
		a.Logger.LogAttrs(req.Context(), level, "http request",
			slog.String("request_id", res.Header().Get(echoHeaderRequestID)),
			slog.String("method", req.Method),
			slog.String("path", req.URL.Path),
			slog.Int("status", res.Status),
			slog.Int64("bytes", res.Size),
			slog.Duration("took", time.Since(start)),
		)
		return nil
	}
}

const echoHeaderRequestID = echo.HeaderXRequestID

// recoverPanics turns a handler panic into a 500 problem and a log line with
// the panic value; the client never sees a stack trace.
func (a *API) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic in handler: %v", p)
			}
		}()
		return next(c)
	}
}

// requestID gives every request an id, echoed in X-Request-Id, logs and
// problem bodies. A well-formed id from a proxy in front is kept, so one id
// follows a request through the whole path.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !wellFormedID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func wellFormedID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// securityHeaders sends a Content-Security-Policy that allows no inline
// script (the board script is a file), inline styles only as attributes
// the server computed, forms posted to this origin only (sign-in, the
// console), and sockets and fetches to this origin alone; plus
// the frame-ancestors the operator allows, for embedding boards in an
// existing wall system.
func securityHeaders(frameAncestors []string) echo.MiddlewareFunc {
	if len(frameAncestors) == 0 {
		frameAncestors = []string{"'self'"}
	}
	csp := "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors " + strings.Join(frameAncestors, " ")
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Content-Security-Policy", csp)
			h.Set("X-Content-Type-Options", "nosniff")
			// same-origin, not no-referrer: nothing (a board address
			// with its pairing token, say) goes to another site, and
			// the browser names this origin in the Origin header of
			// its own POSTs, which checkCSRF needs; under no-referrer
			// Chromium sends "Origin: null" there.
			h.Set("Referrer-Policy", "same-origin")
			return next(c)
		}
	}
}
