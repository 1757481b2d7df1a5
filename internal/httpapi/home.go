package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/views"
)

// homeRefreshSeconds reloads the index page; boards themselves are pushed
// live over their sockets.
const homeRefreshSeconds = 10

// overviewYAML is the index page's overview: a small board of its own,
// computed like every board, from this node's aggregator.
const overviewYAML = `boards:
- name: overview
  title: Overview
  tiles:
  - {id: nps-1h, view: headline, window: 1h, title: Last hour}
  - {id: nps-today, view: headline, window: today, title: Today}
  - {id: nps-7d, view: headline, window: 7d, title: Last 7 days}
  - {id: responses, view: count, window: today, title: Responses}
  - {id: channels, view: breakdown, by: channel, window: 1h, title: Channels, size: 2x1}
  - {id: teams, view: breakdown, by: team, window: today, title: Teams, size: 2x1}
`

// overview parses the overview board against the configured rollups; with
// rollups that cannot answer it, the index page lists boards only, and the
// log says why once.
func overview(rollups []store.Rollup, logger *slog.Logger) *board.Board {
	boards, err := board.Parse([]byte(overviewYAML), store.DefaultSchema(), rollups)
	if err != nil {
		logger.Info("the index page shows no overview: the configured rollups cannot answer it", slog.Any("err", err))
		return nil
	}
	return &boards[0]
}

// getHome renders the board index and the overview, with real numbers in
// the first paint.
func (a *API) getHome(c echo.Context) error {
	now := a.Now().In(a.Calendar.Location())
	d := views.HomeData{
		Boards:         a.boardLinks(a.credentialsOf(c.Request())),
		Zone:           a.Calendar.Location().String(),
		Updated:        now.Format("15:04:05"),
		RefreshSeconds: homeRefreshSeconds,
	}
	// The overview shows numbers across every board: only for those who
	// may query them all.
	if a.overview != nil && a.canQuery(c.Request()) {
		v, st, err := a.Boards.Compute(*a.overview, now)
		switch {
		case err == nil:
			d.Overview, d.Stale = &v, st.Stale
		case errors.Is(err, aggregate.ErrNotReady):
			// Still warming up: the page lists the boards, and its next
			// refresh brings the numbers.
			a.Logger.Debug("index overview not ready", slog.Any("err", err))
		default:
			// The boards stay listed; the overview's failure is a bug.
			a.Logger.Error("index overview", slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)), slog.Any("err", err))
		}
	}
	return render(c, http.StatusOK, views.Home(d))
}

func (a *API) boardLinks(cr credentials) []views.BoardLink {
	index := a.Boards.Index()
	out := make([]views.BoardLink, len(index))
	for i, e := range index {
		out[i] = linkOf(e.Board)
		if e.ForEach != nil {
			// "Team {value}" heads its boards as "Team …".
			out[i].Title = strings.ReplaceAll(e.Title, board.ValuePlaceholder, "…")
			out[i].ForEach, out[i].Listed = string(e.ForEach.Dimension), e.ForEach.Values != nil
			if !cr.showsValues(e.Board) {
				out[i].Private = len(e.Instances)
				continue
			}
			for _, in := range e.Instances {
				out[i].Instances = append(out[i].Instances, linkOf(in))
			}
		}
	}
	return out
}

func linkOf(d board.Board) views.BoardLink {
	return views.BoardLink{Name: d.Name, Title: d.Title, Tiles: len(d.Tiles), Path: board.URLPath(d.Name)}
}
