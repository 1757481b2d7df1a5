package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/nps"
)

// TestHomeRendersFigures renders the component alone and checks the
// data-testid hooks carry the figures and the band words.
func TestHomeRendersFigures(t *testing.T) {
	good := board.FigureOf("rolling 60 min", nps.Of(10, 10, 9, 8), board.DefaultThresholds, 30)
	empty := board.FigureOf("today since 00:00", nps.Distribution{}, board.DefaultThresholds, 30)
	phone := board.FigureOf("phone", nps.Of(1, 2, 10), board.DefaultThresholds, 30)
	var buf bytes.Buffer
	err := Home(HomeData{Zone: "UTC", Updated: "10:00:00", Headline: []board.Figure{good, empty}, Channels: []board.Figure{phone}, RefreshSeconds: 5}).Render(context.Background(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`data-testid="headline-rolling 60 min"`,
		`class="card band-good"`,
		`data-testid="score">+75<`,
		`data-testid="score">—<`,
		`no data`,
		`data-testid="channels-phone"`,
		`−33`,
		`low sample`,
		`No responses in this window yet.`, // the empty team panel
		`http-equiv="refresh" content="5"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
}
