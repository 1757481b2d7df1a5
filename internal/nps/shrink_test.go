package nps

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// gamma draws from Gamma(shape, 1) (Marsaglia and Tsang 2000).
func gamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(rng, shape+1) * math.Pow(rng.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// dirichlet draws class shares from Dirichlet(m·mean).
func dirichlet(rng *rand.Rand, m float64, mean [3]float64) [3]float64 {
	var g [3]float64
	var sum float64
	for k := range 3 {
		g[k] = gamma(rng, m*mean[k])
		sum += g[k]
	}
	for k := range 3 {
		g[k] /= sum
	}
	return g
}

// draw returns n answers with class shares θ, as a distribution (10 for a
// promoter, 7 for a passive, 0 for a detractor).
func draw(rng *rand.Rand, n int, theta [3]float64) Distribution {
	var d Distribution
	for range n {
		u := rng.Float64()
		switch {
		case u < theta[0]:
			d[10]++
		case u < theta[0]+theta[1]:
			d[7]++
		default:
			d[0]++
		}
	}
	return d
}

var center = [3]float64{0.5, 0.3, 0.2} // NPS +30

// world simulates G groups of sizes from sizes, with true shares drawn from
// Dirichlet(m·center) (m = +Inf: every group has the center's shares).
func world(rng *rand.Rand, G int, m float64, size func() int) (ds []Distribution, truth []float64) {
	for range G {
		theta := center
		if !math.IsInf(m, 1) {
			theta = dirichlet(rng, m, center)
		}
		ds = append(ds, draw(rng, size(), theta))
		truth = append(truth, 100*(theta[0]-theta[2]))
	}
	return ds, truth
}

func TestFitPriorRecoversStrength(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 15))
	const m = 50.0
	var est []float64
	for range 20 {
		ds, _ := world(rng, 300, m, func() int { return 20 + rng.IntN(280) })
		est = append(est, FitPrior(ds).Strength)
	}
	slices.Sort(est)
	med := est[len(est)/2]
	t.Logf("fitted strength: median %.1f, range %.1f..%.1f (true %.0f)", med, est[0], est[len(est)-1], m)
	if med < 0.8*m || med > 1.25*m {
		t.Fatalf("median fitted strength %.1f, want about %.0f (all: %.1f)", med, m, est)
	}
}

func TestFitPriorWithoutRealDifferences(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var weights []float64
	for range 50 {
		ds, _ := world(rng, 40, math.Inf(1), func() int { return 20 + rng.IntN(200) })
		p := FitPrior(ds)
		for _, d := range ds {
			weights = append(weights, p.Shrink(d).Weight)
		}
	}
	var mean float64
	for _, w := range weights {
		mean += w
	}
	mean /= float64(len(weights))
	t.Logf("own-data weight under no real difference: mean %.3f", mean)
	// Noise alone: the fitted prior should leave little of each group's
	// own data in its estimate (the fit is noisy, so not always none).
	if mean > 0.25 {
		t.Fatalf("groups that differ only by chance kept %.0f%% of their own data on average; want under 25%%", 100*mean)
	}
}

func TestShrinkBeatsRawAndCovers(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	var rawErr, shrunkErr float64
	var covered, total int
	var rawRank, shrunkRank float64
	for range 40 {
		ds, truth := world(rng, 30, 40, func() int { return 5 + rng.IntN(120) })
		p := FitPrior(ds)
		var raws, shrunks []float64
		for i, d := range ds {
			raw, _ := d.NPS()
			s := p.Shrink(d)
			rawErr += (raw - truth[i]) * (raw - truth[i])
			shrunkErr += (s.Estimate - truth[i]) * (s.Estimate - truth[i])
			if s.Low <= truth[i] && truth[i] <= s.High {
				covered++
			}
			total++
			raws = append(raws, raw)
			shrunks = append(shrunks, s.Estimate)
		}
		rawRank += spearman(raws, truth)
		shrunkRank += spearman(shrunks, truth)
	}
	t.Logf("squared error raw %.0f, shrunk %.0f; rank correlation raw %.3f, shrunk %.3f; coverage %.1f%%",
		rawErr, shrunkErr, rawRank/40, shrunkRank/40, 100*float64(covered)/float64(total))
	if shrunkErr >= 0.8*rawErr {
		t.Errorf("shrunk squared error %.0f, raw %.0f: want shrinkage to cut it by at least 20%%", shrunkErr, rawErr)
	}
	if shrunkRank <= rawRank {
		t.Errorf("rank correlation with the truth: shrunk %.3f, raw %.3f; want shrunk higher", shrunkRank/40, rawRank/40)
	}
	// Empirical-Bayes intervals ignore the uncertainty of the fitted prior
	// itself, so they cover a little under their level (Carlin and Louis
	// 2000, ch. 5): 90% is the floor accepted here.
	if cov := float64(covered) / float64(total); cov < 0.90 || cov > 0.99 {
		t.Errorf("95%% intervals covered the true NPS in %.1f%% of groups", 100*cov)
	}
}

func TestShrinkPullsSmallGroupsMore(t *testing.T) {
	p := Prior{Parent: Of(10, 10, 10, 10, 10, 7, 7, 7, 0, 0), Shares: center, Strength: 40}
	small := Distribution{0: 1, 10: 4}     // +60 on 5 answers
	large := Distribution{0: 100, 10: 400} // +60 on 500
	s, l := p.Shrink(small), p.Shrink(large)
	if !(s.Estimate < l.Estimate && l.Estimate < 60 && s.Estimate > 30) {
		t.Fatalf("small %+.1f, large %+.1f: both between the parent's +30 and their own +60, the small one nearer the parent", s.Estimate, l.Estimate)
	}
	// (4 + 40·0.5)/(5+40) − (1 + 40·0.2)/(45) = 24/45 − 9/45 = 1/3
	if math.Abs(s.Estimate-100.0/3) > 1e-9 {
		t.Fatalf("small group's estimate %v, want 33.33 by the posterior-mean formula", s.Estimate)
	}
	if math.Abs(s.Weight-5.0/45) > 1e-12 {
		t.Fatalf("weight %v, want 5/45", s.Weight)
	}
	if !s.InLine(30) || l.InLine(30) {
		t.Fatalf("the small group should be in line with +30 (interval %.1f..%.1f), the large one not (%.1f..%.1f)", s.Low, s.High, l.Low, l.High)
	}
}

func TestFitPriorDegenerate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		groups []Distribution
	}{
		{"none", nil},
		{"one group", []Distribution{{10: 3, 0: 1}}},
		{"empty groups", []Distribution{{}, {}}},
		{"all promoters", []Distribution{{10: 3}, {9: 40}}},
	} {
		p := FitPrior(tc.groups)
		if !math.IsInf(p.Strength, 1) {
			t.Errorf("%s: strength %v, want +Inf (nothing tells groups apart)", tc.name, p.Strength)
		}
		s := p.Shrink(Distribution{10: 1})
		if math.IsNaN(s.Estimate) || math.IsNaN(s.Low) || math.IsNaN(s.High) {
			t.Errorf("%s: NaN in %+v", tc.name, s)
		}
	}
}

// spearman is the rank correlation of x and y (no ties expected).
func spearman(x, y []float64) float64 {
	rank := func(v []float64) []float64 {
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int {
			switch {
			case v[a] < v[b]:
				return -1
			case v[a] > v[b]:
				return 1
			}
			return 0
		})
		r := make([]float64, len(v))
		for pos, i := range idx {
			r[i] = float64(pos)
		}
		return r
	}
	rx, ry := rank(x), rank(y)
	n := float64(len(x))
	var d2 float64
	for i := range rx {
		d2 += (rx[i] - ry[i]) * (rx[i] - ry[i])
	}
	return 1 - 6*d2/(n*(n*n-1))
}
