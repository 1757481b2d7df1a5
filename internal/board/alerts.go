package board

import (
	"fmt"
	"math"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/redact"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Alerts is the shared alert state boards show: the alert service's last
// snapshot of follow-ups and active threshold alerts.
type Alerts interface {
	Snapshot() alert.Snapshot
}

// FollowUpsView is the follow-up queue of a tile's scope.
type FollowUpsView struct {
	// Open counts unresolved follow-ups (open or claimed), Claimed those
	// someone took, Overdue those past their due time.
	Open    int `json:"open"`
	Claimed int `json:"claimed"`
	Overdue int `json:"overdue"`
	// Partial: the node holds only the oldest alert.SnapshotLimit
	// follow-ups, and this scope's counts are at least these.
	Partial bool `json:"partial,omitempty"`
	// Items are the oldest unresolved ones, up to the tile's limit.
	Items []FollowUpRow `json:"items"`
	// Closed today, InSLA of them within their SLA, and the share as shown.
	Closed   int    `json:"closed"`
	InSLA    int    `json:"in_sla"`
	SLAShare string `json:"sla_share"`
	// SLABand colours the share: good at 90%, poor under 70%.
	SLABand Band `json:"sla_band"`
}

// FollowUpRow is one waiting detractor.
type FollowUpRow struct {
	ID        string `json:"id"`
	Age       string `json:"age"` // "12 min", "1 h 05"
	Score     int    `json:"score"`
	Team      string `json:"team,omitempty"`
	Channel   string `json:"channel,omitempty"`
	Agent     string `json:"agent,omitempty"`
	Comment   string `json:"comment,omitempty"`
	ClaimedBy string `json:"claimed_by,omitempty"`
	Overdue   bool   `json:"overdue,omitempty"`
}

// BannerView is one active threshold alert on a board.
type BannerView struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// SLA share bands.
const (
	slaGood = 90.0
	slaPoor = 70.0
)

func inScope(d store.Dims, filters map[store.Dimension]string) bool {
	for dim, v := range filters {
		if d.Get(dim) != v {
			return false
		}
	}
	return true
}

func (c Computer) followUps(t Tile, snap alert.Snapshot, now time.Time) *FollowUpsView {
	v := &FollowUpsView{Items: []FollowUpRow{}, SLAShare: "—", SLABand: None}
	for _, f := range snap.Unresolved {
		if !inScope(f.Dims(), t.Filters) {
			continue
		}
		v.Open++
		if f.Status == alert.Claimed {
			v.Claimed++
		}
		over := f.Overdue(now)
		if over {
			v.Overdue++
		}
		if len(v.Items) < t.Limit {
			row := FollowUpRow{ID: f.ID, Age: FormatAge(now.Sub(f.At)), Score: f.Score, Team: f.Team, Channel: f.Channel,
				Comment: f.Comment, ClaimedBy: f.ClaimedBy, Overdue: over}
			if t.ShowAgents {
				row.Agent = f.Agent
			}
			if t.Redact {
				row.Comment = redact.Comment(row.Comment)
			}
			v.Items = append(v.Items, row)
		}
	}
	if snap.UnresolvedTotal > len(snap.Unresolved) {
		if len(t.Filters) == 0 {
			// Unscoped: the total is exact; with one SLA overdue ones come
			// first, so their count is exact unless every one held is
			// overdue. With queues of different SLAs it is a lower bound.
			v.Open = snap.UnresolvedTotal
			v.Partial = snap.MixedSLAs || v.Overdue == len(snap.Unresolved)
		} else {
			v.Partial = true
		}
	}
	for _, f := range snap.ResolvedToday {
		if !inScope(f.Dims(), t.Filters) {
			continue
		}
		v.Closed++
		if f.InSLA() {
			v.InSLA++
		}
	}
	if v.Closed > 0 {
		share := 100 * float64(v.InSLA) / float64(v.Closed)
		v.SLAShare = fmt.Sprintf("%.0f%%", math.Floor(share))
		switch {
		case share >= slaGood:
			v.SLABand = Good
		case share < slaPoor:
			v.SLABand = Poor
		default:
			v.SLABand = Watch
		}
	}
	return v
}

// FormatAge writes how long a follow-up has waited: alert.FormatAge, so a
// board, the inbox and a chat message say the same age the same way.
func FormatAge(d time.Duration) string { return alert.FormatAge(d) }

// banner is a board's banner tile: the active alerts that concern the
// board's filters, worst first.
func (c Computer) banner(b Board, snap alert.Snapshot) TileView {
	tv := TileView{ID: BannerID, View: Banners, Cols: gridColumns, Height: 0, Banners: []BannerView{}}
	loc := c.Calendar.Location()
	for _, a := range snap.Active {
		if !a.Concerns(b.Filters) {
			continue
		}
		text := fmt.Sprintf("%s: NPS %s over %s (n=%d), below %s since %s", a.Title, FormatScore(a.NPS), a.Window, a.Responses,
			FormatScore(a.Level), a.Since.In(loc).Format("15:04"))
		if a.Metric != "" && a.Metric != alert.MetricNPS {
			// A rate or CSAT: its figure says its counts.
			text = fmt.Sprintf("%s: %s over %s, below %s since %s", a.Title, a.Figure(), a.Window, a.LevelText(), a.Since.In(loc).Format("15:04"))
		}
		tv.Banners = append(tv.Banners, BannerView{ID: a.ID, Text: text})
	}
	// Emerging themes after the thresholds: why detractors are unhappy,
	// beneath how unhappy they are.
	for _, t := range snap.Themes {
		if !t.Concerns(b.Filters) {
			continue
		}
		where := ""
		if len(t.Filters) > 0 {
			where = " in " + t.Scope()
		}
		text := fmt.Sprintf("Emerging theme · %s over %s%s, since %s", t.Headline(), t.Window, where, t.Since.In(loc).Format("15:04"))
		tv.Banners = append(tv.Banners, BannerView{ID: t.ID, Text: text})
	}
	tv.Empty = len(tv.Banners) == 0
	return tv
}
