package httpapi

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/proportion"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// npsAnswer is the body of GET /api/v1/nps.
type npsAnswer struct {
	// Window is the named window; empty for a from/to range.
	Window string `json:"window,omitempty"`
	Label  string `json:"label"`
	// From and To are the span the groups count: the one asked for, unless
	// CoarseEdge.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// CoarseEdge says an edge of the asked span fell where the buckets
	// fine enough for it have expired, so From or To moved out to the
	// boundary of the finest bucket still kept; Asked is what was asked.
	CoarseEdge bool       `json:"coarse_edge,omitempty"`
	Asked      *spanJSON  `json:"asked,omitempty"`
	Groups     []npsGroup `json:"groups"`
}

type spanJSON struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// npsGroup is one group of the answer: its key and nps.Summary, whose
// fields (and their rounding) are the API's.
type npsGroup struct {
	Key map[store.Dimension]string `json:"key"`
	// Labels holds the label of the key's theme ({"theme": "Billing
	// errors"}), so a client needs no second call to show it; absent when
	// the key has no theme.
	Labels map[store.Dimension]string `json:"labels,omitempty"`
	nps.Summary
	// CSAT is present when the group has CSAT answers, ResponseRate when
	// it has offers.
	CSAT         *csatJSON `json:"csat,omitempty"`
	ResponseRate *rateJSON `json:"response_rate,omitempty"`
}

// csatJSON is a group's CSAT: its answers, the satisfied ones (4 and 5),
// their share in percent with its 95% Wilson interval, and the answers
// 1..5.
type csatJSON struct {
	Answers      int64             `json:"answers"`
	Satisfied    int64             `json:"satisfied"`
	CSAT         float64           `json:"csat"`
	Low          float64           `json:"low"`
	High         float64           `json:"high"`
	Distribution csat.Distribution `json:"distribution"`
}

// rateJSON is a group's response rate: the surveys offered in the span,
// how many of them were answered (at any time), and the rate in percent
// with its 95% Wilson interval.
type rateJSON struct {
	Offered  int64   `json:"offered"`
	Answered int64   `json:"answered"`
	Rate     float64 `json:"rate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
}

// csatOf is g's CSAT, nil without CSAT answers.
func csatOf(g store.Group) *csatJSON {
	s := g.CSAT.Share()
	if !s.OK() {
		return nil
	}
	v, lo, hi := s.Percents()
	return &csatJSON{Answers: s.Whole, Satisfied: s.Part, CSAT: v, Low: lo, High: hi, Distribution: g.CSAT}
}

// rateOf is g's response rate, nil without offers.
func rateOf(g store.Group) *rateJSON {
	s := proportion.Of(g.Answered, g.Offered)
	if !s.OK() {
		return nil
	}
	v, lo, hi := s.Percents()
	return &rateJSON{Offered: s.Whole, Answered: s.Part, Rate: v, Low: lo, High: hi}
}

// defaultWindow is the window of a query that names none.
const defaultWindow = "1h"

// maxAhead bounds how far past now a range may end: a later end only adds
// empty minutes, and is most likely a typo in the date.
const maxAhead = 24 * time.Hour

// The answer formats.
const (
	formatJSON = "json"
	formatCSV  = "csv"
)

// npsRequest is a parsed GET /api/v1/nps: the store query (its Span is
// the covered span), what that span is, and the format to answer in. The
// console parses its views with the same function.
type npsRequest struct {
	Query store.Query
	// Window is the named window, nil for a from/to range; DefaultWindow
	// is set when the caller named neither.
	Window        *window.Window
	DefaultWindow bool
	// Cover is the asked span and the span read (Cover.Span == Query.Span).
	Cover  window.Cover
	Label  string
	Format string
}

// getNPS answers ?window=1h&by=team,channel&team=alpha, or
// ?from=…&to=…, as JSON or CSV.
func (a *API) getNPS(c echo.Context) error {
	req, err := a.parseNPSQuery(c.QueryParams(), c.Request().Header.Get(echo.HeaderAccept))
	if err != nil {
		return err
	}
	groups, err := a.Querier.Query(c.Request().Context(), req.Query)
	if errors.Is(err, store.ErrNoRollup) {
		return fault.New(fault.BadRequest, "%v", err)
	}
	if err != nil {
		return err
	}
	if req.Format == formatCSV {
		return a.writeNPSCSV(c, req, groups)
	}
	out := npsAnswer{Label: req.Label, From: req.Query.Span.From.UTC(), To: req.Query.Span.To.UTC(), Groups: make([]npsGroup, len(groups))}
	if req.Window != nil {
		out.Window = req.Window.Name
	}
	if req.Cover.Coarse() {
		out.CoarseEdge = true
		out.Asked = &spanJSON{From: req.Cover.Asked.From.UTC(), To: req.Cover.Asked.To.UTC()}
	}
	for i, g := range groups {
		out.Groups[i] = a.groupJSON(g)
	}
	return c.JSON(http.StatusOK, out)
}

// parseNPSQuery reads the query parameters of GET /api/v1/nps (and of any
// page that asks the same question): the span (window, or from and to),
// the breakdown and filters, and the format (format=, else the Accept
// header). Every error is a 400 naming the parameter.
func (a *API) parseNPSQuery(params url.Values, accept string) (npsRequest, error) {
	var req npsRequest
	now := a.Now()
	span, err := a.parseSpan(params, now, &req)
	if err != nil {
		return req, err
	}
	req.Cover = a.storeOptions().Cover(span, now)
	req.Query = store.Query{Filters: map[store.Dimension]string{}, Span: req.Cover.Span}
	if req.Window == nil {
		req.Label = a.Calendar.RangeLabel(req.Cover.Asked, now)
	} else {
		req.Label = a.Calendar.Label(*req.Window)
		if req.DefaultWindow {
			// Say so: a caller who left window out may not know what it got.
			req.Label += " (the default window; pass window= for another)"
		}
	}
	if req.Cover.Coarse() {
		req.Label += " (widened to " + a.Calendar.RangeLabel(req.Cover.Span, now) + ": finer buckets are no longer kept)"
	}
	if req.Format, err = npsFormat(params.Get("format"), accept); err != nil {
		return req, err
	}
	if err := a.parseBreakdown(params, &req.Query); err != nil {
		return req, err
	}
	return req, nil
}

// spanParams are the parameters parseBreakdown leaves alone.
var spanParams = map[string]bool{"window": true, "from": true, "to": true, "format": true}

// parseSpan reads window, or from and to, and sets req's window fields.
func (a *API) parseSpan(params url.Values, now time.Time, req *npsRequest) (window.Span, error) {
	name, from, to := params.Get("window"), params.Get("from"), params.Get("to")
	if name != "" && (from != "" || to != "") {
		return window.Span{}, fault.New(fault.BadRequest, "window: cannot be combined with from/to (ask for a named window or a range, not both)")
	}
	end := a.Calendar.Span(window.Rolling15m, now).To
	if from == "" && to == "" {
		if name == "" {
			name, req.DefaultWindow = defaultWindow, true
		}
		w, err := window.Parse(name)
		if err != nil {
			return window.Span{}, fault.New(fault.BadRequest, "window: %v", err)
		}
		req.Window = &w
		return a.Calendar.Span(w, now), nil
	}
	span, err := window.ParseRange(from, to, end)
	if err != nil {
		return window.Span{}, fault.New(fault.BadRequest, "%v", err)
	}
	opts := a.storeOptions()
	if day := a.Calendar.Bucket(window.Day, span.From); !now.Before(opts.Expires(window.Day, day)) {
		return window.Span{}, fault.New(fault.BadRequest, "from: %s is older than the day buckets' retention (%s): nothing is kept that far back",
			from, formatDays(opts.Retention.Day))
	}
	if span.To.After(end.Add(maxAhead)) {
		return window.Span{}, fault.New(fault.BadRequest, "to: %s is more than 24h in the future", to)
	}
	return span, nil
}

// parseBreakdown reads by and the filters: every parameter that is not
// about the span or the format.
func (a *API) parseBreakdown(params url.Values, q *store.Query) error {
	for key, vals := range params {
		switch {
		case spanParams[key]:
		case key == "by":
			for _, part := range strings.Split(strings.Join(vals, ","), ",") {
				if part = strings.TrimSpace(part); part == "" {
					continue
				}
				d, err := a.Schema.Parse(part)
				if err != nil {
					return fault.New(fault.BadRequest, "by: %v", err)
				}
				q.By = append(q.By, d)
			}
		default:
			d, err := a.Schema.Parse(key)
			if err != nil {
				return fault.New(fault.BadRequest, "unknown query parameter %q (want window, from, to, format, by, or a filter: %s)", key, a.Schema)
			}
			if d == store.Theme {
				if err := a.checkTheme(vals[0]); err != nil {
					return err
				}
			}
			q.Filters[d] = vals[0]
		}
	}
	return nil
}

// checkTheme refuses a theme filter that names no theme of the
// dictionary: the store would answer it with no groups, which reads as
// "nobody mentions it" when the name is only misspelt.
func (a *API) checkTheme(name string) error {
	if a.Themes == nil || len(a.Themes.Themes()) == 0 {
		return fault.New(fault.BadRequest, "theme: %q is not a theme: this server has no themes configured", name)
	}
	if a.Themes.Label(name) == "" {
		return fault.New(fault.BadRequest, "theme: %q is not a theme (want one of: %s)", name, strings.Join(a.themeNames(), ", "))
	}
	return nil
}

// themeNames lists the dictionary's theme names in its order.
func (a *API) themeNames() []string {
	var out []string
	if a.Themes != nil {
		for _, t := range a.Themes.Themes() {
			out = append(out, t.Name)
		}
	}
	return out
}

// themeLabel is how a theme is shown: its label, or its name when the
// dictionary no longer holds it (answers recorded under an older one).
func (a *API) themeLabel(name string) string {
	if a.Themes != nil {
		if l := a.Themes.Label(name); l != "" {
			return l
		}
	}
	return name
}

// npsFormat picks the answer's format: format= wins; else CSV when the
// Accept header names text/csv with a quality above zero and at least that
// of application/json, JSON otherwise.
func npsFormat(param, accept string) (string, error) {
	switch param {
	case formatJSON, formatCSV:
		return param, nil
	case "":
	default:
		return "", fault.New(fault.BadRequest, "format: %q is not a format (want json or csv)", param)
	}
	qCSV, qJSON := 0.0, 0.0
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if q, err = strconv.ParseFloat(v, 64); err != nil {
				continue
			}
		}
		switch mt {
		case "text/csv":
			qCSV = max(qCSV, q)
		case "application/json":
			qJSON = max(qJSON, q)
		}
	}
	if qCSV > 0 && qCSV >= qJSON {
		return formatCSV, nil
	}
	return formatJSON, nil
}

// storeOptions are the engine options that decide which buckets a span is
// read from: the calendar and the retention.
func (a *API) storeOptions() store.Options {
	return store.Options{Calendar: a.Calendar, Retention: a.Retention}
}

// formatDays prints a retention in days ("400d"), or as a duration when it
// is not whole days.
func formatDays(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (a *API) groupJSON(g store.Group) npsGroup {
	out := npsGroup{Key: g.Key, Summary: nps.Summarize(g.Counts, a.MinSample), CSAT: csatOf(g), ResponseRate: rateOf(g)}
	if name, ok := g.Key[store.Theme]; ok {
		out.Labels = map[store.Dimension]string{store.Theme: a.themeLabel(name)}
	}
	return out
}
