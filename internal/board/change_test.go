package board

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

// week returns a week of answers before the last hour, 20 an hour, drawn
// with promoter, passive and detractor shares 50/30/20 (NPS +30), and then
// n answers in the last hour drawn with shares now.
func week(rng *rand.Rand, n int, now [3]float64) []store.Response {
	draw := func(theta [3]float64) int {
		u := rng.Float64()
		switch {
		case u < theta[0]:
			return 10
		case u < theta[0]+theta[1]:
			return 7
		}
		return 2
	}
	var rs []store.Response
	for i := range 7 * 24 * 20 {
		ago := time.Hour + time.Duration(i)*3*time.Minute
		rs = append(rs, answer(fmt.Sprintf("w%d", i), draw([3]float64{0.5, 0.3, 0.2}), "billing", "Ana", "phone", ago, ""))
	}
	for i := range n {
		ago := time.Duration(i) * time.Hour / time.Duration(n+1)
		rs = append(rs, answer(fmt.Sprintf("h%d", i), draw(now), "billing", "Ana", "phone", ago, ""))
	}
	return rs
}

// TestChangeMark: a headline's change is its window against the seven days
// before, marked by the sequential detector only when the answers really
// moved, in the direction of the delta.
func TestChangeMark(t *testing.T) {
	b := Board{Name: "b", Tiles: []Tile{{ID: "h", View: Headline, Window: window.Rolling1h}}}
	for _, tc := range []struct {
		name  string
		n     int
		now   [3]float64
		mark  bool
		minus bool
	}{
		{"as usual", 120, [3]float64{0.5, 0.3, 0.2}, false, false},
		{"a collapse", 120, [3]float64{0.2, 0.3, 0.5}, true, true},
		{"a surge", 120, [3]float64{0.85, 0.1, 0.05}, true, false},
		{"a dip on a handful", 4, [3]float64{0, 0, 1}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			agg, comp, now := fixture(t, week(rand.New(rand.NewPCG(4, uint64(tc.n))), tc.n, tc.now))
			v, err := comp.Compute(b, agg, now)
			if err != nil {
				t.Fatal(err)
			}
			c := tileByID(t, v, "h").Change
			if c == nil {
				t.Fatal("no change on a 1h headline with a week before it")
			}
			if c.Against != "last 7 days" {
				t.Errorf("against %q", c.Against)
			}
			if c.Significant != tc.mark {
				t.Errorf("%s: significant %v (delta %s), want %v", tc.name, c.Significant, c.Delta, tc.mark)
			}
			if tc.mark && (c.Delta[0] == '+') == tc.minus {
				t.Errorf("%s: delta %s", tc.name, c.Delta)
			}
		})
	}
}

// TestChangeSteps: the detector's steps partition the window exactly, whole
// hours first, then the last hour's minutes.
func TestChangeSteps(t *testing.T) {
	rs := week(rand.New(rand.NewPCG(1, 1)), 50, [3]float64{0.5, 0.3, 0.2})
	agg, comp, now := fixture(t, rs)
	for _, w := range []window.Window{window.Rolling15m, window.Rolling1h, window.Rolling8h} {
		tile := Tile{ID: "h", View: Headline, Window: w}
		span := comp.Calendar.Span(w, now)
		steps, err := comp.steps(tile, agg, span)
		if err != nil {
			t.Fatal(err)
		}
		whole, err := comp.total(tile, agg, span)
		if err != nil {
			t.Fatal(err)
		}
		if got := nps.Pool(steps...); got != whole {
			t.Errorf("%s: steps add up to %v, the window holds %v", w.Name, got, whole)
		}
		wantSteps := min(int(w.Length/time.Minute), 60) + int(max(w.Length-time.Hour, 0)/time.Hour)
		if len(steps) != wantSteps {
			t.Errorf("%s: %d steps, want %d", w.Name, len(steps), wantSteps)
		}
	}
}

// TestLeaderboardShrinkage: a leaderboard ranks what the data can tell
// apart and groups the rest as in line with the team.
func TestLeaderboardShrinkage(t *testing.T) {
	b := Board{Name: "b", Tiles: []Tile{{ID: "l", View: Leaderboard, By: store.Agent, Window: window.Rolling8h, Top: 20}}}
	rows := func(t *testing.T, rs []store.Response) []Row {
		agg, comp, now := fixture(t, rs)
		v, err := comp.Compute(b, agg, now)
		if err != nil {
			t.Fatal(err)
		}
		return tileByID(t, v, "l").Rows
	}
	t.Run("agents with offers or CSAT alone have no row", func(t *testing.T) {
		rs := []store.Response{
			answer("a1", 9, "billing", "Ana", "phone", time.Minute, ""),
			{ID: "o1", Kind: store.KindOffer, Score: store.NoScore, At: storetest.Start.Add(-time.Minute), AtGiven: true,
				Dims: store.Dims{Channel: "phone", Team: "billing", Agent: "Ben"}},
			{ID: "c1", Score: store.NoScore, CSAT: 5, At: storetest.Start.Add(-time.Minute), AtGiven: true,
				Dims: store.Dims{Channel: "phone", Team: "billing", Agent: "Cy"}},
		}
		if got := rows(t, rs); len(got) != 1 || got[0].Label != "Ana" {
			t.Errorf("rows %+v, want Ana's alone", got)
		}
	})
	t.Run("noise only", func(t *testing.T) {
		// Twelve agents whose answers come from one and the same mix: any
		// order among them is noise.
		rng := rand.New(rand.NewPCG(12, 30))
		var rs []store.Response
		for a := range 12 {
			for i := range 30 {
				score := []int{10, 10, 10, 10, 10, 8, 8, 8, 3, 3}[rng.IntN(10)]
				rs = append(rs, answer(fmt.Sprintf("%d-%d", a, i), score, "billing", fmt.Sprintf("agent %02d", a), "phone", time.Duration(i)*time.Minute, ""))
			}
		}
		inLine := 0
		for _, r := range rows(t, rs) {
			if r.InLine {
				inLine++
			}
			if r.Estimate == "" || r.Interval == "" {
				t.Errorf("%s: no estimate or interval", r.Label)
			}
		}
		if inLine < 11 {
			t.Errorf("%d of 12 agents with the same mix shown in line with the team; want at least 11", inLine)
		}
	})
	t.Run("three perfect answers do not top three hundred good ones", func(t *testing.T) {
		var rs []store.Response
		for i := range 3 {
			rs = append(rs, answer(fmt.Sprintf("lucky%d", i), 10, "billing", "Lucky", "phone", time.Minute, ""))
		}
		for i := range 300 { // +40
			rs = append(rs, answer(fmt.Sprintf("steady%d", i), []int{10, 10, 10, 10, 10, 10, 8, 8, 2, 2}[i%10], "billing", "Steady", "phone", time.Minute, ""))
		}
		for i := range 300 { // −20
			rs = append(rs, answer(fmt.Sprintf("low%d", i), []int{10, 8, 8, 2, 2}[i%5], "billing", "Struggling", "phone", time.Minute, ""))
		}
		got := ""
		for _, r := range rows(t, rs) {
			got += fmt.Sprintf("%d:%s:%v ", r.Rank, r.Label, r.InLine)
		}
		if want := "1:Steady:false 0:Lucky:true 2:Struggling:false "; got != want {
			t.Errorf("leaderboard\n got %s\nwant %s", got, want)
		}
	})
}
