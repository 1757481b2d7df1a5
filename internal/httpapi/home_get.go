package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/views"
)

// homeRefreshSeconds reloads the overview page; the WebSocket boards replace
// polling with pushed updates.
const homeRefreshSeconds = 5

// getHome renders the overview: the center's score over three windows and
// the last hour by channel and today by team, with real numbers in the first
// paint.
func (a *API) getHome(c echo.Context) error {
	ctx := c.Request().Context()
	now := a.Now()
	d := views.HomeData{
		Boards:         a.boardLinks(),
		Zone:           a.Calendar.Location().String(),
		Updated:        now.In(a.Calendar.Location()).Format("15:04:05"),
		RefreshSeconds: homeRefreshSeconds,
	}
	for _, w := range []window.Window{window.Rolling1h, window.Today, window.Rolling7d} {
		groups, err := a.Querier.Query(ctx, store.Query{Span: a.Calendar.Span(w, now)})
		if err != nil {
			return err
		}
		d.Headline = append(d.Headline, board.FigureOf(a.Calendar.Label(w), groups[0].Counts, board.DefaultThresholds, a.MinSample))
	}
	var err error
	if d.Channels, err = a.breakdown(c, window.Rolling1h, store.Channel); err != nil {
		return err
	}
	if d.Teams, err = a.breakdown(c, window.Today, store.Team); err != nil {
		return err
	}
	d.ChannelOf, d.TeamsOf = a.Calendar.Label(window.Rolling1h), a.Calendar.Label(window.Today)
	return render(c, http.StatusOK, views.Home(d))
}

func (a *API) breakdown(c echo.Context, w window.Window, by store.Dimension) ([]board.Figure, error) {
	groups, err := a.Querier.Query(c.Request().Context(), store.Query{By: []store.Dimension{by}, Span: a.Calendar.Span(w, a.Now())})
	if err != nil {
		return nil, err
	}
	out := make([]board.Figure, len(groups))
	for i, g := range groups {
		out[i] = board.FigureOf(g.Key[by], g.Counts, board.DefaultThresholds, a.MinSample)
	}
	return out, nil
}

func (a *API) boardLinks() []views.BoardLink {
	defs := a.Live.Boards()
	out := make([]views.BoardLink, len(defs))
	for i, d := range defs {
		out[i] = views.BoardLink{Name: d.Name, Title: d.Title, Tiles: len(d.Tiles)}
	}
	return out
}
