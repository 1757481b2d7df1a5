package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// npsAnswer is the body of GET /api/v1/nps.
type npsAnswer struct {
	Window string     `json:"window"`
	Label  string     `json:"label"`
	From   time.Time  `json:"from"`
	To     time.Time  `json:"to"`
	Groups []npsGroup `json:"groups"`
}

// npsGroup is one group of the answer: its key and nps.Summary, whose
// fields (and their rounding) are the API's.
type npsGroup struct {
	Key map[store.Dimension]string `json:"key"`
	nps.Summary
}

// defaultWindow is the window of a query that names none.
const defaultWindow = "1h"

// npsQuery is a parsed query of GET /api/v1/nps: the window and the store
// query it asks for. The console reads the same parameters through the same
// parser, so a console view and its API address always mean one thing.
type npsQuery struct {
	Window window.Window
	// Defaulted is true when the query named no window.
	Defaulted bool
	Query     store.Query
}

// parseNPSQuery reads window=, by= and the dimension filters of params at
// now; anything else is an error naming the parameter.
func (a *API) parseNPSQuery(params url.Values, now time.Time) (npsQuery, error) {
	name := params.Get("window")
	if name == "" {
		name = defaultWindow
	}
	w, err := window.Parse(name)
	if err != nil {
		return npsQuery{}, fault.New(fault.BadRequest, "window: %v", err)
	}
	q := store.Query{Filters: map[store.Dimension]string{}, Span: a.Calendar.Span(w, now)}
	for key, vals := range params {
		switch key {
		case "window":
		case "by":
			for _, part := range strings.Split(strings.Join(vals, ","), ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				d, err := store.ParseDimension(part)
				if err != nil {
					return npsQuery{}, fault.New(fault.BadRequest, "by: %v", err)
				}
				q.By = append(q.By, d)
			}
		default:
			d, err := store.ParseDimension(key)
			if err != nil {
				return npsQuery{}, fault.New(fault.BadRequest, "unknown query parameter %q (want window, by, or a filter: channel, segment, team, agent)", key)
			}
			q.Filters[d] = vals[0]
		}
	}
	return npsQuery{Window: w, Defaulted: params.Get("window") == "", Query: q}, nil
}

// getNPS answers ?window=1h&by=team,channel&team=alpha.
func (a *API) getNPS(c echo.Context) error {
	pq, err := a.parseNPSQuery(c.QueryParams(), a.Now())
	if err != nil {
		return err
	}
	w, q := pq.Window, pq.Query
	groups, err := a.Querier.Query(c.Request().Context(), q)
	if errors.Is(err, store.ErrNoRollup) {
		return fault.New(fault.BadRequest, "%v", err)
	}
	if err != nil {
		return err
	}
	out := npsAnswer{Window: w.Name, Label: a.Calendar.Label(w), From: q.Span.From.UTC(), To: q.Span.To.UTC(), Groups: make([]npsGroup, len(groups))}
	if pq.Defaulted {
		// Say so: a caller who left window out may not know what it got.
		out.Label += " (the default window; pass window= for another)"
	}
	for i, g := range groups {
		out.Groups[i] = a.groupJSON(g)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) groupJSON(g store.Group) npsGroup {
	return npsGroup{Key: g.Key, Summary: nps.Summarize(g.Counts, a.MinSample)}
}
