package httpapi

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/views"
)

// firstPaintWait is how long a board page waits for a node that is still
// warming up, so the first paint has real numbers rather than dashes.
const firstPaintWait = 3 * time.Second

// getBoardPage renders a full-screen board with its current numbers; the
// page's script then follows the live socket.
func (a *API) getBoardPage(c echo.Context) error {
	name := c.Param("name")
	def, err := a.boardDef(name)
	if err != nil {
		return err
	}
	if tok := c.QueryParam("token"); tok != "" {
		return a.pair(c, def, tok)
	}
	if g := a.credentialsOf(c.Request()).check(def); g != granted {
		return a.renderNoAccess(c, g, def)
	}
	v, st, err := a.viewWhenReady(c.Request().Context(), name)
	if errors.Is(err, live.ErrNoBoard) {
		return fault.New(fault.NotFound, "no board named %q", name)
	}
	if errors.Is(err, aggregate.ErrNotReady) {
		return fault.Wrap(err, fault.Unavailable, "the board's numbers are still loading; retry in a moment")
	}
	if err != nil {
		return err
	}
	now := a.Now().In(a.Calendar.Location())
	return render(c, http.StatusOK, views.Board(views.BoardPage{
		View: v, Zone: a.Calendar.Location().String(),
		Clock: now.Format("15:04"), Updated: now.Format("15:04:05"), Stale: st.Stale,
	}))
}

func (a *API) viewWhenReady(ctx context.Context, name string) (board.View, aggregate.Status, error) {
	deadline := time.Now().Add(firstPaintWait)
	for {
		v, st, err := a.Live.View(name)
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
