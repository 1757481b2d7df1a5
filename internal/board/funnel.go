package board

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// FunnelView is a funnel plot: every group's NPS against its number of
// answers, with the parent's NPS (the tile's groups pooled) and the 95% and
// 99.8% limits a group of that size drawn from the parent would stay within
// (nps.Funnel). Groups outside are the ones worth a look; the limits narrow
// with n, so a small group's wild score is not mistaken for news.
type FunnelView struct {
	// Center is the parent's NPS and Score how a screen shows it.
	Center float64 `json:"center"`
	Score  string  `json:"score"`
	// Points are the groups, largest first.
	Points []FunnelPoint `json:"points"`
	// Limits samples the limits along n from a third of the smallest
	// group to three times the largest, for drawing.
	Limits []FunnelLimit `json:"limits"`
	// Outside counts the groups outside the 95% limits, below and above.
	Below int `json:"below"`
	Above int `json:"above"`
}

// FunnelPoint is one group.
type FunnelPoint struct {
	Label     string  `json:"label"`
	Responses int64   `json:"responses"`
	NPS       float64 `json:"nps"`
	Score     string  `json:"score"`
	// Position is where the group lies: "far-below" (beyond the 99.8%
	// limit), "below" (beyond the 95% one), "within", "above", "far-above".
	Position string `json:"position"`
}

// FunnelLimit is the limits at N answers.
type FunnelLimit struct {
	N       float64 `json:"n"`
	Low95   float64 `json:"low95"`
	High95  float64 `json:"high95"`
	Low998  float64 `json:"low998"`
	High998 float64 `json:"high998"`
}

// funnelSamples is how many n the limits are sampled at for drawing.
const funnelSamples = 40

func (c Computer) funnel(t Tile, tv TileView, src Source, span window.Span) (TileView, error) {
	groups, err := src.Query(store.Query{By: []store.Dimension{t.By}, Filters: t.Filters, Span: span})
	if err != nil {
		return tv, err
	}
	counts := make([]nps.Distribution, len(groups))
	for i, g := range groups {
		counts[i] = g.Counts
	}
	parent := nps.Pool(counts...)
	f, ok := nps.NewFunnel(parent)
	if !ok {
		tv.Empty = true
		return tv, nil
	}
	fv := &FunnelView{Center: f.Center, Score: FormatScore(f.Center)}
	lo, hi := int64(math.MaxInt64), int64(1)
	for _, g := range groups {
		score, ok := g.Counts.NPS()
		if !ok {
			continue
		}
		n := g.Counts.Responses()
		lo, hi = min(lo, n), max(hi, n)
		pos := f.Place(g.Counts)
		switch pos {
		case nps.Below, nps.FarBelow:
			fv.Below++
		case nps.Above, nps.FarAbove:
			fv.Above++
		}
		fv.Points = append(fv.Points, FunnelPoint{Label: g.Key[t.By], Responses: n, NPS: score,
			Score: FormatScore(score), Position: positionName(pos)})
	}
	sortPoints(fv.Points)
	// The limits reach past the groups on both sides, so the funnel's
	// shape shows even when the groups are of much the same size.
	from, to := math.Max(1, float64(lo)/3), float64(hi)*3
	for i := range funnelSamples {
		n := from * math.Pow(to/from, float64(i)/(funnelSamples-1))
		l := FunnelLimit{N: n}
		l.Low95, l.High95 = f.LimitsAt(n, nps.Z95)
		l.Low998, l.High998 = f.LimitsAt(n, nps.Z998)
		fv.Limits = append(fv.Limits, l)
	}
	tv.Funnel = fv
	return tv, nil
}

func positionName(p nps.Position) string {
	switch p {
	case nps.FarBelow:
		return "far-below"
	case nps.Below:
		return "below"
	case nps.Above:
		return "above"
	case nps.FarAbove:
		return "far-above"
	}
	return "within"
}

// sortPoints orders groups largest first, then by label, so the drawing
// puts small dots over large ones and the order is stable.
func sortPoints(ps []FunnelPoint) {
	slices.SortFunc(ps, func(a, b FunnelPoint) int {
		if c := cmp.Compare(b.Responses, a.Responses); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
}
