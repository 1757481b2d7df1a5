package demo

import (
	"context"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/window"
)

// TestBillingIncidentRaisesAnEmergingTheme: the demo's history and live
// traffic, read by the emerging-theme detector with its defaults, raise
// billing during the afternoon's incident and resolve it once the
// incident's hours have left the window; per team, tech support's evening
// transfers are raised.
func TestBillingIncidentRaisesAnEmergingTheme(t *testing.T) {
	ctx := context.Background()
	dict := defaultDictionary(t)
	now := time.Date(2026, 12, 2, 15, 30, 0, 0, time.UTC)
	clock := now
	st := memstore.New(store.Options{Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(time.UTC),
		Retention: store.DefaultRetention(), Themes: dict.Names, Now: func() time.Time { return clock }})
	g := New(3, time.UTC)
	const rate = 1.0 // the demo's default
	if _, err := g.Backfill(ctx, st, now, 9, rate); err != nil {
		t.Fatal(err)
	}
	svc := alert.New(alert.Options{Config: alert.DefaultConfig(), Engine: alert.NewMemory(), Querier: st,
		Calendar: window.MustCalendar(time.UTC), Now: func() time.Time { return clock }, ThemeLabel: dict.Label})
	raised := func() map[string]alert.ThemeAlert {
		t.Helper()
		if err := svc.EvaluateThemes(ctx, clock); err != nil {
			t.Fatal(err)
		}
		as, err := svc.ThemeAlerts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]alert.ThemeAlert{}
		for _, a := range as {
			out[a.Theme] = a
			t.Logf("%s: %s raised, %d of %d detractors (%.0f%%), usually %.0f%%", clock.Format("15:04"), a.Theme,
				a.Recent.Mentions, a.Recent.Detractors, 100*a.Recent.Share, 100*a.Baseline.Share)
		}
		return out
	}
	if _, ok := raised()["billing"]; !ok {
		t.Fatalf("the billing incident at %s is not raised", clock.Format("15:04"))
	}
	// Live traffic until 19:30: the incident ended at 16:00, and by 18:00
	// it has left the 2h window.
	for clock.Before(now.Add(4 * time.Hour)) {
		clock = clock.Add(time.Minute)
		n := int(rate * 60 * busyness(clock.Hour()))
		batch := make([]store.Response, n)
		for i := range batch {
			batch[i] = g.Response(clock.Add(-time.Duration(i) * time.Second))
		}
		if _, err := st.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
		if clock.Minute() == 0 {
			raised()
		}
	}
	if a, ok := raised()["billing"]; ok {
		t.Errorf("billing still raised at 19:30: %+v", a)
	}
	cfg := alert.DefaultConfig()
	cfg.EmergingThemes.By = []store.Dimension{store.Team}
	byTeam := alert.New(alert.Options{Config: cfg, Engine: alert.NewMemory(), Querier: st,
		Calendar: window.MustCalendar(time.UTC), Now: func() time.Time { return clock }, ThemeLabel: dict.Label})
	if err := byTeam.EvaluateThemes(ctx, clock); err != nil {
		t.Fatal(err)
	}
	as, err := byTeam.ThemeAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, a := range as {
		ids[a.ID] = true
	}
	if !ids["theme:transfers/team=tech-support"] {
		t.Errorf("tech support's evening transfers are not raised per team: %+v", as)
	}
}
