package nps

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// decimalsOK reports whether x has at most Decimals decimals.
func decimalsOK(x float64) bool {
	scaled := x * 100
	return math.Abs(scaled-math.Round(scaled)) < 1e-6
}

// near reports whether a published figure is the exact one rounded: within
// half a unit of the last decimal (and a hair for float noise).
func near(published *float64, exact float64) bool {
	return published != nil && math.Abs(*published-exact) <= 0.005+1e-9 && decimalsOK(*published)
}

// TestSummarizeBruteForce checks Summarize against figures counted and
// computed straight from random raw answers, and against the package's
// own NPS, CI and Mean.
func TestSummarizeBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 3))
	for run := range 2000 {
		n := rng.IntN(400)
		if run%5 == 0 {
			n = rng.IntN(5) // many tiny and empty groups
		}
		// Skew some runs so all-promoter, all-detractor and lopsided
		// groups (clipped intervals, negative scores) come up.
		top := 11
		if run%7 == 0 {
			top = 7
		}
		raw := make([]int, n)
		for i := range raw {
			raw[i] = rng.IntN(top)
			if run%11 == 0 {
				raw[i] = 9 + rng.IntN(2)
			}
		}
		var pro, pas, det, sum int64
		for _, s := range raw {
			sum += int64(s)
			switch {
			case s >= 9:
				pro++
			case s >= 7:
				pas++
			default:
				det++
			}
		}
		minSample := int64(rng.IntN(60))
		d := Of(raw...)
		s := Summarize(d, minSample)

		if s.Responses != int64(n) || s.Promoters != pro || s.Passives != pas || s.Detractors != det || s.Distribution != d {
			t.Fatalf("run %d: counts %+v, want n=%d %d/%d/%d", run, s, n, pro, pas, det)
		}
		if s.LowSample != (int64(n) < minSample) {
			t.Fatalf("run %d: low_sample %v with n=%d, min %d", run, s.LowSample, n, minSample)
		}
		if n == 0 {
			if s.NPS != nil || s.MOE != nil || s.CILow != nil || s.CIHigh != nil || s.Mean != nil || s.PromoterShare != nil {
				t.Fatalf("run %d: figures without responses: %+v", run, s)
			}
			continue
		}
		fn := float64(n)
		exact := 100 * float64(pro-det) / fn
		if score, _ := d.NPS(); math.Abs(score-exact) > 1e-9 || !near(s.NPS, exact) {
			t.Fatalf("run %d: nps %v, want %v", run, *s.NPS, exact)
		}
		if !near(s.Mean, float64(sum)/fn) {
			t.Fatalf("run %d: mean %v, want %v", run, *s.Mean, float64(sum)/fn)
		}
		for _, c := range []struct {
			got  *float64
			want float64
		}{{s.PromoterShare, 100 * float64(pro) / fn}, {s.PassiveShare, 100 * float64(pas) / fn}, {s.DetractorShare, 100 * float64(det) / fn}} {
			if !near(c.got, c.want) {
				t.Fatalf("run %d: share %v, want %v", run, *c.got, c.want)
			}
		}
		// The interval from first principles (adjusted Wald, n' = n+3),
		// then against CI.
		np := fn + 3
		p, q := (float64(pro)+0.75)/np, (float64(det)+0.75)/np
		margin := 100 * 1.96 * math.Sqrt((p+q-(p-q)*(p-q))/np)
		low, high := math.Max(-100, 100*(p-q)-margin), math.Min(100, 100*(p-q)+margin)
		ci := d.CI()
		if math.Abs(ci.Margin-margin) > 1e-9 || math.Abs(ci.Low-low) > 1e-9 || math.Abs(ci.High-high) > 1e-9 {
			t.Fatalf("run %d: CI %+v, want ±%v [%v, %v]", run, ci, margin, low, high)
		}
		if !near(s.MOE, margin) || !near(s.CILow, low) || !near(s.CIHigh, high) {
			t.Fatalf("run %d: interval ±%v [%v, %v], want ±%v [%v, %v]", run, *s.MOE, *s.CILow, *s.CIHigh, margin, low, high)
		}
		if *s.CILow > *s.CIHigh || *s.CILow < -100 || *s.CIHigh > 100 {
			t.Fatalf("run %d: interval [%v, %v] out of order or range", run, *s.CILow, *s.CIHigh)
		}
		shares := s.ScoreShares()
		for i, k := range d {
			if !near(&shares[i], 100*float64(k)/fn) {
				t.Fatalf("run %d: share of %d is %v, want %v", run, i, shares[i], 100*float64(k)/fn)
			}
		}
	}
}

// TestSummarizeRounding: halves of the last decimal round away from zero,
// on both sides of zero, and a score that rounds to zero is 0, not −0.
func TestSummarizeRounding(t *testing.T) {
	withCounts := func(promoters, passives, detractors int64) Distribution {
		var d Distribution
		d[9], d[8], d[0] = promoters, passives, detractors
		return d
	}
	cases := []struct {
		name                string
		d                   Distribution
		nps, mean, pro, det float64
	}{
		// n=32: 100/32 = 3.125 exactly in binary, a true half.
		{"+3.125 rounds up", withCounts(1, 31, 0), 3.13, 8.03, 3.13, 0},
		{"−3.125 rounds down, away from zero", withCounts(0, 31, 1), -3.13, 7.75, 0, 3.13},
		// n=800: 0.125 and −0.125.
		{"+0.125", withCounts(1, 799, 0), 0.13, 8, 0.13, 0},
		{"−0.125", withCounts(0, 799, 1), -0.13, 7.99, 0, 0.13},
		// n=8: 12.5 keeps its one decimal.
		{"12.5 stays", withCounts(1, 7, 0), 12.5, 8.13, 12.5, 0},
		{"thirds", Of(0, 1, 9), -33.33, 3.33, 33.33, 66.67},
		// n=40,000, one detractor more than promoters: −0.0025 → 0.
		{"tiny negative is 0, not −0", withCounts(19999, 1, 20000), 0, 4.5, 50, 50},
		{"whole numbers", withCounts(75, 20, 5), 70, 8.35, 75, 5},
	}
	for _, c := range cases {
		s := Summarize(c.d, 30)
		if s.NPS == nil || *s.NPS != c.nps || *s.Mean != c.mean || *s.PromoterShare != c.pro || *s.DetractorShare != c.det {
			t.Errorf("%s: nps %v mean %v shares %v/%v, want %v, %v, %v/%v", c.name, *s.NPS, *s.Mean, *s.PromoterShare, *s.DetractorShare, c.nps, c.mean, c.pro, c.det)
		}
		if math.Signbit(*s.NPS) != (c.nps < 0) {
			t.Errorf("%s: nps %v has the wrong sign bit", c.name, *s.NPS)
		}
	}
	for _, c := range []struct{ in, want float64 }{
		{3.125, 3.13}, {-3.125, -3.13}, {0.375, 0.38}, {-0.375, -0.38}, {2.5, 2.5}, {-0.004, 0}, {0.004, 0}, {99.996, 100}, {-99.996, -100},
	} {
		got := round(c.in)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("round(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestSummaryJSON pins the JSON shape: GET /api/v1/nps embeds it, CSV
// export and gauges read the same names.
func TestSummaryJSON(t *testing.T) {
	cases := []struct {
		s    Summary
		want string
	}{
		{Summarize(Distribution{}, 30),
			`{"responses":0,"promoters":0,"passives":0,"detractors":0,"nps":null,"moe":null,"ci_low":null,"ci_high":null,"mean":null,"low_sample":true,"distribution":[0,0,0,0,0,0,0,0,0,0,0]}`},
		{Summarize(Of(0, 1, 9), 0),
			`{"responses":3,"promoters":1,"passives":0,"detractors":2,"nps":-33.33,"moe":68,"ci_low":-84.67,"ci_high":51.33,"mean":3.33,"low_sample":false,"distribution":[1,1,0,0,0,0,0,0,0,1,0]}`},
	}
	for _, c := range cases {
		b, err := json.Marshal(c.s)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("JSON\n got %s\nwant %s", b, c.want)
		}
	}
	if Summarize(Distribution{}, 0).LowSample {
		t.Error("no minimum sample: nothing is a low sample")
	}
	if got := Summarize(Distribution{}, 30).ScoreShares(); got != [11]float64{} {
		t.Errorf("score shares of nothing: %v", got)
	}
}
