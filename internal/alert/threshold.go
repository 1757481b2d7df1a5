package alert

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/proportion"
	"github.com/pulseboard/pulseboard/internal/store"
)

// ThresholdEvent is the body of threshold.raised and threshold.resolved
// deliveries.
type ThresholdEvent struct {
	Event string `json:"event"`
	ID    string `json:"id"`
	Alert Active `json:"alert"`
}

// EvaluateThresholds is the threshold job: for every rule and group, a
// figure (the rule's metric: NPS, response rate or CSAT) below the level
// with at least the minimum sample raises an alert (or refreshes its
// numbers); a figure back at or above the level resolves it. A group
// without enough of a sample keeps its state: too few answers (or offers)
// say nothing either way. Alerts of rules no longer configured are
// resolved.
func (s *Service) EvaluateThresholds(ctx context.Context, tick time.Time) error {
	all, err := s.o.Engine.Active(ctx)
	if err != nil {
		return err
	}
	// The emerging themes share the state; EvaluateThemes owns them.
	active := thresholdsOnly(all)
	raised := map[string]Active{}
	for _, a := range active {
		raised[a.ID] = a
	}
	rules := map[string]bool{}
	changed := false
	for _, r := range s.o.Config.Thresholds {
		rules[r.Name] = true
		groups, err := s.o.Querier.Query(ctx, r.query(s.o.Calendar.Span(r.Window, tick)))
		if err != nil {
			return fmt.Errorf("rule %s: %w", r.Name, err)
		}
		for _, g := range groups {
			a, judged := r.alertOf(g, tick)
			old, was := raised[a.ID]
			switch {
			case judged && a.Value < r.Below:
				a.Title = r.describe(a)
				if was {
					a.Since = old.Since
				}
				fresh, err := s.o.Engine.Raise(ctx, a)
				if err != nil {
					return err
				}
				changed = true
				if fresh {
					s.o.Logger.Warn("threshold alert raised", slog.String("alert", a.ID), slog.String("metric", string(a.metric())),
						slog.Float64("value", a.Value), slog.Int64("part", a.Part), slog.Int64("whole", a.Whole), slog.Int64("responses", a.Responses))
					if err := s.thresholdEvent(ctx, EventThresholdRaised, a); err != nil {
						return err
					}
				}
			case judged && a.Value >= r.Below && was:
				// Too few answers are no evidence of a recovery either:
				// the alert stays until enough of them say so.
				if err := s.clear(ctx, old, a); err != nil {
					return err
				}
				changed = true
			}
		}
	}
	for _, a := range active {
		if !rules[a.Rule] {
			if err := s.clear(ctx, a, a); err != nil {
				return err
			}
			changed = true
		}
	}
	if changed {
		signal(s.refresh)
	}
	return nil
}

func (s *Service) clear(ctx context.Context, old, now Active) error {
	ok, err := s.o.Engine.Clear(ctx, old.ID)
	if err != nil || !ok {
		return err
	}
	now.Since, now.Title = old.Since, old.Title
	s.o.Logger.Info("threshold alert resolved", slog.String("alert", old.ID), slog.String("metric", string(now.metric())), slog.Float64("value", now.Value))
	return s.thresholdEvent(ctx, EventThresholdResolved, now)
}

func (s *Service) thresholdEvent(ctx context.Context, event string, a Active) error {
	id := event + ":" + a.ID + ":" + a.Since.UTC().Format(time.RFC3339)
	return s.enqueue(ctx, id, event, ThresholdEvent{Event: event, ID: id, Alert: a}, s.o.Config.Webhooks)
}

// alertOf is the alert a rule's group would raise at tick, with the
// figures of the rule's metric; judged is false when the group has too
// small a sample (or none) to say anything either way.
//
// The rule judges the figure it publishes, rounded to two decimals (an
// NPS exactly as the API publishes it), so an alert never reads "NPS 25,
// below 25".
func (r Rule) alertOf(g store.Group, tick time.Time) (a Active, judged bool) {
	filters := make(map[store.Dimension]string, len(r.Filters)+len(g.Key))
	for d, v := range r.Filters {
		filters[d] = v
	}
	var key []string
	for d, v := range g.Key {
		filters[d] = v
		key = append(key, string(d)+"="+v)
	}
	slices.Sort(key)
	id := r.Name
	if len(key) > 0 {
		id += "/" + strings.Join(key, ",")
	}
	a = Active{ID: id, Rule: r.Name, Metric: r.metric(), Filters: filters, Window: r.Window.Name, Level: r.Below,
		Since: tick.UTC(), Updated: tick.UTC()}
	switch a.Metric {
	case MetricResponseRate:
		// Answered counts the answers to the offers made in the span,
		// however late they came (store.Group).
		a.Part, a.Whole, a.Responses = g.Answered, g.Offered, g.Answered
		a.Value = percentOf(g.Answered, g.Offered)
		judged = g.Offered > 0 && g.Offered >= r.MinOffers
	case MetricCSAT:
		a.Part, a.Whole, a.Responses = g.CSAT.Satisfied(), g.CSAT.Answers(), g.CSAT.Answers()
		a.Value = percentOf(a.Part, a.Whole)
		judged = a.Whole > 0 && a.Whole >= r.MinResponses
	default:
		sum := nps.Summarize(g.Counts, r.MinResponses)
		a.Responses = sum.Responses
		if sum.NPS != nil {
			a.NPS, a.Value = *sum.NPS, *sum.NPS
		}
		judged = sum.NPS != nil && !sum.LowSample
	}
	return a, judged
}

// percentOf is part of whole in percent, rounded to two decimals; 0 of
// nothing.
func percentOf(part, whole int64) float64 {
	v, _, _ := proportion.Of(part, whole).Percents()
	return v
}

// metric is the rule's metric; a rule made in code without one watches
// the NPS.
func (r Rule) metric() Metric {
	if r.Metric == "" {
		return MetricNPS
	}
	return r.Metric
}

// describe names what an alert is about: the rule's title, and the group's
// values of a rule with a breakdown ("Team NPS · billing").
func (r Rule) describe(a Active) string {
	title := r.Title
	for _, d := range r.By {
		title += " · " + a.Filters[d]
	}
	return title
}
