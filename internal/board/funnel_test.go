package board

import (
	"fmt"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// TestFunnelTile: every group is placed against the limits of the pooled
// parent at its own n, by the same arithmetic as nps.Funnel.
func TestFunnelTile(t *testing.T) {
	var rs []store.Response
	add := func(team string, n int, scores []int) {
		for i := range n {
			rs = append(rs, answer(fmt.Sprintf("%s%d", team, i), scores[i%len(scores)], team, "", "phone", time.Duration(i%50)*time.Minute, ""))
		}
	}
	add("typical", 400, []int{10, 10, 10, 10, 10, 8, 8, 8, 2, 2})  // +30
	add("steady", 400, []int{10, 10, 10, 10, 10, 8, 8, 2, 2, 8})   // +30
	add("poor", 300, []int{10, 10, 8, 8, 8, 2, 2, 2, 2, 2})        // −30
	add("great", 300, []int{10, 10, 10, 10, 10, 10, 10, 10, 8, 2}) // +70
	add("tiny", 4, []int{2})                                       // −100 on 4
	agg, comp, now := fixture(t, rs)
	b := Board{Name: "b", Tiles: []Tile{{ID: "f", View: Funnel, By: store.Team, Window: window.Rolling1h}}}
	v, err := comp.Compute(b, agg, now)
	if err != nil {
		t.Fatal(err)
	}
	f := tileByID(t, v, "f").Funnel
	if f == nil {
		t.Fatal("no funnel")
	}
	var parent nps.Distribution
	got := map[string]string{}
	for _, p := range f.Points {
		got[p.Label] = p.Position
	}
	groups, _ := agg.Query(store.Query{By: []store.Dimension{store.Team}, Span: comp.Calendar.Span(window.Rolling1h, now)})
	for _, g := range groups {
		parent = parent.Add(g.Counts)
	}
	ref, _ := nps.NewFunnel(parent)
	for _, g := range groups {
		if want := positionName(ref.Place(g.Counts)); got[g.Key[store.Team]] != want {
			t.Errorf("%s: %s, want %s", g.Key[store.Team], got[g.Key[store.Team]], want)
		}
	}
	if got["poor"] != "far-below" || got["great"] != "far-above" || got["tiny"] == "far-below" {
		t.Errorf("positions %v: poor far below, great far above, tiny (4 answers) not far below", got)
	}
	if f.Below < 1 || f.Above < 1 || f.Points[0].Responses < f.Points[len(f.Points)-1].Responses {
		t.Errorf("below %d, above %d, points %+v", f.Below, f.Above, f.Points)
	}
	for i := 1; i < len(f.Limits); i++ {
		a, b := f.Limits[i-1], f.Limits[i]
		if b.N <= a.N || b.High95-b.Low95 > a.High95-a.Low95+1e-9 || b.Low998 > b.Low95 {
			t.Fatalf("limits do not narrow with n: %+v then %+v", a, b)
		}
	}
}
