package board

import (
	"slices"
	"testing"
	"time"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/store"
)

type fixedAlerts alert.Snapshot

func (f fixedAlerts) Snapshot() alert.Snapshot { return alert.Snapshot(f) }

// TestAlertTiles: the supervisor's follow-up tile counts open and overdue
// follow-ups with their age and today's share closed within the SLA; each
// board's banner carries the threshold alerts that concern its filters.
func TestAlertTiles(t *testing.T) {
	agg, comp, now := fixture(t, nil)
	boards, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	at := func(ago time.Duration) time.Time { return now.Add(-ago) }
	resolved := func(ago time.Duration) *time.Time { v := now.Add(-ago); return &v }
	snap := alert.Snapshot{
		Unresolved: []alert.FollowUp{
			{ID: "late", Score: 2, Team: "billing", Agent: "Ben", Channel: "phone", Comment: "mail me at x@example.com", At: at(5 * time.Hour),
				Opened: at(5 * time.Hour), Due: at(time.Hour), Status: alert.Open},
			{ID: "fresh", Score: 5, Team: "support", Channel: "chat", At: at(12 * time.Minute), Opened: at(12 * time.Minute),
				Due: now.Add(time.Hour), Status: alert.Claimed, ClaimedBy: "dana"},
		},
		ResolvedToday: []alert.FollowUp{
			{ID: "r1", Team: "billing", Due: now, ResolvedAt: resolved(time.Hour), Status: alert.Resolved},
			{ID: "r2", Team: "billing", Due: now, ResolvedAt: resolved(2 * time.Hour), Status: alert.Resolved},
			{ID: "r3", Team: "support", Due: at(3 * time.Hour), ResolvedAt: resolved(time.Hour), Status: alert.Resolved},
		},
		Active: []alert.Active{
			{ID: "teams/team=billing", Title: "Team NPS · billing", Filters: map[store.Dimension]string{store.Team: "billing"},
				Window: "1h", Level: 0, NPS: -40, Responses: 35, Since: at(10 * time.Minute)},
		},
	}
	comp.Alerts = fixedAlerts(snap)
	views := map[string]View{}
	for _, b := range boards {
		v, err := comp.Compute(b, agg, now)
		if err != nil {
			t.Fatal(err)
		}
		if v.Tiles[0].ID != BannerID {
			t.Fatalf("%s: first tile %s, want the banner", b.Name, v.Tiles[0].ID)
		}
		views[b.Name] = v
	}
	fu := tileByID(t, views["supervisor"], "followups").FollowUps
	if fu == nil || fu.Open != 2 || fu.Claimed != 1 || fu.Overdue != 1 || fu.Closed != 3 || fu.InSLA != 2 || fu.SLAShare != "66%" || fu.SLABand != Poor {
		t.Fatalf("follow-ups %+v", fu)
	}
	if it := fu.Items[0]; it.ID != "late" || it.Age != "5 h 00" || !it.Overdue || it.Agent != "Ben" || it.Comment != "mail me at [email]" {
		t.Errorf("oldest item %+v", it)
	}
	if it := fu.Items[1]; it.Age != "12 min" || it.ClaimedBy != "dana" || it.Overdue {
		t.Errorf("second item %+v", it)
	}
	// A node holds only the oldest follow-ups of a long queue: the
	// center-wide count is still exact, a scoped one a lower bound.
	long := snap
	long.UnresolvedTotal = 5000
	comp.Alerts = fixedAlerts(long)
	v, err := comp.Compute(boards[1], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	if fu := tileByID(t, v, "followups").FollowUps; fu.Open != 5000 || fu.Overdue != 1 || fu.Partial {
		t.Errorf("a long queue, center-wide: %+v", fu)
	}
	// Queues of different SLAs: a younger follow-up of a short-SLA queue
	// may be overdue beyond the ones held, so the overdue count is a bound.
	long.MixedSLAs = true
	comp.Alerts = fixedAlerts(long)
	if v, err = comp.Compute(boards[1], agg, now); err != nil {
		t.Fatal(err)
	}
	if fu := tileByID(t, v, "followups").FollowUps; fu.Open != 5000 || fu.Overdue != 1 || !fu.Partial {
		t.Errorf("a long queue of mixed SLAs, center-wide: %+v", fu)
	}
	scoped := boards[1]
	scoped.Tiles = slices.Clone(scoped.Tiles)
	for i := range scoped.Tiles {
		if scoped.Tiles[i].ID == "followups" {
			scoped.Tiles[i].Filters = map[store.Dimension]string{store.Team: "billing"}
		}
	}
	v, err = comp.Compute(scoped, agg, now)
	if err != nil {
		t.Fatal(err)
	}
	if fu := tileByID(t, v, "followups").FollowUps; fu.Open != 1 || !fu.Partial {
		t.Errorf("a long queue, one team: %+v", fu)
	}
	comp.Alerts = fixedAlerts(snap)
	for name, want := range map[string]int{"floor": 1, "supervisor": 1, "team-billing": 1} {
		if got := len(views[name].Tiles[0].Banners); got != want {
			t.Errorf("%s shows %d banners, want %d", name, got, want)
		}
	}
	if text := views["floor"].Tiles[0].Banners[0].Text; text != "Team NPS · billing: NPS −40 over 1h (n=35), below 0 since "+at(10*time.Minute).In(comp.Calendar.Location()).Format("15:04") {
		t.Errorf("banner text %q", text)
	}
	// A rule on the response rate or CSAT says its own figure, not an NPS.
	rate := snap
	rate.Active = []alert.Active{{ID: "rate", Title: "Phone response rate", Window: "2h", Metric: alert.MetricResponseRate,
		Level: 15, Value: 12, Part: 48, Whole: 400, Since: at(10 * time.Minute)}}
	comp.Alerts = fixedAlerts(rate)
	v, err = comp.Compute(boards[0], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	if text := v.Tiles[0].Banners[0].Text; text != "Phone response rate: Response rate 12% (48 of 400 offered) over 2h, below 15% since "+at(10*time.Minute).In(comp.Calendar.Location()).Format("15:04") {
		t.Errorf("response rate banner %q", text)
	}
	comp.Alerts = fixedAlerts(snap)
	// Support's board, were there one, is not concerned by billing's alert.
	if (alert.Active{Filters: map[store.Dimension]string{store.Team: "billing"}}).Concerns(map[store.Dimension]string{store.Team: "support"}) {
		t.Error("billing's alert concerns support")
	}
	if !(alert.Active{}).Concerns(map[store.Dimension]string{store.Team: "support"}) {
		t.Error("a center-wide alert does not concern a team")
	}
	comp.Alerts = fixedAlerts(alert.Snapshot{})
	v, _ = comp.Compute(boards[0], agg, now)
	if b := v.Tiles[0]; len(b.Banners) != 0 || !b.Empty {
		t.Errorf("banner with nothing raised %+v", b)
	}
}

// TestThemeBanners: an emerging theme shows on the banners of the boards it
// concerns, after the threshold alerts, in the words of its chat message.
func TestThemeBanners(t *testing.T) {
	agg, comp, now := fixture(t, nil)
	boards, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	since := now.Add(-25 * time.Minute)
	comp.Alerts = fixedAlerts(alert.Snapshot{
		Active: []alert.Active{{ID: "teams/team=billing", Title: "Team NPS · billing", Filters: map[store.Dimension]string{store.Team: "billing"},
			Window: "1h", NPS: -40, Responses: 35, Since: since}},
		Themes: []alert.ThemeAlert{
			{ID: "theme:billing", Theme: "billing", Label: "Billing <errors>", Window: "2h", Since: since,
				Recent: alert.ThemeShare{Share: 0.38}, Baseline: alert.ThemeShare{Share: 0.12}},
			{ID: "theme:transfers/team=support", Theme: "transfers", Label: "Transfers", Window: "2h", Since: since,
				Filters: map[store.Dimension]string{store.Team: "support"}, Recent: alert.ThemeShare{Share: 0.2}, Baseline: alert.ThemeShare{Share: 0.05}},
		},
	})
	hhmm := since.In(comp.Calendar.Location()).Format("15:04")
	for name, want := range map[string][]string{
		"floor": {"Team NPS · billing: NPS −40 over 1h (n=35), below 0 since " + hhmm,
			"Emerging theme · Billing <errors>: 38% of detractors, usually 12% over 2h, since " + hhmm,
			"Emerging theme · Transfers: 20% of detractors, usually 5% over 2h in team support, since " + hhmm},
		"team-billing": {"Team NPS · billing: NPS −40 over 1h (n=35), below 0 since " + hhmm,
			"Emerging theme · Billing <errors>: 38% of detractors, usually 12% over 2h, since " + hhmm},
	} {
		var b Board
		for _, x := range boards {
			if x.Name == name {
				b = x
			}
		}
		v, err := comp.Compute(b, agg, now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, bn := range v.Tiles[0].Banners {
			got = append(got, bn.Text)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s banners:\n got %q\nwant %q", name, got, want)
		}
	}
}
