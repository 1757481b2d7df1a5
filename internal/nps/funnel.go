package nps

import "math"

// Funnel limits compare every group's NPS with its parent's at the group's
// own sample size (Spiegelhalter 2005, "Funnel plots for comparing
// institutional performance", Statistics in Medicine 24(8)). If every
// answer of a group of n were drawn from the parent, the group's NPS would
// have mean θ₀ = 100·(p − d) and standard deviation
//
//	σ(n) = 100·√((p + d − (p − d)²) / n),
//
// p and d the parent's promoter and detractor shares (each answer is +1, 0
// or −1, whose variance is p + d − (p − d)²). The limits θ₀ ± z·σ(n) narrow
// with n into a funnel: a group outside the 95% limits (z = 1.96) is worth a
// look, one outside the 99.8% limits (z = 3.09) is very unlikely to be chance.
// One group in 20 lies outside the 95% limits by chance alone; one in 500
// outside the 99.8% ones.

// Funnel limits at the two levels Spiegelhalter recommends.
const (
	Z95  = z95
	Z998 = 3.090232306167813 // two-sided 99.8%: Φ⁻¹(0.999)
)

// Funnel holds the parent's figures the limits are drawn from.
type Funnel struct {
	// Center is the parent's NPS θ₀.
	Center float64
	// sd1 is the standard deviation of one answer's +1/0/−1, times 100.
	sd1 float64
}

// NewFunnel returns the funnel of a parent distribution; ok is false when
// the parent has no answers.
func NewFunnel(parent Distribution) (Funnel, bool) {
	n := float64(parent.Responses())
	if n == 0 {
		return Funnel{}, false
	}
	p := float64(parent.Promoters()) / n
	d := float64(parent.Detractors()) / n
	return Funnel{Center: 100 * (p - d), sd1: 100 * math.Sqrt(math.Max(p+d-(p-d)*(p-d), 0))}, true
}

// Limits returns the lower and upper limits at n answers for quantile z,
// clipped to [−100, 100].
func (f Funnel) Limits(n int64, z float64) (low, high float64) {
	return f.LimitsAt(float64(n), z)
}

// LimitsAt is Limits at a fractional n, for drawing the funnel's curves.
func (f Funnel) LimitsAt(n, z float64) (low, high float64) {
	if n <= 0 {
		return -100, 100
	}
	m := z * f.sd1 / math.Sqrt(n)
	return math.Max(-100, f.Center-m), math.Min(100, f.Center+m)
}

// Position says where a group lies in the funnel.
type Position int

// Positions, from most below to most above.
const (
	FarBelow Position = iota - 2 // below the 99.8% limit
	Below                        // below the 95% limit
	Within
	Above    // above the 95% limit
	FarAbove // above the 99.8% limit
)

// String names the position as boards label it.
func (p Position) String() string {
	switch p {
	case FarBelow:
		return "far below"
	case Below:
		return "below"
	case Above:
		return "above"
	case FarAbove:
		return "far above"
	}
	return "within"
}

// Place returns where a group of distribution d lies; a group without
// answers is Within.
func (f Funnel) Place(d Distribution) Position {
	score, ok := d.NPS()
	if !ok {
		return Within
	}
	n := d.Responses()
	lo998, hi998 := f.Limits(n, Z998)
	lo95, hi95 := f.Limits(n, Z95)
	switch {
	case score < lo998:
		return FarBelow
	case score < lo95:
		return Below
	case score > hi998:
		return FarAbove
	case score > hi95:
		return Above
	}
	return Within
}
