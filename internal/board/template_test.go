package board

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/store"
)

func TestTemplateParse(t *testing.T) {
	defs, err := Parse([]byte(`boards:
- name: team
  title: "Team {value}"
  for_each: team
  access: {public: true}
  privacy: {show_agents: true}
  tiles:
  - {id: nps, view: headline, window: 1h}
  - {id: channels, view: breakdown, by: channel, window: today, filters: {channel: phone}}
  - {id: agents, view: leaderboard, by: agent, window: today}
  - {id: said, view: comments}
- name: listed
  for_each: {dimension: channel, values: [sms, phone, "web chat"]}
  tiles:
  - {id: nps, view: headline, window: 1h}
`), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	team, listed := defs[0], defs[1]
	if team.ForEach == nil || team.ForEach.Dimension != store.Team || team.ForEach.Values != nil {
		t.Fatalf("team: for_each %+v, want team over the values seen", team.ForEach)
	}
	if listed.ForEach == nil || listed.ForEach.Dimension != store.Channel || !slices.Equal(listed.ForEach.Values, []string{"phone", "sms", "web chat"}) {
		t.Fatalf("listed: for_each %+v, want channel over its sorted listed values", listed.ForEach)
	}

	in := team.Instance("first line")
	if in.Name != "team/first line" || in.Title != "Team first line" || in.Template != "team" || in.Value != "first line" || in.ForEach != nil {
		t.Fatalf("instance: %q %q template %q value %q for_each %v", in.Name, in.Title, in.Template, in.Value, in.ForEach)
	}
	if !in.Public || in.Filters[store.Team] != "first line" {
		t.Fatalf("instance access %v, filters %v: want the template's access and its value as the board's filter", in.Public, in.Filters)
	}
	for _, tile := range in.Tiles {
		if tile.Filters[store.Team] != "first line" {
			t.Errorf("instance tile %s filters %v: want team=first line", tile.ID, tile.Filters)
		}
	}
	if in.Tiles[1].Filters[store.Channel] != "phone" {
		t.Errorf("the tile's own filter went missing: %v", in.Tiles[1].Filters)
	}
	// The template itself is untouched by making instances.
	for _, tile := range team.Tiles {
		if _, ok := tile.Filters[store.Team]; ok {
			t.Errorf("template tile %s got a team filter: %v", tile.ID, tile.Filters)
		}
	}
	// Screens: the template's open every board, a screen with a value
	// only its own.
	paired, err := Parse([]byte("boards:\n- {name: t, for_each: team, access: {screens: [{name: all, token_sha256: "+testHash+"}, {name: one, token_sha256: sha256:"+strings.Repeat("ab", 32)+", value: billing}]}, tiles: [{id: a, view: count, window: 1h}]}"), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	if got := paired[0].Instance("billing").Screens; len(got) != 2 || got[0].Name != "all" || got[1].Name != "one" {
		t.Errorf("billing's screens %+v, want all and one", got)
	}
	if got := paired[0].Instance("sales").Screens; len(got) != 1 || got[0].Name != "all" {
		t.Errorf("sales' screens %+v, want all only", got)
	}
	if got := listed.Instance("sms").Title; got != "listed · sms" {
		t.Errorf("title without {value}: %q", got)
	}
	// A second instance is equal to the first of the same value (the
	// broadcaster tells "changed" from "the same" by deep equality).
	if !reflect.DeepEqual(team.Instance("billing"), team.Instance("billing")) {
		t.Error("two instances of one value differ")
	}

	shipped, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(shipped, func(b Board) bool { return b.ForEach != nil }); i < 0 || shipped[i].Instance("billing").Title != "Team billing" {
		t.Error("the shipped boards have no team template titled by its team")
	}
}

func TestTemplateRejects(t *testing.T) {
	const tile = "tiles: [{id: a, view: count, window: 1h}]"
	for _, c := range []struct{ yaml, want string }{
		{"boards:\n- {name: t, for_each: region, " + tile + "}", `for_each: unknown dimension "region"`},
		{"boards:\n- {name: t, for_each: {dimension: team, values: []}, " + tile + "}", "values is empty"},
		{"boards:\n- {name: t, for_each: {dimension: team, values: [a, a]}, " + tile + "}", `value "a" is listed twice`},
		{"boards:\n- {name: t, for_each: {dimension: team, values: [\"a/b\"]}, " + tile + "}", `value "a/b" may hold only`},
		{"boards:\n- {name: t, for_each: {dimension: team, values: [\" a\"]}, " + tile + "}", `must not start or end with a space`},
		{"boards:\n- {name: t, for_each: {dimension: team, valuez: [a]}, " + tile + "}", "field valuez not found"},
		{"boards:\n- {name: t, for_each: team, filters: {team: billing}, " + tile + "}", "filters team, which for_each sets"},
		{"boards:\n- {name: t, for_each: team, tiles: [{id: a, view: count, window: 1h, filters: {team: sales}}]}", "tile a filters team=sales"},
		{"boards:\n- {name: t, for_each: team, tiles: [{id: a, view: breakdown, by: team, window: 1h}]}", "tile a breaks down by team"},
		{"boards:\n- {name: t, for_each: agent, " + tile + "}", "for_each: agent puts agent names"},
		{"boards:\n- {name: t, access: {screens: [{name: tv, token_sha256: " + testHash + ", value: a}]}, " + tile + "}", "only for a template's screens"},
		{"boards:\n- {name: t, for_each: team, access: {screens: [{name: tv, token_sha256: " + testHash + ", value: \"a/b\"}]}, " + tile + "}", `screen tv: value "a/b"`},
		{"boards:\n- {name: t, for_each: {dimension: team, values: [a]}, access: {screens: [{name: tv, token_sha256: " + testHash + ", value: b}]}, " + tile + "}", `value "b" is not one of for_each's values`},
		// The default rollups have (team, agent) but no (segment, team).
		{"boards:\n- {name: t, for_each: team, tiles: [{id: a, view: breakdown, by: segment, window: 1h}]}", "tile a, filtered by team for each board"},
	} {
		_, err := Parse([]byte(c.yaml), store.DefaultSchema(), store.DefaultRollups())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  err = %v, want it to mention %q", c.yaml, err, c.want)
		}
	}
	// A template over a dimension no rollup groups by cannot find its values.
	_, err := Parse([]byte("boards:\n- {name: t, for_each: segment, "+tile+"}"), store.DefaultSchema(), []store.Rollup{store.MustRollup()})
	if err == nil || !strings.Contains(err.Error(), "finding its values") {
		t.Errorf("template over an unrolled dimension: %v", err)
	}
}

func TestURLPath(t *testing.T) {
	for name, want := range map[string]string{
		"floor":           "/boards/floor",
		"team/billing":    "/boards/team/billing",
		"team/first line": "/boards/team/first%20line",
		"team/a@b.c_d-e":  "/boards/team/a@b.c_d-e",
	} {
		if got := URLPath(name); got != want {
			t.Errorf("URLPath(%q) = %q, want %q", name, got, want)
		}
		if got := LivePath(name); got != want+"/live" {
			t.Errorf("LivePath(%q) = %q", name, got)
		}
	}
}
