package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
)

// listAlerts answers GET /api/v1/alerts: the raised threshold alerts.
func (a *API) listAlerts(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	list, err := svc.Alerts(c.Request().Context())
	if err != nil {
		return alertsFault(err, "")
	}
	if list == nil {
		list = []alert.Active{}
	}
	return c.JSON(http.StatusOK, map[string]any{"alerts": list})
}
