package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jonboulle/clockwork"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/claimlink"
	"github.com/pulseboard/pulseboard/internal/jobs"
	"github.com/pulseboard/pulseboard/internal/session"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/window"
)

// alertGroup is the change log consumer group of detractor alerts, and
// alertClaimIdle how long an entry a node read stays its own before another
// node takes it over (that node died before acknowledging it).
const (
	alertGroup     = "alerts"
	alertClaimIdle = 30 * time.Second
)

// startAlerts starts alerting: on the memory engine with in-process state
// and a local job claimer, on Redis with state shared by every node, the
// change log read in a consumer group, and job ticks claimed in Redis.
func (m *Main) startAlerts(ctx context.Context, cal window.Calendar, sessions *session.Codec) error {
	cfg := m.Config
	ac := cfg.Alerts
	if cfg.Demo && len(ac.Thresholds) == 0 {
		ac.Thresholds = demoThresholds()
	}
	if cfg.Demo && !ac.Routed() {
		demo, err := demoRouting(ac, cfg.Dimensions, cfg.Rollups)
		if err != nil {
			return err
		}
		ac = demo
	}
	node := nodeName()
	// The scheduler's clock is a real one whatever m.Now is: gocron sleeps
	// on its timers. The local claimer reads the same clock, so the holds
	// and leases it grants are measured in the scheduler's time.
	jobClock := clockwork.NewRealClock()
	var (
		eng     alert.Engine
		changes alert.Changes
		claimer jobs.Claimer
	)
	if cfg.RedisURL == "" {
		fc, err := alert.NewFeedChanges(ctx, m.store, m.Logger)
		if err != nil {
			return fmt.Errorf("alerts: %w", err)
		}
		eng, changes, claimer = alert.NewMemory(), fc, jobs.NewLocalClaimer(jobClock.Now)
	} else {
		re := alert.NewRedis(m.redis, cfg.Tenant, ac.Keep)
		// Follow-ups of the old key layout move before anything reads the
		// queue; the hourly retention sweep moves what old nodes still open
		// during a rolling upgrade.
		if n, err := re.Migrate(ctx); err != nil {
			m.Logger.Warn("alerts: cannot move follow-ups of the old key layout yet; the retention sweep retries", slog.Any("err", err))
		} else if n > 0 {
			m.Logger.Info("alerts: moved follow-ups to the current key layout", slog.Int("follow_ups", n))
		}
		eng = re
		group := redisstore.NewGroup(m.redis, cfg.Tenant, alertGroup, node, alertClaimIdle)
		// Before the node serves: a group first made by the alert loop's
		// first read would skip the detractors acknowledged before it.
		if err := group.Ensure(ctx); err != nil {
			m.Logger.Warn("alerts: cannot create the change log consumer group yet; the first read retries", slog.Any("err", err))
		}
		changes = group
		claimer = jobs.NewRedisClaimer(m.redis, cfg.Tenant)
	}
	opts := alert.Options{
		Config: ac, Secret: cfg.AlertSecret, Engine: eng, Changes: changes, Querier: m.store,
		Calendar: cal, Rollups: cfg.Rollups, Now: m.Now, Logger: m.Logger, MinSample: int64(cfg.MinSample),
		ThemeLabel: m.themes.Label,
	}
	if why := ac.EmergingThemes.Unavailable; why != "" {
		m.Logger.Warn("alerts: emerging themes are off: "+why, slog.String("setting", "alerts.emerging_themes"))
	}
	switch {
	case cfg.PublicURL != "":
		opts.Links = claimlink.Links{Base: cfg.PublicURL, Signer: claimlink.FromSessionKey(sessions.Derive), TTL: ac.ClaimLinkTTL}
		if cfg.SessionKey == "" && ac.HasChat() {
			m.Logger.Warn("claim links are signed with a random key of this process (no PULSEBOARD_SESSION_KEY): they stop working when it restarts and on other nodes. Set the same key on every node")
		}
	case ac.HasChat():
		m.Logger.Info("chat messages carry no claim link: set PULSEBOARD_PUBLIC_URL to the server's address to add one")
	}
	m.alerts = alert.New(opts)
	m.alertMetrics()
	sched, err := jobs.New(jobs.Options{Claimer: claimer, Clock: jobClock, Location: cal.Location(), Node: node, Logger: m.Logger}, m.alerts.Jobs()...)
	if err != nil {
		return err
	}
	m.sched = sched
	actx := m.alerting.start(context.WithoutCancel(ctx))
	m.alerting.run(func() { m.alerts.Run(actx) })
	sched.Start()
	m.Logger.Info("alerts on", slog.String("node", node), slog.Int("detractor_cutoff", ac.DetractorCutoff),
		slog.Int("webhooks", len(ac.Webhooks)), slog.Int("threshold_rules", len(ac.Thresholds)),
		slog.Int("queues", len(ac.Queues)), slog.Int("routing_rules", len(ac.Routing)),
		slog.Int("digest_webhooks", len(ac.Digest.Webhooks)), slog.Bool("emerging_themes", ac.EmergingThemes.Enabled))
	return nil
}

// alertMetrics exports the alert state every node sees: follow-ups open
// and overdue, threshold alerts raised.
func (m *Main) alertMetrics() {
	count := func(keep func(alert.Snapshot) int) func() float64 {
		return func() float64 { return float64(keep(m.alerts.Snapshot())) }
	}
	m.metrics.GaugeFunc("pulseboard_followups_open", "Detractor follow-ups open or claimed.", count(func(s alert.Snapshot) int { return s.UnresolvedTotal }))
	m.metrics.GaugeFunc("pulseboard_followups_overdue", "Detractor follow-ups past their SLA (of the oldest the node holds, alert.SnapshotLimit).", count(func(s alert.Snapshot) int {
		n, now := 0, m.Now()
		for _, f := range s.Unresolved {
			if f.Overdue(now) {
				n++
			}
		}
		return n
	}))
	m.metrics.GaugeFunc("pulseboard_threshold_alerts_active", "Threshold alerts raised.", count(func(s alert.Snapshot) int { return len(s.Active) }))
	m.metrics.GaugeFunc("pulseboard_theme_alerts_active", "Emerging themes raised.", count(func(s alert.Snapshot) int { return len(s.Themes) }))
}

// demoThresholds watch each team's last hour, so `make run` shows banners
// come and go.
func demoThresholds() []alert.Rule {
	w, _ := window.Parse("1h")
	return []alert.Rule{{Name: "demo-teams", Title: "Team NPS", By: []store.Dimension{store.Team}, Window: w, Below: 25,
		MinResponses: 20, Filters: map[store.Dimension]string{}}}
}

// demoRouting is ac with the demo's follow-up queues and routing rules
// (config/demo-alerts.yaml), so `make run` shows an inbox with queues.
func demoRouting(ac alert.Config, schema store.Schema, rollups []store.Rollup) (alert.Config, error) {
	demo, err := alert.ParseConfig(string(configfiles.DemoAlerts), schema, rollups, time.ParseDuration)
	if err != nil {
		return ac, fmt.Errorf("config/demo-alerts.yaml: %w", err)
	}
	ac.Queues, ac.Routing, ac.DefaultQueue = demo.Queues, demo.Routing, demo.DefaultQueue
	return ac, nil
}

// nodeName names this process in job ledgers and as a change log
// consumer: the host, the pid and a random suffix.
func nodeName() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
