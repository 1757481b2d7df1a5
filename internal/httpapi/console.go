package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/views"
)

// The supervisor console (GET /console): the query API as a page. Its
// address holds the whole view (window, by, the dimension filters, as GET
// /api/v1/nps reads them, plus sort and answer), so a link reproduces it
// and the back button walks back through the drill-down. The numbers come
// from the same store query as the API (parseNPSQuery, Querier.Query,
// nps.Summarize), never from a board's replica, so the console and the
// API agree to the digit. static/console.js refreshes the results every
// consolePollSeconds by asking the same address for the results part only
// (the consolePartHeader header); docs/ARCHITECTURE.md says why a poll.

// consolePollSeconds is how often an open console refreshes its numbers.
const consolePollSeconds = 10

// consolePartHeader asks for the results part of the page alone, the part
// the poll swaps in.
const consolePartHeader = "X-Pulseboard-Part"

// consoleAnswersShown is how many recent answers the answers list shows.
const consoleAnswersShown = 50

// consoleSparkPoints is the most points a row's sparkline has.
const consoleSparkPoints = 24

// ChangeLog is the engine's change log as the console reads it: its newest
// entries, to list the recent answers of a group (an agent).
type ChangeLog interface {
	History(ctx context.Context, n int) ([]store.LogEntry, error)
}

// consoleAudience is what the person looking at the console may see. It is
// the one place a role decides what the console shows.
type consoleAudience struct {
	// showAgents lets agent names appear: the agent breakdown, the agent
	// filter and the agent of each answer.
	showAgents bool
}

// consoleAudienceOf decides what a request may see: agent names for a
// signed-in viewer or admin (Principal.MaySeeAgentNames), not for an
// anonymous reader of a public server (public_boards), who reaches the
// console as they reach the query API. Every agent name the console shows
// passes through this value.
func (a *API) consoleAudienceOf(c echo.Context) (consoleAudience, error) {
	p, err := a.principal(c)
	if err != nil {
		return consoleAudience{}, err
	}
	return consoleAudience{showAgents: p.MaySeeAgentNames()}, nil
}

// consoleView is one console address, parsed.
type consoleView struct {
	npsRequest
	// Params are the API's parameters of the view (window or from and to,
	// by, filters), without empty ones: the export link and every drill
	// link start from them.
	Params url.Values
	Sort   string
	Answer string
	// rewritten is set when Params differ from the address's own (a
	// form's range in local time, its window=range, a from/to the named
	// window overrides): the console redirects to Params' address, so
	// what is shared and polled is the API's spelling.
	rewritten bool
	// isRange, fromText and toText are what the form shows: the range
	// choice and its edges in the center's zone (the asked span, or the
	// window's span to start a range from).
	isRange          bool
	fromText, toText string
}

// consoleOwn are the console's parameters that GET /api/v1/nps does not
// take; format is the API's, but the console is a page: its export link
// asks for CSV.
var consoleOwn = []string{"sort", "answer", "format"}

// consoleRangeChoice is the window select's value for a from/to range.
const consoleRangeChoice = "range"

// consoleLocalMinute is how a datetime-local field sends a time: the
// center's wall clock, to the minute (some browsers add seconds).
const (
	consoleLocalMinute = "2006-01-02T15:04"
	consoleLocalSecond = "2006-01-02T15:04:05"
)

// parseConsole reads a console address. The API's parameters go through
// the API's parser; empty ones (a form's "any") are dropped first, and the
// form's span (a named window, or window=range with from and to in the
// center's time) is turned into the API's (window, or from and to in RFC
// 3339).
func (a *API) parseConsole(params url.Values, aud consoleAudience) (consoleView, error) {
	v := consoleView{Params: url.Values{}, Sort: params.Get("sort"), Answer: params.Get("answer")}
	for k, vals := range params {
		if slices.Contains(consoleOwn, k) || len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
			continue
		}
		v.Params[k] = vals[:1]
	}
	if err := a.consoleSpan(&v); err != nil {
		return v, err
	}
	pq, err := a.parseNPSQuery(v.Params, "")
	if err != nil {
		return v, err
	}
	loc := a.Calendar.Location()
	v.isRange = pq.Window == nil
	v.fromText, v.toText = pq.Cover.Asked.From.In(loc).Format(consoleLocalMinute), pq.Cover.Asked.To.In(loc).Format(consoleLocalMinute)
	for _, d := range a.consoleDims() {
		val, ok := pq.Query.Filters[d]
		if !ok {
			continue
		}
		if p := ingest.ValueProblem(val); p != "" {
			return v, fault.New(fault.BadRequest, "%s: %s", d, p)
		}
	}
	if !aud.showAgents {
		if _, ok := pq.Query.Filters[store.Agent]; ok || slices.Contains(pq.Query.By, store.Agent) {
			return v, fault.New(fault.Forbidden, "agent names are not shown to you: remove agent from by and the filters")
		}
	}
	if _, err := store.PlanQuery(a.Rollups, pq.Query); err != nil {
		return v, fault.New(fault.BadRequest, "%v", err)
	}
	if _, ok := consoleSorts[strings.TrimPrefix(v.Sort, "-")]; !ok && v.Sort != "" {
		return v, fault.New(fault.BadRequest, "sort: unknown column %q (want one of group, nps, n, promoters, passives, detractors, impact, csat, csat-n, rate, offered, with - for descending)", v.Sort)
	}
	v.npsRequest = pq
	return v, nil
}

// consoleSpan turns the form's span into the API's: window=range means
// from and to, any other window makes from and to moot (the form sends
// them along), and a time in the center's wall clock (a datetime-local
// field's) becomes RFC 3339 with the zone's offset at that time.
func (a *API) consoleSpan(v *consoleView) error {
	p := v.Params
	switch w := p.Get("window"); {
	case w == consoleRangeChoice:
		if !p.Has("from") {
			return fault.New(fault.BadRequest, "from: pick the start of the range (the end is now when to is empty)")
		}
		p.Del("window")
		v.rewritten = true
	case w != "":
		if p.Has("from") || p.Has("to") {
			p.Del("from")
			p.Del("to")
			v.rewritten = true
		}
		return nil
	}
	for _, k := range []string{"from", "to"} {
		raw := p.Get(k)
		if raw == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, raw); err == nil {
			continue
		}
		t, err := parseLocalTime(raw, a.Calendar.Location())
		if err != nil {
			return fault.New(fault.BadRequest, "%s: %q is not a date and time (like 2026-12-02T08:00 in the center's time, or RFC 3339)", k, raw)
		}
		p.Set(k, t.Format(time.RFC3339))
		v.rewritten = true
	}
	return nil
}

// parseLocalTime reads a datetime-local field's value in loc. A wall time
// that a DST change skips or repeats gets the offset time.Date gives it.
func parseLocalTime(s string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(consoleLocalMinute, s, loc)
	if err != nil {
		t, err = time.ParseInLocation(consoleLocalSecond, s, loc)
	}
	return t, err
}

// looseView keeps what can be kept of an address that parseConsole
// refused, so the form shows the person's picks for them to correct.
func (a *API) looseView(params url.Values) consoleView {
	v := consoleView{Params: url.Values{}, Sort: params.Get("sort")}
	v.Query.Filters = map[store.Dimension]string{}
	if w, err := window.Parse(params.Get("window")); err == nil {
		v.Window = &w
	}
	name := params.Get("window")
	v.isRange = name == consoleRangeChoice || (name == "" && (params.Get("from") != "" || params.Get("to") != ""))
	loc := a.Calendar.Location()
	local := func(raw string) string {
		if t, err := time.Parse(time.RFC3339, raw); err == nil {
			return t.In(loc).Format(consoleLocalMinute)
		}
		return raw // as typed, for the person to correct
	}
	v.fromText, v.toText = local(params.Get("from")), local(params.Get("to"))
	for k, vals := range params {
		if d, err := a.Schema.Parse(k); err == nil && vals[0] != "" && ingest.ValueProblem(vals[0]) == "" {
			v.Query.Filters[d] = vals[0]
		}
	}
	for _, part := range strings.Split(params.Get("by"), ",") {
		if d, err := a.Schema.Parse(part); err == nil {
			v.Query.By = append(v.Query.By, d)
		}
	}
	return v
}

// getConsole renders the console, or only its results for the poll.
func (a *API) getConsole(c echo.Context) error {
	req := c.Request()
	if req.URL.RawQuery == "" {
		return c.Redirect(http.StatusSeeOther, "/console?"+a.consoleLanding().Encode())
	}
	// The console's form submits to itself, which the site-wide CSP's
	// form-action 'self' allows (middleware.go).
	c.Response().Header().Set("Vary", consolePartHeader)
	now := a.Now()
	aud, err := a.consoleAudienceOf(c)
	if err != nil {
		return err
	}
	v, err := a.parseConsole(c.QueryParams(), aud)
	page := views.ConsolePage{PollSeconds: consolePollSeconds, Title: "Console"}
	if !aud.showAgents {
		page.SignIn = signInHref(req.URL.RequestURI())
	}
	status := http.StatusOK
	if err != nil {
		fe, ok := fault.As(err)
		if !ok {
			return err
		}
		page.Error, status = fe.Message, statusOf(fe.Code)
		page.Form = a.consoleForm(req.Context(), a.looseView(c.QueryParams()), now, aud)
		return render(c, status, views.Console(page))
	}
	if v.rewritten {
		return c.Redirect(http.StatusSeeOther, consoleHref(v.Params, v.Sort, v.Answer))
	}
	res, err := a.consoleResults(req.Context(), v, now, aud)
	if errors.Is(err, store.ErrNoRollup) {
		return fault.New(fault.BadRequest, "%v", err)
	}
	if err != nil {
		return err
	}
	page.Results = res
	// The tab and the history list name the view.
	page.Title = a.consoleTitle(v, now)
	if req.Header.Get(consolePartHeader) == "results" {
		return render(c, http.StatusOK, views.ConsoleResultsPart(res))
	}
	page.Form = a.consoleForm(req.Context(), v, now, aud)
	return render(c, status, views.Console(page))
}

// consoleTitle names a view: "billing, today by agent · Console", or with
// a range "billing, 1 Dec 08:00 – 12:00 by agent · Console".
func (a *API) consoleTitle(v consoleView, now time.Time) string {
	var vals []string
	for _, d := range a.Schema.Queryable() {
		if val, ok := v.Query.Filters[d]; ok {
			if d == store.Theme {
				val = a.themeLabel(val)
			}
			vals = append(vals, val)
		}
	}
	t := a.Calendar.RangeLabel(v.Cover.Asked, now)
	if v.Window != nil {
		t = v.Window.Name
	}
	if len(vals) > 0 {
		t = strings.Join(vals, ", ") + ", " + t
	}
	if len(v.Query.By) > 0 {
		t += " by " + strings.ReplaceAll(dimsParam(v.Query.By), ",", " + ")
	}
	return t + " · Console"
}

// consoleLanding is the view of a bare /console: today by team, or by the
// first dimension the rollups cover.
func (a *API) consoleLanding() url.Values {
	v := url.Values{"window": {window.Today.Name}}
	dims := a.consoleDims()
	if slices.Contains(dims, store.Team) {
		v.Set("by", string(store.Team))
	} else if len(dims) > 0 {
		v.Set("by", string(dims[0]))
	}
	return v
}

// consoleDims lists the dimensions some rollup counts, in the schema's
// canonical order: the ones a breakdown or a filter can name (journey and
// the operator's own included, once a rollup holds them), then theme, the
// one derived from comments, when a rollup holds it and the server has a
// dictionary.
func (a *API) consoleDims() []store.Dimension {
	var out []store.Dimension
	for _, d := range a.Schema.Queryable() {
		if d == store.Theme && a.Themes == nil {
			continue
		}
		for _, r := range a.Rollups {
			if r.Has(d) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// coveredBreakdowns lists every combination of dimensions a configured
// rollup can break down by together with the filters: every subset of
// each rollup's dimensions, fewest dimensions first.
func (a *API) coveredBreakdowns(filters map[store.Dimension]string, aud consoleAudience) [][]store.Dimension {
	rollups := a.Rollups
	// Theme comes last (Queryable): after the response's own dimensions,
	// as the sort below ranks combinations by their dimensions' places.
	order := a.Schema.Queryable()
	seen := map[string]bool{}
	var out [][]store.Dimension
	for _, r := range rollups {
		dims := r.Dims()
		for mask := 0; mask < 1<<len(dims); mask++ {
			var by []store.Dimension
			for i, d := range dims {
				if mask&(1<<i) != 0 {
					by = append(by, d)
				}
			}
			key := dimsParam(by)
			if seen[key] || (!aud.showAgents && slices.Contains(by, store.Agent)) || (a.Themes == nil && slices.Contains(by, store.Theme)) {
				continue
			}
			if _, ok := store.Covering(rollups, withFilters(by, filters)); !ok {
				continue
			}
			seen[key] = true
			out = append(out, by)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return dimRank(order, out[i]) < dimRank(order, out[j])
	})
	return out
}

// dimRank orders combinations of equal length by the canonical order of
// their dimensions.
func dimRank(order, by []store.Dimension) string {
	var b strings.Builder
	for _, d := range by {
		fmt.Fprintf(&b, "%02d", slices.Index(order, d))
	}
	return b.String()
}

func withFilters(by []store.Dimension, filters map[store.Dimension]string) []store.Dimension {
	need := slices.Clone(by)
	for d := range filters {
		if !slices.Contains(need, d) {
			need = append(need, d)
		}
	}
	return need
}

func dimsParam(by []store.Dimension) string {
	parts := make([]string, len(by))
	for i, d := range by {
		parts[i] = string(d)
	}
	return strings.Join(parts, ",")
}

// consoleForm builds the form: every window, grouped; the breakdowns the
// rollups cover with the current filters; and each filter with the values
// seen in the window.
func (a *API) consoleForm(ctx context.Context, v consoleView, now time.Time, aud consoleAudience) views.ConsoleForm {
	cur := defaultWindow
	switch {
	case v.isRange:
		cur = consoleRangeChoice
	case v.Window != nil:
		cur = v.Window.Name
	}
	loc := a.Calendar.Location()
	f := views.ConsoleForm{Sort: v.Sort, Range: v.isRange, From: v.fromText, To: v.toText, Zone: loc.String()}
	groups := []views.ConsoleOptionGroup{{Label: "Rolling"}, {Label: "Calendar"}, {Label: "Range"}}
	for _, w := range window.All {
		i := 0
		if w.Period != window.NoPeriod {
			i = 1
		}
		groups[i].Options = append(groups[i].Options, views.ConsoleOption{Value: w.Name, Label: windowOption(a.Calendar.Label(w)), Selected: w.Name == cur})
	}
	groups[2].Options = []views.ConsoleOption{{Value: consoleRangeChoice, Label: "from – to", Selected: cur == consoleRangeChoice}}
	f.Windows = groups
	filters := v.Query.Filters
	curBy := dimsParam(v.Query.By)
	for _, by := range a.coveredBreakdowns(filters, aud) {
		label := "overall"
		if len(by) > 0 {
			label = strings.ReplaceAll(dimsParam(by), ",", " + ")
		}
		f.By = append(f.By, views.ConsoleOption{Value: dimsParam(by), Label: label, Selected: dimsParam(by) == curBy})
	}
	// The values seen in the view's span; a refused address's form uses
	// the default window's.
	span := v.Query.Span
	if span.From.IsZero() {
		w, _ := window.Parse(defaultWindow)
		span = a.Calendar.Span(w, now)
	}
	if f.From == "" {
		f.From, f.To = span.From.In(loc).Format(consoleLocalMinute), span.To.In(loc).Format(consoleLocalMinute)
	}
	for _, d := range a.consoleDims() {
		if d == store.Agent && !aud.showAgents {
			continue
		}
		fl := views.ConsoleFilter{Name: string(d), Value: filters[d]}
		if d == store.Theme {
			// Every theme of the dictionary, by its label: a theme no one
			// mentioned in the window is still a question worth asking.
			for _, t := range a.Themes.Themes() {
				fl.Values = append(fl.Values, t.Name)
				fl.Labels = append(fl.Labels, t.Label)
			}
			f.Filters = append(f.Filters, fl)
			continue
		}
		fl.Values = a.valuesSeen(ctx, d, filters, span)
		if fl.Value != "" && !slices.Contains(fl.Values, fl.Value) {
			fl.Values = append([]string{fl.Value}, fl.Values...)
		}
		fl.Datalist = len(fl.Values) > consoleSelectMax
		f.Filters = append(f.Filters, fl)
	}
	return f
}

// windowOption shortens a window's label for its option: its group says
// "Rolling", and a phone has room for "today", not "today since 00:00".
func windowOption(label string) string {
	label = strings.TrimPrefix(label, "rolling ")
	if i := strings.Index(label, " since "); i > 0 {
		label = label[:i]
	}
	return label
}

// consoleSelectMax is the most values a filter offers as a select; more
// (agents, typically) become a text field with suggestions.
const consoleSelectMax = 60

// valuesSeen lists the values of d in the span, among answers that pass
// the other filters when a rollup covers them together, else among all.
// A failure leaves the list empty: the field still takes a typed value.
func (a *API) valuesSeen(ctx context.Context, d store.Dimension, filters map[store.Dimension]string, span window.Span) []string {
	others := map[store.Dimension]string{}
	for k, val := range filters {
		if k != d {
			others[k] = val
		}
	}
	if _, ok := store.Covering(a.Rollups, withFilters([]store.Dimension{d}, others)); !ok {
		others = map[store.Dimension]string{}
	}
	groups, err := a.Querier.Query(ctx, store.Query{By: []store.Dimension{d}, Filters: others, Span: span})
	if err != nil {
		a.Logger.Debug("console: values of a filter", "dimension", d, "err", err)
		return nil
	}
	out := make([]string, 0, len(groups))
	for _, g := range groups {
		out = append(out, g.Key[d])
	}
	sort.Strings(out)
	return out
}

// consoleSorts are the sortable columns, each ascending.
var consoleSorts = map[string]func(x, y consoleRow) int{
	"group":      func(x, y consoleRow) int { return strings.Compare(x.key, y.key) },
	"nps":        func(x, y consoleRow) int { return cmpOpt(x.s.NPS, y.s.NPS) },
	"n":          func(x, y consoleRow) int { return cmpInt(x.s.Responses, y.s.Responses) },
	"promoters":  func(x, y consoleRow) int { return cmpOpt(x.s.PromoterShare, y.s.PromoterShare) },
	"passives":   func(x, y consoleRow) int { return cmpOpt(x.s.PassiveShare, y.s.PassiveShare) },
	"detractors": func(x, y consoleRow) int { return cmpOpt(x.s.DetractorShare, y.s.DetractorShare) },
	"impact":     func(x, y consoleRow) int { return cmpOpt(x.impact, y.impact) },
	"csat":       func(x, y consoleRow) int { return cmpOpt(x.csat.Value, y.csat.Value) },
	"csat-n":     func(x, y consoleRow) int { return cmpInt(x.csat.Whole, y.csat.Whole) },
	"rate":       func(x, y consoleRow) int { return cmpOpt(x.rate.Value, y.rate.Value) },
	"offered":    func(x, y consoleRow) int { return cmpInt(x.rate.Whole, y.rate.Whole) },
}

func cmpInt(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmpOpt(x, y *float64) int {
	switch {
	case x == nil && y == nil:
		return 0
	case x == nil:
		return 1
	case y == nil:
		return -1
	case *x < *y:
		return -1
	case *x > *y:
		return 1
	}
	return 0
}

// consoleRow is one group while the results are built.
type consoleRow struct {
	g   store.Group
	key string // the group's values in by order, for sorting and sparklines
	s   nps.Summary
	// impact is the theme's NPS impact on its scope, nil outside a theme
	// view or when the scope's answers could not be counted.
	impact *float64
	// csat and rate are the group's CSAT and response rate.
	csat, rate board.ShareFigure
}

func groupKey(by []store.Dimension, key map[store.Dimension]string) string {
	parts := make([]string, len(by))
	for i, d := range by {
		parts[i] = key[d]
	}
	return strings.Join(parts, "/")
}

// sortRows orders rows by a sort parameter; groups without a score (no
// responses) stay last either way, and ties keep the API's key order.
func sortRows(rows []consoleRow, sortParam string) {
	col, desc := strings.TrimPrefix(sortParam, "-"), strings.HasPrefix(sortParam, "-")
	cmp, ok := consoleSorts[col]
	if !ok {
		return
	}
	slices.SortStableFunc(rows, func(x, y consoleRow) int {
		if ex, ey := x.s.Responses == 0, y.s.Responses == 0; ex != ey {
			if ex {
				return 1
			}
			return -1
		}
		if desc {
			return cmp(y, x)
		}
		return cmp(x, y)
	})
}

// consoleResults runs the view's query and builds the results part.
func (a *API) consoleResults(ctx context.Context, v consoleView, now time.Time, aud consoleAudience) (views.ConsoleResults, error) {
	q := v.Query
	groups, err := a.Querier.Query(ctx, q)
	if err != nil {
		return views.ConsoleResults{}, err
	}
	loc := a.Calendar.Location()
	res := views.ConsoleResults{
		// The API's label: the window's, or the range's, with the
		// default-window and widened-edge notes.
		Label:      v.Label,
		Range:      a.Calendar.RangeLabel(q.Span, now),
		Updated:    now.In(loc).Format("15:04:05"),
		ExportHref: "/api/v1/nps?" + withParam(v.Params, "format", "csv").Encode(),
		APIHref:    "/api/v1/nps?" + v.Params.Encode(),
	}
	if v.Cover.Coarse() {
		// The label names the widened span; say what it holds and why.
		res.Coarse = "Only whole hours or days are kept that far back: the numbers, the trend and the answers all count the widened span."
	}
	for _, d := range a.consoleDims() {
		if val, ok := q.Filters[d]; ok {
			if d == store.Theme {
				val = a.themeLabel(val)
			}
			res.Filters = append(res.Filters, views.ConsoleLink{
				Label: string(d) + ": " + val,
				Href:  consoleHref(without(v.Params, string(d)), v.Sort, ""),
				Test:  "filter-" + string(d),
			})
		}
	}
	rows := make([]consoleRow, len(groups))
	for i, g := range groups {
		rows[i] = consoleRow{g: g, key: groupKey(q.By, g.Key), s: nps.Summarize(g.Counts, a.MinSample),
			csat: board.ShareOf("", g.CSAT.Satisfied(), g.CSAT.Answers(), a.MinSample),
			rate: board.ShareOf("", g.Answered, g.Offered, a.MinSample)}
		res.CSAT = res.CSAT || g.CSAT.Answers() > 0
		res.Rates = res.Rates || g.Offered > 0
	}
	if themed(q) {
		note, err := a.themeImpacts(ctx, q, rows)
		if err != nil {
			return res, err
		}
		res.Themes = &note
	}
	sortRows(rows, v.sortOrDefault())
	if v.Sort == "" && len(q.By) > 1 && slices.Contains(q.By, store.Theme) {
		// Within each team (or other group), its themes by impact, most
		// costly first: the API's order would list them by name.
		sortRows(rows, "-impact")
		scope := slices.DeleteFunc(slices.Clone(q.By), func(d store.Dimension) bool { return d == store.Theme })
		slices.SortStableFunc(rows, func(x, y consoleRow) int {
			return strings.Compare(groupKey(scope, x.g.Key), groupKey(scope, y.g.Key))
		})
	}
	spark, sparkLabel, err := a.sparklines(ctx, q, now)
	if err != nil {
		return res, err
	}
	res.SparkLabel = sparkLabel
	res.Columns = a.consoleColumns(v, res.CSAT, res.Rates)
	res.Themed = res.Themes != nil
	for _, r := range rows {
		res.Rows = append(res.Rows, a.consoleRowView(v, r, spark[r.key], aud))
	}
	if len(res.Rows) == 0 {
		res.Empty = "No answers in this window with these filters."
	}
	if len(q.By) == 0 && a.ChangeLog != nil && len(groups) == 1 {
		ans, err := a.consoleAnswers(ctx, v, groups[0].Counts.Responses(), now, aud)
		if err != nil {
			return res, err
		}
		res.Answers = &ans
	}
	return res, nil
}

// themed says whether a query names theme, in its breakdown or its
// filters: its groups count mentions, and the console shows each one's NPS
// impact.
func themed(q store.Query) bool {
	_, filtered := q.Filters[store.Theme]
	return filtered || slices.Contains(q.By, store.Theme)
}

// sortOrDefault is the view's sort: a breakdown by theme alone ranks the
// themes by their NPS impact unless told otherwise, the question a
// supervisor asks of it (what costs us the most?).
func (v consoleView) sortOrDefault() string {
	if v.Sort == "" && slices.Equal(v.Query.By, []store.Dimension{store.Theme}) {
		return "-impact"
	}
	return v.Sort
}

// themeImpacts sets each row's NPS impact and says how to read the rows.
// A theme's impact on its scope is 100·D/N: D the theme's detractors in
// the row, N all the answers of the row's scope, which is the same query
// read without theme (the view's other filters, and the row's other key
// values: a team's answers for a team+theme row). It is the points the
// scope's NPS would gain if those detractors had been passives. N is
// never a sum of theme rows: an answer counts once in each theme it
// mentions, so those rows overlap.
func (a *API) themeImpacts(ctx context.Context, q store.Query, rows []consoleRow) (views.ConsoleThemes, error) {
	scope := store.Query{Filters: map[store.Dimension]string{}, Span: q.Span}
	for _, d := range q.By {
		if d != store.Theme {
			scope.By = append(scope.By, d)
		}
	}
	for d, val := range q.Filters {
		if d != store.Theme {
			scope.Filters[d] = val
		}
	}
	note := views.ConsoleThemes{Overlap: slices.Contains(q.By, store.Theme)}
	where := "all answers of this view read without theme"
	if len(scope.By) > 0 {
		parts := make([]string, len(scope.By))
		for i, d := range scope.By {
			parts[i] = string(d)
		}
		where = "all answers of the row's " + strings.Join(parts, " and ") + " read without theme"
	}
	if _, err := store.PlanQuery(a.Rollups, scope); err != nil {
		// No rollup counts the scope without theme: say so rather than
		// guess N from the overlapping theme rows.
		note.Impact = "NPS impact needs the answers of this view without theme, which no configured rollup counts."
		return note, nil
	}
	groups, err := a.Querier.Query(ctx, scope)
	if err != nil {
		return note, fmt.Errorf("count the answers without theme for the NPS impact: %w", err)
	}
	n := map[string]int64{}
	for _, g := range groups {
		n[groupKey(scope.By, g.Key)] = g.Counts.Responses()
	}
	for i := range rows {
		if total := n[groupKey(scope.By, rows[i].g.Key)]; total > 0 {
			x := rows[i].g.Counts.Impact(total)
			rows[i].impact = &x
		}
	}
	if len(scope.By) == 0 {
		total := n[""]
		where = "all " + fmtCount(int(total)) + " answers of this view read without theme"
		note.Answers = total
		if note.Overlap {
			note.Text = fmt.Sprintf("The rows overlap: an answer can mention several themes, so they are not added up and there is no total. This view has %s answers in all.", fmtCount(int(total)))
		}
	} else if note.Overlap {
		note.Text = "The theme rows of a group overlap: an answer can mention several themes, so they are not added up and there is no total."
	}
	note.Impact = "NPS impact: 100 × the theme's detractors ÷ N, N being " + where + ". It is the points the NPS would gain if those detractors had been passives."
	return note, nil
}

func withParam(p url.Values, k, val string) url.Values {
	out := url.Values{}
	for key, vals := range p {
		out[key] = slices.Clone(vals)
	}
	out.Set(k, val)
	return out
}

func without(p url.Values, keys ...string) url.Values {
	out := url.Values{}
	for key, vals := range p {
		if !slices.Contains(keys, key) {
			out[key] = slices.Clone(vals)
		}
	}
	return out
}

// consoleHref is a console address: the API's parameters, then the
// console's own.
func consoleHref(p url.Values, sortParam, answer string) string {
	q := without(p)
	if sortParam != "" {
		q.Set("sort", sortParam)
	}
	if answer != "" {
		q.Set("answer", answer)
	}
	return "/console?" + q.Encode()
}

// consoleColumns are the table's headers: the key columns, then the
// figures; each sortable header links to the same view sorted by it, and
// the current sort column to its reverse.
func (a *API) consoleColumns(v consoleView, withCSAT, withRates bool) []views.ConsoleColumn {
	col := func(label, key, def string) views.ConsoleColumn {
		c := views.ConsoleColumn{Label: label, Key: key}
		next := def + key
		switch v.Sort {
		case key:
			c.Sort, next = "ascending", "-"+key
		case "-" + key:
			c.Sort, next = "descending", key
		}
		if key == "group" && v.Sort == "" {
			c.Sort, next = "ascending", "-group"
		}
		c.Href = consoleHref(v.Params, next, "")
		return c
	}
	cur := v.sortOrDefault()
	v.Sort = cur
	var out []views.ConsoleColumn
	for i, d := range v.Query.By {
		if i == 0 {
			out = append(out, col(string(d), "group", ""))
			continue
		}
		out = append(out, views.ConsoleColumn{Label: string(d)})
	}
	if len(v.Query.By) == 0 {
		out = append(out, views.ConsoleColumn{Label: "group"})
	}
	if themed(v.Query) {
		// The impact, what the rows are ranked by, right after the theme:
		// on a phone the columns past the first few scroll out of view.
		impact := col("NPS impact", "impact", "-")
		impact.Title = "Points the NPS would gain if this theme's detractors had been passives: 100 × its detractors ÷ all answers of the view without theme"
		out = append(out,
			impact,
			col("mentions", "n", "-"),
			views.ConsoleColumn{Label: "by detractors", Key: "detractors-n"},
			views.ConsoleColumn{Label: "by passives", Key: "passives-n"},
			col("NPS", "nps", "-"),
			views.ConsoleColumn{Label: "95% interval"},
		)
	} else {
		out = append(out,
			col("NPS", "nps", "-"),
			views.ConsoleColumn{Label: "95% interval"},
			col("n", "n", "-"),
			col("promoters", "promoters", "-"),
			col("passives", "passives", "-"),
			col("detractors", "detractors", "-"),
		)
	}
	// CSAT and the response rate when the view's data has them, each a
	// column: the figure and its interval, its counts under them (a
	// table narrow enough for a laptop keeps its trend in view).
	if withCSAT {
		c := col("CSAT", "csat", "-")
		c.Title = "The share of CSAT answers that are 4 or 5 of 5, with its 95% interval, and the number of CSAT answers"
		out = append(out, c)
	}
	if withRates {
		c := col("response rate", "rate", "-")
		c.Title = "The share of the surveys offered in this window that were answered (an offer counts in the window it was made in), with its 95% interval, and the surveys offered"
		out = append(out, c)
	}
	return append(out,
		views.ConsoleColumn{Label: "trend"},
		views.ConsoleColumn{Label: "drill down"},
	)
}

// consoleRowView formats one group and its drill-down links.
func (a *API) consoleRowView(v consoleView, r consoleRow, points []board.Point, aud consoleAudience) views.ConsoleRow {
	f := board.FigureOf("", r.g.Counts, board.DefaultThresholds, a.MinSample)
	row := views.ConsoleRow{
		Score: f.Score, Band: f.Band, LowSample: r.s.LowSample, Responses: r.s.Responses,
		Promoters: f.Promoters, Passives: f.Passives, Detractors: f.Detractors,
		NPS: optText(r.s.NPS), CILow: optText(r.s.CILow), CIHigh: optText(r.s.CIHigh), Points: points,
	}
	if r.s.NPS != nil {
		row.Interval = board.FormatScore(*r.s.CILow) + " to " + board.FormatScore(*r.s.CIHigh)
		row.Margin = f.Margin
	}
	row.DetractorsN, row.PassivesN = r.s.Detractors, r.s.Passives
	row.CSAT, row.Rate = r.csat, r.rate
	if r.impact != nil {
		row.Impact, row.ImpactValue = fmt.Sprintf("%.1f", *r.impact), fmt.Sprintf("%g", *r.impact)
	}
	// The next level keeps the view's filters and adds the row's key.
	next := without(v.Params, "by")
	for _, d := range v.Query.By {
		next.Set(string(d), r.g.Key[d])
	}
	filters := map[store.Dimension]string{}
	for d, val := range v.Query.Filters {
		filters[d] = val
	}
	for d, val := range r.g.Key {
		filters[d] = val
	}
	for _, d := range a.nextBreakdowns(filters, aud) {
		row.Drills = append(row.Drills, views.ConsoleLink{
			Label: "by " + string(d), Href: consoleHref(withParam(next, "by", string(d)), "", ""), Test: "drill-" + string(d),
		})
	}
	if a.ChangeLog != nil && len(v.Query.By) > 0 {
		answers := views.ConsoleLink{Label: "answers", Href: consoleHref(next, "", ""), Test: "drill-answers"}
		if slices.Contains(v.Query.By, store.Theme) {
			// A theme row leads first to its evidence: the answers that
			// mention it, their words marked.
			row.Drills = append([]views.ConsoleLink{answers}, row.Drills...)
		} else {
			row.Drills = append(row.Drills, answers)
		}
	}
	first := ""
	if len(row.Drills) > 0 {
		first = row.Drills[0].Href
	}
	for _, d := range v.Query.By {
		label := r.g.Key[d]
		if d == store.Theme {
			label = a.themeLabel(label)
		}
		row.Keys = append(row.Keys, views.ConsoleLink{Label: label, Href: first, Test: "key-" + string(d)})
	}
	if len(v.Query.By) == 0 {
		label := "all answers"
		if th, ok := v.Query.Filters[store.Theme]; ok {
			// The row counts the answers that mention the theme, not all.
			label = "answers mentioning " + a.themeLabel(th)
		}
		row.Keys = []views.ConsoleLink{{Label: label, Test: "key-all"}}
	}
	row.Test = "row-" + r.key
	if r.key == "" {
		row.Test = "row-all"
	}
	return row
}

func optText(x *float64) string {
	if x == nil {
		return ""
	}
	return fmt.Sprintf("%g", *x)
}

// nextBreakdowns are the dimensions a group can be broken down by next:
// those a rollup covers together with its filters, the ones after the
// finest filtered dimension in canonical order first (a team's agents
// before its channels).
func (a *API) nextBreakdowns(filters map[store.Dimension]string, aud consoleAudience) []store.Dimension {
	// The view's level is the finest dimension it names: its filters hold
	// the breakdown's dimensions with the row's values.
	order := a.Schema.Queryable()
	last := -1
	for d := range filters {
		last = max(last, slices.Index(order, d))
	}
	var after, before []store.Dimension
	for _, d := range a.consoleDims() {
		if _, ok := filters[d]; ok || (d == store.Agent && !aud.showAgents) {
			continue
		}
		if _, ok := store.Covering(a.Rollups, withFilters([]store.Dimension{d}, filters)); !ok {
			continue
		}
		if slices.Index(order, d) > last {
			after = append(after, d)
		} else {
			before = append(before, d)
		}
	}
	return append(after, before...)
}
