package board

import (
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
