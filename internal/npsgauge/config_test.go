package npsgauge

import (
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

func TestParseConfig(t *testing.T) {
	t.Parallel()
	rollups := store.DefaultRollups()
	got, err := ParseConfig(`
- {by: [team], window: 1h}
- {by: [journey, channel], window: 24h}
- {by: [], window: today}
- {by: team+agent, window: 24h, allow_agent: true, max_groups: 2000}
`, store.DefaultSchema(), rollups)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name string
		max  int
	}{{"team@1h", DefaultMaxGroups}, {"channel+journey@24h", DefaultMaxGroups}, {"all@today", DefaultMaxGroups}, {"team+agent@24h", 2000}}
	if len(got) != len(want) {
		t.Fatalf("got %d entries", len(got))
	}
	for i, w := range want {
		if got[i].Name() != w.name || got[i].MaxGroups != w.max {
			t.Errorf("entry %d: %s max %d, want %s max %d", i, got[i].Name(), got[i].MaxGroups, w.name, w.max)
		}
	}
	if got[1].Window != window.Rolling24h {
		t.Errorf("window %+v", got[1].Window)
	}
	// JSON, as the environment gives it.
	if got, err := ParseConfig(`[{"by":["channel"],"window":"15m"}]`, store.DefaultSchema(), rollups); err != nil || len(got) != 1 || got[0].Name() != "channel@15m" {
		t.Errorf("JSON: %v %v", got, err)
	}
	for _, empty := range []string{"", "[]", "null"} {
		if got, err := ParseConfig(empty, store.DefaultSchema(), rollups); err != nil || got != nil {
			t.Errorf("%q: %v %v, want nil", empty, got, err)
		}
	}
}

func TestParseConfigRejects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{`[{by: [team], window: 1h}, {by: [channel, agent], window: 1h}]`,
			"[1].by: no rollup channel+agent; rollups are all, channel, segment, team, agent, channel+team, team+agent, journey, channel+journey"},
		{`[{by: [region], window: 1h}]`, "[0].by: rollup \"region\": "},
		{`[{by: [team], window: 3h}]`, `[0].window: unknown window "3h"`},
		{`[{by: [team]}]`, "[0].window: missing"},
		{`[{window: 1h}]`, "[0].by: missing"},
		{`[{by: [agent], window: 1h}]`, "[0].by: agent has the agent dimension: one series per agent, and agent names on /metrics; add allow_agent: true"},
		{`[{by: [team, agent], window: 1h, allow_agent: false}]`, "[0].by: team+agent has the agent dimension"},
		{`[{by: [team], window: 1h, max_groups: 0}]`, "[0].max_groups: must be 1 to 5000"},
		{`[{by: [team], window: 1h, max_groups: 5001}]`, "[0].max_groups: must be 1 to 5000"},
		{`[{by: [team], window: 1h}, {by: team, window: 1h}]`, "[1]: by team over 1h is already entry [0]"},
		{`[{by: [team], window: 1h, max_groups: 5000}, {by: [channel], window: 1h, max_groups: 5000}, {by: [segment], window: 1h, max_groups: 1}]`,
			"[2].max_groups: the entries' max_groups add up to more than 10000 groups"},
		{`[{by: [team], window: 1h, colour: red}]`, "field colour not found"},
		{`{by: [team], window: 1h}`, "must be a list of {by: [dimensions], window: NAME} entries"},
		{`[{by: [team, 3], window: 1h}]`, "[0].by: 3 is not a dimension name"},
		{`[{by: {team: x}, window: 1h}]`, "[0].by: must be a list of dimensions"},
	} {
		_, err := ParseConfig(tc.text, store.DefaultSchema(), store.DefaultRollups())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant %q", tc.text, err, tc.want)
		}
	}
	many := strings.Repeat("- {by: [team], window: 1h}\n", MaxEntries+1)
	if _, err := ParseConfig(many, store.DefaultSchema(), store.DefaultRollups()); err == nil || !strings.Contains(err.Error(), "at most 16") {
		t.Errorf("17 entries: %v", err)
	}
}

// TestParseConfigCustomDimension: an operator's own dimension is a label
// like a built-in, once its rollup is configured.
func TestParseConfigCustomDimension(t *testing.T) {
	t.Parallel()
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	r, err := schema.ParseRollup("region+team")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseConfig(`[{by: [region, team], window: 7d}]`, schema, []store.Rollup{r})
	if err != nil || len(got) != 1 || got[0].Name() != "team+region@7d" {
		t.Fatalf("%v %v", got, err)
	}
}
