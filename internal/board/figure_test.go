package board

import (
	"math/rand/v2"
	"testing"

	"github.com/pulseboard/pulseboard/internal/nps"
)

func TestFigureOf(t *testing.T) {
	var d nps.Distribution
	d[10], d[8], d[3] = 75, 20, 5
	f := FigureOf("all", d, DefaultThresholds, 30)
	if f.Score != "+70" || f.Band != Good || f.Responses != 100 || f.LowSample || f.Bar != 85 || f.Margin == "" {
		t.Errorf("figure %+v", f)
	}
	if f.Promoters != 75 || f.Passives != 20 || f.Detractors != 5 {
		t.Errorf("shares %+v", f)
	}
	empty := FigureOf("none", nps.Distribution{}, DefaultThresholds, 30)
	if empty.Score != "—" || empty.Band != None || empty.Margin != "" || !empty.LowSample {
		t.Errorf("empty figure %+v", empty)
	}
	if got := FigureOf("x", nps.Of(0, 1, 9), DefaultThresholds, 30); got.Score != "−33" || got.Band != Poor || !got.LowSample {
		t.Errorf("poor figure %+v", got)
	}
	if got := FigureOf("x", nps.Of(9, 8, 8, 3), DefaultThresholds, 1); got.Score != "0" || got.Band != Watch {
		t.Errorf("watch figure %+v", got)
	}
}

// TestFigureShowsTheSummary: a figure's numbers are nps.Summary's, and its
// words are formatted from them, so a board never contradicts GET
// /api/v1/nps (which publishes the same Summary).
func TestFigureShowsTheSummary(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	for run := range 500 {
		var d nps.Distribution
		for i := range d {
			if rng.IntN(3) > 0 {
				d[i] = rng.Int64N(200)
			}
		}
		s := nps.Summarize(d, 30)
		f := FigureOf("x", d, DefaultThresholds, 30)
		if f.Responses != s.Responses || f.LowSample != s.LowSample {
			t.Fatalf("run %d: figure %+v, summary %+v", run, f, s)
		}
		if s.NPS == nil {
			if f.NPS != nil || f.Score != "—" || f.Band != None {
				t.Fatalf("run %d: empty figure %+v", run, f)
			}
			continue
		}
		if *f.NPS != *s.NPS || f.Score != FormatScore(*s.NPS) || f.Margin != FormatMargin(*s.MOE) || f.Bar != (*s.NPS+100)/2 ||
			f.Promoters != *s.PromoterShare || f.Passives != *s.PassiveShare || f.Detractors != *s.DetractorShare {
			t.Fatalf("run %d: figure %+v, summary nps %v moe %v", run, f, *s.NPS, *s.MOE)
		}
	}
	// 51 more promoters than detractors of 101: 50.495…, published as
	// 50.5, shown as +51 (its whole number), not +50.
	var d nps.Distribution
	d[10], d[0] = 76, 25
	if f := FigureOf("x", d, DefaultThresholds, 30); *f.NPS != 50.5 || f.Score != "+51" {
		t.Errorf("figure %v %s, want 50.5 +51", *f.NPS, f.Score)
	}
}
