package httpapi

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/views"
)

// Who may read what:
//
//   - public_boards on: everyone reads every board, the index overview and
//     the query API (a demo, or a server only a trusted network reaches);
//   - a board with `access: {public: true}`: everyone reads that board;
//   - a viewer or an admin (identity.go: a bearer token, a signed-in
//     session, or a trusted proxy's user): reads everything;
//   - a paired screen: reads the one board it was paired with. Pairing is
//     opening /boards/NAME?token=DISPLAY-TOKEN once; the server answers with
//     an HttpOnly cookie scoped to that board's path and a redirect that
//     drops the token from the address bar. The cookie lasts ten years: a
//     TV on a wall never logs in again. Removing the screen from the board's
//     `access.screens` revokes it, live.

// screenCookie holds a paired screen's display token, scoped by Path to its
// board's page and socket.
const screenCookie = "pb_screen"

// screenCookieAge does not expire like a login: a paired TV stays paired
// until the operator revokes it.
const screenCookieAge = 10 * 365 * 24 * time.Hour

// grant is the outcome of checking a request against a board.
type grant int

const (
	granted  grant = iota
	noAccess       // nothing presented: the board is private
	revoked        // a pairing that does not (or no longer) open this board
)

// credentials are what a request presented, kept after the request is gone
// so a live socket can be re-checked when its board's definition changes.
type credentials struct {
	public bool   // public_boards is on
	reader bool   // a viewer or an admin
	screen string // the display token from the cookie, "" when none
}

func (a *API) credentialsOf(r *http.Request) credentials {
	// An invalid proxy header reads as nobody here; the guarded routes
	// answer it with its 400.
	p, _ := a.identify(r)
	cr := credentials{public: a.PublicBoards, reader: p.MayRead()}
	if ck, err := r.Cookie(screenCookie); err == nil {
		cr.screen = ck.Value
	}
	return cr
}

// check decides a board's access for these credentials.
func (cr credentials) check(def board.Board) grant {
	switch {
	case cr.public || def.Public || cr.reader:
		return granted
	case cr.screen == "":
		return noAccess
	}
	if _, ok := auth.MatchScreen(def.Screens, cr.screen); ok {
		return granted
	}
	return revoked
}

// showsValues reports whether these credentials may see a template's
// values, which name its boards in the open board list and index. Values
// are user data (team names; agent names with for_each: agent), so they
// are listed only for a public template, in public mode, or to a viewer or
// an admin (who may open every board anyway); others see the template and
// how many boards it has.
func (cr credentials) showsValues(tpl board.Board) bool {
	return cr.public || cr.reader || tpl.Public
}

// socketAccess is the live package's view of the same decision.
func (cr credentials) socketAccess() live.Access {
	return func(def board.Board) bool { return cr.check(def) == granted }
}

// canQuery reports whether a request may read the query API and the index
// overview: numbers across every board.
func (a *API) canQuery(r *http.Request) bool {
	cr := a.credentialsOf(r)
	return cr.public || cr.reader
}

// requireQuery guards the query API: open in public mode, else a viewer's
// (requireViewer).
func (a *API) requireQuery(next echo.HandlerFunc) echo.HandlerFunc {
	guarded := a.requireViewer(next)
	return func(c echo.Context) error {
		if a.PublicBoards {
			return next(c)
		}
		return guarded(c)
	}
}

// boardDef finds a board's current definition.
func (a *API) boardDef(name string) (board.Board, error) {
	if d, ok := a.Boards.Board(name); ok {
		return d, nil
	}
	return board.Board{}, a.noBoard(name)
}

// noBoard is the 404 for a name the registry does not serve; a template's
// own name gets told where its boards are.
func (a *API) noBoard(name string) error {
	if a.isTemplate(name) {
		return fault.New(fault.NotFound, "%q is a board template, not a board: its boards are /boards/%s/<value> (GET /api/v1/boards lists them)", name, name)
	}
	return fault.New(fault.NotFound, "no board named %q", name)
}

// isTemplate reports whether name is a board template's.
func (a *API) isTemplate(name string) bool {
	_, ok := a.template(name)
	return ok
}

// template finds a board template's definition.
func (a *API) template(name string) (board.Board, bool) {
	for _, e := range a.Boards.Index() {
		if e.Name == name && e.ForEach != nil {
			return e.Board, true
		}
	}
	return board.Board{}, false
}

// lookup finds the board a request names, for the access check that comes
// first. A template's value without a board (yet) gets a stand-in, the
// board it would be, with the template's access: a request that may not
// open the template is refused alike for a board that exists and one that
// does not, so a private template's values (team or agent names) cannot be
// probed one by one; one that may open it then gets the 404 (exists false).
func (a *API) lookup(name string) (def board.Board, exists bool, err error) {
	if d, ok := a.Boards.Board(name); ok {
		return d, true, nil
	}
	if tpl, v, ok := board.SplitName(name); ok && board.ValidValue(v) {
		if t, ok := a.template(tpl); ok {
			return t.Instance(v), false, nil
		}
	}
	return board.Board{}, false, a.noBoard(name)
}

// boardAccessError is the API's answer to a board it may not read.
func boardAccessError(g grant, name string) error {
	if g == revoked {
		return fault.New(fault.Forbidden, "this screen's pairing does not open board %q: it was revoked, or belongs to another board", name)
	}
	return fault.New(fault.Unauthorized, "board %q is private: pair this screen by opening %s?token=<display token>, sign in at /signin, or send a viewer or admin token", name, board.URLPath(name))
}

// pair handles /boards/NAME?token=...: a display token of this board sets the
// screen's cookie and redirects to the same address without the token, so
// it neither stays on screen nor lands in browser history.
func (a *API) pair(c echo.Context, def board.Board, token string) error {
	screen, ok := auth.MatchScreen(def.Screens, token)
	if !ok {
		a.Logger.Warn("pairing refused", slog.String("board", def.Name), slog.String("remote", c.RealIP()))
		return a.renderDenied(c, http.StatusForbidden, def, views.ScreenOptions{}, "This pairing code does not open this board.",
			"Check the link, or ask for a new display token for "+def.Name+".")
	}
	req := c.Request()
	path := a.cookiePath(def, token)
	c.SetCookie(&http.Cookie{
		Name: screenCookie, Value: token, Path: path,
		MaxAge: int(screenCookieAge / time.Second), HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: req.TLS != nil || strings.EqualFold(req.Header.Get("X-Forwarded-Proto"), "https"),
	})
	a.Logger.Info("screen paired", slog.String("board", def.Name), slog.String("screen", screen.Name), slog.String("remote", c.RealIP()))
	q := req.URL.Query()
	q.Del("token")
	target := board.URLPath(def.Name)
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// deniedRefreshSeconds is how often a refused screen tries again.
const deniedRefreshSeconds = 60

// renderDenied shows a refused screen what happened and what to do.
// A screen in a rotation goes on to its next board.
func (a *API) renderDenied(c echo.Context, status int, def board.Board, screen views.ScreenOptions, message, hint string) error {
	return render(c, status, views.Denied(views.DeniedPage{
		Board: def.Name, Title: def.Title, Message: message, Hint: hint, RefreshSeconds: deniedRefreshSeconds, Screen: screen,
	}))
}

// renderNoAccess is the page for a board a request may not read.
func (a *API) renderNoAccess(c echo.Context, g grant, def board.Board, screen views.ScreenOptions) error {
	if g == revoked {
		return a.renderDenied(c, http.StatusForbidden, def, screen, "This screen is no longer paired with this board.",
			"Its pairing was revoked. To pair it again, open "+board.URLPath(def.Name)+"?token=<display token> on this screen.")
	}
	return a.renderDenied(c, http.StatusUnauthorized, def, screen, "This board is private.",
		"To pair this screen, open "+board.URLPath(def.Name)+"?token=<display token> on it once. `pulseboard token --board "+def.Name+"` makes a token.")
}

// cookiePath is where a pairing's cookie goes: the board's page and socket.
// A screen of a whole template opens all its boards, so its cookie covers
// /boards/TEMPLATE/... and a rotation through them (rotate=T/*) needs one
// pairing; a screen paired with one value's board (`value:`) gets that
// board's path only.
func (a *API) cookiePath(def board.Board, token string) string {
	if def.Template == "" {
		return "/boards/" + def.Name
	}
	if t, ok := a.template(def.Template); ok {
		if _, ok := auth.MatchScreen(t.Screens, token); ok {
			return "/boards/" + def.Template
		}
	}
	return board.URLPath(def.Name)
}
