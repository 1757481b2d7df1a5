package httpapi

import (
	"errors"
	"math"
	"net/http"
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

type npsGroup struct {
	Key          map[store.Dimension]string `json:"key"`
	Responses    int64                      `json:"responses"`
	Promoters    int64                      `json:"promoters"`
	Passives     int64                      `json:"passives"`
	Detractors   int64                      `json:"detractors"`
	NPS          *float64                   `json:"nps"`
	MOE          *float64                   `json:"moe"`
	CILow        *float64                   `json:"ci_low"`
	CIHigh       *float64                   `json:"ci_high"`
	Mean         *float64                   `json:"mean"`
	LowSample    bool                       `json:"low_sample"`
	Distribution nps.Distribution           `json:"distribution"`
}

// defaultWindow is the window of a query that names none.
const defaultWindow = "1h"

// getNPS answers ?window=1h&by=team,channel&team=alpha.
func (a *API) getNPS(c echo.Context) error {
	params := c.QueryParams()
	name := params.Get("window")
	if name == "" {
		name = defaultWindow
	}
	w, err := window.Parse(name)
	if err != nil {
		return fault.New(fault.BadRequest, "window: %v", err)
	}
	q := store.Query{Filters: map[store.Dimension]string{}, Span: a.Calendar.Span(w, a.Now())}
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
					return fault.New(fault.BadRequest, "by: %v", err)
				}
				q.By = append(q.By, d)
			}
		default:
			d, err := store.ParseDimension(key)
			if err != nil {
				return fault.New(fault.BadRequest, "unknown query parameter %q (want window, by, or a filter: channel, segment, team, agent)", key)
			}
			q.Filters[d] = vals[0]
		}
	}
	groups, err := a.Querier.Query(c.Request().Context(), q)
	if errors.Is(err, store.ErrNoRollup) {
		return fault.New(fault.BadRequest, "%v", err)
	}
	if err != nil {
		return err
	}
	out := npsAnswer{Window: w.Name, Label: a.Calendar.Label(w), From: q.Span.From.UTC(), To: q.Span.To.UTC(), Groups: make([]npsGroup, len(groups))}
	if params.Get("window") == "" {
		// Say so: a caller who left window out may not know what it got.
		out.Label += " (the default window; pass window= for another)"
	}
	for i, g := range groups {
		out.Groups[i] = a.groupJSON(g)
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) groupJSON(g store.Group) npsGroup {
	d := g.Counts
	out := npsGroup{
		Key:          g.Key,
		Responses:    d.Responses(),
		Promoters:    d.Promoters(),
		Passives:     d.Passives(),
		Detractors:   d.Detractors(),
		LowSample:    d.LowSample(a.MinSample),
		Distribution: d,
	}
	if score, ok := d.NPS(); ok {
		ci := d.CI()
		out.NPS, out.MOE, out.CILow, out.CIHigh = round2(score), round2(ci.Margin), round2(ci.Low), round2(ci.High)
		mean, _ := d.Mean()
		out.Mean = round2(mean)
	}
	return out
}

// round2 keeps two decimals: enough for 38.75, without float noise.
func round2(x float64) *float64 {
	r := math.Round(x*100) / 100
	return &r
}
