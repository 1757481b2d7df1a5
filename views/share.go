package views

import (
	"fmt"
	"strings"

	"github.com/a-h/templ"

	"github.com/pulseboard/pulseboard/internal/board"
)

// shareSlots is how many rows a share tile with by shows: under its
// figure, two in a single grid row, then four more per row; beside it, in
// a tile of at least twice as many columns as rows (class wide), four per
// grid row.
func shareSlots(cols, height int) int {
	if cols >= 2*height {
		return 4 * height
	}
	return max(2, 4*height-2)
}

// shareSlice is the rows a share tile shows, and how many more there are.
func shareSlice(rows []board.ShareFigure, cols, height int) ([]board.ShareFigure, int) {
	if n := shareSlots(cols, height); len(rows) > n {
		return rows[:n], len(rows) - n
	}
	return rows, 0
}

// shareWidth fills a share's bar to its value.
func shareWidth(f board.ShareFigure) templ.SafeCSS {
	if f.Value == nil {
		return widthStyle(0)
	}
	return widthStyle(*f.Value)
}

// shareRange draws a share's 95% interval on its bar.
func shareRange(f board.ShareFigure) templ.SafeCSS {
	if f.Low == nil || f.High == nil {
		return templ.SafeCSS("left:0%;width:0%")
	}
	return templ.SafeCSS(fmt.Sprintf("left:%.1f%%;width:%.1f%%", *f.Low, *f.High-*f.Low))
}

// rateWords says a response rate's bar in words.
func rateWords(f board.ShareFigure) string {
	return fmt.Sprintf("%s of offered surveys answered (%s of %s), 95%% interval %s", f.Percent,
		fmtThousands(f.Part), fmtThousands(f.Whole), f.Interval)
}

// csatMixLabel says the 1..5 bar in words, with the share it makes.
func csatMixLabel(v *board.CSATView) string {
	parts := make([]string, len(v.Counts))
	for i, n := range v.Counts {
		parts[i] = fmt.Sprintf("%d: %s (%s)", i+1, board.FormatPercent(v.Shares[i]), fmtThousands(n))
	}
	return fmt.Sprintf("CSAT answers by score, %s; %s satisfied (4 or 5), 95%% interval %s", strings.Join(parts, ", "),
		v.Percent, v.Interval)
}
