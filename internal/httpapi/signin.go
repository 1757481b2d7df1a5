package httpapi

import (
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/views"
)

// Sign-in and sign-out: GET /signin shows the form, POST /signin turns a
// viewer or admin token into the pb_session cookie, POST /signout clears it
// (identity.go reads it).

// defaultNext is where a sign-in goes without a next address.
const defaultNext = "/"

// maxSigninBody bounds the sign-in form.
const maxSigninBody = 8 << 10

// safeNext keeps next only if it is a path on this server: it starts with
// one "/", has no scheme, no host, no backslash and no control character,
// so "//evil.example", "/\evil.example", "https://evil.example" and
// "javascript:…" all become defaultNext (no open redirect).
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\") {
		return defaultNext
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f {
			return defaultNext
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(u.Path, "//") {
		return defaultNext
	}
	// Nothing of the signin pages themselves: going back there is a loop.
	if u.Path == "/signin" || u.Path == "/signout" {
		return defaultNext
	}
	return (&url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}).String()
}

// getSignin answers GET /signin?next=/console.
func (a *API) getSignin(c echo.Context) error {
	p, err := a.principal(c)
	if err != nil {
		return err
	}
	page := views.SigninPage{Next: safeNext(c.QueryParam("next"))}
	if p.Via == ViaSession || p.Via == ViaProxy {
		page.User, page.Role, page.ViaProxy, page.CSRF = p.Label(), p.Role.String(), p.Via == ViaProxy, a.csrfToken(c)
	}
	noStore(c)
	return render(c, http.StatusOK, views.Signin(page))
}

// noStore keeps pages with a CSRF token or a sign-in form out of caches.
func noStore(c echo.Context) { c.Response().Header().Set("Cache-Control", "no-store") }

// postSignin answers the sign-in form (token, next): a valid viewer or
// admin token sets the session cookie and goes to next; anything else shows
// the form again with a 401.
func (a *API) postSignin(c echo.Context) error {
	r := c.Request()
	// A page of another site must not sign this browser in as somebody
	// else (login CSRF): the form must come from this server's page.
	if err := sameOrigin(r); err != nil {
		return err
	}
	now := a.Now()
	if d := a.signins.wait(peer(r), now); d > 0 {
		wait := (d + time.Second - 1).Truncate(time.Second)
		e := fault.New(fault.TooMany, "too many failed sign-ins from this address; try again in %d s", int(wait/time.Second))
		e.RetryAfter = wait
		return e
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxSigninBody)
	if err := r.ParseForm(); err != nil {
		return fault.New(fault.BadRequest, "the sign-in form must be application/x-www-form-urlencoded with token and next, at most %d bytes", maxSigninBody)
	}
	next := safeNext(r.PostForm.Get("next"))
	tok := strings.TrimSpace(r.PostForm.Get("token"))
	user, role, hash, ok := a.matchSignin(tok)
	if !ok {
		a.signins.failed(peer(r), now)
		a.Logger.Warn("sign-in refused: unknown token", slog.String("peer", r.RemoteAddr))
		noStore(c)
		return render(c, http.StatusUnauthorized, views.Signin(views.SigninPage{Next: next, Error: "This token does not open Pulseboard. Check it, or ask your operator for a viewer token."}))
	}
	s, err := a.sessions.New(user, role, a.sessions.TokenID(hash), now.Add(a.SessionTTL))
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: sessionCookie, Value: a.sessions.Encode(s), Path: "/",
		MaxAge: int(a.SessionTTL / time.Second), HttpOnly: true, Secure: secureRequest(r),
		// Lax, not Strict: a supervisor who follows a link to a board or
		// the console from mail or chat arrives signed in. Lax sends the
		// cookie only on top-level GETs from other sites, which change
		// nothing; every change is a POST behind checkCSRF.
		SameSite: http.SameSiteLaxMode,
	})
	a.Logger.Info("signed in", slog.String("user", user), slog.String("role", role.String()), slog.String("peer", r.RemoteAddr))
	return c.Redirect(http.StatusSeeOther, next)
}

// matchSignin finds whose token tok is: an admin's, else a viewer's.
func (a *API) matchSignin(tok string) (string, auth.Role, auth.Hash, bool) {
	if h, ok := a.AdminTokens.Match(tok); ok {
		return adminName, auth.Admin, h, true
	}
	if u, ok := a.ViewerTokens.Match(tok); ok {
		return u.Name, auth.Viewer, u.Hash, true
	}
	return "", auth.NoRole, auth.Hash{}, false
}

// postSignout answers POST /signout: it clears the session cookie. It is a
// state change from a cookie like any other, so it passes checkCSRF; a
// browser whose session already ended only needs to come from this server.
func (a *API) postSignout(c echo.Context) error {
	p, err := a.principal(c)
	if err != nil {
		return err
	}
	if p.Via == ViaSession {
		if err := a.checkCSRF(c, p); err != nil {
			return err
		}
	} else if err := sameOrigin(c.Request()); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: secureRequest(c.Request()), SameSite: http.SameSiteLaxMode})
	if p.Via == ViaSession {
		a.Logger.Info("signed out", slog.String("user", p.Name))
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// me is the answer of GET /api/v1/me.
type me struct {
	User             string `json:"user"` // "" for an admin token, which names nobody
	Role             string `json:"role"`
	Via              string `json:"via"`                  // bearer, proxy or session
	CSRFToken        string `json:"csrf_token,omitempty"` // for a cookie-authenticated page's script
	MaySeeAgentNames bool   `json:"may_see_agent_names"`
}

// viaNames names the ways in, as GET /api/v1/me says them.
var viaNames = map[Via]string{ViaBearer: "bearer", ViaProxy: "proxy", ViaSession: "session"}

// getMe answers GET /api/v1/me: who the request is, for a page's script
// (it sends csrf_token back in X-CSRF-Token) and for API clients checking
// their token. Another site cannot read it: there is no CORS.
func (a *API) getMe(c echo.Context) error {
	p, err := a.principal(c)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, me{User: p.Name, Role: p.Role.String(), Via: viaNames[p.Via], CSRFToken: p.CSRF, MaySeeAgentNames: p.MaySeeAgentNames()})
}

// Failed sign-ins: each peer address may fail signinFailBurst times, then
// one more every signinFailEvery; past that, every sign-in from it (a right
// token too, or the limit would tell which guess was right) answers 429
// until its bucket refills. Random tokens cannot be guessed anyway; this
// slows down guessing a weak hand-made one. Behind a proxy every browser
// shares the proxy's address, so the burst is generous.
const (
	signinFailBurst = 20
	signinFailEvery = 3 * time.Second
	// signinPeersMax bounds the memory of failing peers: past it the
	// memory starts over (an attacker with that many addresses is not
	// slowed by a per-address limit anyway).
	signinPeersMax = 10000
)

type signinLimits struct {
	mu    sync.Mutex
	peers map[string]*rate.Limiter
}

// peer is the TCP peer's address without the port: X-Forwarded-For is the
// client's to write.
func peer(r *http.Request) string {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().String()
	}
	return r.RemoteAddr
}

func (l *signinLimits) limiter(p string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.peers == nil || len(l.peers) >= signinPeersMax {
		l.peers = map[string]*rate.Limiter{}
	}
	lim := l.peers[p]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(signinFailEvery), signinFailBurst)
		l.peers[p] = lim
	}
	return lim
}

// wait says how long a peer must wait before it may try again, 0 if it may.
func (l *signinLimits) wait(p string, now time.Time) time.Duration {
	lim := l.limiter(p)
	if lim.TokensAt(now) >= 1 {
		return 0
	}
	r := lim.ReserveN(now, 1)
	d := r.DelayFrom(now)
	r.CancelAt(now)
	return d
}

// failed charges one failed sign-in to a peer.
func (l *signinLimits) failed(p string, now time.Time) { l.limiter(p).AllowN(now, 1) }
