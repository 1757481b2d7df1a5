package board

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// ThemesView is a themes tile: what the comments of the tile's answers are
// about, every theme with at least one mention, the costliest first.
//
// A theme's impact is the NPS points the scope would gain if its detractors
// had been passives: 100·D/N, with D the detractors whose comment has the
// theme and N every answer in the scope, with a comment or not. A comment
// may have several themes, so the impacts do not add up to anything.
type ThemesView struct {
	// Responses is N, every answer in the tile's scope.
	Responses int64 `json:"responses"`
	// Themes are sorted by impact, largest first, then by mentions.
	Themes []ThemeRow `json:"themes"`
}

// ThemeRow is one theme of a themes tile.
type ThemeRow struct {
	// Name is the theme's id, Label how it is shown (the dictionary's label;
	// the name when the dictionary no longer has it).
	Name  string `json:"name"`
	Label string `json:"label"`
	// The answers whose comment has the theme, by class.
	Detractors int64 `json:"detractors"`
	Passives   int64 `json:"passives"`
	Promoters  int64 `json:"promoters"`
	// Impact is 100·Detractors/Responses, never negative: the points the
	// theme costs the scope's NPS. Points is how a screen shows it, as a
	// loss: "−4.2", "−0.04", "0".
	Impact float64 `json:"impact"`
	Points string  `json:"points"`
}

// themes computes a themes tile: the classes per theme from the tile's
// query broken down by theme, N from the query as it is. N is read second:
// answers that arrive in between then only add to it, so no theme counts
// more detractors than N has answers.
func (c Computer) themes(t Tile, tv TileView, src Source, span window.Span) (TileView, error) {
	groups, err := src.Query(store.Query{By: []store.Dimension{store.Theme}, Filters: t.Filters, Span: span})
	if err != nil {
		return tv, fmt.Errorf("themes: %w", err)
	}
	all, err := c.total(t, src, span)
	if err != nil {
		return tv, err
	}
	n := all.Responses()
	v := &ThemesView{Responses: n, Themes: []ThemeRow{}}
	for _, g := range groups {
		if g.Counts.Responses() == 0 || n == 0 {
			continue
		}
		name := g.Key[store.Theme]
		r := ThemeRow{Name: name, Label: name, Detractors: g.Counts.Detractors(), Passives: g.Counts.Passives(),
			Promoters: g.Counts.Promoters()}
		if c.Labels != nil {
			if l := c.Labels(name); l != "" {
				r.Label = l
			}
		}
		r.Impact = g.Counts.Impact(n)
		r.Points = FormatImpact(r.Impact)
		v.Themes = append(v.Themes, r)
	}
	slices.SortFunc(v.Themes, func(a, b ThemeRow) int {
		if c := cmp.Compare(b.Impact, a.Impact); c != 0 {
			return c
		}
		if c := cmp.Compare(b.mentions(), a.mentions()); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	tv.Themes = v
	tv.Empty = len(v.Themes) == 0
	return tv, nil
}

func (r ThemeRow) mentions() int64 { return r.Detractors + r.Passives + r.Promoters }

// FormatImpact writes points lost as a loss with one decimal ("−4.2"), two
// below a tenth so a small cost never reads as none ("−0.04"), and "0" for
// none.
func FormatImpact(points float64) string {
	switch {
	case points <= 0:
		return "0"
	case math.Round(points*10) >= 1:
		return fmt.Sprintf("−%.1f", points)
	case math.Round(points*100) >= 1:
		return fmt.Sprintf("−%.2f", points)
	}
	return "−<0.01"
}
