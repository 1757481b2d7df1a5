package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/views"
)

// Boards: the JSON API (GET /api/v1/boards, /api/v1/boards/{name}), the
// full-screen page (GET /boards/{name}) and the live socket's entry
// (GET /boards/{name}/live). Who may read a board is decided in access.go;
// the kiosk options of a page's address in screen_options.go.

type boardSummary struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Live  string `json:"live"`
}

// listBoards answers GET /api/v1/boards.
func (a *API) listBoards(c echo.Context) error {
	defs := a.Boards.Boards()
	out := make([]boardSummary, len(defs))
	for i, d := range defs {
		out[i] = boardSummary{Name: d.Name, Title: d.Title, URL: "/boards/" + d.Name, Live: "/boards/" + d.Name + "/live"}
	}
	return c.JSON(http.StatusOK, map[string]any{"boards": out})
}

type boardAnswer struct {
	board.View
	Epoch string `json:"epoch"`
	Stale bool   `json:"stale"`
	Ready bool   `json:"ready"`
}

// getBoard answers GET /api/v1/boards/{name}: the view a screen would show
// now, computed from this node's aggregator.
func (a *API) getBoard(c echo.Context) error {
	def, err := a.boardDef(c.Param("name"))
	if err != nil {
		return err
	}
	if g := a.credentialsOf(c.Request()).check(def); g != granted {
		return boardAccessError(g, def.Name)
	}
	v, st, err := a.Boards.Compute(def, a.Now())
	if errors.Is(err, aggregate.ErrNotReady) {
		return fault.Wrap(err, fault.Unavailable, "the board's numbers are still loading")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, boardAnswer{View: v, Epoch: st.Epoch, Stale: st.Stale, Ready: st.Ready})
}

// boardLive upgrades to the board's WebSocket. Access is checked by the
// live side at connect and at every change of the board's definition, so a
// revoked screen is told so on its socket.
func (a *API) boardLive(c echo.Context) error {
	may := a.credentialsOf(c.Request()).socketAccess()
	err := a.Screens.Serve(c.Response(), c.Request(), c.Param("name"), may)
	if errors.Is(err, live.ErrNoBoard) {
		return fault.New(fault.NotFound, "no board named %q", c.Param("name"))
	}
	return err
}

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

// viewWhenReady computes a board at a.Now, waiting up to firstPaintWait
// for a node that is still warming up. The wait is real time (timers, not
// a.Now): it bounds how long a request blocks, and a test's clock stands
// still.
func (a *API) viewWhenReady(ctx context.Context, def board.Board) (board.View, aggregate.Status, error) {
	limit := time.NewTimer(firstPaintWait)
	defer limit.Stop()
	retry := time.NewTicker(50 * time.Millisecond)
	defer retry.Stop()
	for last := false; ; {
		v, st, err := a.Boards.Compute(def, a.Now())
		if !errors.Is(err, aggregate.ErrNotReady) || last {
			return v, st, err
		}
		select {
		case <-ctx.Done():
			return v, st, ctx.Err()
		case <-limit.C:
			last = true // one more try, then the answer stands
		case <-retry.C:
		}
	}
}
