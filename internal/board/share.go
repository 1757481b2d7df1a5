package board

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/proportion"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// ShareFigure is a share ready to show: a response rate (answered of
// offered) or a CSAT (satisfied of answers), with its 95% Wilson interval
// (package proportion). Like Figure, the words are formatted from the
// numbers, which are the API's rounding (two decimals, in percent).
type ShareFigure struct {
	// Label is the group's value in a breakdown; "" for the tile's scope.
	Label string `json:"label"`
	// Part of Whole: answered of offered, or satisfied of answers.
	Part  int64 `json:"part"`
	Whole int64 `json:"whole"`
	// Value, Low and High are percent with two decimals; nil without a
	// whole (no offers, no answers).
	Value *float64 `json:"value"`
	Low   *float64 `json:"low"`
	High  *float64 `json:"high"`
	// Percent is how a screen shows Value ("23%", "0.4%", "—"), Interval
	// how it shows Low and High ("21–25%"; "" without a whole).
	Percent  string `json:"percent"`
	Interval string `json:"interval"`
	// LowSample: a whole under the minimum sample, so the interval is
	// wide and the figure is shown as such.
	LowSample bool `json:"low_sample"`
}

// RateView is a response_rate tile (the rate of the tile's scope and, with
// by, one row per group that was offered surveys, the most offered first), and on a
// headline the rate of the headline's scope when surveys were offered in
// it.
type RateView struct {
	ShareFigure
	Rows []ShareFigure `json:"rows,omitempty"`
}

// CSATView is a csat tile: the satisfied share (4 and 5) of the 1..5
// answers, their distribution, and with by one row per group with CSAT
// answers, the most answered first.
type CSATView struct {
	ShareFigure
	// Counts holds the answers by score, index 0 the 1s; Shares the same
	// in percent (two decimals).
	Counts csat.Distribution `json:"counts"`
	Shares [5]float64        `json:"shares"`
	Rows   []ShareFigure     `json:"rows,omitempty"`
}

// ShareOf formats part of whole.
func ShareOf(label string, part, whole, minSample int64) ShareFigure {
	s := proportion.Of(part, whole)
	f := ShareFigure{Label: label, Part: part, Whole: whole, Percent: "—"}
	if !s.OK() {
		return f
	}
	v, lo, hi := s.Percents()
	f.Value, f.Low, f.High = &v, &lo, &hi
	f.Percent = FormatPercent(v)
	f.Interval = strings.TrimSuffix(FormatPercent(lo), "%") + "–" + FormatPercent(hi)
	f.LowSample = whole < minSample
	return f
}

// FormatPercent writes a percentage in whole numbers, but never rounds a
// share that is not none to "0%" or one that is not all to "100%": "0.4%",
// "99.6%", "<0.1%", ">99.9%".
func FormatPercent(p float64) string {
	switch {
	case p <= 0:
		return "0%"
	case p >= 100:
		return "100%"
	case p < 0.05:
		return "<0.1%"
	case p > 99.95:
		return ">99.9%"
	case p < 0.5 || p >= 99.5:
		return fmt.Sprintf("%.1f%%", p)
	}
	return fmt.Sprintf("%.0f%%", math.Round(p))
}

// rateOf is the response rate of a group: the offers answered of those
// made.
func rateOf(label string, g store.Group, minSample int64) ShareFigure {
	return ShareOf(label, g.Answered, g.Offered, minSample)
}

// csatOf is the CSAT of a group.
func csatOf(label string, d csat.Distribution, minSample int64) ShareFigure {
	return ShareOf(label, d.Satisfied(), d.Answers(), minSample)
}

// group is the tile's scope over span, counted whole: NPS, CSAT, offers.
func (c Computer) group(t Tile, src Source, span window.Span) (store.Group, error) {
	groups, err := src.Query(store.Query{Filters: t.Filters, Span: span})
	if err != nil {
		return store.Group{}, err
	}
	return groups[0], nil
}

// byGroups is the tile's scope broken down by its by; nil without by.
func (c Computer) byGroups(t Tile, src Source, span window.Span) ([]store.Group, error) {
	if t.By == "" {
		return nil, nil
	}
	groups, err := src.Query(store.Query{By: []store.Dimension{t.By}, Filters: t.Filters, Span: span})
	if err != nil {
		return nil, err
	}
	return groups, nil
}

// sortShares orders rows by their whole, largest first, then by label: a
// screen that has room for some shows the groups that weigh most.
func sortShares(rows []ShareFigure) {
	slices.SortFunc(rows, func(a, b ShareFigure) int {
		if a.Whole != b.Whole {
			return cmp.Compare(b.Whole, a.Whole)
		}
		return strings.Compare(a.Label, b.Label)
	})
}

// responseRate computes a response_rate tile. The rows are read before
// the total, so answers that arrive in between only add to the total.
func (c Computer) responseRate(t Tile, tv TileView, src Source, span window.Span) (TileView, error) {
	groups, err := c.byGroups(t, src, span)
	if err != nil {
		return tv, err
	}
	all, err := c.group(t, src, span)
	if err != nil {
		return tv, err
	}
	v := &RateView{ShareFigure: rateOf("", all, c.MinSample)}
	for _, g := range groups {
		if g.Offered > 0 {
			v.Rows = append(v.Rows, rateOf(g.Key[t.By], g, c.MinSample))
		}
	}
	sortShares(v.Rows)
	tv.Rate = v
	tv.Empty = all.Offered == 0
	return tv, nil
}

// csat computes a csat tile.
func (c Computer) csat(t Tile, tv TileView, src Source, span window.Span) (TileView, error) {
	groups, err := c.byGroups(t, src, span)
	if err != nil {
		return tv, err
	}
	all, err := c.group(t, src, span)
	if err != nil {
		return tv, err
	}
	v := &CSATView{ShareFigure: csatOf("", all.CSAT, c.MinSample), Counts: all.CSAT}
	if n := all.CSAT.Answers(); n > 0 {
		for i, k := range all.CSAT {
			v.Shares[i] = nps.Round(100 * float64(k) / float64(n))
		}
	}
	for _, g := range groups {
		if g.CSAT.Answers() > 0 {
			v.Rows = append(v.Rows, csatOf(g.Key[t.By], g.CSAT, c.MinSample))
		}
	}
	sortShares(v.Rows)
	tv.CSAT = v
	tv.Empty = all.CSAT.Answers() == 0
	return tv, nil
}
