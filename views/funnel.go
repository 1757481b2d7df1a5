package views

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/pulseboard/pulseboard/internal/board"
)

// The funnel is drawn in a 1000×440 viewBox, scaled to the tile with its
// aspect kept (text in a stretched SVG would distort): n on a log axis
// across, NPS up.
const (
	funnelLeft, funnelRight = 90.0, 980.0
	funnelTop, funnelBottom = 20.0, 380.0
	funnelMinSpan           = 40.0 // NPS points, as the trend's
)

// funnelPlot is a FunnelView laid out in viewBox coordinates.
type funnelPlot struct {
	Band95          string // the 95% region, a polygon
	Low998, High998 string // the 99.8% limits, polylines
	CenterY         string
	Dots            []funnelDot
	YTicks, XTicks  []funnelTick
	Summary         string // what the plot says, in words
	CenterLabelY    string
}

type funnelDot struct {
	X, Y, LabelX, LabelY string
	Anchor               string
	Point                board.FunnelPoint
	Labelled             bool
}

type funnelTick struct {
	Pos, Text string
}

// funnelMaxLabels caps the names written beside dots: the farthest
// outliers first; the others are still in the summary.
const funnelMaxLabels = 8

func funnelLayout(f *board.FunnelView) funnelPlot {
	var p funnelPlot
	if f == nil || len(f.Limits) == 0 {
		return p
	}
	nLo, nHi := f.Limits[0].N, f.Limits[len(f.Limits)-1].N
	lx0, lx1 := math.Log10(nLo), math.Log10(nHi)
	x := func(n float64) float64 {
		return funnelLeft + (funnelRight-funnelLeft)*(math.Log10(n)-lx0)/(lx1-lx0)
	}
	lo, hi := f.Center, f.Center
	for _, pt := range f.Points {
		lo, hi = math.Min(lo, pt.NPS), math.Max(hi, pt.NPS)
	}
	// The 95% limits at the left edge, so the funnel's mouth shows.
	lo, hi = math.Min(lo, f.Limits[0].Low95), math.Max(hi, f.Limits[0].High95)
	if hi-lo < funnelMinSpan {
		mid := (hi + lo) / 2
		lo, hi = mid-funnelMinSpan/2, mid+funnelMinSpan/2
	}
	lo, hi = math.Max(-100, math.Floor(lo/10)*10), math.Min(100, math.Ceil(hi/10)*10)
	y := func(v float64) float64 {
		v = math.Max(lo, math.Min(hi, v))
		return funnelBottom - (funnelBottom-funnelTop)*(v-lo)/(hi-lo)
	}
	xy := func(n, v float64) string { return fmt.Sprintf("%.1f,%.1f", x(n), y(v)) }
	var up, down, lo998, hi998 []string
	for _, l := range f.Limits {
		up = append(up, xy(l.N, l.High95))
		lo998 = append(lo998, xy(l.N, l.Low998))
		hi998 = append(hi998, xy(l.N, l.High998))
	}
	for i := len(f.Limits) - 1; i >= 0; i-- {
		down = append(down, xy(f.Limits[i].N, f.Limits[i].Low95))
	}
	p.Band95 = strings.Join(append(up, down...), " ")
	p.Low998, p.High998 = strings.Join(lo998, " "), strings.Join(hi998, " ")
	p.CenterY = fmt.Sprintf("%.1f", y(f.Center))
	p.CenterLabelY = fmt.Sprintf("%.1f", y(f.Center)-12)
	step := 10.0
	if hi-lo > 80 {
		step = 20
	}
	for v := math.Ceil(lo/step) * step; v <= hi; v += step {
		p.YTicks = append(p.YTicks, funnelTick{Pos: fmt.Sprintf("%.1f", y(v)), Text: board.FormatScore(v)})
	}
	for _, n := range []float64{1, 3, 10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000} {
		if n >= nLo && n <= nHi {
			p.XTicks = append(p.XTicks, funnelTick{Pos: fmt.Sprintf("%.1f", x(n)), Text: fmtThousands(int64(n))})
		}
	}
	// Label the farthest outliers.
	far := func(pt board.FunnelPoint) float64 {
		return math.Abs(pt.NPS-f.Center) * math.Sqrt(float64(pt.Responses))
	}
	var outliers []int
	for i, pt := range f.Points {
		if pt.Position != "within" {
			outliers = append(outliers, i)
		}
	}
	slices.SortStableFunc(outliers, func(a, b int) int { return cmp.Compare(far(f.Points[b]), far(f.Points[a])) })
	// Name the farthest outliers where a label fits: on the dot's right,
	// else its left, running into no other label, no other dot and not out
	// of the plot (widths are estimated from the text).
	type box struct{ x0, y0, x1, y1 float64 }
	overlaps := func(a, b box) bool { return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1 }
	dots := make([]box, len(f.Points))
	for i, pt := range f.Points {
		cx, cy := x(float64(pt.Responses)), y(pt.NPS)
		dots[i] = box{cx - 11, cy - 11, cx + 11, cy + 11}
	}
	var placed []box
	type label struct {
		x      float64
		anchor string
	}
	labels := map[int]label{}
	for _, i := range outliers {
		if len(placed) == funnelMaxLabels {
			break
		}
		pt := f.Points[i]
		cx, cy := x(float64(pt.Responses)), y(pt.NPS)
		w := 17 * float64(len([]rune(pt.Label+" "+pt.Score)))
		for _, side := range []label{{cx + 16, "start"}, {cx - 16, "end"}} {
			b := box{side.x, cy - 22, side.x + w, cy + 12}
			if side.anchor == "end" {
				b.x0, b.x1 = side.x-w, side.x
			}
			ok := b.x0 >= funnelLeft-80 && b.x1 <= 1000
			for j, d := range dots {
				ok = ok && (j == i || !overlaps(b, d))
			}
			for _, o := range placed {
				ok = ok && !overlaps(b, o)
			}
			if ok {
				placed = append(placed, b)
				labels[i] = side
				break
			}
		}
	}
	for i, pt := range f.Points {
		cx, cy := x(float64(pt.Responses)), y(pt.NPS)
		d := funnelDot{X: fmt.Sprintf("%.1f", cx), Y: fmt.Sprintf("%.1f", cy), Point: pt}
		if l, ok := labels[i]; ok {
			d.Labelled, d.Anchor = true, l.anchor
			d.LabelX, d.LabelY = fmt.Sprintf("%.1f", l.x), fmt.Sprintf("%.1f", cy+10)
		}
		p.Dots = append(p.Dots, d)
	}
	p.Summary = funnelSummary(f)
	return p
}

// funnelSummary says in words what the funnel shows: for the room (the
// line under the plot) and for screen readers (the plot's label).
func funnelSummary(f *board.FunnelView) string {
	var below, above []string
	for _, pt := range f.Points {
		switch pt.Position {
		case "below", "far-below":
			below = append(below, pt.Label+" "+pt.Score)
		case "above", "far-above":
			above = append(above, pt.Label+" "+pt.Score)
		}
	}
	parts := []string{fmt.Sprintf("%d groups around %s", len(f.Points), f.Score)}
	if len(below) == 0 && len(above) == 0 {
		parts = append(parts, "all within the 95% limits")
	}
	if len(below) > 0 {
		parts = append(parts, "below: "+strings.Join(below, ", "))
	}
	if len(above) > 0 {
		parts = append(parts, "above: "+strings.Join(above, ", "))
	}
	return strings.Join(parts, "; ")
}
