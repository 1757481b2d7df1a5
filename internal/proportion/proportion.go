// Package proportion is the arithmetic of a share of a count: a response
// rate (answers of offers), a CSAT percentage (satisfied of answers), a
// theme's share of detractors. One interval for all of them, so every figure
// of the kind on a board is judged the same way.
package proportion

import (
	"math"

	"github.com/pulseboard/pulseboard/internal/nps"
)

// Z95 is the normal quantile of a two-sided 95% interval.
const Z95 = 1.959963984540054

// Wilson is the Wilson score interval of x successes in n at z: unlike
// the normal approximation it stays inside 0..1 and is not empty at x = 0
// or x = n, which matters for the small counts of a quiet channel or a
// short window. n ≤ 0 gives the whole range 0..1.
func Wilson(x, n int64, z float64) (low, high float64) {
	if n <= 0 {
		return 0, 1
	}
	fn := float64(n)
	p := float64(x) / fn
	z2 := z * z
	centre := p + z2/(2*fn)
	half := z * math.Sqrt(p*(1-p)/fn+z2/(4*fn*fn))
	d := 1 + z2/fn
	low, high = (centre-half)/d, (centre+half)/d
	return math.Max(0, low), math.Min(1, high)
}

// Share is x of n with its 95% Wilson interval, all as fractions 0..1.
type Share struct {
	Part, Whole int64
	// Value, Low and High are 0 (and High 1) when Whole is 0: no share.
	Value, Low, High float64
}

// Of computes the share of part in whole.
func Of(part, whole int64) Share {
	s := Share{Part: part, Whole: whole, High: 1}
	if whole <= 0 {
		return s
	}
	s.Value = float64(part) / float64(whole)
	s.Low, s.High = Wilson(part, whole, Z95)
	return s
}

// Percents returns Value, Low and High in percent, rounded as every
// published figure is (nps.Round: two decimals), so the API, the boards
// and the alerts that judge a share all say the same number.
func (s Share) Percents() (value, low, high float64) {
	return nps.Round(100 * s.Value), nps.Round(100 * s.Low), nps.Round(100 * s.High)
}

// OK reports whether the share has a whole to be a share of.
func (s Share) OK() bool { return s.Whole > 0 }
