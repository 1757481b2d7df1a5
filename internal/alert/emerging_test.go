package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/themes"
	"github.com/pulseboard/pulseboard/internal/window"
)

// themeCenter is a memory store matching comments with the default
// dictionary, at a clock the test moves.
type themeCenter struct {
	st    store.Store
	dict  *themes.Dictionary
	clock time.Time
	seq   int
}

func newThemeCenter(t *testing.T, now time.Time) *themeCenter {
	t.Helper()
	dict, err := themes.New(themes.Default(), nil)
	must(t, err)
	c := &themeCenter{dict: dict, clock: now}
	c.st = memstore.New(store.Options{Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(time.UTC),
		Retention: store.DefaultRetention(), Themes: dict.Names, Now: func() time.Time { return c.clock }})
	return c
}

// The usual detractors of an hour: one in eight about billing, the rest
// about other things; the first five (billing's among them) are team
// billing's, the others team support's; and as many promoters.
var usualDetractors = []string{
	"Waited 40 minutes on hold.",
	"Nobody called me back.",
	"I was transferred three times.",
	"Still not fixed after two calls.",
	"The agent was rude.",
	"I was charged twice on my bill.",
	"Waited ages and then got cut off.",
	"",
}

// hour records an hour of usual traffic from at, and extra billing
// complaints.
func (c *themeCenter) hour(t *testing.T, at time.Time, billingBurst int) {
	t.Helper()
	var rs []store.Response
	add := func(score int, team, comment string) {
		c.seq++
		rs = append(rs, store.Response{ID: fmt.Sprint("r", c.seq), Score: score, Comment: comment,
			Dims: store.Dims{Channel: "phone", Team: team}, At: at.Add(time.Duration(5+len(rs)) * time.Minute), AtGiven: true})
	}
	for i, comment := range usualDetractors {
		team := "billing"
		if i == 4 || i > 5 {
			team = "support"
		}
		add(3, team, comment)
		add(10, team, "Very helpful, thank you")
	}
	for range billingBurst {
		add(1, "billing", "Charged twice for one order and no refund yet")
	}
	if _, err := c.st.Record(context.Background(), rs); err != nil {
		t.Fatal(err)
	}
}

// outbox takes the deliveries queued so far.
func outbox(t *testing.T, eng Engine, now time.Time) []Delivery {
	t.Helper()
	ds, err := eng.Claim(context.Background(), now.Add(time.Hour), time.Minute, 1000)
	must(t, err)
	for _, d := range ds {
		must(t, eng.Delivered(context.Background(), d))
	}
	return ds
}

// TestEmergingThemeEndToEnd: a week of usual traffic, then an hour with a
// burst of billing complaints: billing is raised (one theme.raised event
// with its figures, in the snapshot's themes, not among the threshold
// alerts), the other themes are not; the burst over, billing resolves
// (one theme.resolved). Per team, the alert names team billing.
func TestEmergingThemeEndToEnd(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 30, 15, 0, 0, 0, time.UTC)
	c := newThemeCenter(t, t0)
	for at := t0.Add(-7*24*time.Hour - 2*time.Hour); at.Before(t0.Add(-time.Hour)); at = at.Add(time.Hour) {
		c.hour(t, at, 0)
	}
	c.hour(t, t0.Add(-time.Hour), 16)

	cfg := parseTestConfig(t, "webhooks: [https://crm.example.com/hook, {url: \"https://hooks.slack.com/services/T/B/X\", kind: slack}]\n")
	teamCfg := parseTestConfig(t, "webhooks: [https://crm.example.com/hook]\nemerging_themes: {by: [team]}\n")
	now := func() time.Time { return c.clock }
	svc := New(Options{Config: cfg, Engine: NewMemory(), Querier: c.st, Calendar: window.MustCalendar(time.UTC), Now: now, ThemeLabel: c.dict.Label})
	eng := svc.o.Engine

	must(t, svc.EvaluateThemes(ctx, c.clock))
	must(t, svc.EvaluateThemes(ctx, c.clock.Add(time.Minute))) // still raised: no second event
	got, err := svc.ThemeAlerts(ctx)
	must(t, err)
	if len(got) != 1 || got[0].ID != "theme:billing" || got[0].Label != "Billing errors" || got[0].Filters != nil {
		t.Fatalf("theme alerts %+v", got)
	}
	a := got[0]
	// 2 usual billing complaints and 16 of the burst, of 8+8+16 detractors
	// (the usual hours have one without a comment); 12.5% over the week,
	// which a phone reads as 13%.
	if a.Recent.Mentions != 18 || a.Recent.Detractors != 32 || a.Baseline.Mentions != 7*24 || a.Baseline.Detractors != 8*7*24 || a.Window != "2h" || a.BaselineSpan != "7d" {
		t.Errorf("figures %+v", a)
	}
	if thresholds, _ := svc.Alerts(ctx); len(thresholds) != 0 {
		t.Errorf("the threshold alerts list a theme: %+v", thresholds)
	}
	snap, err := svc.read(ctx)
	must(t, err)
	if len(snap.Active) != 0 || len(snap.Themes) != 1 || snap.Themes[0].Theme != "billing" {
		t.Errorf("snapshot: active %+v, themes %+v", snap.Active, snap.Themes)
	}
	ds := outbox(t, eng, c.clock)
	if len(ds) != 2 {
		t.Fatalf("deliveries %+v", ds)
	}
	for _, d := range ds {
		if d.Event != EventThemeRaised {
			t.Errorf("event %s", d.Event)
		}
		if d.Kind == KindSlack {
			if !strings.Contains(string(d.Body), "Billing errors: 56% of detractors, usually 13%") {
				t.Errorf("slack message %s", d.Body)
			}
			continue
		}
		var ev map[string]any
		must(t, json.Unmarshal(d.Body, &ev))
		al := ev["alert"].(map[string]any)
		recent := al["recent"].(map[string]any)
		if ev["event"] != EventThemeRaised || al["theme"] != "billing" || al["label"] != "Billing errors" || recent["mentions"] != 18.0 || recent["share"] != 18.0/32 {
			t.Errorf("webhook body %s", d.Body)
		}
	}

	// Per team: the burst is team billing's.
	teamSvc := New(Options{Config: teamCfg, Engine: NewMemory(), Querier: c.st, Calendar: window.MustCalendar(time.UTC), Now: now, ThemeLabel: c.dict.Label})
	must(t, teamSvc.EvaluateThemes(ctx, c.clock))
	if got, _ := teamSvc.ThemeAlerts(ctx); len(got) != 1 || got[0].ID != "theme:billing/team=billing" || got[0].Title != "Billing errors · billing" || got[0].Filters[store.Team] != "billing" {
		t.Errorf("per team: %+v", got)
	}

	// The burst over: three usual hours later billing is back to its share.
	for at := t0; at.Before(t0.Add(3 * time.Hour)); at = at.Add(time.Hour) {
		c.hour(t, at, 0)
	}
	c.clock = t0.Add(3 * time.Hour)
	must(t, svc.EvaluateThemes(ctx, c.clock))
	if got, _ := svc.ThemeAlerts(ctx); len(got) != 0 {
		t.Fatalf("still raised: %+v", got)
	}
	ds = outbox(t, eng, c.clock)
	if len(ds) != 2 || ds[0].Event != EventThemeResolved {
		t.Fatalf("deliveries after the burst %+v", ds)
	}
	for _, d := range ds {
		if d.Kind == KindSlack && !strings.Contains(string(d.Body), "Lasted") {
			t.Errorf("slack message %s", d.Body)
		}
	}

	// Turned off, the detector resolves what it raised.
	must(t, teamSvc.EvaluateThemes(ctx, c.clock.Add(-3*time.Hour)))
	teamSvc.o.Config.EmergingThemes.Enabled = false
	must(t, teamSvc.EvaluateThemes(ctx, c.clock))
	if got, _ := teamSvc.ThemeAlerts(ctx); len(got) != 0 {
		t.Errorf("raised with the detector off: %+v", got)
	}
}

// TestEmergingThemesConfig: on by default; every setting is checked and an
// error names it; a default detector that the rollups cannot answer is
// off with the reason, one the file asks for is an error.
func TestEmergingThemesConfig(t *testing.T) {
	parse := func(text string, rollups []store.Rollup) (Config, error) {
		return ParseConfig(text, store.DefaultSchema(), rollups, time.ParseDuration)
	}
	c, err := parse("", store.DefaultRollups())
	if err != nil || !reflect.DeepEqual(c.EmergingThemes, DefaultEmergingThemes()) {
		t.Fatalf("defaults %+v, %v", c.EmergingThemes, err)
	}
	c, err = parse("emerging_themes: {by: [team], window: 90m, baseline: 336h, min_mentions: 8, min_share: 0.1}", store.DefaultRollups())
	e := c.EmergingThemes
	if err != nil || !e.Enabled || len(e.By) != 1 || e.By[0] != store.Team || e.Window != 90*time.Minute || e.Baseline != 14*24*time.Hour || e.MinMentions != 8 || e.MinShare != 0.1 {
		t.Fatalf("%+v, %v", e, err)
	}
	if c, err := parse("emerging_themes: {enabled: false}", store.DefaultRollups()); err != nil || c.EmergingThemes.Enabled {
		t.Errorf("off: %+v, %v", c.EmergingThemes, err)
	}
	for _, bad := range []struct{ text, want string }{
		{"emerging_themes: {window: 5m}", "emerging_themes.window: must be 15m to 24h"},
		{"emerging_themes: {window: soon}", "emerging_themes.window:"},
		{"emerging_themes: {baseline: 2160h}", "emerging_themes.baseline: must be 1d to 28d"},
		{"emerging_themes: {window: 24h, baseline: 24h}", "emerging_themes.baseline: must be at least twice the window"},
		{"emerging_themes: {min_mentions: 0}", "emerging_themes.min_mentions: must be 1 to 10000"},
		{"emerging_themes: {min_share: 5}", "emerging_themes.min_share: must be a share of the detractors, 0 to 1"},
		{"emerging_themes: {min_share: .nan}", "emerging_themes.min_share: must be a share"},
		{"emerging_themes: {by: [zone]}", "emerging_themes.by[0]:"},
		{"emerging_themes: {by: [theme]}", "emerging_themes.by[0]: theme is what is judged"},
		{"emerging_themes: {by: [team, team]}", "emerging_themes.by[1]: team is named twice"},
		{"emerging_themes: {by: [agent]}", "emerging_themes.by: "},
		{"emerging_themes: {enabld: true}", "field enabld not found"},
	} {
		if _, err := parse(bad.text, store.DefaultRollups()); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.text, err, bad.want)
		}
	}
	noThemes := []store.Rollup{store.MustRollup(store.Team)}
	c, err = parse("", noThemes)
	if err != nil || c.EmergingThemes.Enabled || !strings.Contains(c.EmergingThemes.Unavailable, "theme") {
		t.Errorf("without a theme rollup, by default: %+v, %v", c.EmergingThemes, err)
	}
	if _, err := parse("emerging_themes: {enabled: true}", noThemes); err == nil || !strings.Contains(err.Error(), "emerging_themes.by:") {
		t.Errorf("without a theme rollup, asked for: %v", err)
	}
	if c, err := parse("emerging_themes: {enabled: false}", noThemes); err != nil || c.EmergingThemes.Enabled || c.EmergingThemes.Unavailable != "" {
		t.Errorf("without a theme rollup, off: %+v, %v", c.EmergingThemes, err)
	}
}

// TestThemeMessageEscapesTheLabel: a theme's label (configuration, so
// user text) cannot format a chat message or ping a channel.
func TestThemeMessageEscapesTheLabel(t *testing.T) {
	svc := chatService(t, nil)
	ev := themeEventOf(EventThemeRaised)
	ev.Alert.Label = "<!channel> *Billing* [x](https://evil.example)"
	ev.Alert.Filters = map[store.Dimension]string{store.Team: "<@U123>"}
	b, err := svc.encode(KindSlack, ev, chatNow)
	must(t, err)
	var msg struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	must(t, json.Unmarshal(b, &msg))
	body := string(b)
	for _, bad := range []string{"<!channel>", "<@U123>"} {
		if strings.Contains(body, bad) {
			t.Errorf("the Slack message carries %q: %s", bad, body)
		}
	}
	// The blocks are mrkdwn: emphasis markers are broken up (the
	// notification's text is plain).
	for _, bad := range []string{"*Billing*"} {
		if strings.Contains(string(msg.Blocks), bad) {
			t.Errorf("the Slack message carries %q: %s", bad, body)
		}
	}
	if !strings.Contains(body, "&lt;!channel&gt;") {
		t.Errorf("the label is not shown escaped: %s", body)
	}
	b, err = svc.encode(KindTeams, ev, chatNow)
	must(t, err)
	checkTeamsMessage(t, b)
}
