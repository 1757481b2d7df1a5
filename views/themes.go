package views

import (
	"fmt"

	"github.com/a-h/templ"

	"github.com/pulseboard/pulseboard/internal/board"
)

// themeSlots is how many themes a themes tile shows: as many as stay
// readable across a room in its height (two in one grid row, then three
// more per row), the costliest first; the caption counts the others.
func themeSlots(height int) int {
	return max(2, 3*height-1)
}

// themeRows is what a themes tile shows of its themes, with the widest
// bar (the costliest theme shown) full.
type themeRow struct {
	board.ThemeRow
	Bar templ.SafeCSS
}

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

// themeCounts says who mentioned a theme, by class.
func themeCounts(r board.ThemeRow) string {
	return fmt.Sprintf("%s %s · %s %s · %s %s",
		fmtThousands(r.Detractors), plural(r.Detractors, "detractor"),
		fmtThousands(r.Passives), plural(r.Passives, "passive"),
		fmtThousands(r.Promoters), plural(r.Promoters, "promoter"))
}

func plural(n int64, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
