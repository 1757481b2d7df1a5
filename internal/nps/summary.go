package nps

import "math"

// Confidence is the level of every interval Pulseboard publishes (CI's
// 1.96 is its two-sided normal quantile).
const Confidence = 0.95

// Decimals is how many decimals every published figure keeps: GET
// /api/v1/nps has always answered 38.75 and 34.48, and the other consumers
// (digests, boards, alerts, exports) agree with it to the last digit.
const Decimals = 2

// Summary is one group's figures as Pulseboard publishes them: the API's
// group, the digests' groups, the boards' figures and threshold alerts all
// read these numbers, so they agree to the last digit wherever they are
// shown. Its JSON is the group of GET /api/v1/nps (without the key).
type Summary struct {
	// Responses is n; Promoters, Passives and Detractors count the classes.
	Responses  int64 `json:"responses"`
	Promoters  int64 `json:"promoters"`
	Passives   int64 `json:"passives"`
	Detractors int64 `json:"detractors"`
	// NPS is the score, MOE the margin of its adjusted-Wald interval at
	// Confidence (before clipping), CILow and CIHigh the interval clipped
	// to [−100, 100], Mean the average 0..10 answer. All are rounded to
	// Decimals and nil without responses: the score is undefined then.
	NPS    *float64 `json:"nps"`
	MOE    *float64 `json:"moe"`
	CILow  *float64 `json:"ci_low"`
	CIHigh *float64 `json:"ci_high"`
	Mean   *float64 `json:"mean"`
	// LowSample is true below the minimum sample Summarize was given: the
	// score is shown, but marked as not yet trustworthy.
	LowSample    bool         `json:"low_sample"`
	Distribution Distribution `json:"distribution"`
	// PromoterShare, PassiveShare and DetractorShare are the classes in
	// percent of Responses, rounded to Decimals, nil without responses.
	// They are not in the JSON because GET /api/v1/nps has never carried
	// them (a client derives them from the counts); adding them there is
	// an API change to document first.
	PromoterShare  *float64 `json:"-"`
	PassiveShare   *float64 `json:"-"`
	DetractorShare *float64 `json:"-"`
}

// Summarize computes d's published figures; minSample is the threshold
// below which LowSample is set (config's min_sample, or a rule's
// min_responses).
func Summarize(d Distribution, minSample int64) Summary {
	s := Summary{
		Responses:    d.Responses(),
		Promoters:    d.Promoters(),
		Passives:     d.Passives(),
		Detractors:   d.Detractors(),
		LowSample:    d.LowSample(minSample),
		Distribution: d,
	}
	score, ok := d.NPS()
	if !ok {
		return s
	}
	ci := d.CI()
	mean, _ := d.Mean()
	s.NPS, s.MOE, s.CILow, s.CIHigh, s.Mean = rounded(score), rounded(ci.Margin), rounded(ci.Low), rounded(ci.High), rounded(mean)
	s.PromoterShare = rounded(percent(s.Promoters, s.Responses))
	s.PassiveShare = rounded(percent(s.Passives, s.Responses))
	s.DetractorShare = rounded(percent(s.Detractors, s.Responses))
	return s
}

// ScoreShares is the share of each answer 0..10 in percent, rounded like
// every published figure; all zero without responses (a histogram of
// nothing is flat).
func (s Summary) ScoreShares() [11]float64 {
	var out [11]float64
	if s.Responses == 0 {
		return out
	}
	for i, k := range s.Distribution {
		out[i] = round(percent(k, s.Responses))
	}
	return out
}

func percent(part, whole int64) float64 { return 100 * float64(part) / float64(whole) }

// round is the one rounding of published figures: to Decimals, halves away
// from zero (3.125 → 3.13, −3.125 → −3.13). It works on x·100 in floating
// point, as the API always has, so a half that binary cannot hold exactly
// (1.005 is 1.00499…) rounds the way its binary value lies.
func round(x float64) float64 {
	const scale = 100 // 10^Decimals
	r := math.Round(x*scale) / scale
	if r == 0 {
		return 0 // not −0: −0.004 is published as 0, never "-0"
	}
	return r
}

func rounded(x float64) *float64 {
	r := round(x)
	return &r
}
