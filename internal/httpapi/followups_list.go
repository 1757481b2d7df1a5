package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
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
