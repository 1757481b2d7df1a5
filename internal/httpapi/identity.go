package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/session"
)

// Who a request is, and what it may do (docs/SECURITY.md). A request is, in
// this order of precedence:
//
//   - a bearer: "Authorization: Bearer" with an admin token (role admin,
//     unnamed) or a viewer token (role viewer, the token's name). API
//     clients; a browser never sends this header by itself, so it needs no
//     CSRF token;
//   - a proxy user: the trusted SSO header (trusted_user_header), honoured
//     only when the TCP peer is one of trusted_proxies. Role viewer, or
//     admin when the name is in trusted_admin_users;
//   - a session: the pb_session cookie that /signin sets, signed with the
//     session key, until it expires or its token is no longer configured.
//
// Proxy users and sessions are cookie-authenticated (a browser adds them to
// any request, a forged one too), so every state change they make must pass
// checkCSRF: the Origin (or Referer) is this server, and the CSRF token of
// the session is in X-CSRF-Token or the csrf_token form field.

// Using it from a page (the console, the inbox):
//
//   - guard the routes with a.requireViewer (a.requireAdmin for admin
//     things): GET pages send a browser that is not signed in to
//     /signin?next=<the page> and back; POSTs from a session or a proxy
//     user are checked for CSRF before the handler runs;
//   - p, err := a.principal(c) says who it is: p.Name (escape it like any
//     user data; templ does), p.Role, p.MaySeeAgentNames();
//   - every form that changes something carries @views.CSRFField(a.csrfToken(c));
//     a script sends the token from @views.CSRFMeta(...) or GET /api/v1/me
//     in the X-CSRF-Token header. The global CSP allows forms to this origin
//     only, and Referrer-Policy: same-origin lets browsers send the Origin
//     header the check needs.

// Via says how a request proved who it is.
type Via int

const (
	ViaNothing Via = iota
	ViaBearer
	ViaProxy
	ViaSession
)

// Principal is who a request is. Handlers get it with a.principal(c).
type Principal struct {
	// Name is the person ("dana"); "" for an admin bearer token, which
	// names nobody.
	Name string
	Role auth.Role
	Via  Via
	// CSRF is the token a state change must carry, for the cookie ways in.
	CSRF string
}

// CookieAuthenticated reports whether the browser proves the identity by
// itself (a session cookie, or the proxy's header behind a proxy cookie),
// so a cross-site request would carry it too.
func (p Principal) CookieAuthenticated() bool { return p.Via == ViaSession || p.Via == ViaProxy }

// MayRead reports whether the principal reads the query API, every board,
// the console and the follow-up inbox.
func (p Principal) MayRead() bool { return p.Role >= auth.Viewer }

// MaySeeAgentNames reports whether views may name agents for this
// principal: viewers and admins may (supervisors and team leads coach
// them); anonymous readers of a public server see agents only where a
// board's own privacy shows them.
func (p Principal) MaySeeAgentNames() bool { return p.Role >= auth.Viewer }

// Label is how pages name the principal: the person, or "admin token".
func (p Principal) Label() string {
	if p.Name == "" {
		return p.Role.String() + " token"
	}
	return p.Name
}

// Names of what a browser sends.
const (
	sessionCookie = "pb_session"
	csrfHeader    = "X-CSRF-Token"
	csrfField     = "csrf_token"
	principalKey  = "pulseboard.principal"
)

// adminName names the person of an admin token's session.
const adminName = "admin"

// principal is who the request is, worked out once per request. An
// invalid SSO header from a trusted proxy is a 400: the proxy is
// misconfigured, and guessing would be worse.
func (a *API) principal(c echo.Context) (Principal, error) {
	if p, ok := c.Get(principalKey).(Principal); ok {
		return p, nil
	}
	p, err := a.identify(c.Request())
	if err != nil {
		return Principal{}, err
	}
	c.Set(principalKey, p)
	return p, nil
}

func (a *API) identify(r *http.Request) (Principal, error) {
	if tok := auth.Bearer(r); tok != "" {
		if a.AdminTokens.Valid(tok) {
			return Principal{Role: auth.Admin, Via: ViaBearer}, nil
		}
		if u, ok := a.ViewerTokens.Match(tok); ok {
			return Principal{Name: u.Name, Role: auth.Viewer, Via: ViaBearer}, nil
		}
	}
	if p, ok, err := a.proxyUser(r); ok || err != nil {
		return p, err
	}
	if s, ok := a.sessionOf(r); ok {
		return Principal{Name: s.User, Role: s.Role, Via: ViaSession, CSRF: a.sessions.CSRF(s)}, nil
	}
	return Principal{}, nil
}

// proxyUser reads the trusted SSO header. From any peer but a trusted
// proxy it is ignored: anybody can send any header.
func (a *API) proxyUser(r *http.Request) (Principal, bool, error) {
	if a.TrustedUserHeader == "" {
		return Principal{}, false, nil
	}
	vals := r.Header.Values(a.TrustedUserHeader)
	if len(vals) == 0 {
		return Principal{}, false, nil
	}
	if !a.fromTrustedProxy(r) {
		a.Logger.Debug("single-sign-on header ignored: the peer is not a trusted proxy",
			slog.String("header", a.TrustedUserHeader), slog.String("peer", r.RemoteAddr))
		if a.Metrics != nil {
			a.Metrics.ProxyHeaderIgnored()
		}
		return Principal{}, false, nil
	}
	if len(vals) > 1 || !auth.ValidUserName(vals[0]) {
		// The value is not logged: it is whatever the proxy passed on.
		a.Logger.Warn("single-sign-on header from a trusted proxy is not a valid user name",
			slog.String("header", a.TrustedUserHeader), slog.String("peer", r.RemoteAddr))
		return Principal{}, false, fault.New(fault.BadRequest, "%s: the proxy must send one user name of %s", a.TrustedUserHeader, auth.UserNameRule)
	}
	name := vals[0]
	role := auth.Viewer
	if slices.Contains(a.TrustedAdmins, name) {
		role = auth.Admin
	}
	return Principal{Name: name, Role: role, Via: ViaProxy, CSRF: a.sessions.CSRFForUser(name)}, true, nil
}

// fromTrustedProxy reports whether the TCP peer (RemoteAddr, never a
// forwarded-for header, which the client writes) is a trusted proxy.
func (a *API) fromTrustedProxy(r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	for _, p := range a.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// sessionOf reads the session cookie: signed, not expired, and made from a
// token that is still configured (removing the token from the settings
// ends its sessions on every node that restarts with the new settings).
func (a *API) sessionOf(r *http.Request) (session.Session, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil || ck.Value == "" {
		return session.Session{}, false
	}
	s, err := a.sessions.Decode(ck.Value, a.Now())
	if err != nil {
		a.Logger.Debug("session cookie refused", slog.Any("err", err))
		return session.Session{}, false
	}
	held := false
	switch s.Role {
	case auth.Admin:
		held = s.User == adminName && a.AdminTokens.Holds(s.TokenID, a.sessions.TokenID)
	case auth.Viewer:
		held = a.ViewerTokens.Holds(s.User, s.TokenID, a.sessions.TokenID)
	}
	if !held {
		// Debug: the browser sends the cookie with every request until
		// it signs in again.
		a.Logger.Debug("session refused: its token is no longer configured", slog.String("user", s.User))
		return session.Session{}, false
	}
	return s, true
}

// requireViewer guards what a viewer may do: read the query API, every
// board, the console; work the follow-up inbox. A state change from a
// cookie must pass checkCSRF. A browser asking for a page without being
// signed in is sent to /signin and back.
func (a *API) requireViewer(next echo.HandlerFunc) echo.HandlerFunc {
	return a.requireRole(auth.Viewer, next)
}

// requireAdmin guards what only an admin may do: reloads, pprof, dead
// letters.
func (a *API) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return a.requireRole(auth.Admin, next)
}

func (a *API) requireRole(role auth.Role, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.principal(c)
		if err != nil {
			return err
		}
		switch {
		case p.Role >= role:
		case p.Role != auth.NoRole:
			return fault.New(fault.Forbidden, "this needs the %s role; %s has the %s role", role, p.Label(), p.Role)
		case wantsHTML(c.Request()):
			return c.Redirect(http.StatusSeeOther, signInHref(c.Request().URL.RequestURI()))
		case role == auth.Admin && a.AdminTokens.Empty() && len(a.TrustedAdmins) == 0:
			return fault.New(fault.Forbidden, "no admin token is configured (PULSEBOARD_ADMIN_TOKENS)")
		default:
			return fault.New(fault.Unauthorized, "this needs the %s role: send Authorization: Bearer <%s token>, or sign in at /signin", role, role)
		}
		if p.CookieAuthenticated() && !safeMethod(c.Request().Method) {
			if err := a.checkCSRF(c, p); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// safeMethod is a method that changes nothing.
func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCSRF refuses a cookie-authenticated state change that another site
// may have sent: its Origin (or, without one, its Referer) must be this
// server, and it must carry the session's CSRF token, which only this
// server's own pages know.
func (a *API) checkCSRF(c echo.Context, p Principal) error {
	r := c.Request()
	if err := sameOrigin(r); err != nil {
		a.Logger.Warn("cross-site request refused", slog.String("path", r.URL.Path), slog.String("why", err.Error()))
		return err
	}
	tok := r.Header.Get(csrfHeader)
	if tok == "" && isForm(r) {
		r.Body = http.MaxBytesReader(c.Response(), r.Body, maxAdminBody)
		tok = r.PostFormValue(csrfField)
	}
	if !session.CheckCSRF(tok, p.CSRF) {
		a.Logger.Warn("request without a valid CSRF token refused", slog.String("path", r.URL.Path))
		return fault.New(fault.Forbidden, "a change from a signed-in page needs its CSRF token (the %s header or the %s form field); reload the page and try again", csrfHeader, csrfField)
	}
	return nil
}

// isForm reports whether the body is an HTML form's.
func isForm(r *http.Request) bool {
	ct := r.Header.Get(echo.HeaderContentType)
	return strings.HasPrefix(ct, echo.MIMEApplicationForm) || strings.HasPrefix(ct, echo.MIMEMultipartForm)
}

// sameOrigin checks that a browser sent the request from this server's own
// pages: the Origin header, or the Referer when a browser sends no Origin,
// names this host. Browsers send one of them with every POST; a request
// with neither is refused, since it cannot be told apart from a forged one.
// Host and port are compared, not the scheme: behind a proxy that
// terminates TLS the server sees http while the page is https. A request
// that arrived over TLS (or says X-Forwarded-Proto: https) must come from
// an https page.
func sameOrigin(r *http.Request) error {
	src := r.Header.Get("Origin")
	if src == "" {
		src = r.Header.Get("Referer")
	}
	if src == "" || src == "null" {
		return fault.New(fault.Forbidden, "a change from a signed-in page must come with an Origin or Referer header naming this server")
	}
	u, err := url.Parse(src)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fault.New(fault.Forbidden, "the request's Origin is not an http(s) origin")
	}
	if !strings.EqualFold(u.Host, r.Host) || (secureRequest(r) && u.Scheme != "https") {
		return fault.New(fault.Forbidden, "cross-site request refused: it comes from another origin than this server's (%s)", r.Host)
	}
	return nil
}

// secureRequest reports whether the browser reached the server over HTTPS,
// directly or through a proxy that says so.
func secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// csrfToken is the CSRF token pages put in their forms (views.CSRFField)
// for the request's principal; "" when the request is not
// cookie-authenticated and needs none.
func (a *API) csrfToken(c echo.Context) string {
	p, err := a.principal(c)
	if err != nil {
		return ""
	}
	return p.CSRF
}

// signInHref is the sign-in page's address that comes back to next.
func signInHref(next string) string {
	return "/signin?" + url.Values{"next": {next}}.Encode()
}
