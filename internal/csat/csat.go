// Package csat is the arithmetic of customer satisfaction: answers on a
// 1..5 scale, satisfied being 4 or 5, CSAT the satisfied share in percent.
// Like NPS it is computed from counts, never from averaged percentages, so
// pooled groups stay exact.
package csat

import "github.com/pulseboard/pulseboard/internal/proportion"

// Scale ends.
const (
	MinScore = 1
	MaxScore = 5
)

// Distribution counts answers by score: index 0 holds the 1s, 4 the 5s.
type Distribution [5]int64

// Of builds a distribution from raw scores (tests and examples).
func Of(scores ...int) Distribution {
	var d Distribution
	for _, s := range scores {
		d[s-1]++
	}
	return d
}

// Add returns the pooled distribution of d and o.
func (d Distribution) Add(o Distribution) Distribution {
	for i := range d {
		d[i] += o[i]
	}
	return d
}

// Answers is the number of CSAT answers.
func (d Distribution) Answers() int64 {
	var n int64
	for _, c := range d {
		n += c
	}
	return n
}

// Satisfied is the number of 4s and 5s.
func (d Distribution) Satisfied() int64 { return d[3] + d[4] }

// Share is the satisfied share of answers with its 95% interval; CSAT is
// its Value in percent (Share.Percents).
func (d Distribution) Share() proportion.Share {
	return proportion.Of(d.Satisfied(), d.Answers())
}

// Valid reports whether score is on the scale.
func Valid(score int) bool { return score >= MinScore && score <= MaxScore }
