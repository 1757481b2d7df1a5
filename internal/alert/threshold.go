package alert

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
)

// ThresholdEvent is the body of threshold.raised and threshold.resolved
// deliveries.
type ThresholdEvent struct {
	Event string `json:"event"`
	ID    string `json:"id"`
	Alert Active `json:"alert"`
}

// EvaluateThresholds is the threshold job: for every rule and group, a NPS
// below the level with at least the minimum responses raises an alert (or
// refreshes its numbers); a NPS back at or above the level resolves it. A
// group without enough answers keeps its state: too few answers say
// nothing either way. Alerts of rules no longer configured are resolved.
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
			// The rule judges the score it publishes (the API's, two
			// decimals), so an alert never reads "NPS 25, below 25".
			sum := nps.Summarize(g.Counts, r.MinResponses)
			a := r.alertOf(g, sum, tick)
			old, was := raised[a.ID]
			switch {
			case sum.NPS != nil && !sum.LowSample && a.NPS < r.Below:
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
					s.o.Logger.Warn("threshold alert raised", slog.String("alert", a.ID), slog.Float64("nps", a.NPS), slog.Int64("responses", a.Responses))
					if err := s.thresholdEvent(ctx, EventThresholdRaised, a); err != nil {
						return err
					}
				}
			case sum.NPS != nil && !sum.LowSample && a.NPS >= r.Below && was:
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
	s.o.Logger.Info("threshold alert resolved", slog.String("alert", old.ID), slog.Float64("nps", now.NPS))
	return s.thresholdEvent(ctx, EventThresholdResolved, now)
}

func (s *Service) thresholdEvent(ctx context.Context, event string, a Active) error {
	id := event + ":" + a.ID + ":" + a.Since.UTC().Format(time.RFC3339)
	return s.enqueue(ctx, id, event, ThresholdEvent{Event: event, ID: id, Alert: a}, s.o.Config.Webhooks)
}

// alertOf is the alert a rule's group, summarised as sum, would raise at
// tick.
func (r Rule) alertOf(g store.Group, sum nps.Summary, tick time.Time) Active {
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
	var score float64
	if sum.NPS != nil {
		score = *sum.NPS
	}
	return Active{ID: id, Rule: r.Name, Filters: filters, Window: r.Window.Name, Level: r.Below,
		NPS: score, Responses: sum.Responses, Since: tick.UTC(), Updated: tick.UTC()}
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
