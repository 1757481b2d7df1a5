package client

import (
	"context"
	"net/url"
	"time"
)

// FollowUpFilter picks follow-ups. Status is "open" (open and claimed,
// the default), "unclaimed", "claimed", "overdue" or "resolved" (today's);
// Queue keeps one queue's ("" for all).
type FollowUpFilter struct {
	Status string
	Queue  string
}

// FollowUpList is the answer of GET /api/v1/followups.
type FollowUpList struct {
	FollowUps []FollowUpItem `json:"follow_ups"` // oldest first
	Count     int            `json:"count"`
	Queues    []Queue        `json:"queues"` // the queues to filter by
}

// Queue is a follow-up queue.
type Queue struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// SLA is how soon its follow-ups are due, as a Go duration ("2h0m0s"),
	// or "same-day".
	SLA string `json:"sla"`
}

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
	// Dims holds the configured dimensions' values.
	Dims    map[string]string `json:"dims,omitempty"`
	Comment string            `json:"comment,omitempty"`
	// At is when the answer was given, Opened when the follow-up was, Due
	// when its queue's SLA runs out.
	At     time.Time `json:"at"`
	Opened time.Time `json:"opened"`
	Due    time.Time `json:"due"`
	// Status is "open", "claimed" or "resolved".
	Status     string     `json:"status"`
	ClaimedBy  string     `json:"claimed_by,omitempty"`
	ClaimedAt  *time.Time `json:"claimed_at,omitempty"`
	ResolvedBy string     `json:"resolved_by,omitempty"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	Note       string     `json:"note,omitempty"`
	Queue      string     `json:"queue,omitempty"`
	// History is who did what and when, the last steps.
	History []Step `json:"history,omitempty"`
}

// Step is one thing done to a follow-up.
type Step struct {
	At     time.Time `json:"at"`
	By     string    `json:"by"`
	Action string    `json:"action"` // claimed, resolved, reassigned
	// From and Queue are the queues a reassignment moved it from and to;
	// To the person it went to; Unclaimed that it took the claim away.
	From      string `json:"from,omitempty"`
	Queue     string `json:"queue,omitempty"`
	To        string `json:"to,omitempty"`
	Unclaimed bool   `json:"unclaimed,omitempty"`
	Note      string `json:"note,omitempty"`
}

// FollowUpItem is a follow-up as the inbox lists it.
type FollowUpItem struct {
	FollowUp
	QueueLabel string `json:"queue_label"`
	AgeSeconds int64  `json:"age_seconds"`
	Overdue    bool   `json:"overdue"`
}

// Reassignment sends a follow-up to another queue, another person, or
// both.
type Reassignment struct {
	// By is who reassigns; leave it empty with a viewer's token, which acts
	// under its own name. An admin token names who acts here.
	By    string `json:"by,omitempty"`
	Queue string `json:"queue,omitempty"`
	// To is the person it goes to; a pointer to "" takes the claim away
	// from whoever had it, and nil leaves the claim as it is.
	To *string `json:"to,omitempty"`
}

// followUpAction is the body of claim and resolve.
type followUpAction struct {
	By   string `json:"by,omitempty"`
	Note string `json:"note,omitempty"`
}

// FollowUps lists follow-ups (GET /api/v1/followups). It needs a viewer's
// or an admin's token.
func (c *Client) FollowUps(ctx context.Context, f FollowUpFilter) (FollowUpList, error) {
	v := url.Values{}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.Queue != "" {
		v.Set("queue", f.Queue)
	}
	var out FollowUpList
	return out, c.getJSON(ctx, "/api/v1/followups", v, &out)
}

// followUpPath is a follow-up action's path; the id is escaped as one
// path segment (crm/42 is crm%2F42).
func followUpPath(id, action string) string {
	return "/api/v1/followups/" + url.PathEscape(id) + "/" + action
}

// ClaimFollowUp claims a follow-up for by ("" with a viewer's token: the
// viewer). A follow-up someone else claimed, or resolved, is a 409 *Error.
func (c *Client) ClaimFollowUp(ctx context.Context, id, by string) (FollowUp, error) {
	var out FollowUp
	return out, c.postJSON(ctx, followUpPath(id, "claim"), false, followUpAction{By: by}, &out)
}

// ResolveFollowUp resolves a follow-up, with an optional note. One already
// resolved is a 409 *Error.
func (c *Client) ResolveFollowUp(ctx context.Context, id, by, note string) (FollowUp, error) {
	var out FollowUp
	return out, c.postJSON(ctx, followUpPath(id, "resolve"), false, followUpAction{By: by, Note: note}, &out)
}

// ReassignFollowUp moves a follow-up to another queue or person.
func (c *Client) ReassignFollowUp(ctx context.Context, id string, r Reassignment) (FollowUpItem, error) {
	var out FollowUpItem
	return out, c.postJSON(ctx, followUpPath(id, "reassign"), false, r, &out)
}
