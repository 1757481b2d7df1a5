package board

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/themes"
	"github.com/pulseboard/pulseboard/internal/window"
)

// themeComments are what customers write: no theme, one, several, a
// negated one, other languages, no comment at all.
var themeComments = []string{
	"",
	"",
	"fine",
	"I waited on hold for ages",
	"the agent was rude and transferred me twice",
	"not rude at all, very helpful",
	"charged twice on my bill, still waiting for a refund",
	"nobody called me back",
	"esperé mucho tiempo en la cola",
	"Rechnung falsch, unfreundlich am Telefon",
	"great service, thank you",
	"still not fixed after three calls",
}

// TestThemesTileAgainstBruteForce records random answers, some of them
// sent again with another score and comment, into a real engine matching
// the default dictionary, and checks every row of themes tiles (with and
// without a filter) against a count over the latest version of each
// answer: the classes per theme, N, the impact 100·D/N, the label, the
// order.
func TestThemesTileAgainstBruteForce(t *testing.T) {
	dict, err := themes.New(themes.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(17, 4))
	teams := []string{"alpha", "bravo", "charlie"}
	var rs []store.Response
	latest := map[string]store.Response{}
	for i := range 1500 {
		r := answer(fmt.Sprintf("a%d", i), rng.IntN(11), teams[rng.IntN(len(teams))], "", "phone",
			time.Duration(rng.IntN(110))*time.Minute, themeComments[rng.IntN(len(themeComments))])
		r.Version = 1
		rs = append(rs, r)
		latest[r.ID] = r
		if rng.IntN(8) == 0 {
			// A corrected answer: another score and comment, the same id.
			r.Version, r.Score, r.Comment = 2, rng.IntN(11), themeComments[rng.IntN(len(themeComments))]
			rs = append(rs, r)
			latest[r.ID] = r
		}
	}
	agg, comp, now := fixtureWith(t, rs, func(o *store.Options) { o.Themes = dict.Names })
	comp.Labels = dict.Label
	b := Board{Name: "b", Tiles: []Tile{
		{ID: "all", View: Themes, Window: window.Rolling1h},
		{ID: "bravo", View: Themes, Window: window.Rolling1h, Filters: map[store.Dimension]string{store.Team: "bravo"}},
		{ID: "today", View: Themes, Window: window.Today, Filters: map[store.Dimension]string{store.Team: "alpha"}},
	}}
	v, err := comp.Compute(b, agg, now)
	if err != nil {
		t.Fatal(err)
	}
	// A template's board shows what a tile filtered by hand to its value
	// shows.
	tpl, err := Parse([]byte(`boards:
  - name: team
    for_each: team
    tiles:
      - {id: why, view: themes, window: 1h}
`), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	inst, err := comp.Compute(tpl[0].Instance("bravo"), agg, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tileByID(t, inst, "why").Themes, tileByID(t, v, "bravo").Themes; !reflect.DeepEqual(got, want) {
		t.Errorf("team/bravo's themes tile %+v, want %+v", got, want)
	}
	for _, tile := range b.Tiles {
		span := comp.Calendar.Span(tile.Window, now)
		var n int64
		per := map[string]nps.Distribution{}
		for _, r := range latest {
			if !span.Contains(r.At) || (tile.Filters[store.Team] != "" && r.Dims.Team != tile.Filters[store.Team]) {
				continue
			}
			n++
			for _, name := range dict.Names(r.Comment) {
				per[name] = per[name].Add(nps.Of(r.Score))
			}
		}
		tv := tileByID(t, v, tile.ID)
		got := tv.Themes
		if got == nil {
			t.Fatalf("%s: no themes view", tile.ID)
		}
		if got.Responses != n || n == 0 {
			t.Errorf("%s: N %d, want %d (and not 0)", tile.ID, got.Responses, n)
		}
		if len(got.Themes) != len(per) || len(per) < 5 || tv.Empty {
			t.Errorf("%s: %d themes (empty %v), want %d (at least 5)", tile.ID, len(got.Themes), tv.Empty, len(per))
		}
		for i, r := range got.Themes {
			want := per[r.Name]
			if r.Detractors != want.Detractors() || r.Passives != want.Passives() || r.Promoters != want.Promoters() {
				t.Errorf("%s %s: %d/%d/%d detractors/passives/promoters, want %d/%d/%d", tile.ID, r.Name,
					r.Detractors, r.Passives, r.Promoters, want.Detractors(), want.Passives(), want.Promoters())
			}
			if impact := 100 * float64(want.Detractors()) / float64(n); math.Abs(r.Impact-impact) > 1e-9 || r.Points != FormatImpact(impact) {
				t.Errorf("%s %s: impact %v (%s), want %v", tile.ID, r.Name, r.Impact, r.Points, impact)
			}
			// The impact is what the scope's NPS would gain with the theme's
			// detractors as passives.
			var all nps.Distribution
			for _, a := range latest {
				if span.Contains(a.At) && (tile.Filters[store.Team] == "" || a.Dims.Team == tile.Filters[store.Team]) {
					all = all.Add(nps.Of(a.Score))
				}
			}
			before, _ := all.NPS()
			after := before + 100*float64(want.Detractors())/float64(all.Responses())
			if math.Abs(after-before-r.Impact) > 1e-9 {
				t.Errorf("%s %s: impact %v, but the NPS would gain %v", tile.ID, r.Name, r.Impact, after-before)
			}
			if r.Label != dict.Label(r.Name) || r.Label == "" {
				t.Errorf("%s %s: label %q, want %q", tile.ID, r.Name, r.Label, dict.Label(r.Name))
			}
			if i > 0 && r.Impact > got.Themes[i-1].Impact {
				t.Errorf("%s: %s (%v) after %s (%v): not the costliest first", tile.ID, r.Name, r.Impact, got.Themes[i-1].Name, got.Themes[i-1].Impact)
			}
		}
	}
}

// TestThemesTileEmpty: answers without a theme make an empty tile that
// still counts them; no answers at all, too; without labels the names show.
func TestThemesTileEmpty(t *testing.T) {
	dict, err := themes.New(themes.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rs := []store.Response{
		answer("1", 2, "alpha", "", "phone", 5*time.Minute, "fine"),
		answer("2", 9, "alpha", "", "phone", 6*time.Minute, ""),
		answer("3", 1, "bravo", "", "phone", 7*time.Minute, "nobody called me back"),
	}
	agg, comp, now := fixtureWith(t, rs, func(o *store.Options) { o.Themes = dict.Names })
	b := Board{Name: "b", Tiles: []Tile{
		{ID: "alpha", View: Themes, Window: window.Rolling1h, Filters: map[store.Dimension]string{store.Team: "alpha"}},
		{ID: "nobody", View: Themes, Window: window.Rolling1h, Filters: map[store.Dimension]string{store.Team: "zulu"}},
		{ID: "bravo", View: Themes, Window: window.Rolling1h, Filters: map[store.Dimension]string{store.Team: "bravo"}},
	}}
	v, err := comp.Compute(b, agg, now)
	if err != nil {
		t.Fatal(err)
	}
	if tv := tileByID(t, v, "alpha"); !tv.Empty || tv.Themes == nil || tv.Themes.Responses != 2 || len(tv.Themes.Themes) != 0 {
		t.Errorf("alpha, answers without a theme: %+v %+v", tv, tv.Themes)
	}
	if tv := tileByID(t, v, "nobody"); !tv.Empty || tv.Themes == nil || tv.Themes.Responses != 0 {
		t.Errorf("no answers: %+v", tv)
	}
	tv := tileByID(t, v, "bravo")
	if tv.Empty || len(tv.Themes.Themes) != 1 {
		t.Fatalf("bravo: %+v", tv.Themes)
	}
	if r := tv.Themes.Themes[0]; r.Name != "callbacks" || r.Label != "callbacks" || r.Impact != 100 || r.Points != "−100.0" {
		t.Errorf("bravo's one detractor, all its answers, no labels: %+v", r)
	}
}

func TestFormatImpact(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 4.24: "−4.2", 0.05: "−0.1", 0.049: "−0.05", 0.004: "−<0.01", 12.96: "−13.0"} {
		if got := FormatImpact(in); got != want {
			t.Errorf("FormatImpact(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestParseThemesTile: a themes tile needs rollups over theme and over its
// filters without theme; it may not filter by theme, nor be part of a
// template over theme; in a template, the instance's filter must be
// covered too.
func TestParseThemesTile(t *testing.T) {
	schema := store.DefaultSchema()
	rollups := store.DefaultRollups()
	ok := `boards:
  - name: b
    filters: {team: billing}
    tiles:
      - {id: why, view: themes, window: today}
  - name: t
    for_each: team
    tiles:
      - {id: why, view: themes, window: 8h, size: 2x1}
`
	bs, err := Parse([]byte(ok), schema, rollups)
	if err != nil {
		t.Fatal(err)
	}
	if tl := bs[0].Tiles[0]; tl.View != Themes || tl.Cols != 1 || tl.Rows != 2 {
		t.Errorf("tile %+v: want a themes tile of the default size 1x2", tl)
	}
	for _, c := range []struct{ name, yaml, want string }{
		{"no rollup over channel and theme", `boards:
  - name: b
    tiles:
      - {id: why, view: themes, window: today, filters: {channel: phone}}
`, `tile 1 (why): counting the themes of its answers needs a rollup over theme and its filters' dimensions`},
		{"a filter by theme", `boards:
  - name: b
    filters: {theme: billing}
    tiles:
      - {id: why, view: themes, window: today}
`, `tile 1 (why): filters by theme, but a themes tile shows every theme`},
		{"a by", `boards:
  - name: b
    tiles:
      - {id: why, view: themes, window: today, by: team}
`, `by is only for`},
		{"a template over theme", `boards:
  - name: b
    for_each: {dimension: theme, values: [billing]}
    tiles:
      - {id: why, view: themes, window: today}
`, `tile why shows every theme, but for_each theme`},
		{"a template over channel", `boards:
  - name: b
    for_each: {dimension: channel, values: [phone]}
    tiles:
      - {id: why, view: themes, window: today}
`, `tile why, filtered by channel for each board: counting the themes`},
	} {
		_, err := Parse([]byte(c.yaml), schema, rollups)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// Without a rollup over its filters alone, N cannot be counted.
	only := []store.Rollup{store.MustRollup(), store.MustRollup(store.Theme), store.MustRollup(store.Team, store.Theme)}
	_, err = Parse([]byte(`boards:
  - name: b
    tiles:
      - {id: why, view: themes, window: today, filters: {team: billing}}
`), schema, only)
	if err == nil || !strings.Contains(err.Error(), "the impact's denominator") {
		t.Errorf("no rollup over team alone: %v", err)
	}
}
