package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/live"
)

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
