package views

import (
	"github.com/a-h/templ"

	"github.com/pulseboard/pulseboard/internal/board"
)

// themeSlots is how many themes a themes tile shows: as many as stay
// readable across a room in its height (two in one grid row, then three
// more per row), the costliest first; the caption counts the others.
func themeSlots(height int) int {
	return max(2, 3*height-1)
}

// themeRow is a theme as drawn: its bar's width against the costliest
// theme shown, whose bar is full.
type themeRow struct {
	board.ThemeRow
	Bar templ.SafeCSS
}

// themeRows is what a themes tile shows of its themes, and how many more
// there are.
func themeRows(t board.TileView) (rows []themeRow, more int) {
	v := t.Themes
	if v == nil {
		return nil, 0
	}
	shown := v.Themes
	if n := themeSlots(t.Height); len(shown) > n {
		shown, more = shown[:n], len(shown)-n
	}
	top := 0.0
	for _, r := range shown {
		top = max(top, r.Impact)
	}
	for _, r := range shown {
		w := 0.0
		if top > 0 {
			w = 100 * r.Impact / top
		}
		rows = append(rows, themeRow{ThemeRow: r, Bar: widthStyle(w)})
	}
	return rows, more
}

// themeCounts says who mentioned a theme, by class: detractors always
// (what the figure counts), passives and promoters when there are any, so
// the line stays short enough for a one-column tile.
func themeCounts(r board.ThemeRow) string {
	out := fmtThousands(r.Detractors) + " " + plural(r.Detractors, "detractor")
	if r.Passives > 0 {
		out += " · " + fmtThousands(r.Passives) + " " + plural(r.Passives, "passive")
	}
	if r.Promoters > 0 {
		out += " · " + fmtThousands(r.Promoters) + " " + plural(r.Promoters, "promoter")
	}
	return out
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
