package views

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/board"
)

// TestFunnelTile: the funnel draws every group, names outliers with their
// names escaped, and says in words who is outside the limits.
func TestFunnelTile(t *testing.T) {
	f := &board.FunnelView{Center: 30, Score: "+30", Below: 1, Above: 1,
		Points: []board.FunnelPoint{
			{Label: "typical", Responses: 400, NPS: 31, Score: "+31", Position: "within"},
			{Label: `<img src=x onerror=alert(1)>`, Responses: 300, NPS: -30, Score: "−30", Position: "far-below"},
			{Label: "great", Responses: 300, NPS: 70, Score: "+70", Position: "far-above"},
		}}
	for _, n := range []float64{100, 300, 1200} {
		f.Limits = append(f.Limits, board.FunnelLimit{N: n, Low95: 30 - 150/n, High95: 30 + 150/n, Low998: 30 - 240/n, High998: 30 + 240/n})
	}
	tv := board.TileView{ID: "f", View: board.Funnel, Title: "Teams", Cols: 2, Height: 2, Funnel: f}
	var buf bytes.Buffer
	if err := gridTile(tv).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<img") {
		t.Fatal("a group's name reached the markup unescaped")
	}
	for _, want := range []string{
		`class="funnel"`, `<polygon class="band95"`, `class="dot pos-far-below"`, `class="dot pos-far-above"`,
		`&lt;img src=x onerror=alert(1)&gt; −30`, // the outlier is named, escaped
		`great +70`,
		`▼ 1 below`, `▲ 1 above`,
		`aria-label="Teams: 3 groups around +30; below: &lt;img`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("funnel lacks %q", want)
		}
	}
	if n := strings.Count(html, "<circle"); n != 3 {
		t.Errorf("%d dots, want 3", n)
	}
}
