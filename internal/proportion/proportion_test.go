package proportion

import (
	"math"
	"testing"
)

// TestWilsonBruteForce: the Wilson interval is the set of shares p the
// score test does not reject, |x/n − p| ≤ z·√(p(1−p)/n); a fine scan of p
// finds the same ends.
func TestWilsonBruteForce(t *testing.T) {
	for _, c := range []struct{ x, n int64 }{{0, 1}, {0, 20}, {1, 3}, {5, 40}, {19, 50}, {300, 2600}, {50, 50}, {7, 1000}} {
		for _, z := range []float64{Z95, 4} {
			low, high := Wilson(c.x, c.n, z)
			p0 := float64(c.x) / float64(c.n)
			bLow, bHigh := 2.0, -1.0
			const steps = 200000
			for i := 0; i <= steps; i++ {
				p := float64(i) / steps
				if math.Abs(p0-p) <= z*math.Sqrt(p*(1-p)/float64(c.n)) {
					bLow, bHigh = math.Min(bLow, p), math.Max(bHigh, p)
				}
			}
			if math.Abs(low-bLow) > 2.0/steps || math.Abs(high-bHigh) > 2.0/steps {
				t.Errorf("%d of %d at z %v: wilson %.6f–%.6f, scan %.6f–%.6f", c.x, c.n, z, low, high, bLow, bHigh)
			}
		}
	}
}

func TestOf(t *testing.T) {
	if s := Of(0, 0); s.OK() || s.Value != 0 || s.Low != 0 || s.High != 1 {
		t.Errorf("of nothing: %+v", s)
	}
	s := Of(30, 120)
	if !s.OK() || s.Value != 0.25 || !(s.Low < 0.25 && 0.25 < s.High) {
		t.Errorf("30 of 120: %+v", s)
	}
}
