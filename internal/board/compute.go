package board

import (
	"fmt"
	"sort"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redact"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Source is what boards are computed from: the node's aggregator.
type Source interface {
	Query(q store.Query) ([]store.Group, error)
	Recent(n int, keep func(store.Answer) bool) []store.Answer
}

// View is a board's content at one moment.
type View struct {
	Board string     `json:"board"`
	Title string     `json:"title"`
	Tiles []TileView `json:"tiles"`
}

// TileView is one tile's content. Which fields are set depends on the view.
type TileView struct {
	ID     string `json:"id"`
	View   Kind   `json:"view"`
	Title  string `json:"title"`
	Window string `json:"window,omitempty"` // "rolling 60 min", "today since 00:00"
	// Cols and Height place the tile in the board's 4-column grid.
	Cols   int `json:"cols"`
	Height int `json:"height"`

	Figure       *Figure        `json:"figure,omitempty"`       // headline, count
	Change       *ChangeView    `json:"change,omitempty"`       // headline
	Rows         []Row          `json:"rows,omitempty"`         // breakdown, leaderboard
	Points       []Point        `json:"points,omitempty"`       // trend
	Distribution *DistView      `json:"distribution,omitempty"` // distribution
	Answers      []AnswerView   `json:"answers,omitempty"`      // comments
	FollowUps    *FollowUpsView `json:"follow_ups,omitempty"`   // followups
	Banners      []BannerView   `json:"banners,omitempty"`      // the alert banner
	Funnel       *FunnelView    `json:"funnel,omitempty"`       // funnel
	Themes       *ThemesView    `json:"themes,omitempty"`       // themes
	// Rate is a response_rate tile's, and a headline's detail line when
	// surveys were offered in its scope (nil on a headline without).
	Rate  *RateView `json:"rate,omitempty"`
	CSAT  *CSATView `json:"csat,omitempty"`  // csat
	Empty bool      `json:"empty,omitempty"` // nothing to show yet
}

// ChangeView compares a headline with the period just before it.
type ChangeView struct {
	Delta       string `json:"delta"`       // "+4", "−7", "0"
	Significant bool   `json:"significant"` // beyond what the two intervals allow
	Against     string `json:"against"`     // "previous 60 min"
}

// Row is one line of a breakdown or leaderboard.
type Row struct {
	Figure
	// Rank is 1-based on leaderboards; 0 means unranked: below the minimum
	// sample, in line with the parent, or a plain breakdown.
	Rank int `json:"rank,omitempty"`
	// Estimate is a leaderboard row's NPS shrunk towards its parent (the
	// tile's groups pooled; nps.Prior.Shrink), "+41", and Interval its 95%
	// range, "+30 to +52": what the ranking goes by, so a +100 on three
	// answers does not top a +60 on three hundred.
	Estimate string `json:"estimate,omitempty"`
	Interval string `json:"interval,omitempty"`
	// InLine marks a leaderboard row whose interval holds the parent's NPS:
	// the data cannot tell it from its team, so it is shown in one unranked
	// group, "in line with the team", rather than in an order of noise.
	InLine bool `json:"in_line,omitempty"`
	// Move is how many places the row climbed (negative: fell) against the
	// same ranking one hour earlier; New marks a row that was not ranked
	// then.
	Move int  `json:"move,omitempty"`
	New  bool `json:"new,omitempty"`
}

// Point is one step of a trend.
type Point struct {
	Label     string   `json:"label"`
	NPS       *float64 `json:"nps"`
	Responses int64    `json:"responses"`
	Band      Band     `json:"band"`
}

// DistView is a 0..10 histogram. Shares are percent with two decimals and
// Mean is nps.Summary's mean to one decimal.
type DistView struct {
	Counts    nps.Distribution `json:"counts"`
	Shares    [11]float64      `json:"shares"`
	Mean      string           `json:"mean"`
	Responses int64            `json:"responses"`
}

// AnswerView is one answer in a feed.
type AnswerView struct {
	At      string `json:"at"` // local "15:04"
	Score   int    `json:"score"`
	Class   string `json:"class"`
	Channel string `json:"channel,omitempty"`
	Team    string `json:"team,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Comment string `json:"comment"`
}

// Computer computes board views in one calendar.
type Computer struct {
	Calendar window.Calendar
	// Retention is the engine's (zero: store.DefaultRetention): a fixed
	// range older than the minute or hour buckets is widened when read,
	// and its label says so.
	Retention store.Retention
	MinSample int64
	// Alerts, when set, gives every board its alert banner (the first
	// tile) and follow-up tiles their queue.
	Alerts Alerts
	// Labels gives a theme's label by its name (the themes dictionary's
	// Label; "" when it has none): themes tiles show labels, the store
	// counts names. Nil shows the names.
	Labels func(name string) string
}

// Compute builds a board's view from src at now.
func (c Computer) Compute(b Board, src Source, now time.Time) (View, error) {
	v := View{Board: b.Name, Title: b.Title, Tiles: make([]TileView, 0, len(b.Tiles)+1)}
	var snap alert.Snapshot
	if c.Alerts != nil {
		snap = c.Alerts.Snapshot()
		v.Tiles = append(v.Tiles, c.banner(b, snap))
	}
	series := changeSeries(b)
	for _, t := range b.Tiles {
		if t.View == FollowUps {
			fu := c.followUps(t, snap, now)
			v.Tiles = append(v.Tiles, TileView{ID: t.ID, View: t.View, Title: t.Title, Window: "open now · closed today",
				Cols: t.Cols, Height: t.Rows, FollowUps: fu, Empty: fu.Open == 0 && fu.Closed == 0})
			continue
		}
		tv, err := c.tile(t, src, now, series)
		if err != nil {
			return View{}, fmt.Errorf("board %s tile %s: %w", b.Name, t.ID, err)
		}
		v.Tiles = append(v.Tiles, tv)
	}
	return v, nil
}

// tile computes one tile; series is how many change marks its board shows
// (changeSeries).
func (c Computer) tile(t Tile, src Source, now time.Time, series int) (TileView, error) {
	tv := TileView{ID: t.ID, View: t.View, Title: t.Title, Cols: t.Cols, Height: t.Rows}
	if t.View != Comments {
		tv.Window = c.label(t, now)
	}
	switch t.View {
	case Headline, Count:
		g, err := c.group(t, src, c.span(t, now))
		if err != nil {
			return tv, err
		}
		d := g.Counts
		f := FigureOf(t.Title, d, t.Thresholds, c.MinSample)
		tv.Figure = &f
		if t.View == Headline {
			if g.Offered > 0 {
				tv.Rate = &RateView{ShareFigure: rateOf("", g, c.MinSample)}
			}
			tv.Change, err = c.change(t, src, d, now, series)
		}
		return tv, err
	case ResponseRate:
		return c.responseRate(t, tv, src, c.span(t, now))
	case CSAT:
		return c.csat(t, tv, src, c.span(t, now))
	case Breakdown, Leaderboard:
		return c.rows(t, tv, src, now)
	case Trend:
		return c.trend(t, tv, src, now)
	case Funnel:
		return c.funnel(t, tv, src, c.span(t, now))
	case Themes:
		return c.themes(t, tv, src, c.span(t, now))
	case Distribution:
		d, err := c.total(t, src, c.span(t, now))
		if err != nil {
			return tv, err
		}
		s := nps.Summarize(d, c.MinSample)
		dv := DistView{Counts: d, Responses: s.Responses, Shares: s.ScoreShares(), Mean: "—"}
		if s.Mean != nil {
			dv.Mean = fmt.Sprintf("%.1f", *s.Mean)
		}
		tv.Distribution = &dv
		tv.Empty = d.Responses() == 0
		return tv, nil
	case Comments:
		tv.Answers = c.answers(t, src, now)
		tv.Empty = len(tv.Answers) == 0
		return tv, nil
	}
	return tv, fmt.Errorf("unknown view %q", t.View)
}

// span is what a tile covers at now: its window's span, or its fixed range
// (an open range ends with the current minute, like the windows).
func (c Computer) span(t Tile, now time.Time) window.Span {
	if t.Range == nil {
		return c.Calendar.Span(t.Window, now)
	}
	s := *t.Range
	if s.To.IsZero() {
		s.To = c.Calendar.Span(window.Rolling15m, now).To
	}
	return s
}

// label names what a tile covers: "rolling 60 min", or a fixed range's
// dates ("since 1 Dec 08:00" when it is open).
func (c Computer) label(t Tile, now time.Time) string {
	if t.Range == nil {
		return c.Calendar.Label(t.Window)
	}
	label := c.Calendar.RangeLabel(*t.Range, now)
	ret := c.Retention
	if ret == (store.Retention{}) {
		ret = store.DefaultRetention()
	}
	if cv := (store.Options{Calendar: c.Calendar, Retention: ret}).Cover(c.span(t, now), now); cv.Coarse() {
		label += " (read as " + c.Calendar.RangeLabel(cv.Span, now) + ")"
	}
	return label
}

func (c Computer) total(t Tile, src Source, span window.Span) (nps.Distribution, error) {
	groups, err := src.Query(store.Query{Filters: t.Filters, Span: span})
	if err != nil {
		return nps.Distribution{}, err
	}
	return groups[0].Counts, nil
}

// changeBaseline is what a headline's change is measured against: the
// seven days before its window (a whole week, so each weekday and hour is in
// it once).
const changeBaseline = 7 * 24 * time.Hour

// hasChange says whether a headline gets a change mark: windows up to 8h,
// whose answers are stepped through minute by minute for the last hour and
// hour by hour before (minute buckets are kept for 26 h).
func hasChange(t Tile) bool {
	return t.View == Headline && t.Range == nil && t.Window.Length > 0 && t.Window.Length <= window.Rolling8h.Length
}

// changeSeries counts the headlines of a board that get a change mark: the
// detectors share the board's daily false-alarm budget (nps.Detector).
func changeSeries(b Board) int {
	n := 0
	for _, t := range b.Tiles {
		if hasChange(t) {
			n++
		}
	}
	return n
}

// change compares a headline with the seven days before its window. The
// mark is not a test of the two figures (re-evaluated at every tick, that
// would fire many times a day on noise) but a CUSUM over the window's
// answers against the week (nps.Detector), which holds the board's false
// marks to 5% of quiet days. It is shown only when it agrees with the sign
// of the delta on the tile.
func (c Computer) change(t Tile, src Source, cur nps.Distribution, now time.Time, series int) (*ChangeView, error) {
	if !hasChange(t) {
		return nil, nil
	}
	span := c.Calendar.Span(t.Window, now)
	base, err := c.total(t, src, window.Span{From: span.From.Add(-changeBaseline), To: span.From})
	if err != nil {
		return nil, err
	}
	was, ok := base.NPS()
	if !ok {
		return nil, nil
	}
	is, ok := cur.NPS()
	if !ok {
		return nil, nil
	}
	cv := &ChangeView{Delta: FormatScore(is - was), Against: "last 7 days"}
	det, ok := nps.NewDetector(base, series, float64(base.Responses())/7)
	if !ok {
		return cv, nil
	}
	steps, err := c.steps(t, src, span)
	if err != nil {
		return nil, err
	}
	signal := det.Signal(det.Run(steps))
	cv.Significant = (signal < 0 && is < was) || (signal > 0 && is > was)
	return cv, nil
}

// steps cuts a span into the CUSUM's steps, oldest first: whole hours,
// then the last hour minute by minute. Coarser steps are never looser (see
// nps.Detector), and every step is an exact query.
func (c Computer) steps(t Tile, src Source, span window.Span) ([]nps.Distribution, error) {
	var edges []time.Time
	fine := span.To.Add(-time.Hour)
	for at := span.From; at.Before(fine); at = at.Add(time.Hour) {
		edges = append(edges, at)
	}
	at := fine
	if span.From.After(fine) {
		at = span.From
	}
	for ; at.Before(span.To); at = at.Add(time.Minute) {
		edges = append(edges, at)
	}
	edges = append(edges, span.To)
	out := make([]nps.Distribution, 0, len(edges)-1)
	for i := range len(edges) - 1 {
		to := edges[i+1]
		if to.After(span.To) {
			to = span.To
		}
		d, err := c.total(t, src, window.Span{From: edges[i], To: to})
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (c Computer) rows(t Tile, tv TileView, src Source, now time.Time) (TileView, error) {
	rows, err := c.ranked(t, src, c.span(t, now))
	if err != nil {
		return tv, err
	}
	tv.Empty = len(rows) == 0
	if t.View == Leaderboard {
		if err := c.movement(t, src, now, rows); err != nil {
			return tv, err
		}
		if len(rows) > t.Top {
			rows = rows[:t.Top]
		}
	}
	tv.Rows = rows
	return tv, nil
}

// movementLookback is how far back a leaderboard looks to show who moved.
// One hour keeps every earlier span exact: its edges fall on minute buckets
// that are still kept (26 h) or on hour boundaries.
const movementLookback = time.Hour

// movement compares each row's rank with the same ranking over the window
// as it was one hour ago.
func (c Computer) movement(t Tile, src Source, now time.Time, rows []Row) error {
	span := c.span(t, now)
	then := window.Span{From: span.From.Add(-movementLookback), To: span.To.Add(-movementLookback)}
	switch {
	case t.Range != nil && !t.Range.To.IsZero(), t.Window.Closed():
		// A closed range, yesterday, last week, last month: nothing moved
		// an hour ago.
		return nil
	case t.Range != nil || t.Window.Length == 0 || t.Window.Length > window.Rolling30d.Length:
		// An open range and the calendar windows: from the same start.
		// 90d too: hour buckets 90 days back are no longer kept.
		then.From = span.From
	}
	if !then.From.Before(then.To) {
		return nil
	}
	before, err := c.ranked(t, src, then)
	if err != nil {
		return err
	}
	prev := make(map[string]int, len(before))
	for _, r := range before {
		if r.Rank > 0 {
			prev[r.Label] = r.Rank
		}
	}
	for i := range rows {
		if rows[i].Rank == 0 {
			continue
		}
		if p, ok := prev[rows[i].Label]; ok {
			rows[i].Move = p - rows[i].Rank
		} else {
			rows[i].New = true
		}
	}
	return nil
}

// ranked returns a tile's rows over span: a breakdown sorted by label, or a
// leaderboard ranked.
func (c Computer) ranked(t Tile, src Source, span window.Span) ([]Row, error) {
	groups, err := src.Query(store.Query{By: []store.Dimension{t.By}, Filters: t.Filters, Span: span})
	if err != nil {
		return nil, err
	}
	groups = store.WithNPS(groups)
	rows := make([]Row, len(groups))
	for i, g := range groups {
		rows[i] = Row{Figure: FigureOf(g.Key[t.By], g.Counts, t.Thresholds, c.MinSample)}
	}
	if t.View == Breakdown {
		return rows, nil
	}
	// Leaderboard: each group shrunk towards the pooled parent; those whose
	// interval leaves the parent's NPS ranked by their estimate, those in
	// line with it in one unranked group between, volume first; groups
	// below the minimum sample last, by volume.
	counts := make([]nps.Distribution, len(groups))
	for i, g := range groups {
		counts[i] = g.Counts
	}
	prior := nps.FitPrior(counts)
	parent, _ := prior.Parent.NPS()
	est := make(map[string]float64, len(rows))
	for i := range rows {
		if rows[i].Responses == 0 {
			continue
		}
		s := prior.Shrink(groups[i].Counts)
		est[rows[i].Label] = s.Estimate
		rows[i].Estimate = FormatScore(s.Estimate)
		rows[i].Interval = FormatScore(s.Low) + " to " + FormatScore(s.High)
		rows[i].InLine = !rows[i].LowSample && s.InLine(parent)
	}
	// class orders the groups: 0 the best (worst on a Worst board) of those
	// apart from the parent, 1 in line, 2 the other side, 3 too few answers.
	class := func(r Row) int {
		switch {
		case r.LowSample:
			return 3
		case r.InLine:
			return 1
		case (est[r.Label] > parent) != t.Worst:
			return 0
		}
		return 2
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		ca, cb := class(a), class(b)
		if ca != cb {
			return ca < cb
		}
		if (ca == 0 || ca == 2) && est[a.Label] != est[b.Label] {
			return (est[a.Label] > est[b.Label]) != t.Worst
		}
		return a.Responses > b.Responses
	})
	rank := 0
	for i := range rows {
		if c := class(rows[i]); c == 0 || c == 2 {
			rank++
			rows[i].Rank = rank
		}
	}
	return rows, nil
}

// trend gives one point per hour or day bucket of the window, oldest first,
// the current (partial) one last.
func (c Computer) trend(t Tile, tv TileView, src Source, now time.Time) (TileView, error) {
	span := c.Calendar.Span(t.Window, now)
	loc := c.Calendar.Location()
	last := c.Calendar.Bucket(t.Step, now)
	first := c.Calendar.Bucket(t.Step, span.From)
	for id := first; id <= last; id++ {
		from := c.Calendar.Start(t.Step, id)
		to := c.Calendar.End(t.Step, id)
		if to.After(span.To) {
			to = span.To
		}
		d, err := c.total(t, src, window.Span{From: from, To: to})
		if err != nil {
			return tv, err
		}
		f := FigureOf("", d, t.Thresholds, c.MinSample)
		label := from.In(loc).Format("15:04")
		if t.Step == window.Day {
			label = from.In(loc).Format("Mon 2")
		}
		tv.Points = append(tv.Points, Point{Label: label, NPS: f.NPS, Responses: f.Responses, Band: f.Band})
	}
	return tv, nil
}

// answerTime shows the time of day for today's answers and the date for
// older ones, so a late answer never passes for a fresh one.
func answerTime(at, now time.Time) string {
	if y, m, d := at.Date(); y == now.Year() && m == now.Month() && d == now.Day() {
		return at.Format("15:04")
	}
	return at.Format("Jan 2 15:04")
}

func (c Computer) answers(t Tile, src Source, now time.Time) []AnswerView {
	keep := func(a store.Answer) bool {
		if a.Comment == "" || (t.DetractorsOnly && nps.ClassOf(a.Score) != nps.Detractor) {
			return false
		}
		dims := a.Dims()
		for d, v := range t.Filters {
			if dims.Get(d) != v {
				return false
			}
		}
		return true
	}
	loc := c.Calendar.Location()
	var out []AnswerView
	for _, a := range src.Recent(t.Limit, keep) {
		av := AnswerView{At: answerTime(a.At.In(loc), now.In(loc)), Score: a.Score, Class: nps.ClassOf(a.Score).String(),
			Channel: a.Channel, Team: a.Team, Comment: a.Comment}
		if t.ShowAgents {
			av.Agent = a.Agent
		}
		if t.Redact {
			av.Comment = redact.Comment(av.Comment)
		}
		out = append(out, av)
	}
	return out
}
