package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/nps"
)

func ptr(f float64) *float64 { return &f }

// TestBoardTiles renders a board with one tile of every kind and checks the
// hooks the browser script and the end-to-end tests rely on.
func TestBoardTiles(t *testing.T) {
	good := board.FigureOf("Last hour", nps.Of(10, 10, 9, 8, 3), board.DefaultThresholds, 30)
	phone := board.FigureOf("phone", nps.Of(0, 1, 10), board.DefaultThresholds, 30)
	v := board.View{Board: "floor", Title: "Floor", Tiles: []board.TileView{
		{ID: "h", View: board.Headline, Title: "Last hour", Window: "rolling 60 min", Cols: 1, Height: 1, Figure: &good,
			Change: &board.ChangeView{Delta: "+4", Significant: true, Against: "previous 60 min"}},
		{ID: "c", View: board.Count, Title: "Responses", Cols: 1, Height: 1, Figure: &board.Figure{Responses: 12345}},
		{ID: "b", View: board.Breakdown, Title: "Channels", Cols: 1, Height: 2, Rows: []board.Row{{Figure: phone}}},
		{ID: "l", View: board.Leaderboard, Title: "Agents", Cols: 1, Height: 2, Rows: []board.Row{
			{Figure: good, Rank: 1, Move: 2}, {Figure: phone, Rank: 0}, {Figure: phone, InLine: true}}},
		{ID: "t", View: board.Trend, Title: "Trend", Cols: 2, Height: 1, Points: []board.Point{
			{Label: "10:00", NPS: ptr(30)}, {Label: "11:00"}, {Label: "12:00", NPS: ptr(35)}, {Label: "13:00", NPS: ptr(20), Band: board.Watch}}},
		{ID: "d", View: board.Distribution, Title: "Scores", Cols: 1, Height: 1, Distribution: &board.DistView{Mean: "7.9", Responses: 5}},
		{ID: "f", View: board.Comments, Title: "Comments", Cols: 2, Height: 1, Answers: []board.AnswerView{
			{At: "11:02", Score: 2, Class: "detractor", Channel: "phone", Team: "billing", Comment: "call me <b>now</b>"}}},
	}}
	var buf bytes.Buffer
	if err := Board(BoardPage{View: v, Zone: "America/New_York", Clock: "11:02", Updated: "11:02:03"}).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`data-board="floor"`, `data-zone="America/New_York"`,
		`data-testid="tile-h"`, `data-testid="score" data-key="score" data-num="40" data-fmt="score">+40<`,
		`significant`, `vs previous 60 min`,
		`data-testid="count" data-key="count" data-num="12345" data-fmt="int">12,345<`,
		`data-testid="row-phone"`, `data-testid="row-score"`, `−33`,
		`▲2`, `grid-column:span 2;grid-row:span 1`,
		`<span class="rank in-line" title="in line with the team: the data cannot tell it apart" aria-label="in line with the team">≈</span>`,
		`<polyline class="line"`, `class="dot band-watch"`,
		`mean <b>7.9</b>`,
		`call me &lt;b&gt;now&lt;/b&gt;`, // comments are escaped
		`data-testid="status"`, `src="/static/board.js"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("board page lacks %q", want)
		}
	}
	// The trend breaks at the step without answers: two segments would need
	// two points each; 10:00 stands alone, 12:00-13:00 is one line.
	if n := strings.Count(html, "<polyline"); n != 1 {
		t.Errorf("%d polylines, want 1", n)
	}
	// Live updates send one tile's markup; it must be the same element.
	tile, err := TileHTML(v.Tiles[0])
	if err != nil || !strings.HasPrefix(tile, `<section class="tile tile-headline" id="tile-h"`) {
		t.Errorf("TileHTML = %.80q, %v", tile, err)
	}
}
