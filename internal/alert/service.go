package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Changes is the store's change log as the alert pipeline reads it: an
// entry is handed out again (to this node or another) until it is
// acknowledged. redisstore.Group is the Redis engine's; FeedChanges wraps
// the memory engine's log.
type Changes interface {
	Read(ctx context.Context, block time.Duration) ([]store.LogEntry, error)
	Ack(ctx context.Context, pos ...store.Position) error
}

// Querier answers window queries: the store, for thresholds and digests.
type Querier interface {
	Query(ctx context.Context, q store.Query) ([]store.Group, error)
}

// Options are what a Service needs.
type Options struct {
	Config Config
	// Secret signs every delivery (HMAC-SHA256).
	Secret   string
	Engine   Engine
	Changes  Changes
	Querier  Querier
	Calendar window.Calendar
	Rollups  []store.Rollup
	Now      func() time.Time
	Logger   *slog.Logger

	// Links makes the claim links of chat messages; nil: messages carry
	// none (public_url is not set).
	Links ClaimLinks

	// ThemeLabel names a theme in messages (the dictionary's label); nil
	// or "": the theme's name.
	ThemeLabel func(name string) string

	// MinSample marks digest groups with fewer responses low_sample, as
	// the API does (config's min_sample); 0 marks none.
	MinSample int64
}

// ClaimLinks makes the link that claims a follow-up (claimlink.Links).
type ClaimLinks interface {
	Claim(id string, now time.Time) string
}

// Service is one node's part of alerting: it turns detractors in the change
// log into follow-ups and deliveries, delivers the outbox, keeps a snapshot
// of the shared state for boards, and provides the scheduled jobs and the
// admin API's operations.
type Service struct {
	o       Options
	http    *http.Client
	secret  []byte
	kick    chan struct{} // wakes the delivery loop
	refresh chan struct{} // wakes the snapshot loop
	changed chan struct{}

	mu   sync.RWMutex
	snap Snapshot
}

// Snapshot is the shared state boards show, as of its last refresh.
type Snapshot struct {
	// Active are the threshold alerts raised, Themes the emerging themes.
	Active []Active
	Themes []ThemeAlert
	// Unresolved are the oldest SnapshotLimit open and claimed follow-ups,
	// of UnresolvedTotal. With one SLA for all, due times follow opening
	// times and the oldest are also the most overdue; with queues of
	// different SLAs, an overdue follow-up of a short-SLA queue can be
	// younger than the ones held (Inbox reads the whole queue instead).
	Unresolved      []FollowUp
	UnresolvedTotal int
	// MixedSLAs: the queues have different SLAs, so the follow-ups held
	// are not the most overdue ones, and an overdue count over them is a
	// lower bound when the queue is longer than SnapshotLimit.
	MixedSLAs bool
	// ResolvedToday are the follow-ups resolved since local midnight.
	ResolvedToday []FollowUp
}

// SnapshotLimit bounds the follow-ups a node reads every refresh and holds
// for its boards; beyond it, boards show the counts as lower bounds.
const SnapshotLimit = 2000

// ListLimit bounds one follow-up listing of the admin API.
const ListLimit = 1000

// Timing of the loops.
const (
	readBlock    = 2 * time.Second
	pollEvery    = 500 * time.Millisecond
	refreshEvery = 2 * time.Second
	// refreshMinGap spaces reads of the shared state that local changes ask
	// for.
	refreshMinGap = 500 * time.Millisecond
	retryMax      = 5 * time.Second
	// senders is how many deliveries one node sends at a time.
	senders = 4
)

// New makes a Service.
func New(o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{o: o, http: newHTTPClient(o.Config), secret: []byte(o.Secret), kick: make(chan struct{}, 1), refresh: make(chan struct{}, 1), changed: make(chan struct{}, 1)}
}

// Run follows the change log, delivers the outbox and refreshes the
// snapshot until ctx ends.
func (s *Service) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){s.detect, s.deliverLoop, s.refreshLoop} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			loop(ctx)
		}()
	}
	wg.Wait()
}

// Changed delivers a signal after the snapshot changed.
func (s *Service) Changed() <-chan struct{} { return s.changed }

// Snapshot returns the state as of the last refresh.
func (s *Service) Snapshot() Snapshot {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.snap
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// failures logs one loop's runs of failures: the first of a run as a
// warning, the next ones (most often the same outage, every retry) at debug
// level, and the end of the run, so every error reaches the log while an
// outage costs one warning and one line when it ends.
type failures struct {
	log                *slog.Logger
	failing, recovered string
	inRun              bool
}

// fail logs err, a failure of the loop.
func (f *failures) fail(ctx context.Context, err error, attrs ...any) {
	level := slog.LevelWarn
	if f.inRun {
		level = slog.LevelDebug
	}
	f.inRun = true
	f.log.Log(ctx, level, f.failing, append(attrs, slog.Any("err", err))...)
}

// ok ends a run of failures, if one was going on.
func (f *failures) ok() {
	if f.inRun {
		f.log.Info(f.recovered)
	}
	f.inRun = false
}

// sleep waits d or until ctx ends; it reports whether ctx is still alive.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// refreshLoop reads the shared state every refreshEvery (or when this node
// changed it) and signals boards when it differs from the last read.
func (s *Service) refreshLoop(ctx context.Context) {
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	fails := failures{log: s.o.Logger, failing: "alerts: cannot read the shared state; boards keep the last one", recovered: "alerts: reading the shared state again"}
	for {
		snap, err := s.read(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			fails.fail(ctx, err)
		case err == nil:
			fails.ok()
			s.mu.Lock()
			same := reflect.DeepEqual(snap, s.snap)
			s.snap = snap
			s.mu.Unlock()
			if !same {
				signal(s.changed)
			}
		}
		// Every new detractor signals a refresh. At a few a second, a read
		// of the whole snapshot for each kept a core busy (2,000 follow-ups
		// decoded each time); boards show a change at their next tick, so a
		// short gap loses nothing a screen could show.
		if !sleep(ctx, refreshMinGap) {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.refresh:
		}
	}
}

func (s *Service) read(ctx context.Context) (Snapshot, error) {
	var snap Snapshot
	var err error
	all, err := s.o.Engine.Active(ctx)
	if err != nil {
		return snap, err
	}
	snap.Active, snap.Themes = thresholdsOnly(all), themeAlerts(all)
	if snap.Unresolved, snap.UnresolvedTotal, err = s.o.Engine.Unresolved(ctx, SnapshotLimit); err != nil {
		return snap, err
	}
	snap.MixedSLAs = s.o.Config.MixedSLAs()
	cal := s.o.Calendar
	today := cal.Start(window.Day, cal.Bucket(window.Day, s.o.Now()))
	snap.ResolvedToday, err = s.o.Engine.ResolvedSince(ctx, today)
	return snap, err
}

// due is when a follow-up of an answer given at at must be resolved in
// queue q: its SLA after it, or with the same-day SLA the next local
// midnight.
func (s *Service) due(q Queue, at time.Time) time.Time {
	if q.SLA > 0 {
		return at.Add(q.SLA)
	}
	cal := s.o.Calendar
	return cal.End(window.Day, cal.Bucket(window.Day, at))
}

// deliveryID names the delivery of one event to one receiver.
func deliveryID(event, url string) string {
	h := sha256.Sum256([]byte(url))
	return event + "~" + hex.EncodeToString(h[:4])
}

// FollowUpList lists follow-ups: "open" (open and claimed, the default),
// "overdue", or "resolved" (today's); see Inbox.
func (s *Service) FollowUpList(ctx context.Context, status string) ([]FollowUp, error) {
	items, err := s.Inbox(ctx, InboxFilter{Status: status})
	out := make([]FollowUp, len(items))
	for i, it := range items {
		out[i] = it.FollowUp
	}
	return out, err
}

// ErrBadStatus means a follow-up list was asked for an unknown status.
var ErrBadStatus = errors.New(`status must be open, unclaimed, claimed, overdue or resolved`)

// Claim gives a follow-up to by.
func (s *Service) Claim(ctx context.Context, id, by string) (FollowUp, error) {
	f, err := s.o.Engine.Update(ctx, id, func(f *FollowUp) error { return f.Claim(by, s.o.Now()) })
	signal(s.refresh)
	return f, err
}

// Resolve closes a follow-up with a note.
func (s *Service) Resolve(ctx context.Context, id, by, note string) (FollowUp, error) {
	f, err := s.o.Engine.Update(ctx, id, func(f *FollowUp) error { return f.Resolve(by, note, s.o.Now()) })
	signal(s.refresh)
	return f, err
}

// Alerts lists the raised threshold alerts (ThemeAlerts the emerging
// themes).
func (s *Service) Alerts(ctx context.Context) ([]Active, error) {
	as, err := s.o.Engine.Active(ctx)
	return thresholdsOnly(as), err
}

// Redrive sends a dead letter again, from its first attempt (after the
// receiver was fixed).
func (s *Service) Redrive(ctx context.Context, id string) error {
	if err := s.o.Engine.Redrive(ctx, id, s.o.Now()); err != nil {
		return err
	}
	signal(s.kick)
	return nil
}

// DeadLetters lists up to n deliveries that were given up, newest first.
func (s *Service) DeadLetters(ctx context.Context, n int) ([]Delivery, error) {
	return s.o.Engine.DeadLetters(ctx, n)
}
