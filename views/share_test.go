package views

import (
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/board"
)

// TestShareTiles: a response rate and a CSAT with their counts, interval
// and words for screen readers, rows as many as fit (escaped), the empty
// states, and a headline's rate line only when it has offers.
func TestShareTiles(t *testing.T) {
	rate := &board.RateView{ShareFigure: board.ShareOf("", 412, 1790, 30)}
	for _, r := range []struct {
		label       string
		part, whole int64
	}{{"phone", 300, 900}, {"chat", 80, 500}, {`<b>email</b>`, 30, 300}, {"sms", 2, 20}, {"web", 0, 70}, {"fax", 1, 3}, {"kiosk", 0, 0}} {
		rate.Rows = append(rate.Rows, board.ShareOf(r.label, r.part, r.whole, 30))
	}
	tv := board.TileView{ID: "rr", View: board.ResponseRate, Title: "Response rate", Window: "rolling 8 h", Cols: 1, Height: 2, Rate: rate}
	html := renderTile(t, tv)
	if strings.Contains(html, "<b>email") {
		t.Fatal("a row's label reached the markup unescaped")
	}
	for _, want := range []string{
		`data-testid="rate" data-key="rate" data-num="23.02" data-fmt="pct">23%<`,
		`>412 of 1,790 offered<`, `95% CI 21–25%`,
		`role="img" aria-label="23% of offered surveys answered (412 of 1,790), 95% interval 21–25%"`,
		`data-testid="row-&lt;b&gt;email&lt;/b&gt;"`, `>300/900 <`, `data-key="rate-phone"`,
		`2/20 <span class="low">low</span>`, // a row under the minimum sample
		`>1 more<`,                          // seven rows, six fit a 1x2 tile
	} {
		if !strings.Contains(html, want) {
			t.Errorf("response rate tile lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, `row-kiosk`) || strings.Count(html, `class="share-row"`) != 6 {
		t.Errorf("%d rows shown on a 1x2 tile, want 6", strings.Count(html, `class="share-row"`))
	}
	// Wide: four rows a grid row, beside the figure.
	tv.Cols, tv.Height = 2, 1
	if html := renderTile(t, tv); !strings.Contains(html, `class="share has-rows wide"`) || strings.Count(html, `class="share-row"`) != 4 {
		t.Errorf("a 2x1 tile: %s", html)
	}

	cs := &board.CSATView{ShareFigure: board.ShareOf("", 340, 415, 30), Counts: [5]int64{20, 15, 40, 140, 200}}
	for i, n := range cs.Counts {
		cs.Shares[i] = 100 * float64(n) / 415
	}
	html = renderTile(t, board.TileView{ID: "c", View: board.CSAT, Title: "CSAT", Cols: 1, Height: 1, CSAT: cs})
	for _, want := range []string{
		`data-testid="csat" data-key="csat" data-num="81.93" data-fmt="pct">82%<`, `>340 of 415 satisfied<`,
		`aria-label="CSAT answers by score, 1: 5% (20), 2: 4% (15), 3: 10% (40), 4: 34% (140), 5: 48% (200); 82% satisfied (4 or 5), 95% interval 78–85%"`,
		`class="csat-seg csat-5" style="width:48.2%;"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("csat tile lacks %q:\n%s", want, html)
		}
	}
	if strings.Contains(html, "share-rows") {
		t.Error("a csat tile without by has rows")
	}

	// Nothing offered, nothing answered.
	html = renderTile(t, board.TileView{ID: "rr", View: board.ResponseRate, Cols: 1, Height: 1, Empty: true,
		Rate: &board.RateView{ShareFigure: board.ShareOf("", 0, 0, 30)}})
	if !strings.Contains(html, "No surveys offered in this window.") || strings.Contains(html, "share-bar") {
		t.Errorf("empty response rate: %s", html)
	}
	html = renderTile(t, board.TileView{ID: "c", View: board.CSAT, Cols: 1, Height: 1, Empty: true,
		CSAT: &board.CSATView{ShareFigure: board.ShareOf("", 0, 0, 30)}})
	if !strings.Contains(html, "No CSAT answers in this window.") || strings.Contains(html, "csat-mix") {
		t.Errorf("empty csat: %s", html)
	}

	// A headline: the rate line with offers, nothing without.
	f := board.Figure{Score: "+32", Responses: 400, Band: board.Good}
	head := board.TileView{ID: "h", View: board.Headline, Cols: 1, Height: 1, Figure: &f}
	if html := renderTile(t, head); strings.Contains(html, "rate-line") || strings.Contains(html, "Response rate") {
		t.Errorf("a headline without offers shows a rate: %s", html)
	}
	head.Rate = &board.RateView{ShareFigure: board.ShareOf("", 412, 1790, 30)}
	html = renderTile(t, head)
	if !strings.Contains(html, `data-testid="rate-line"`) || !strings.Contains(strings.Join(strings.Fields(html), " "), "Response rate <b>23%</b> · 412 of 1,790 offered") {
		t.Errorf("a headline with offers: %s", html)
	}
}
