// Package nps is the Net Promoter Score arithmetic: score classes, the score
// itself, pooling, the adjusted-Wald interval, Summary (a group's figures
// rounded once for publishing), and the statistics of a wall watched all
// day: change detection (sequential.go), shrinkage (shrink.go) and funnel
// limits (funnel.go). It
// does no I/O; every figure Pulseboard shows derives from a Distribution
// through this package, and every published one through Summarize.
package nps

import "math"

// Class is the bucket a 0..10 answer falls in.
type Class int

// The three classes of the NPS question.
const (
	Detractor Class = iota // 0..6
	Passive                // 7..8
	Promoter               // 9..10
)

// MinScore and MaxScore bound a valid answer.
const (
	MinScore = 0
	MaxScore = 10
)

// ClassOf classifies a score; callers validate the range first.
func ClassOf(score int) Class {
	switch {
	case score >= 9:
		return Promoter
	case score >= 7:
		return Passive
	default:
		return Detractor
	}
}

// String names the class as the API and boards spell it.
func (c Class) String() string {
	switch c {
	case Promoter:
		return "promoter"
	case Passive:
		return "passive"
	default:
		return "detractor"
	}
}

// Distribution counts answers per score 0..10. It is the one shape stored
// per bucket and group; everything else is derived from it.
type Distribution [11]int64

// Of builds a distribution from raw scores (tests and examples).
func Of(scores ...int) Distribution {
	var d Distribution
	for _, s := range scores {
		d[s]++
	}
	return d
}

// Add returns the pooled distribution of d and o. Pooling counts, never
// averaging scores, is what makes combined NPS correct.
func (d Distribution) Add(o Distribution) Distribution {
	for i := range d {
		d[i] += o[i]
	}
	return d
}

// Pool combines any number of distributions.
func Pool(ds ...Distribution) Distribution {
	var out Distribution
	for _, d := range ds {
		out = out.Add(d)
	}
	return out
}

// Responses is the number of answers.
func (d Distribution) Responses() int64 {
	var n int64
	for _, c := range d {
		n += c
	}
	return n
}

// Promoters counts 9s and 10s.
func (d Distribution) Promoters() int64 { return d[9] + d[10] }

// Passives counts 7s and 8s.
func (d Distribution) Passives() int64 { return d[7] + d[8] }

// Detractors counts 0..6.
func (d Distribution) Detractors() int64 {
	var n int64
	for _, c := range d[:7] {
		n += c
	}
	return n
}

// Impact is the NPS points a scope of n answers would gain if the
// detractors of d (the answers mentioning a theme) had been passives:
// 100 × detractors / n.
func (d Distribution) Impact(n int64) float64 {
	if n <= 0 {
		return 0
	}
	return 100 * float64(d.Detractors()) / float64(n)
}

// NPS is 100 × (promoters − detractors) / responses, in [−100, 100]; ok is
// false when there are no responses (the score is undefined, shown "—").
func (d Distribution) NPS() (score float64, ok bool) {
	n := d.Responses()
	if n == 0 {
		return 0, false
	}
	return 100 * float64(d.Promoters()-d.Detractors()) / float64(n), true
}

// Mean is the average 0..10 answer; ok is false without responses.
func (d Distribution) Mean() (mean float64, ok bool) {
	n := d.Responses()
	if n == 0 {
		return 0, false
	}
	var sum int64
	for s, c := range d {
		sum += int64(s) * c
	}
	return float64(sum) / float64(n), true
}

// z95 is the two-sided 95% normal quantile.
const z95 = 1.96

// Interval is a 95% confidence interval for NPS.
type Interval struct {
	// Center is the adjusted estimate 100 × (p' − d'); it is pulled towards
	// zero for small samples and is not the NPS itself.
	Center float64
	// Margin is the half-width before clipping: the "±11" of "+32 ±11".
	Margin float64
	// Low and High are Center ∓ Margin clipped to [−100, 100].
	Low, High float64
}

// adjusted returns the adjusted-Wald estimate and its variance per response
// (Rocks 2016): n' = n + 3, p' = (P + ¾)/n', d' = (D + ¾)/n'.
func (d Distribution) adjusted() (diff, variance, n float64) {
	n = float64(d.Responses()) + 3
	p := (float64(d.Promoters()) + 0.75) / n
	q := (float64(d.Detractors()) + 0.75) / n
	diff = p - q
	variance = p + q - diff*diff
	return diff, variance, n
}

// CI returns the adjusted-Wald 95% interval. It is defined even for zero
// responses (the widest honest answer), but callers show it only with data.
func (d Distribution) CI() Interval {
	diff, variance, n := d.adjusted()
	margin := z95 * math.Sqrt(variance/n)
	return Interval{
		Center: 100 * diff,
		Margin: 100 * margin,
		Low:    math.Max(-100, 100*(diff-margin)),
		High:   math.Min(100, 100*(diff+margin)),
	}
}

// LowSample reports whether d has fewer responses than min, the configured
// threshold below which boards mark a group as not yet trustworthy.
func (d Distribution) LowSample(min int64) bool { return d.Responses() < min }

// DefaultMinSample is the low-sample threshold when config sets none.
const DefaultMinSample = 30
