// Package board turns store answers into what a screen shows: formatted
// scores, margins, sample warnings and the band a score falls in. Views
// render these and never do NPS arithmetic themselves.
package board

import (
	"fmt"
	"math"

	"github.com/pulseboard/pulseboard/internal/nps"
)

// Band is how a score reads against the center's thresholds. Views pair its
// color with its word, so it never relies on color alone.
type Band string

// The bands. None is for a group without responses.
const (
	Good  Band = "good"
	Watch Band = "watch"
	Poor  Band = "poor"
	None  Band = "none"
)

// Thresholds split scores into bands: at or above Good is good, below Poor
// is poor, in between is watch.
type Thresholds struct {
	Good float64
	Poor float64
}

// DefaultThresholds suit a typical contact center, where +30 is strong and
// below 0 means more detractors than promoters.
var DefaultThresholds = Thresholds{Good: 30, Poor: 0}

// Figure is one score ready to show. Every number in it is nps.Summary's,
// rounded as GET /api/v1/nps publishes it, and the words (score, margin,
// band) are formatted from those numbers, so a screen never contradicts
// the API: "+51" is the whole number of the API's 50.5.
type Figure struct {
	Label string `json:"label"`
	// NPS is the score as the API publishes it (two decimals), nil without
	// responses; Score is how a screen shows it.
	NPS       *float64 `json:"nps"`
	Score     string   `json:"score"`  // "+32", "−8", "—" without responses
	Margin    string   `json:"margin"` // "±11", "" without responses
	Responses int64    `json:"responses"`
	LowSample bool     `json:"low_sample"`
	Band      Band     `json:"band"`
	// Bar is the score mapped from [−100, 100] to [0, 100] for a bar width.
	Bar float64 `json:"bar"`
	// Promoters, Passives and Detractors are shares in percent (two
	// decimals).
	Promoters  float64 `json:"promoters"`
	Passives   float64 `json:"passives"`
	Detractors float64 `json:"detractors"`
}

// FigureOf formats a distribution.
func FigureOf(label string, d nps.Distribution, th Thresholds, minSample int64) Figure {
	s := nps.Summarize(d, minSample)
	f := Figure{Label: label, Responses: s.Responses, LowSample: s.LowSample, Score: "—", Band: None}
	if s.NPS == nil {
		return f
	}
	score := *s.NPS
	f.NPS = s.NPS
	f.Score = FormatScore(score)
	f.Margin = FormatMargin(*s.MOE)
	f.Bar = (score + 100) / 2
	f.Promoters, f.Passives, f.Detractors = *s.PromoterShare, *s.PassiveShare, *s.DetractorShare
	switch {
	case score >= th.Good:
		f.Band = Good
	case score < th.Poor:
		f.Band = Poor
	default:
		f.Band = Watch
	}
	return f
}

// FormatMargin writes the interval's half-width: whole points, or one
// decimal below one point (large samples), never a misleading "±0".
func FormatMargin(m float64) string {
	if m < 0.95 {
		return fmt.Sprintf("±%.1f", m)
	}
	return fmt.Sprintf("±%.0f", m)
}

// FormatScore rounds a score to a whole number with an explicit sign, the way
// NPS is quoted: "+32", "0", "−8" (a true minus sign, readable at distance).
func FormatScore(score float64) string {
	r := math.Round(score)
	switch {
	case r > 0:
		return fmt.Sprintf("+%.0f", r)
	case r < 0:
		return fmt.Sprintf("−%.0f", -r)
	default:
		return "0"
	}
}

// Word is the word shown next to a band's color.
func (b Band) Word() string {
	switch b {
	case Good:
		return "good"
	case Watch:
		return "watch"
	case Poor:
		return "poor"
	default:
		return "no data"
	}
}
