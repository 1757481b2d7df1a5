package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// Limits of the admin API's request bodies.
const (
	maxAdminBody  = 64 << 10
	maxActorChars = 64
	maxNoteChars  = 2000
)

// alertsFault maps the alert service's errors to fault codes.
func alertsFault(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, alert.ErrNotFound):
		return fault.New(fault.NotFound, "no follow-up %q", id)
	case errors.Is(err, alert.ErrConflict):
		return fault.New(fault.Conflict, "follow-up %q is resolved or claimed by someone else", id)
	case errors.Is(err, alert.ErrBadStatus):
		return fault.New(fault.BadRequest, "%s", err.Error())
	}
	return fault.Wrap(err, fault.Unavailable, "the alert state is unavailable")
}

func (a *API) alerts() (Alerts, error) {
	if a.Alerts == nil {
		return nil, fault.New(fault.NotFound, "alerts are not set up on this server")
	}
	return a.Alerts, nil
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
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	id, err := pathID(c)
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

// pathID is the :id parameter, decoded exactly once: response ids may
// hold any printable character, so clients escape them in the path
// ("crm%2F42" for crm/42, "100%25" for 100%). Echo routes on the raw path
// only when the request's escaping differs from Go's own (RawPath is then
// set), and otherwise on the already decoded path; decoding its parameter
// again in the second case would turn "a%2541" into "aA", not "a%41".
func pathID(c echo.Context) (string, error) {
	id := c.Param("id")
	if c.Request().URL.RawPath != "" {
		var err error
		if id, err = url.PathUnescape(id); err != nil {
			id = ""
		}
	}
	if id == "" {
		return "", fault.New(fault.BadRequest, "id: escape the id in the path, like crm%%2F42 for crm/42")
	}
	return id, nil
}
