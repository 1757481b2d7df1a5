// Package alert makes Pulseboard act in real time: a detractor fires a
// signed webhook at once and enters a follow-up queue with a same-day SLA;
// threshold rules raise and resolve alerts that boards show as banners; a
// digest summarises each day and week for receivers.
//
// State that every node must agree on (the outbox of deliveries, dead
// letters, follow-ups, active threshold alerts) lives behind four small
// interfaces, Outbox, FollowUps, Actives and Sweeper, with a memory implementation
// (Memory, one node) and a Redis one (Redis, any number of nodes); one
// conformance suite runs against both.
//
// Delivery is at least once. Detractors are read from the store's change
// log (a Redis consumer group on the Redis engine), so a node that dies
// between recording a response and alerting leaves the log entry pending
// for another node; a delivery is retried with backoff until a receiver
// answers 2xx, and after Config.Retries failed attempts it moves to the dead
// letters that admins can list. Receivers deduplicate by the delivery id.
package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
)

// Event names, sent in the body and the X-Pulseboard-Event header.
const (
	EventDetractor         = "detractor"
	EventThresholdRaised   = "threshold.raised"
	EventThresholdResolved = "threshold.resolved"
	EventDigestDaily       = "digest.daily"
	EventDigestWeekly      = "digest.weekly"
)

// Delivery is one webhook request still to make: one event for one
// receiver. Its ID is stable, so enqueuing it twice is one delivery, and a
// receiver that sees an ID twice has seen a retry.
type Delivery struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	URL       string          `json:"url"`
	Body      json.RawMessage `json:"body"`
	Attempts  int             `json:"attempts"`
	Created   time.Time       `json:"created"`
	LastError string          `json:"last_error,omitempty"`
	// Buried is when the delivery was given up (dead letters only).
	Buried *time.Time `json:"buried,omitempty"`
	// Lease is the token of the claim that handed the delivery out: the
	// outcome of its attempt is recorded only while no later claim took it
	// over (a fencing token). It is not stored with the delivery.
	Lease string `json:"-"`
}

// Status is where a follow-up stands.
type Status string

// The follow-up states: open → claimed → resolved (a follow-up may also be
// resolved straight from open).
const (
	Open     Status = "open"
	Claimed  Status = "claimed"
	Resolved Status = "resolved"
)

// FollowUp is one detractor waiting for a call back. Its ID is the
// response's id.
type FollowUp struct {
	ID      string `json:"id"`
	Score   int    `json:"score"`
	Channel string `json:"channel,omitempty"`
	Segment string `json:"segment,omitempty"`
	Team    string `json:"team,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Journey string `json:"journey,omitempty"`
	// Custom holds the configured dimensions' values, as in store.Payload;
	// follow-ups stored before it existed have none.
	Custom     map[string]string `json:"dims,omitempty"`
	Comment    string            `json:"comment,omitempty"`
	At         time.Time         `json:"at"`
	Opened     time.Time         `json:"opened"`
	Due        time.Time         `json:"due"`
	Status     Status            `json:"status"`
	ClaimedBy  string            `json:"claimed_by,omitempty"`
	ClaimedAt  *time.Time        `json:"claimed_at,omitempty"`
	ResolvedBy string            `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time        `json:"resolved_at,omitempty"`
	Note       string            `json:"note,omitempty"`
}

// Errors of follow-up transitions.
var (
	// ErrNotFound means no follow-up has the id.
	ErrNotFound = errors.New("no such follow-up")
	// ErrConflict means the transition is not allowed from the current
	// state: claimed by someone else, or already resolved.
	ErrConflict = errors.New("follow-up is not in a state that allows this")
	// ErrLeaseLost means a delivery's lease ended and another claim took
	// it over, or it was settled already: the attempt's outcome is not
	// recorded.
	ErrLeaseLost = errors.New("the delivery's lease was lost to another claim")
)

// Dims returns the follow-up's dimensions.
func (f FollowUp) Dims() store.Dims {
	return store.Payload{Channel: f.Channel, Segment: f.Segment, Journey: f.Journey, Team: f.Team, Agent: f.Agent, Custom: f.Custom}.Dims()
}

// Claim gives the follow-up to by. Claiming it again by the same person is
// harmless; claiming one that another holds, or one resolved, is a
// conflict.
func (f *FollowUp) Claim(by string, now time.Time) error {
	switch {
	case f.Status == Resolved:
		return ErrConflict
	case f.Status == Claimed && f.ClaimedBy != by:
		return ErrConflict
	case f.Status == Claimed:
		return nil
	}
	f.Status, f.ClaimedBy, f.ClaimedAt = Claimed, by, &now
	return nil
}

// Resolve closes the follow-up with a note. Whoever resolves it claims it
// if nobody had; a follow-up another person claimed can only be resolved
// by them.
func (f *FollowUp) Resolve(by, note string, now time.Time) error {
	if err := f.Claim(by, now); err != nil {
		return err
	}
	f.Status, f.ResolvedBy, f.ResolvedAt, f.Note = Resolved, by, &now, note
	return nil
}

// ResolvedByUpdate is who resolved a follow-up whose answer was updated out
// of the detractors (ResolveByUpdate).
const ResolvedByUpdate = "update"

// ResolveByUpdate closes a follow-up because its answer changed from a
// detractor's score to one that is not: the customer's own update says there
// is nothing left to follow up, so a supervisor's queue does not keep an
// entry with a score the customer took back. A claimer is kept on record and
// named in the note. Resolved already: nothing changes (ErrConflict).
func (f *FollowUp) ResolveByUpdate(from, to int, now time.Time) error {
	if f.Status == Resolved {
		return ErrConflict
	}
	note := fmt.Sprintf("resolved by update: the customer changed the score from %d to %d", from, to)
	if f.ClaimedBy != "" {
		note += "; it was claimed by " + f.ClaimedBy
	}
	f.Status, f.ResolvedBy, f.ResolvedAt, f.Note = Resolved, ResolvedByUpdate, &now, note
	return nil
}

// InSLA reports whether a resolved follow-up was closed by its due time.
func (f FollowUp) InSLA() bool {
	return f.ResolvedAt != nil && !f.ResolvedAt.After(f.Due)
}

// Overdue reports whether an unresolved follow-up is past its due time.
func (f FollowUp) Overdue(now time.Time) bool {
	return f.Status != Resolved && now.After(f.Due)
}

// Active is a threshold alert that is raised: a rule's group whose NPS is
// below the rule's level.
type Active struct {
	// ID is the rule name and the group's key, like "phone-1h" or
	// "team-1h/team=billing".
	ID    string `json:"id"`
	Rule  string `json:"rule"`
	Title string `json:"title"`
	// Filters are the dimensions the alert concerns: the rule's filters and
	// the group's key. Boards whose filters agree show it.
	Filters   map[store.Dimension]string `json:"filters,omitempty"`
	Window    string                     `json:"window"`
	Level     float64                    `json:"level"`
	NPS       float64                    `json:"nps"`
	Responses int64                      `json:"responses"`
	Since     time.Time                  `json:"since"`
	Updated   time.Time                  `json:"updated"`
}

// Concerns reports whether the alert concerns a scope of filters (a
// board's): no dimension of the scope names another value than the alert.
// An alert on the whole center concerns every board; an alert on team
// billing concerns the floor and billing's board, not support's.
func (a Active) Concerns(scope map[store.Dimension]string) bool {
	for d, v := range scope {
		if av, ok := a.Filters[d]; ok && av != v {
			return false
		}
		if _, ok := a.Filters[d]; !ok && len(a.Filters) > 0 {
			// A board of one team is not concerned by another scope's
			// alert that says nothing about teams (e.g. the phone
			// channel overall): it would only repeat the floor's banner.
			return false
		}
	}
	return true
}
