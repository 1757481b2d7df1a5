package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// The follow-up queue: GET /api/v1/followups, and the claim and resolve
// transitions of one follow-up. Viewers and admins (routes.go); a named
// person (a viewer token, a session, a proxy user) acts under their own
// name, so the record says who really did it.

// Limits of the follow-up actions' bodies.
const (
	maxAdminBody  = 64 << 10
	maxActorChars = 64
	maxNoteChars  = 2000
)

// listFollowUps answers GET /api/v1/followups?status=open|overdue|resolved.
func (a *API) listFollowUps(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	list, err := svc.FollowUpList(c.Request().Context(), c.QueryParam("status"))
	if err != nil {
		return alertsFault(err, "")
	}
	if list == nil {
		list = []alert.FollowUp{}
	}
	return c.JSON(http.StatusOK, map[string]any{"follow_ups": list, "count": len(list)})
}

// claimFollowUp answers POST /api/v1/followups/{id}/claim {"by"}.
func (a *API) claimFollowUp(c echo.Context) error {
	return a.changeFollowUp(c, false, func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error) {
		return svc.Claim(ctx, id, act.By)
	})
}

// resolveFollowUp answers POST /api/v1/followups/{id}/resolve {"by","note"}.
func (a *API) resolveFollowUp(c echo.Context) error {
	return a.changeFollowUp(c, true, func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error) {
		return svc.Resolve(ctx, id, act.By, act.Note)
	})
}

// followUpAction is the body of claim and resolve.
type followUpAction struct {
	By   string `json:"by"`
	Note string `json:"note"`
}

// decodeAction reads the body; "by" defaults to actor when actor is set.
func decodeAction(c echo.Context, withNote bool, actor string) (followUpAction, error) {
	var act followUpAction
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&act); err != nil {
		return act, fault.New(fault.BadRequest, `body must be JSON like {"by": "dana"%s}`, map[bool]string{true: `, "note": "called back"`}[withNote])
	}
	if act.By == "" {
		act.By = actor
	}
	if n := utf8.RuneCountInString(act.By); n == 0 || n > maxActorChars {
		return act, fault.New(fault.Invalid, "by: who acts, 1 to %d characters", maxActorChars)
	}
	if !withNote && act.Note != "" {
		return act, fault.New(fault.Invalid, "note: only resolve takes a note")
	}
	if utf8.RuneCountInString(act.Note) > maxNoteChars {
		return act, fault.New(fault.Invalid, "note: at most %d characters", maxNoteChars)
	}
	return act, nil
}

// decodeActionAs decodes the action of the request's principal: a named
// one's "by" defaults to their name and may not be anybody else's; an
// admin token, which names nobody, says who acts in "by".
func (a *API) decodeActionAs(c echo.Context, withNote bool) (followUpAction, error) {
	p, err := a.principal(c)
	if err != nil {
		return followUpAction{}, err
	}
	if p.Name == "" || p.Role >= auth.Admin {
		return decodeAction(c, withNote, p.Name)
	}
	act, err := decodeAction(c, withNote, p.Name)
	if err == nil && act.By != p.Name {
		return act, fault.New(fault.Forbidden, "by: %s acts under their own name; leave by out or send %q", p.Name, p.Name)
	}
	return act, err
}

// changeFollowUp runs one follow-up transition (claim, resolve) from a
// request: the id in the path, the action in the body, and the follow-up as
// it is afterwards in the answer.
func (a *API) changeFollowUp(c echo.Context, withNote bool, change func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error)) error {
	svc, id, err := a.alertsAndID(c)
	if err != nil {
		return err
	}
	act, err := a.decodeActionAs(c, withNote)
	if err != nil {
		return err
	}
	f, err := change(c.Request().Context(), svc, id, act)
	if err != nil {
		return alertsFault(err, id)
	}
	return c.JSON(http.StatusOK, f)
}
