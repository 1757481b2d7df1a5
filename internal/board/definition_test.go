package board

import (
	"strings"
	"testing"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

func TestShippedBoardsParse(t *testing.T) {
	boards, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(Names(boards), ","); got != "floor,supervisor,team,team-billing" {
		t.Fatalf("boards %s", got)
	}
	team := boards[2]
	for _, tile := range team.Tiles {
		if tile.Filters[store.Team] != "billing" {
			t.Errorf("team board tile %s lacks the board filter: %v", tile.ID, tile.Filters)
		}
	}
	floor := boards[0]
	if floor.Tiles[0].Window != window.Rolling1h || floor.Tiles[0].ShowAgents || !floor.Tiles[0].Redact {
		t.Errorf("floor tile 0: %+v", floor.Tiles[0])
	}
}

func TestParseRejects(t *testing.T) {
	cases := []struct{ yaml, want string }{
		{`boards: []`, "no boards"},
		{"boards:\n- {name: Floor, tiles: [{id: a, view: count, window: 1h}]}", "name \"Floor\""},
		{"boards:\n- {name: f, tiles: [{id: a, view: gauge, window: 1h}]}", `view "gauge"`},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, window: 3h}]}", `unknown window "3h"`},
		{"boards:\n- {name: f, tiles: [{id: a, view: count}]}", "window is required"},
		{"boards:\n- {name: f, tiles: [{id: a, view: breakdown, by: agent, window: 1h}]}", "does not allow agent names"},
		{"boards:\n- {name: f, filters: {team: x}, tiles: [{id: a, view: breakdown, by: segment, window: 1h}]}", "no configured rollup"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, window: 1h}, {id: a, view: count, window: 1h}]}", "used twice"},
		{"boards:\n- {name: f, tiles: [{id: a, view: trend, window: 7d, step: hour}]}", "step hour"},
		{"boards:\n- {name: f, tiles: [{id: a, view: trend, window: 1h, step: day}]}", "step day"},
		{"boards:\n- {name: f, tiles: [{id: a, view: trend, window: last_month, step: day}]}", "step day"},
		{"boards:\n- {name: f, tiles: [{id: a, view: leaderboard, by: team, window: 1h, order: middle}]}", "order"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, window: 1h, colour: red}]}", "field colour not found"},
		{"boards:\n- {name: f, thresholds: {good: 0, poor: 10}, tiles: [{id: a, view: count, window: 1h}]}", "poor (10) is above good (0)"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, window: 1h}]}\n- {name: f, tiles: [{id: a, view: count, window: 1h}]}", "defined twice"},
		{"boards:\n- {name: f, access: {screens: [{name: tv, token_sha256: abc}]}, tiles: [{id: a, view: count, window: 1h}]}", "screen tv: token_sha256: want sha256:"},
		{"boards:\n- {name: f, access: {screens: [{name: TV!, token_sha256: " + testHash + "}]}, tiles: [{id: a, view: count, window: 1h}]}", `screen 1: name "TV!"`},
		{"boards:\n- {name: f, access: {screens: [{name: a, token_sha256: " + testHash + "}, {name: b, token_sha256: " + testHash + "}]}, tiles: [{id: a, view: count, window: 1h}]}", "used twice on this board"},
		{"boards:\n- {name: f, access: {open: true}, tiles: [{id: a, view: count, window: 1h}]}", "field open not found"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, window: 1h, from: '2026-12-01T08:00:00Z'}]}", "window: cannot be combined with from/to"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, to: '2026-12-01T08:00:00Z'}]}", "from: missing"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, from: '2026-12-01T08:00:30Z'}]}", "from: 2026-12-01T08:00:30Z is not on a whole minute"},
		{"boards:\n- {name: f, tiles: [{id: a, view: count, from: '2026-12-01T08:00:00Z', to: '2026-12-01T07:00:00Z'}]}", "to: 2026-12-01T07:00:00Z is not after from"},
		{"boards:\n- {name: f, tiles: [{id: a, view: trend, from: '2026-12-01T08:00:00Z'}]}", "a trend needs a window"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.yaml), store.DefaultSchema(), store.DefaultRollups())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n  err = %v, want it to mention %q", c.yaml, err, c.want)
		}
	}
}

// testHash is the display token "lobby-tv-token-0123"'s hash.
var testHash = auth.HashOf("lobby-tv-token-0123").String()

func TestAccess(t *testing.T) {
	boards, err := Parse([]byte("boards:\n- {name: f, access: {public: true, screens: [{name: lobby, token_sha256: "+testHash+"}]}, tiles: [{id: a, view: count, window: 1h}]}\n- {name: g, tiles: [{id: a, view: count, window: 1h}]}"), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	f, g := boards[0], boards[1]
	if !f.Public || len(f.Screens) != 1 || f.Screens[0].Name != "lobby" || f.Screens[0].Hash != auth.HashOf("lobby-tv-token-0123") {
		t.Errorf("board f access: %v %+v", f.Public, f.Screens)
	}
	if g.Public || len(g.Screens) != 0 {
		t.Errorf("board g is private with no screens by default: %v %+v", g.Public, g.Screens)
	}
}
