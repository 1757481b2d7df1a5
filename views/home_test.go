package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/nps"
)

// TestHomeRendersIndexAndOverview renders the index page alone and checks
// its data-testid hooks.
func TestHomeRendersIndexAndOverview(t *testing.T) {
	good := board.FigureOf("Last hour", nps.Of(10, 10, 9, 8), board.DefaultThresholds, 30)
	empty := board.FigureOf("Today", nps.Distribution{}, board.DefaultThresholds, 30)
	over := board.View{Board: "overview", Tiles: []board.TileView{
		{ID: "nps-1h", View: board.Headline, Title: "Last hour", Cols: 1, Height: 1, Figure: &good},
		{ID: "nps-today", View: board.Headline, Title: "Today", Cols: 1, Height: 1, Figure: &empty},
	}}
	var buf bytes.Buffer
	err := Home(HomeData{Boards: []BoardLink{{Name: "floor", Title: "Floor", Tiles: 8, Path: "/boards/floor"},
		{Name: "team", Title: "Team {value}", Tiles: 5, ForEach: "team", Instances: []BoardLink{
			{Name: "team/first line", Title: "Team first line <b>", Tiles: 5, Path: "/boards/team/first%20line"}}}}, Overview: &over,
		Zone: "UTC", Updated: "10:00:00", RefreshSeconds: 10}).Render(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`data-testid="board-floor"`, `href="/boards/floor"`, `8 tiles`,
		`data-testid="overview"`, `data-testid="tile-nps-1h"`, `>+75<`, `>—<`, `no data`,
		`<meta name="pulseboard-refresh" content="10">`, `src="/static/refresh.js"`,
		// A template, with its boards: addresses escaped, titles as text.
		`data-testid="template-team"`, `One board per team`, `seen in the last 30 days`,
		`href="/boards/team/first%20line"`, `data-testid="board-team/first line"`, `Team first line &lt;b&gt;`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	// Without an overview (rollups that cannot answer it) the index stands
	// alone.
	buf.Reset()
	if err := Home(HomeData{Boards: []BoardLink{{Name: "floor"}}}).Render(context.Background(), &buf); err != nil || strings.Contains(buf.String(), `data-testid="overview"`) {
		t.Errorf("index without overview: %v", err)
	}
}
