package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pulseboard/pulseboard/internal/jobs"
)

// Jobs are the scheduled jobs of alerting, for every node's scheduler (each
// runs once per cluster per tick).
func (s *Service) Jobs() []jobs.Job {
	c := s.o.Config
	d := c.Digest
	return []jobs.Job{
		{Name: "thresholds", Schedule: jobs.Every(c.EvaluateEvery), Run: s.EvaluateThresholds},
		// Always scheduled: turned off, it resolves what it raised before.
		{Name: "emerging-themes", Schedule: jobs.Every(c.EvaluateEvery), Run: s.EvaluateThemes},
		{Name: "digest-daily", Schedule: jobs.Daily(d.Hour, d.Minute, d.Second), Run: s.Digest(EventDigestDaily)},
		{Name: "digest-weekly", Schedule: jobs.Weekly(d.Weekday, d.Hour, d.Minute, d.Second), Run: s.Digest(EventDigestWeekly)},
		{Name: "retention", Schedule: jobs.Every(c.SweepEvery), Run: s.Sweep},
		{Name: "self-check", Schedule: jobs.Every(c.SelfCheckEvery), Run: s.SelfCheck},
	}
}

// Sweep is the retention job: it drops resolved follow-ups and dead letters
// older than Config.Keep, and follow-ups left open that long, which no TTL
// can reach (index entries and list items do not expire).
func (s *Service) Sweep(ctx context.Context, tick time.Time) error {
	n, err := s.o.Engine.Sweep(ctx, tick.Add(-s.o.Config.Keep))
	if n > 0 {
		s.o.Logger.Info("alerts: retention sweep", slog.Int("dropped", n))
	}
	return err
}

// backlogLimit is how late the oldest due delivery may be before the
// self-check complains: longer than any backoff wait.
const backlogLimit = 15 * time.Minute

// SelfCheck is the self-check job: the store answers a query, the shared
// state can be read, and the outbox is not stuck.
func (s *Service) SelfCheck(ctx context.Context, tick time.Time) error {
	var errs []error
	if _, err := s.read(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shared alert state: %w", err))
	}
	n, oldest, err := s.o.Engine.Pending(ctx)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("outbox: %w", err))
	case n > 0 && tick.Sub(oldest) > backlogLimit:
		errs = append(errs, fmt.Errorf("outbox: %d deliveries queued, the oldest due since %s", n, oldest.UTC().Format(time.RFC3339)))
	}
	return errors.Join(errs...)
}
