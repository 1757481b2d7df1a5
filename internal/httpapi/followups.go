package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// The follow-up inbox: GET /api/v1/followups, and the claim, resolve and
// reassign transitions of one follow-up. Viewers and admins (routes.go); a
// named person (a viewer token, a session, a proxy user) acts under their
// own name, so the record says who really did it.

// Limits of the follow-up actions' bodies.
const (
	maxAdminBody  = 64 << 10
	maxActorChars = 64
	maxNoteChars  = 2000
)

// listFollowUps answers GET /api/v1/followups?status=…&queue=…: the
// follow-ups, and the queues to filter by.
func (a *API) listFollowUps(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	if c.QueryParams().Has("state") {
		// A name easily guessed for the filter: say which one it is rather
		// than list everything unfiltered.
		return fault.New(fault.BadRequest, "state: the filter is status= (open, unclaimed, claimed, overdue or resolved)")
	}
	filter := alert.InboxFilter{Status: c.QueryParam("status"), Queue: c.QueryParam("queue")}
	list, err := svc.Inbox(c.Request().Context(), filter)
	if errors.Is(err, alert.ErrUnknownQueue) {
		return fault.New(fault.BadRequest, "queue: %s", err.Error())
	}
	if err != nil {
		return alertsFault(err, "")
	}
	return c.JSON(http.StatusOK, map[string]any{"follow_ups": list, "count": len(list), "queues": queueViews(svc.Queues())})
}

// queueView is a queue as the listing shows it.
type queueView struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// SLA is a duration like "2h0m0s", or "same-day".
	SLA string `json:"sla"`
}

func queueViews(qs []alert.Queue) []queueView {
	out := make([]queueView, len(qs))
	for i, q := range qs {
		out[i] = queueView{Name: q.Name, Label: q.Label, SLA: "same-day"}
		if q.SLA > 0 {
			out[i].SLA = q.SLA.String()
		}
	}
	return out
}

// claimFollowUp answers POST /api/v1/followups/{id}/claim {"by"}.
func (a *API) claimFollowUp(c echo.Context) error {
	return a.changeFollowUp(c, false, claimChange)
}

// resolveFollowUp answers POST /api/v1/followups/{id}/resolve {"by","note"}.
func (a *API) resolveFollowUp(c echo.Context) error {
	return a.changeFollowUp(c, true, resolveChange)
}

// reassignFollowUp answers POST /api/v1/followups/{id}/reassign
// {"by", "queue", "to"}: to another queue, and/or to another person ("to":
// "" clears the claim).
func (a *API) reassignFollowUp(c echo.Context) error {
	svc, id, err := a.alertsAndID(c)
	if err != nil {
		return err
	}
	var body struct {
		By    string  `json:"by"`
		Queue string  `json:"queue"`
		To    *string `json:"to"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		return fault.New(fault.BadRequest, `body must be JSON like {"by": "dana", "queue": "pharma-specialists", "to": "lee"}`)
	}
	it, err := a.reassign(c, svc, id, alert.Reassignment{By: body.By, Queue: body.Queue, Person: body.To})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, it)
}

// reassign checks a reassignment from a request (the API's or the inbox
// page's) and runs it: who acts (actAs), the person it goes to, that it
// says where it goes.
func (a *API) reassign(c echo.Context, svc Alerts, id string, r alert.Reassignment) (alert.Item, error) {
	var err error
	if r.By, err = a.actAs(c, r.By); err != nil {
		return alert.Item{}, err
	}
	if r.Person != nil {
		if err := checkActor("to", *r.Person, true); err != nil {
			return alert.Item{}, err
		}
	}
	if r.Queue == "" && r.Person == nil {
		return alert.Item{}, fault.New(fault.Invalid, `queue, to: say where it goes: a queue, a person ("to"; "" clears the claim), or both`)
	}
	it, err := svc.Reassign(c.Request().Context(), id, r)
	return it, alertsFault(err, id)
}

// checkActor checks a person's name: 1 to maxActorChars characters, or
// empty when empty is allowed.
func checkActor(field, name string, emptyOK bool) error {
	if n := utf8.RuneCountInString(name); (n == 0 && !emptyOK) || n > maxActorChars {
		return fault.New(fault.Invalid, "%s: who, 1 to %d characters", field, maxActorChars)
	}
	return nil
}

// followUpAction is the body of claim and resolve.
type followUpAction struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

// decodeAction reads the body; "by" is checked by actAs.
func decodeAction(c echo.Context, withNote bool) (followUpAction, error) {
	var act followUpAction
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&act); err != nil {
		return act, fault.New(fault.BadRequest, `body must be JSON like {"by": "dana"%s}`, map[bool]string{true: `, "note": "called back"`}[withNote])
	}
	return act, nil
}

// actAs says who acts: a named principal (a viewer token, a session, a
// proxy user) acts under their own name, which "by" defaults to and may not
// differ from; an admin token, which names nobody, says who acts in "by".
func (a *API) actAs(c echo.Context, by string) (string, error) {
	p, err := a.principal(c)
	if err != nil {
		return "", err
	}
	if by == "" {
		by = p.Name
	}
	if err := checkActor("by", by, false); err != nil {
		return "", err
	}
	if p.Name != "" && p.Role < auth.Admin && by != p.Name {
		return "", fault.New(fault.Forbidden, "by: %s acts under their own name; leave by out or send %q", p.Name, p.Name)
	}
	return by, nil
}

// followUpChange is one follow-up transition: claim or resolve.
type followUpChange func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error)

func claimChange(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error) {
	return svc.Claim(ctx, id, act.By)
}

func resolveChange(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error) {
	return svc.Resolve(ctx, id, act.By, act.Note)
}

// changeFollowUp runs one follow-up transition (claim, resolve) from an
// API request: the id in the path, the action in the JSON body, and the
// follow-up as it is afterwards in the answer.
func (a *API) changeFollowUp(c echo.Context, withNote bool, change followUpChange) error {
	svc, id, err := a.alertsAndID(c)
	if err != nil {
		return err
	}
	act, err := decodeAction(c, withNote)
	if err != nil {
		return err
	}
	f, err := a.applyChange(c, svc, id, act, withNote, change)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, f)
}

// applyChange checks an action from a request (the API's or the inbox
// page's): who acts (actAs), the note, and runs the transition.
func (a *API) applyChange(c echo.Context, svc Alerts, id string, act followUpAction, withNote bool, change followUpChange) (alert.FollowUp, error) {
	if !withNote && act.Note != "" {
		return alert.FollowUp{}, fault.New(fault.Invalid, "note: only resolve takes a note")
	}
	if utf8.RuneCountInString(act.Note) > maxNoteChars {
		return alert.FollowUp{}, fault.New(fault.Invalid, "note: at most %d characters", maxNoteChars)
	}
	var err error
	if act.By, err = a.actAs(c, act.By); err != nil {
		return alert.FollowUp{}, err
	}
	f, err := change(c.Request().Context(), svc, id, act)
	return f, alertsFault(err, id)
}
