package nps

import "math"

// Change marks on a wall are tests repeated all day: a two-window z-test
// re-evaluated at every tick fires far more often than its 5% on a quiet
// day. Pulseboard marks a change with a CUSUM instead (Page 1954,
// "Continuous inspection schemes", Biometrika 41), whose false-alarm rate is
// a property of the whole watch, not of one look.
//
// Each answer is x = +1 (promoter), 0 (passive) or −1 (detractor). Against a
// baseline with mean μ₀ = NPS₀/100 and standard deviation σ₀ (one answer's:
// σ₀² = p + d − (p − d)²), a drop is detected by
//
//	D ← max(0, D + (μ₀ − x)/σ₀ − k)    and a rise by    U ← max(0, U + (x − μ₀)/σ₀ − k),
//
// raising the mark when D or U exceeds h. k is half the shift the
// detector is tuned for, in σ₀ units: k = δ/(2σ₀), δ = Shift/100. Applying
// the recursion to a bucket's answers at once (their sum of steps, then the
// max with 0) gives the maximum over suffixes starting at bucket edges, at
// most the per-answer statistic: counting per minute bucket is a little
// conservative, never looser.
//
// The baseline is estimated (the series' own answers of the week before),
// and a CUSUM is known to be sensitive to that error (Jones, Champ and
// Rigdon 2004, "The run length distribution of the CUSUM with estimated
// parameters", J. Quality Technology 36): a baseline a little too high makes
// the drop detector drift up on a quiet day. So the steps use
// k + 1.5/√n_baseline (a guard of 1.5 standard errors of μ̂₀, in σ₀ units)
// while h is set for k alone; the simulation showed 9.8% false board-days
// without the guard and 2.1% with it, for 460 rather than 375 answers to
// find a 15-point drop.
//
// The threshold h is set from the average run length under no change
// (ARL₀, in answers) with Siegmund's approximation for a CUSUM of unit
// variance and drift −k (Siegmund 1985, Sequential Analysis, eq. 2.56):
//
//	ARL₀(h) ≈ (e^{2k·b} − 2k·b − 1) / (2k²),  b = h + 1.166.
//
// A board watching G series for a day in which each gets n answers raises a
// false mark on any of them with probability at most about
// 2·G·n / ARL₀ (two one-sided detectors per series, a union bound, and
// run lengths roughly geometric), so ARL₀ = 2·G·n/α holds that to α. The
// simulation in sequential_test.go measures both the false-alarm rate and
// how many answers a real drop takes to be marked; docs/ARCHITECTURE.md
// records the figures.

// Shift is the change, in NPS points, the detectors are tuned to find
// fastest; smaller changes are found too, later.
const Shift = 15.0

// DailyFalseAlarm is α: the chance that a board raises a change mark on
// any of its series on a day with no change at all.
const DailyFalseAlarm = 0.05

// baselineGuard is how many standard errors of the baseline's mean the
// steps allow for (see above).
const baselineGuard = 1.5

// Detector is a CUSUM pair tuned against a baseline.
type Detector struct {
	mu, sigma, k, h float64
}

// NewDetector tunes a detector against a baseline distribution for a board
// watching series series, each expecting perDay answers a day. ok is false
// when the baseline has no answers or no spread (all promoters, say):
// nothing then says what a change would look like.
func NewDetector(baseline Distribution, series int, perDay float64) (Detector, bool) {
	n := float64(baseline.Responses())
	if n == 0 {
		return Detector{}, false
	}
	p, d := float64(baseline.Promoters())/n, float64(baseline.Detractors())/n
	mu := p - d
	v := p + d - mu*mu
	if v <= 1e-9 {
		return Detector{}, false
	}
	sigma := math.Sqrt(v)
	k := Shift / 100 / (2 * sigma)
	guard := baselineGuard / math.Sqrt(n)
	arl := 2 * math.Max(float64(series), 1) * math.Max(perDay, 1) / DailyFalseAlarm
	return Detector{mu: mu, sigma: sigma, k: k + guard, h: thresholdFor(arl, k)}, true
}

// Threshold is h, in σ₀ units.
func (t Detector) Threshold() float64 { return t.h }

// thresholdFor inverts Siegmund's approximation: the h whose ARL₀ is arl.
func thresholdFor(arl, k float64) float64 {
	f := func(h float64) float64 {
		b := 2 * k * (h + 1.166)
		return (math.Exp(b) - b - 1) / (2 * k * k)
	}
	lo, hi := 0.0, 1.0
	for f(hi) < arl {
		hi *= 2
	}
	for range 100 {
		mid := (lo + hi) / 2
		if f(mid) < arl {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// CUSUM is the state of one series' two detectors.
type CUSUM struct {
	Down, Up float64
}

// Step adds one bucket's answers to the statistics.
func (t Detector) Step(c CUSUM, b Distribution) CUSUM {
	n := float64(b.Responses())
	if n == 0 {
		return c
	}
	sum := float64(b.Promoters() - b.Detractors())
	worse := (n*t.mu - sum) / t.sigma // Σ (μ₀ − x)/σ₀
	c.Down = math.Max(0, c.Down+worse-t.k*n)
	c.Up = math.Max(0, c.Up-worse-t.k*n)
	return c
}

// Run returns the statistics after the buckets, oldest first.
func (t Detector) Run(buckets []Distribution) CUSUM {
	var c CUSUM
	for _, b := range buckets {
		c = t.Step(c, b)
	}
	return c
}

// Signal says which way a series has changed: −1 dropped, +1 rose, 0 no
// mark. A drop wins when both fire (it needs a supervisor first).
func (t Detector) Signal(c CUSUM) int {
	switch {
	case c.Down > t.h:
		return -1
	case c.Up > t.h:
		return 1
	}
	return 0
}
