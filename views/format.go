// Package views holds the templ components of every page. Components take
// view models from package board and only lay them out.
package views

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/a-h/templ"

	"github.com/pulseboard/pulseboard/internal/board"
)

func fmtInt(n int) string     { return strconv.Itoa(n) }
func fmtInt64(n int64) string { return strconv.FormatInt(n, 10) }

// widthStyle and the other *Style helpers build inline CSS from numbers the
// server computed, so they are safe as CSS.
func widthStyle(pct float64) templ.SafeCSS {
	return templ.SafeCSS(fmt.Sprintf("width:%.1f%%", pct))
}

// mixLabel says in words what the promoter/passive/detractor bar shows, for
// screen readers (the bar is role="img").
func mixLabel(f *board.Figure) string {
	return fmt.Sprintf("%.0f%% promoters, %.0f%% passives, %.0f%% detractors", f.Promoters, f.Passives, f.Detractors)
}

func heightStyle(share, max float64) templ.SafeCSS {
	h := 0.0
	if max > 0 {
		h = 100 * share / max
	}
	return templ.SafeCSS(fmt.Sprintf("height:%.1f%%", h))
}

// barFrom draws a diverging bar from the zero line (50%) to the score.
func barFrom(bar float64) templ.SafeCSS {
	if bar >= 50 {
		return templ.SafeCSS(fmt.Sprintf("left:50%%;width:%.1f%%", bar-50))
	}
	return templ.SafeCSS(fmt.Sprintf("left:%.1f%%;width:%.1f%%", bar, 50-bar))
}

func numAttr(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func fmtPct(p float64) string { return fmt.Sprintf("%.0f%%", p) }

// fmtThousands writes 12345 as "12,345": counts read at a distance.
func fmtThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func bandIcon(b board.Band) string {
	switch b {
	case board.Good:
		return "▲"
	case board.Watch:
		return "■"
	case board.Poor:
		return "▼"
	default:
		return "·"
	}
}

func changeArrow(delta string) string {
	switch {
	case strings.HasPrefix(delta, "+"):
		return "↑"
	case strings.HasPrefix(delta, "−"):
		return "↓"
	default:
		return "→"
	}
}

func moveText(move int, isNew bool) string {
	switch {
	case isNew:
		return "new"
	case move > 0:
		return fmt.Sprintf("▲%d", move)
	case move < 0:
		return fmt.Sprintf("▼%d", -move)
	default:
		return ""
	}
}

func scoreClass(score int) string {
	switch {
	case score >= 9:
		return "class-promoter"
	case score >= 7:
		return "class-passive"
	default:
		return "class-detractor"
	}
}

func maxShare(shares [11]float64) float64 {
	m := 0.0
	for _, s := range shares {
		m = max(m, s)
	}
	return m
}

// spark is a trend drawn in a 1000x300 box, scaled to its own range (at
// least 40 points tall) so that a center moving between +30 and +40 shows
// its movement instead of a flat line.
type spark struct {
	Lo, Hi   float64
	Segments []string
	HasZero  bool
	ZeroY    string
	HasLast  bool
	Last     sparkDot
}

type sparkDot struct {
	X, Y string
	Band board.Band
}

// sparkMinSpan is the smallest range a trend is drawn over, in NPS points.
const sparkMinSpan = 40

func sparkScale(points []board.Point) spark {
	lo, hi := 100.0, -100.0
	for _, p := range points {
		if p.NPS != nil {
			lo, hi = min(lo, *p.NPS), max(hi, *p.NPS)
		}
	}
	if lo > hi {
		lo, hi = -20, 20
	}
	if hi-lo < sparkMinSpan {
		mid := (hi + lo) / 2
		lo, hi = mid-sparkMinSpan/2, mid+sparkMinSpan/2
	}
	lo, hi = math.Max(-100, math.Floor(lo/10)*10), math.Min(100, math.Ceil(hi/10)*10)
	s := spark{Lo: lo, Hi: hi}
	y := func(v float64) float64 { return 290 - 280*(v-lo)/(hi-lo) }
	x := func(i int) float64 {
		if len(points) <= 1 {
			return 500
		}
		return 10 + 980*float64(i)/float64(len(points)-1)
	}
	if lo < 0 && hi > 0 {
		s.HasZero, s.ZeroY = true, fmt.Sprintf("%.1f", y(0))
	}
	var cur []string
	flush := func() {
		if len(cur) > 1 {
			s.Segments = append(s.Segments, strings.Join(cur, " "))
		}
		cur = nil
	}
	for i, p := range points {
		if p.NPS == nil {
			flush() // a step without responses breaks the line
			continue
		}
		cur = append(cur, fmt.Sprintf("%.1f,%.1f", x(i), y(*p.NPS)))
		s.HasLast = true
		s.Last = sparkDot{X: fmt.Sprintf("%.1f", x(i)), Y: fmt.Sprintf("%.1f", y(*p.NPS)), Band: p.Band}
	}
	flush()
	return s
}

// spanStyle places a tile in the grid.
func spanStyle(cols, rows int) templ.SafeCSS {
	return templ.SafeCSS(fmt.Sprintf("grid-column:span %d;grid-row:span %d", max(cols, 1), max(rows, 1)))
}

// countStyle tells the stylesheet how many lines share a tile, so lines
// grow to fill it and never overflow it.
func countStyle(n int) templ.SafeCSS {
	return templ.SafeCSS(fmt.Sprintf("--n:%d", max(n, 1)))
}

func moveClass(move int, isNew bool) string {
	switch {
	case isNew:
		return "move-new"
	case move > 0:
		return "move-up"
	case move < 0:
		return "move-down"
	default:
		return "move-none"
	}
}

// TileHTML renders one tile for a live update.
func TileHTML(t board.TileView) (string, error) {
	var b strings.Builder
	if err := Tile(t).Render(context.Background(), &b); err != nil {
		return "", fmt.Errorf("render tile %s: %w", t.ID, err)
	}
	return b.String(), nil
}

// livePath is the address the page's script opens its socket at: the
// board's, asking for protocol v2, which static/board.js speaks (the
// script and this page come from one release).
func livePath(name string) string { return board.LivePath(name) + "?v=2" }

// gridTiles counts the tiles that take grid cells (not the alert banner).
func gridTiles(ts []board.TileView) int {
	n := 0
	for _, t := range ts {
		if t.View != board.Banners {
			n++
		}
	}
	return n
}
