package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pulseboard/pulseboard/internal/window"
)

// The follow-up inbox: the listing with its filters, the queues, and
// reassigning a follow-up to another queue or person.

// InboxFilter picks follow-ups. Status is "open" (open and claimed, the
// default), "unclaimed" (open, nobody has it), "claimed", "overdue" (open
// or claimed, past due) or "resolved" (today's); Queue ("" for all) keeps
// one queue's.
type InboxFilter struct {
	Status string
	Queue  string
}

// Item is a follow-up as the inbox lists it: with its queue (the default
// queue's name for one stored without), the queue's label, its age since
// the answer and whether it is past its due time.
type Item struct {
	FollowUp
	QueueLabel string `json:"queue_label"`
	AgeSeconds int64  `json:"age_seconds"`
	Overdue    bool   `json:"overdue"`
}

// Queues lists the follow-up queues.
func (s *Service) Queues() []Queue { return s.o.Config.QueueList() }

// Inbox lists follow-ups, oldest first, at most ListLimit. Without a
// filter beyond "open" it reads the oldest ListLimit; with one it reads the
// whole unresolved queue and keeps what matches, so a short queue is not
// hidden behind a long one, and an overdue follow-up of a queue with a
// short SLA is not hidden behind older ones of a queue with a long one.
func (s *Service) Inbox(ctx context.Context, filter InboxFilter) ([]Item, error) {
	if filter.Queue != "" {
		if _, ok := s.o.Config.Queue(filter.Queue); !ok {
			return nil, s.unknownQueue(filter.Queue)
		}
	}
	now := s.o.Now()
	var keep func(FollowUp) bool
	switch filter.Status {
	case "", "open":
		keep = func(FollowUp) bool { return true }
	case "unclaimed":
		keep = func(f FollowUp) bool { return f.Status == Open }
	case "claimed":
		keep = func(f FollowUp) bool { return f.Status == Claimed }
	case "overdue":
		keep = func(f FollowUp) bool { return f.Overdue(now) }
	case "resolved":
		keep = func(FollowUp) bool { return true }
	default:
		return nil, ErrBadStatus
	}
	var list []FollowUp
	var err error
	switch {
	case filter.Status == "resolved":
		cal := s.o.Calendar
		list, err = s.o.Engine.ResolvedSince(ctx, cal.Start(window.Day, cal.Bucket(window.Day, now)))
	case filter.Queue == "" && (filter.Status == "" || filter.Status == "open"):
		list, _, err = s.o.Engine.Unresolved(ctx, ListLimit)
	default:
		list, _, err = s.o.Engine.Unresolved(ctx, 0)
	}
	if err != nil {
		return nil, err
	}
	out := []Item{}
	for _, f := range list {
		if len(out) == ListLimit {
			break
		}
		it := s.item(f, now)
		if keep(f) && (filter.Queue == "" || it.Queue == filter.Queue) {
			out = append(out, it)
		}
	}
	return out, nil
}

// item is f as the inbox shows it.
func (s *Service) item(f FollowUp, now time.Time) Item {
	if f.Queue == "" {
		f.Queue = s.o.Config.defaultQueue()
	}
	label := f.Queue // a queue no longer configured keeps its name
	if q, ok := s.o.Config.Queue(f.Queue); ok {
		label = q.Label
	}
	return Item{FollowUp: f, QueueLabel: label, AgeSeconds: int64(now.Sub(f.At) / time.Second), Overdue: f.Overdue(now)}
}

func (s *Service) unknownQueue(name string) error {
	return fmt.Errorf("%w %q (queues: %s)", ErrUnknownQueue, name, queueNames(s.o.Config.QueueList(), ", "))
}

// Reassignment is what Reassign does: move to Queue ("" to stay) and/or
// give to Person (nil: leave the claim, except that a move clears it; ""
// clears it; a name claims it for them). By is who does it.
type Reassignment struct {
	By     string
	Queue  string
	Person *string
}

// Reassign moves a follow-up to another queue and/or person, atomically
// on both engines (Engine.Update, with FollowUp.Reassign as the rule). A
// move to another queue takes that queue's SLA, counted from the answer as
// when it was opened: the promise is to the customer, whose wait began
// then; a follow-up moved late may be overdue at once, which is what the
// new queue needs to see. ErrResolved for a resolved one, ErrUnknownQueue
// for a queue not configured.
func (s *Service) Reassign(ctx context.Context, id string, r Reassignment) (Item, error) {
	var to Queue
	if r.Queue != "" {
		q, ok := s.o.Config.Queue(r.Queue)
		if !ok {
			return Item{}, s.unknownQueue(r.Queue)
		}
		to = q
	}
	now := s.o.Now()
	moved := false
	f, err := s.o.Engine.Update(ctx, id, func(f *FollowUp) error {
		m := Move{By: r.By, From: f.Queue, Person: r.Person}
		if m.From == "" {
			m.From = s.o.Config.defaultQueue()
		}
		if to.Name != "" {
			m.Queue, m.Due = to.Name, s.due(to, f.At).UTC()
		}
		moved = to.Name != "" && to.Name != m.From
		_, err := f.Reassign(m, now)
		return err
	})
	signal(s.refresh)
	if err != nil {
		return Item{}, err
	}
	if moved {
		// The queue's own receivers hear of what moved in, as of what was
		// routed to it. Queued after the change is stored: a node that dies
		// in between loses this event, never the move.
		ev := ReassignedEvent{Event: EventReassigned, ID: fmt.Sprintf("%s:%s@%d", EventReassigned, f.ID, now.UnixMilli()), FollowUp: f}
		if err := s.enqueue(ctx, ev.ID, EventReassigned, ev, to.Webhooks); err != nil {
			s.o.Logger.Warn("alerts: reassigned, but cannot queue the event for the queue's receivers", slog.String("follow_up", f.ID), slog.Any("err", err))
		}
	}
	return s.item(f, now), nil
}

// ReassignedEvent is the body of a followup.reassigned delivery, sent to
// the receivers of the queue a follow-up moved to.
type ReassignedEvent struct {
	Event    string   `json:"event"`
	ID       string   `json:"id"`
	FollowUp FollowUp `json:"follow_up"`
}

// errPeek aborts the Update that FollowUp reads with.
var errPeek = errors.New("read only")

// FollowUp reads one follow-up as the inbox lists it; ErrNotFound when
// there is none. The engines read a single follow-up only inside Update
// (atomically, on Redis under WATCH); an fn that refuses every change makes
// that a plain read, and neither engine writes anything then.
func (s *Service) FollowUp(ctx context.Context, id string) (Item, error) {
	f, err := s.o.Engine.Update(ctx, id, func(*FollowUp) error { return errPeek })
	if err != nil && !errors.Is(err, errPeek) {
		return Item{}, err
	}
	return s.item(f, s.o.Now()), nil
}
