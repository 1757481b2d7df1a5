// Package alert makes Pulseboard act in real time: a detractor fires a
// signed webhook at once and enters a follow-up queue with a same-day SLA;
// threshold rules raise and resolve alerts that boards show as banners; the
// emerging-theme detector raises a theme that detractors suddenly mention
// far more than in the week before (emerging.go); a digest summarises each
// day and week for receivers.
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
	"math"
	"slices"
	"strconv"
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
	EventReassigned        = "followup.reassigned"
)

// Delivery is one webhook request still to make: one event for one
// receiver. Its ID is stable, so enqueuing it twice is one delivery, and a
// receiver that sees an ID twice has seen a retry.
type Delivery struct {
	ID    string `json:"id"`
	Event string `json:"event"`
	URL   string `json:"url"`
	// Kind is the receiver's format ("" for a generic webhook, and in
	// deliveries queued before kinds existed): Body is already in it.
	Kind      Kind            `json:"kind,omitempty"`
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
	// Queue is the follow-up queue the routing rules sent it to ("" when
	// no queues are configured, and in follow-ups stored before queues
	// existed: both read as the default queue, Config.DefaultQueue).
	Queue string `json:"queue,omitempty"`
	// History is who did what and when: the last maxHistory steps.
	History []Step `json:"history,omitempty"`
}

// Step is one thing a person (or an update of the answer) did to a
// follow-up.
type Step struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"`
	// From and Queue are the queues a reassignment moved it from and to
	// (empty: it stayed); To the person it gave it to; Unclaimed that it
	// took the claim away from whoever had it.
	From      string `json:"from,omitempty"`
	Queue     string `json:"queue,omitempty"`
	To        string `json:"to,omitempty"`
	Unclaimed bool   `json:"unclaimed,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Actions of a Step.
const (
	ActionClaimed    = "claimed"
	ActionResolved   = "resolved"
	ActionReassigned = "reassigned"
)

// maxHistory bounds a follow-up's history: a follow-up bounced between
// queues all day must not grow without end, and the last steps are the
// ones a supervisor reads.
const maxHistory = 20

func (f *FollowUp) record(s Step) {
	// Clip: the new step goes into a new array, never one that a copy of
	// the follow-up handed out earlier (Memory's) still shares.
	f.History = append(slices.Clip(f.History), s)
	if n := len(f.History); n > maxHistory {
		f.History = slices.Clone(f.History[n-maxHistory:])
	}
}

// Errors of follow-up transitions.
var (
	// ErrNotFound means no follow-up has the id.
	ErrNotFound = errors.New("no such follow-up")
	// ErrConflict means the transition is not allowed from the current
	// state: claimed by someone else, or already resolved.
	ErrConflict = errors.New("follow-up is not in a state that allows this")
	// ErrResolved is the conflict of changing a resolved follow-up.
	ErrResolved = fmt.Errorf("%w: it is resolved", ErrConflict)
	// ErrClaimed is the conflict of claiming or resolving a follow-up
	// someone else holds.
	ErrClaimed = fmt.Errorf("%w: someone else claimed it", ErrConflict)
	// ErrUnknownQueue means a reassignment or a listing named a queue the
	// configuration does not have.
	ErrUnknownQueue = errors.New("no such follow-up queue")
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
	changed, err := f.claim(by, now)
	if changed {
		f.record(Step{At: now, By: by, Action: ActionClaimed})
	}
	return err
}

// claim is Claim without the history; it reports whether it changed f.
func (f *FollowUp) claim(by string, now time.Time) (bool, error) {
	switch {
	case f.Status == Resolved:
		return false, ErrResolved
	case f.Status == Claimed && f.ClaimedBy != by:
		return false, ErrClaimed
	case f.Status == Claimed:
		return false, nil
	}
	f.Status, f.ClaimedBy, f.ClaimedAt = Claimed, by, &now
	return true, nil
}

// Resolve closes the follow-up with a note. Whoever resolves it claims it
// if nobody had; a follow-up another person claimed can only be resolved
// by them (or reassigned to them first).
func (f *FollowUp) Resolve(by, note string, now time.Time) error {
	if _, err := f.claim(by, now); err != nil {
		return err
	}
	f.Status, f.ResolvedBy, f.ResolvedAt, f.Note = Resolved, by, &now, note
	f.record(Step{At: now, By: by, Action: ActionResolved, Note: note})
	return nil
}

// Move is a reassignment: to another queue, to another person, or both.
type Move struct {
	// By is who reassigns.
	By string
	// From is the queue the follow-up is in (its Queue, or the default
	// queue's name when that is ""); Queue the one it moves to, "" or From
	// to stay; Due its due time in Queue.
	From, Queue string
	Due         time.Time
	// Person nil leaves the claim alone, except that a move to another
	// queue clears it (the new queue's people pick it up); "" clears it;
	// a name gives it to them, claimed.
	Person *string
}

// Reassign applies a move. A resolved follow-up cannot move
// (ErrResolved); a move that changes nothing (the queue it is in, the
// person who has it) changes nothing and records nothing, so a retried
// request is harmless. It reports whether the follow-up changed.
func (f *FollowUp) Reassign(m Move, now time.Time) (bool, error) {
	if f.Status == Resolved {
		return false, ErrResolved
	}
	step := Step{At: now, By: m.By, Action: ActionReassigned}
	changed := false
	if m.Queue != "" && m.Queue != m.From {
		f.Queue, f.Due = m.Queue, m.Due
		step.From, step.Queue = m.From, m.Queue
		changed = true
		if m.Person == nil && f.Status == Claimed {
			f.Status, f.ClaimedBy, f.ClaimedAt = Open, "", nil
			step.Unclaimed = true
		}
	}
	if p := m.Person; p != nil && *p != f.ClaimedBy {
		if *p == "" {
			f.Status, f.ClaimedBy, f.ClaimedAt = Open, "", nil
			step.Unclaimed = true
		} else {
			f.Status, f.ClaimedBy, f.ClaimedAt = Claimed, *p, &now
		}
		step.To = *p
		changed = true
	}
	if changed {
		f.record(step)
	}
	return changed, nil
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
		return ErrResolved
	}
	note := fmt.Sprintf("resolved by update: the customer changed the score from %d to %d", from, to)
	if f.ClaimedBy != "" {
		note += "; it was claimed by " + f.ClaimedBy
	}
	f.Status, f.ResolvedBy, f.ResolvedAt, f.Note = Resolved, ResolvedByUpdate, &now, note
	f.record(Step{At: now, By: ResolvedByUpdate, Action: ActionResolved, Note: note})
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

// Active is a threshold alert that is raised: a rule's group whose figure
// (the rule's metric: NPS, response rate or CSAT) is below the rule's level.
type Active struct {
	// ID is the rule name and the group's key, like "phone-1h" or
	// "team-1h/team=billing".
	ID    string `json:"id"`
	Rule  string `json:"rule"`
	Title string `json:"title"`
	// Filters are the dimensions the alert concerns: the rule's filters and
	// the group's key. Boards whose filters agree show it.
	Filters map[store.Dimension]string `json:"filters,omitempty"`
	Window  string                     `json:"window"`
	// Metric is the rule's metric; "" (alerts raised before metrics
	// existed) is MetricNPS.
	Metric Metric `json:"metric,omitempty"`
	// Level is the rule's level and Value the figure judged against it:
	// the NPS (-100..100) for nps, a percentage (0..100) for
	// response_rate and csat, rounded to two decimals.
	Level float64 `json:"level"`
	Value float64 `json:"value"`
	// NPS is the group's NPS for an nps rule (Value), 0 for other metrics.
	NPS float64 `json:"nps"`
	// Part of Whole make Value: answered of offered (response_rate),
	// satisfied of CSAT answers (csat); none for nps.
	Part  int64 `json:"part,omitempty"`
	Whole int64 `json:"whole,omitempty"`
	// Responses is the answers behind the figure: NPS answers (nps),
	// answers to the offers (response_rate), CSAT answers (csat).
	Responses int64     `json:"responses"`
	Since     time.Time `json:"since"`
	Updated   time.Time `json:"updated"`
	// Theme is an emerging theme's figures (Rule is EmergingRule); nil
	// for a threshold alert.
	Theme *ThemeAlert `json:"theme,omitempty"`
}

// metric is the alert's metric, MetricNPS for one raised before metrics
// existed.
func (a Active) metric() Metric {
	if a.Metric == "" {
		return MetricNPS
	}
	return a.Metric
}

// figure is the judged value: Value, or the NPS of an alert raised before
// Value existed.
func (a Active) figure() float64 {
	if a.Metric == "" {
		return a.NPS
	}
	return a.Value
}

// Figure says what the alert judged, as messages and boards write it:
// "NPS −4", "Response rate 12% (48 of 400 offered)", "CSAT 72% (36 of 50
// satisfied)". The percentage has the decimals it needs to read on the
// right side of the level ("14.6%" below 15%, not "15%").
func (a Active) Figure() string {
	switch a.metric() {
	case MetricResponseRate:
		return fmt.Sprintf("Response rate %s (%d of %d offered)", percentNear(a.Value, a.Level), a.Part, a.Whole)
	case MetricCSAT:
		return fmt.Sprintf("CSAT %s (%d of %d satisfied)", percentNear(a.Value, a.Level), a.Part, a.Whole)
	}
	return "NPS " + scoreOf(a.figure())
}

// LevelText is the rule's level as Figure writes figures: "+10", "15%".
func (a Active) LevelText() string {
	if a.metric() == MetricNPS {
		return scoreOf(a.Level)
	}
	return strconv.FormatFloat(a.Level, 'f', -1, 64) + "%"
}

// percentNear writes v in percent with the fewest decimals (0 to 2) that
// keep it on its side of level.
func percentNear(v, level float64) string {
	for d := 0; d < 2; d++ {
		p := math.Pow(10, float64(d))
		if r := math.Round(v*p) / p; (r < level) == (v < level) {
			return strconv.FormatFloat(r, 'f', d, 64) + "%"
		}
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "%"
}

// Concerns reports whether the alert concerns a scope of filters (a
// board's): no dimension of the scope names another value than the alert.
// An alert on the whole center concerns every board; an alert on team
// billing concerns the floor and billing's board, not support's.
func (a Active) Concerns(scope map[store.Dimension]string) bool { return concerns(a.Filters, scope) }

// Concerns is Active.Concerns for an emerging theme.
func (t ThemeAlert) Concerns(scope map[store.Dimension]string) bool {
	return concerns(t.Filters, scope)
}

// concerns reports whether an alert over filters concerns a board or view
// over scope.
func concerns(filters, scope map[store.Dimension]string) bool {
	for d, v := range scope {
		if av, ok := filters[d]; ok && av != v {
			return false
		}
		if _, ok := filters[d]; !ok && len(filters) > 0 {
			// A board of one team is not concerned by another scope's
			// alert that says nothing about teams (e.g. the phone
			// channel overall): it would only repeat the floor's banner.
			return false
		}
	}
	return true
}
