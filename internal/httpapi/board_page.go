package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/views"
)

// firstPaintWait is how long a board page waits for a node that is still
// warming up, so the first paint has real numbers rather than dashes.
const firstPaintWait = 3 * time.Second

// getBoardPage renders a full-screen board with its current numbers; the
// page's script then follows the live socket.
func (a *API) getBoardPage(c echo.Context) error {
	name := c.Param("name")
	screen := a.screenOptions(c, name)
	def, err := a.boardDef(name)
	if err != nil {
		return a.renderBoardNotFound(c, name, screen)
	}
	if tok := c.QueryParam("token"); tok != "" {
		return a.pair(c, def, tok)
	}
	if g := a.credentialsOf(c.Request()).check(def); g != granted {
		return a.renderNoAccess(c, g, def, screen)
	}
	v, st, err := a.viewWhenReady(c.Request().Context(), def)
	if errors.Is(err, aggregate.ErrNotReady) {
		return fault.Wrap(err, fault.Unavailable, "the board's numbers are still loading; retry in a moment")
	}
	if err != nil {
		return err
	}
	now := a.Now().In(a.Calendar.Location())
	return render(c, http.StatusOK, views.Board(views.BoardPage{
		View: v, Zone: a.Calendar.Location().String(),
		Clock: now.Format("15:04"), Updated: now.Format("15:04:05"), Stale: st.Stale, Screen: screen,
	}))
}

// notFoundRefreshSeconds is how often a screen on a board that does not
// exist (yet) tries again, when no rotation takes it elsewhere.
const notFoundRefreshSeconds = 60

// screenOptions reads the kiosk options of a board page's address; a
// rotation goes on to the next board that exists, keeping the options.
func (a *API) screenOptions(c echo.Context, current string) views.ScreenOptions {
	q := c.Request().URL.Query()
	q.Del("token")
	o := screenOptions(q, current, func(name string) (bool, string) {
		if _, err := a.boardDef(name); err != nil {
			return false, fmt.Sprintf("no board named %q", name)
		}
		return true, ""
	})
	if o.Next != "" {
		o.Next = (&url.URL{Path: "/boards/" + o.Next, RawQuery: withoutToken(c.Request().URL.RawQuery)}).String()
	}
	return o
}

// withoutToken is a query string as the screen's address had it, in its own
// order and spelling, less any pairing token (which must not travel on).
func withoutToken(raw string) string {
	var kept []string
	for part := range strings.SplitSeq(raw, "&") {
		key, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(key); part == "" || (err == nil && k == "token") {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}

// renderBoardNotFound answers a board page for a board that does not exist:
// an HTML page a screen recovers from, or problem JSON for API clients.
func (a *API) renderBoardNotFound(c echo.Context, name string, screen views.ScreenOptions) error {
	err := fault.New(fault.NotFound, "no board named %q", name)
	if !wantsHTML(c.Request()) {
		return err
	}
	return render(c, http.StatusNotFound, views.NotFound(views.NotFoundPage{
		Message: fmt.Sprintf("There is no board named %q.", name), RefreshSeconds: notFoundRefreshSeconds, Screen: screen,
	}))
}

func (a *API) viewWhenReady(ctx context.Context, def board.Board) (board.View, aggregate.Status, error) {
	deadline := time.Now().Add(firstPaintWait)
	for {
		v, st, err := a.Boards.Compute(def, a.Now())
		if !errors.Is(err, aggregate.ErrNotReady) || time.Now().After(deadline) {
			return v, st, err
		}
		select {
		case <-ctx.Done():
			return v, st, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
