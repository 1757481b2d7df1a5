package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// claimFollowUp answers POST /api/v1/followups/{id}/claim {"by"}.
func (a *API) claimFollowUp(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	act, err := decodeAction(c, false)
	if err != nil {
		return err
	}
	f, err := svc.Claim(c.Request().Context(), id, act.By)
	if err != nil {
		return alertsFault(err, id)
	}
	return c.JSON(http.StatusOK, f)
}
