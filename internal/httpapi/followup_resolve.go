package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// resolveFollowUp answers POST /api/v1/followups/{id}/resolve {"by","note"}.
func (a *API) resolveFollowUp(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	act, err := decodeAction(c, true)
	if err != nil {
		return err
	}
	f, err := svc.Resolve(c.Request().Context(), id, act.By, act.Note)
	if err != nil {
		return alertsFault(err, id)
	}
	return c.JSON(http.StatusOK, f)
}
