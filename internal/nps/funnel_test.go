package nps

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestFunnelWorkedExample(t *testing.T) {
	// Parent: 500 promoters, 300 passives, 200 detractors. NPS +30; one
	// answer's variance 0.5 + 0.2 − 0.3² = 0.61, so σ(100) = 100·√0.0061
	// = 7.8102 and the 95% limits at n = 100 are 30 ± 1.96·7.8102.
	f, ok := NewFunnel(Distribution{10: 500, 7: 300, 0: 200})
	if !ok || f.Center != 30 {
		t.Fatalf("center %v, %v", f.Center, ok)
	}
	lo, hi := f.Limits(100, Z95)
	if math.Abs(lo-14.6920) > 1e-3 || math.Abs(hi-45.3080) > 1e-3 {
		t.Fatalf("95%% limits at n=100: %.4f..%.4f, want 14.6920..45.3080", lo, hi)
	}
	lo, hi = f.Limits(100, Z998)
	if math.Abs(lo-5.8646) > 1e-3 || math.Abs(hi-54.1354) > 1e-3 {
		t.Fatalf("99.8%% limits at n=100: %.4f..%.4f, want 5.8646..54.1354", lo, hi)
	}
	if lo, hi := f.Limits(1, Z998); lo != -100 || hi != 100 {
		t.Fatalf("limits at n=1 should clip to the scale: %v..%v", lo, hi)
	}
	for _, tc := range []struct {
		d    Distribution
		want Position
	}{
		{Distribution{10: 50, 7: 30, 0: 20}, Within},
		{Distribution{10: 40, 7: 30, 0: 30}, Below},    // +10 < 14.69
		{Distribution{10: 35, 7: 30, 0: 35}, FarBelow}, // 0 < 5.86
		{Distribution{10: 60, 7: 25, 0: 15}, Within},   // +45 < 45.31
		{Distribution{10: 55, 7: 40, 0: 5}, Above},     // +50
		{Distribution{10: 70, 7: 20, 0: 10}, FarAbove}, // +60
		{Distribution{}, Within},
	} {
		if got := f.Place(tc.d); got != tc.want {
			s, _ := tc.d.NPS()
			t.Errorf("%+v (NPS %.0f): %v, want %v", tc.d, s, got, tc.want)
		}
	}
}

// TestFunnelFalseAlarmRate: groups drawn from the parent itself fall
// outside the limits as often as their level says.
func TestFunnelFalseAlarmRate(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	f, _ := NewFunnel(Distribution{10: 500, 7: 300, 0: 200})
	var out95, out998 int
	const G = 20000
	for range G {
		d := draw(rng, 400, center)
		switch f.Place(d) {
		case Below, Above:
			out95++
		case FarBelow, FarAbove:
			out95++
			out998++
		}
	}
	if r := float64(out95) / G; r < 0.04 || r > 0.06 {
		t.Errorf("%.2f%% outside the 95%% limits, want about 5%%", 100*r)
	}
	if r := float64(out998) / G; r > 0.005 {
		t.Errorf("%.2f%% outside the 99.8%% limits, want about 0.2%%", 100*r)
	}
}
