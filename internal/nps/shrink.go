package nps

import "math"

// Shrinkage ranks groups (agents of a team, teams of a center) without
// ranking their noise. Each group's promoter, passive and detractor shares
// are pulled towards its parent's in proportion to how little the group's
// own sample says: the empirical-Bayes posterior mean under a Dirichlet
// prior centred on the parent, whose strength is fitted from the groups
// themselves.
//
// Model (a Dirichlet-multinomial, as in Kleinman 1973 for the binomial
// case, and the empirical-Bayes reading of Casella 1985, "An Introduction to
// Empirical Bayes Data Analysis", The American Statistician 39(2)):
//
//   - group i has true shares θᵢ = (promoter, passive, detractor) drawn
//     from Dirichlet(M·p̄), p̄ the parent's pooled shares;
//   - its nᵢ answers are multinomial(nᵢ, θᵢ).
//
// Then the intra-class correlation is ρ = 1/(1+M), and the method of
// moments of one-way ANOVA estimates it from the weighted spread of the
// groups' shares around the parent:
//
//	S  = Σₖ Σᵢ nᵢ (p̂ᵢₖ − p̄ₖ)² / (G − 1)
//	n₀ = (N − Σᵢ nᵢ² / N) / (G − 1)
//	ρ̂ = (S / Σₖ p̄ₖ(1 − p̄ₖ) − 1) / (n₀ − 1),  clipped to [0, 1)
//
// (E[S] = Σₖ p̄ₖ(1−p̄ₖ)·(1 + (n₀−1)ρ) under the model.) M̂ = 1/ρ̂ − 1, and
// the posterior shares of group i are
//
//	θ̃ᵢₖ = (xᵢₖ + M̂ p̄ₖ) / (nᵢ + M̂)
//
// so the shrunk NPS is 100·(θ̃ᵢ,promoter − θ̃ᵢ,detractor), a weighted mean of
// the group's own NPS (weight nᵢ/(nᵢ+M̂)) and the parent's. Its 95% interval
// is normal on the posterior variance of θ_P − θ_D:
//
//	Var = (θ̃_P + θ̃_D − (θ̃_P − θ̃_D)²) / (nᵢ + M̂ + 1).
//
// When the groups vary no more than sampling alone explains (ρ̂ = 0), every
// group is shrunk all the way to the parent: the data cannot tell them
// apart, and a ranking would order noise.

// Prior is the Dirichlet prior fitted from a set of groups.
type Prior struct {
	// Parent is the pooled distribution of the groups.
	Parent Distribution
	// Shares are the parent's promoter, passive and detractor shares.
	Shares [3]float64
	// Strength is M̂, the prior's weight in answers: a group with Strength
	// answers is pulled halfway to the parent. +Inf when the groups do not
	// vary beyond sampling noise (every group shrinks to the parent).
	Strength float64
	// ICC is ρ̂, the share of the answers' variance that lies between groups.
	ICC float64
}

// FitPrior fits the prior from groups' distributions. It needs at least two
// groups with answers; with fewer, Strength is +Inf (no evidence of any
// difference between groups).
func FitPrior(groups []Distribution) Prior {
	p := Prior{Parent: Pool(groups...), Strength: math.Inf(1)}
	n := float64(p.Parent.Responses())
	if n == 0 {
		return p
	}
	p.Shares = classShares(p.Parent)
	var G, sumN2 float64
	var spread float64
	for _, d := range groups {
		ni := float64(d.Responses())
		if ni == 0 {
			continue
		}
		G++
		sumN2 += ni * ni
		own := classShares(d)
		for k := range 3 {
			dev := own[k] - p.Shares[k]
			spread += ni * dev * dev
		}
	}
	if G < 2 {
		return p
	}
	S := spread / (G - 1)
	n0 := (n - sumN2/n) / (G - 1)
	var within float64
	for k := range 3 {
		within += p.Shares[k] * (1 - p.Shares[k])
	}
	if within == 0 || n0 <= 1 {
		return p
	}
	rho := (S/within - 1) / (n0 - 1)
	if rho <= 0 {
		return p
	}
	rho = math.Min(rho, 1-1e-9)
	p.ICC = rho
	p.Strength = 1/rho - 1
	return p
}

// classShares returns d's promoter, passive and detractor shares.
func classShares(d Distribution) [3]float64 {
	n := float64(d.Responses())
	if n == 0 {
		return [3]float64{}
	}
	return [3]float64{float64(d.Promoters()) / n, float64(d.Passives()) / n, float64(d.Detractors()) / n}
}

// Shrunk is a group's NPS estimate after shrinkage.
type Shrunk struct {
	// Estimate is the shrunk NPS, in points.
	Estimate float64
	// Low and High bound its 95% interval, clipped to [−100, 100].
	Low, High float64
	// Weight is how much of the estimate is the group's own data,
	// nᵢ/(nᵢ+M̂): 0 when shrunk all the way to the parent.
	Weight float64
}

// Shrink returns d's shrunk NPS under the prior.
func (p Prior) Shrink(d Distribution) Shrunk {
	n := float64(d.Responses())
	var post [3]float64
	var w, total float64
	if math.IsInf(p.Strength, 1) {
		post = p.Shares
		total = float64(p.Parent.Responses())
	} else {
		own := [3]float64{float64(d.Promoters()), float64(d.Passives()), float64(d.Detractors())}
		total = n + p.Strength
		for k := range 3 {
			post[k] = (own[k] + p.Strength*p.Shares[k]) / total
		}
		w = n / total
	}
	diff := post[0] - post[2]
	variance := (post[0] + post[2] - diff*diff) / (total + 1)
	margin := z95 * math.Sqrt(math.Max(variance, 0))
	return Shrunk{
		Estimate: 100 * diff,
		Low:      math.Max(-100, 100*(diff-margin)),
		High:     math.Min(100, 100*(diff+margin)),
		Weight:   w,
	}
}

// InLine reports whether the group's interval holds the parent's NPS: the
// data do not tell it apart from its team, so a leaderboard shows it as
// "in line with the team" rather than ranking it.
func (s Shrunk) InLine(parent float64) bool { return s.Low <= parent && parent <= s.High }
