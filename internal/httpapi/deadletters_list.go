package httpapi

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// listDeadLetters answers GET /api/v1/alerts/dead-letters?limit=100.
func (a *API) listDeadLetters(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	n := 100
	if raw := c.QueryParam("limit"); raw != "" {
		if n, err = strconv.Atoi(raw); err != nil || n < 1 || n > 1000 {
			return fault.New(fault.BadRequest, "limit: 1 to 1000")
		}
	}
	list, err := svc.DeadLetters(c.Request().Context(), n)
	if err != nil {
		return alertsFault(err, "")
	}
	if list == nil {
		list = []alert.Delivery{}
	}
	return c.JSON(http.StatusOK, map[string]any{"dead_letters": list})
}
