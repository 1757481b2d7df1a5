package alert

import (
	"context"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// DigestEvent is the body of digest.daily and digest.weekly deliveries.
type DigestEvent struct {
	Event     string         `json:"event"`
	ID        string         `json:"id"`
	From      time.Time      `json:"from"`
	To        time.Time      `json:"to"`
	Overall   DigestGroup    `json:"overall"`
	Channels  []DigestGroup  `json:"channels,omitempty"`
	Teams     []DigestGroup  `json:"teams,omitempty"`
	FollowUps DigestFollowUp `json:"follow_ups"`
	Alerts    []Active       `json:"alerts"`
}

// DigestGroup is one group's numbers over the digest's period: its key
// (absent for the overall group) and the same nps.Summary a GET
// /api/v1/nps group has, so a digest and the API agree to the last digit.
type DigestGroup struct {
	Key map[store.Dimension]string `json:"key,omitempty"`
	nps.Summary
}

// DigestFollowUp sums up the follow-up queue over the period and now.
type DigestFollowUp struct {
	Opened     int      `json:"opened"`
	Resolved   int      `json:"resolved"`
	InSLA      int      `json:"in_sla"`
	SLAShare   *float64 `json:"sla_share"`
	OpenNow    int      `json:"open_now"`
	OverdueNow int      `json:"overdue_now"`
}

// Digest returns the digest job of a kind (EventDigestDaily or
// EventDigestWeekly): at its tick it summarises the previous local day or
// the seven local days before it, and queues the summary for every digest
// receiver.
func (s *Service) Digest(event string) func(ctx context.Context, tick time.Time) error {
	return func(ctx context.Context, tick time.Time) error {
		if len(s.o.Config.Digest.Webhooks) == 0 {
			return nil
		}
		cal := s.o.Calendar
		today := cal.Bucket(window.Day, tick)
		days := int64(1)
		if event == EventDigestWeekly {
			days = 7
		}
		span := window.Span{From: cal.Start(window.Day, today-days), To: cal.Start(window.Day, today)}
		ev, err := s.digest(ctx, event, span, tick)
		if err != nil {
			return err
		}
		return s.enqueue(ctx, ev.ID, event, ev, s.o.Config.Digest.Webhooks)
	}
}

func (s *Service) digest(ctx context.Context, event string, span window.Span, now time.Time) (DigestEvent, error) {
	loc := s.o.Calendar.Location()
	ev := DigestEvent{Event: event, ID: event + ":" + span.From.In(loc).Format("2006-01-02"), From: span.From, To: span.To, Alerts: []Active{}}
	overall, err := s.o.Querier.Query(ctx, store.Query{Span: span})
	if err != nil {
		return ev, err
	}
	ev.Overall = s.digestGroup(overall[0])
	for _, b := range []struct {
		dim  store.Dimension
		into *[]DigestGroup
	}{{store.Channel, &ev.Channels}, {store.Team, &ev.Teams}} {
		q := store.Query{By: []store.Dimension{b.dim}, Span: span}
		if _, err := store.PlanQuery(s.o.Rollups, q); err != nil {
			continue // no counter for this breakdown
		}
		groups, err := s.o.Querier.Query(ctx, q)
		if err != nil {
			return ev, err
		}
		for _, g := range groups {
			*b.into = append(*b.into, s.digestGroup(g))
		}
	}
	resolved, err := s.o.Engine.ResolvedSince(ctx, span.From)
	if err != nil {
		return ev, err
	}
	// Once a day, so it reads the whole queue and its counts are exact.
	open, _, err := s.o.Engine.Unresolved(ctx, 0)
	if err != nil {
		return ev, err
	}
	fu := &ev.FollowUps
	for _, f := range resolved {
		if span.Contains(f.Opened) {
			fu.Opened++
		}
		if f.ResolvedAt.Before(span.To) {
			fu.Resolved++
			if f.InSLA() {
				fu.InSLA++
			}
		}
	}
	for _, f := range open {
		if span.Contains(f.Opened) {
			fu.Opened++
		}
		fu.OpenNow++
		if f.Overdue(now) {
			fu.OverdueNow++
		}
	}
	if fu.Resolved > 0 {
		share := float64(fu.InSLA) / float64(fu.Resolved)
		fu.SLAShare = &share
	}
	all, err := s.o.Engine.Active(ctx)
	if err != nil {
		return ev, err
	}
	ev.Alerts = thresholdsOnly(all)
	return ev, nil
}

func (s *Service) digestGroup(g store.Group) DigestGroup {
	out := DigestGroup{Key: g.Key, Summary: nps.Summarize(g.Counts, s.o.MinSample)}
	if len(out.Key) == 0 {
		out.Key = nil
	}
	return out
}
