package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// The follow-up queue: GET /api/v1/followups, and the claim and resolve
// transitions of one follow-up. Admin only (routes.go).

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

func decodeAction(c echo.Context, withNote bool) (followUpAction, error) {
	var act followUpAction
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), c.Request().Body, maxAdminBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&act); err != nil {
		return act, fault.New(fault.BadRequest, `body must be JSON like {"by": "dana"%s}`, map[bool]string{true: `, "note": "called back"`}[withNote])
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

// changeFollowUp runs one follow-up transition (claim, resolve) from a
// request: the id in the path, the action in the body, and the follow-up as
// it is afterwards in the answer.
func (a *API) changeFollowUp(c echo.Context, withNote bool, change func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error)) error {
	svc, id, err := a.alertsAndID(c)
	if err != nil {
		return err
	}
	act, err := decodeAction(c, withNote)
	if err != nil {
		return err
	}
	f, err := change(c.Request().Context(), svc, id, act)
	if err != nil {
		return alertsFault(err, id)
	}
	return c.JSON(http.StatusOK, f)
}
