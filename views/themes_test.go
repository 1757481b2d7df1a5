package views

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/board"
)

func renderTile(t *testing.T, tv board.TileView) string {
	t.Helper()
	var buf bytes.Buffer
	if err := gridTile(tv).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestThemesTile: the costliest themes that fit the tile, labels escaped,
// the impact as a loss with its unit, a bar as long relative to the
// costliest, who mentioned it, and a caption that says what the figures
// mean and how many themes are not shown.
func TestThemesTile(t *testing.T) {
	v := &board.ThemesView{Responses: 1234}
	for i := range 7 {
		d := int64(70 - 10*i)
		v.Themes = append(v.Themes, board.ThemeRow{Name: fmt.Sprintf("t%d", i), Label: fmt.Sprintf("Theme %d", i),
			Detractors: d, Passives: 3, Promoters: 1, Impact: 100 * float64(d) / 1234, Points: board.FormatImpact(100 * float64(d) / 1234)})
	}
	v.Themes[0].Label = `<img src=x onerror=alert(1)>`
	tv := board.TileView{ID: "why", View: board.Themes, Title: "Themes today", Window: "today since 00:00", Cols: 1, Height: 2, Themes: v}
	html := renderTile(t, tv)
	if strings.Contains(html, "<img") {
		t.Fatal("a theme's label reached the markup unescaped")
	}
	for _, want := range []string{
		`aria-label="Themes today: NPS points lost to each theme, the costliest first"`,
		`&lt;img src=x onerror=alert(1)&gt;`,
		`−5.7<span class="theme-unit"> pts</span>`,
		`70 detractors · 3 passives · 1 promoter`,
		`style="width:100.0%;"`, `style="width:42.9%;"`, // 30 of 70
		`NPS points lost per theme · n=1,234`, `· 2 more`,
		`data-testid="theme-t4"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("themes tile lacks %q", want)
		}
	}
	if n := strings.Count(html, `<li class="theme`); n != 5 {
		t.Errorf("%d themes shown on a 1x2 tile, want 5", n)
	}
	if strings.Contains(html, "theme-t5") {
		t.Error("the sixth theme is shown")
	}

	// One grid row: the two costliest.
	tv.Height = 1
	if n := strings.Count(renderTile(t, tv), `<li class="theme`); n != 2 {
		t.Errorf("%d themes shown on a 1x1 tile, want 2", n)
	}

	// A theme nobody was unhappy about costs nothing and has no bar.
	tv.Height, v.Themes = 2, []board.ThemeRow{{Name: "praise", Label: "Praise", Promoters: 9, Points: "0"}}
	html = renderTile(t, tv)
	if !strings.Contains(html, `class="theme is-costless"`) || !strings.Contains(html, `style="width:0.0%;"`) || strings.Contains(html, "more") ||
		!strings.Contains(html, `>0 detractors · 9 promoters<`) {
		t.Errorf("a costless theme: %s", html)
	}

	// Nothing matched.
	tv.Empty, v.Themes = true, nil
	html = renderTile(t, tv)
	if !strings.Contains(html, "No comment matched a theme in this window.") || strings.Contains(html, "<ol") {
		t.Errorf("empty themes tile: %s", html)
	}
}
