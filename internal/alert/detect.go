package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// detect follows the change log: each new detractor becomes a follow-up and
// a delivery to every webhook. An entry is acknowledged only after both are
// stored, so a node that dies in between leaves it for another node (Redis)
// to handle again; follow-ups and deliveries have stable ids, so handling
// an entry twice adds nothing twice.
// A failure is retried with backoff, and logged (see failures).
func (s *Service) detect(ctx context.Context) {
	backoff := pollEvery
	fails := failures{log: s.o.Logger, failing: "alerts: cannot follow the change log; retrying", recovered: "alerts: following the change log again"}
	for ctx.Err() == nil {
		entries, err := s.o.Changes.Read(ctx, readBlock)
		if err == nil {
			err = s.handle(ctx, entries)
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			fails.fail(ctx, err, slog.Duration("in", backoff))
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, retryMax)
			continue
		}
		fails.ok()
		backoff = pollEvery
	}
}

func (s *Service) handle(ctx context.Context, entries []store.LogEntry) error {
	for _, e := range entries {
		// When the entry was recorded: the stream id's time on Redis; the
		// memory engine hands entries over as they are recorded.
		recorded := s.o.Now()
		if e.Pos.Ms != 0 {
			recorded = time.UnixMilli(int64(e.Pos.Ms))
		}
		added := false
		for _, c := range e.Changes {
			ok, err := s.detractor(ctx, e.Pos, c, recorded)
			if err == nil && !ok {
				ok, err = s.noLongerDetractor(ctx, e.Pos, c, recorded)
			}
			if err != nil {
				return fmt.Errorf("change log entry %s: %w", e.Pos, err)
			}
			added = added || ok
		}
		if err := s.o.Changes.Ack(ctx, e.Pos); err != nil {
			return fmt.Errorf("acknowledge change log entry %s: %w", e.Pos, err)
		}
		if added {
			signal(s.kick)
			signal(s.refresh)
		}
	}
	return nil
}

// DetractorEvent is the body of a detractor delivery.
type DetractorEvent struct {
	Event    string   `json:"event"`
	ID       string   `json:"id"`
	Response Response `json:"response"`
	FollowUp FollowUp `json:"follow_up"`
}

// Response is a survey answer as events carry it.
type Response struct {
	store.Payload
	At time.Time `json:"at"`
}

// detractor handles one change; it reports whether it was a new detractor.
// A response that becomes a detractor by an update counts; one that was a
// detractor already does not alert again.
func (s *Service) detractor(ctx context.Context, pos store.Position, c store.Change, recorded time.Time) (bool, error) {
	cut := s.o.Config.DetractorCutoff
	if !isDetractor(&c.New, cut) || isDetractor(c.Old, cut) {
		return false, nil
	}
	at := time.Unix(c.New.At, 0).UTC()
	// An answer first recorded long after it was given is history (an
	// import, a backfill), not news. An update into a detractor is news
	// when it is recorded, however long ago the answer was first given:
	// its age says nothing about when the customer changed their mind.
	if c.Old == nil && recorded.Sub(at) > s.o.Config.MaxAge {
		return false, nil
	}
	p, ok := s.payload(pos, c, "its detractor gets no follow-up and no webhook")
	if !ok {
		return false, nil
	}
	f := FollowUp{ID: p.ID, Score: c.New.Score, Channel: p.Channel, Segment: p.Segment, Team: p.Team, Agent: p.Agent,
		Journey: p.Journey, Custom: p.Custom, Comment: p.Comment, At: at, Opened: recorded.UTC(), Status: Open}
	// Routing sees the dimensions the follow-up keeps (FollowUp.Dims): a
	// dimension a rule may name must be one the follow-up carries.
	q := s.o.Config.Route(f.Dims())
	if s.o.Config.Routed() {
		f.Queue = q.Name // without queues, stored as before they existed
	}
	f.Due = s.due(q, at).UTC()
	added, err := s.o.Engine.Open(ctx, f)
	if err != nil {
		return false, fmt.Errorf("open follow-up %q: %w", f.ID, err)
	}
	if !added {
		// An answer that an update took out of the detractors (its
		// follow-up resolved "by update") and another brought back: the
		// follow-up opens again, as new. Any other existing follow-up is
		// this same change read again, and stays as it is.
		_, err := s.o.Engine.Update(ctx, f.ID, func(g *FollowUp) error {
			if g.Status != Resolved || g.ResolvedBy != ResolvedByUpdate {
				return ErrConflict
			}
			*g = f
			return nil
		})
		if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
			return false, fmt.Errorf("reopen follow-up %q: %w", f.ID, err)
		}
	}
	ev := DetractorEvent{Event: EventDetractor, ID: EventDetractor + ":" + p.ID, Response: Response{Payload: p, At: at}, FollowUp: f}
	// The center's receivers (a CRM) get every detractor, as before queues;
	// the queue's own receivers (its team's channel) get the queue's.
	if err := s.enqueue(ctx, ev.ID, EventDetractor, ev, union(s.o.Config.Webhooks, q.Webhooks)); err != nil {
		return false, fmt.Errorf("queue the webhooks of detractor %q: %w", p.ID, err)
	}
	return true, nil
}

// union is a followed by what of b is not in a.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, u := range b {
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// isDetractor reports whether an entry is an answer with an NPS score at
// or below the cut: an offer, or an answer with CSAT alone, never is.
func isDetractor(e *store.Entry, cut int) bool {
	return e != nil && e.HasScore() && e.Score <= cut
}

// noLongerDetractor resolves the follow-up of an answer updated from a
// detractor's score to one that is not (README's case-1002, from 3 to 8);
// it reports whether it changed one. An answer without a follow-up (history,
// or one already resolved) changes nothing.
func (s *Service) noLongerDetractor(ctx context.Context, pos store.Position, c store.Change, recorded time.Time) (bool, error) {
	cut := s.o.Config.DetractorCutoff
	// An update that drops the NPS score (CSAT alone now) says nothing
	// about the detractor's mind: the follow-up stays.
	if !isDetractor(c.Old, cut) || !c.New.HasScore() || c.New.Score <= cut {
		return false, nil
	}
	p, ok := s.payload(pos, c, "its follow-up stays open")
	if !ok {
		return false, nil
	}
	_, err := s.o.Engine.Update(ctx, p.ID, func(f *FollowUp) error {
		return f.ResolveByUpdate(c.Old.Score, c.New.Score, recorded.UTC())
	})
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("resolve follow-up %q updated out of the detractors: %w", p.ID, err)
	}
	return true, nil
}

// payload decodes a change's payload. The engine wrote it, so one that
// does not decode is a bug, and no retry can fix it: holding the entry back
// would stop alerting on every later change. The change is logged as an
// error, saying what it costs, and skipped.
func (s *Service) payload(pos store.Position, c store.Change, cost string) (store.Payload, bool) {
	var p store.Payload
	if err := json.Unmarshal(c.Payload, &p); err != nil {
		s.o.Logger.Error("alerts: a change's payload in the change log does not decode; skipping the change: "+cost,
			slog.String("pos", pos.String()), slog.Int("score", c.New.Score), slog.Time("at", time.Unix(c.New.At, 0).UTC()), slog.Any("err", err))
		return p, false
	}
	return p, true
}

// enqueue queues one event for each receiver, in each receiver's format
// (each format encoded once).
func (s *Service) enqueue(ctx context.Context, id, event string, body any, urls []string) error {
	if len(urls) == 0 {
		return nil
	}
	now := s.o.Now()
	bodies := map[Kind][]byte{}
	ds := make([]Delivery, len(urls))
	for i, u := range urls {
		k := s.o.Config.KindOf(u)
		b, ok := bodies[k]
		if !ok {
			var err error
			if b, err = s.encode(k, body, now); err != nil {
				return fmt.Errorf("encode %s event for a %s receiver: %w", event, k, err)
			}
			bodies[k] = b
		}
		ds[i] = Delivery{ID: deliveryID(id, u), Event: event, URL: u, Body: b, Created: now}
		if k != KindWebhook {
			ds[i].Kind = k
		}
	}
	if err := s.o.Engine.Enqueue(ctx, ds...); err != nil {
		return fmt.Errorf("queue %s deliveries: %w", event, err)
	}
	signal(s.kick)
	return nil
}

// encode writes an event body in a receiver's format: the event as JSON
// for a webhook, a chat message for Slack and Teams.
func (s *Service) encode(k Kind, body any, now time.Time) ([]byte, error) {
	if k == KindWebhook {
		return json.Marshal(body)
	}
	env := messageEnv{now: now, loc: s.o.Calendar.Location(), queue: func(name string) string {
		if q, ok := s.o.Config.Queue(name); ok {
			return q.Label
		}
		return name
	}}
	if s.o.Links != nil {
		env.claim = func(id string) string { return s.o.Links.Claim(id, now) }
	}
	m, ok := env.messageOf(body)
	if !ok {
		return nil, fmt.Errorf("no chat message for %T", body)
	}
	switch k {
	case KindSlack:
		return slack(m)
	case KindTeams:
		return teams(m)
	}
	return nil, fmt.Errorf("unknown receiver kind %q", k)
}

// FeedChanges follows the memory engine's change log from where it was
// when made. Acknowledging is a no-op: on one node, nothing survives a
// crash to hand over.
type FeedChanges struct {
	feed Log
	pos  store.Position
	log  *slog.Logger
}

// Log is the part of an engine's change feed FeedChanges reads (every
// store.Store has it, per store.Feed's contract): Tail to follow the log,
// History to find its end.
type Log interface {
	Tail(ctx context.Context, pos store.Position, block time.Duration) ([]store.LogEntry, error)
	History(ctx context.Context, n int) ([]store.LogEntry, error)
}

// NewFeedChanges starts following feed at its newest entry.
func NewFeedChanges(ctx context.Context, feed Log, logger *slog.Logger) (*FeedChanges, error) {
	f := &FeedChanges{feed: feed, log: logger}
	return f, f.jump(ctx)
}

func (f *FeedChanges) jump(ctx context.Context) error {
	h, err := f.feed.History(ctx, 1)
	if err != nil {
		return fmt.Errorf("find the change log's end: %w", err)
	}
	if len(h) > 0 {
		f.pos = h[0].Pos
	}
	return nil
}

// Read implements Changes.
func (f *FeedChanges) Read(ctx context.Context, block time.Duration) ([]store.LogEntry, error) {
	entries, err := f.feed.Tail(ctx, f.pos, block)
	if errors.Is(err, store.ErrLogGap) {
		// The bounded in-process log moved on (a big import): skip to its
		// end; those answers are history by now.
		f.log.Warn("alerts: the change log moved past this reader; skipping to its end", slog.String("pos", f.pos.String()))
		return nil, f.jump(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("follow the change log: %w", err)
	}
	if len(entries) > 0 {
		f.pos = entries[len(entries)-1].Pos
	}
	return entries, nil
}

// Ack implements Changes.
func (f *FeedChanges) Ack(context.Context, ...store.Position) error { return nil }
