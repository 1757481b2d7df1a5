package nps

// Round is the rounding of every published figure (Decimals places,
// halves away from zero, never −0), for figures computed outside this
// package that are published beside NPS: CSAT and response-rate
// percentages.
func Round(x float64) float64 { return round(x) }
