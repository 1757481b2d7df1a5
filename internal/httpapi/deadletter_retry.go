package httpapi

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// retryDeadLetter answers POST /api/v1/alerts/dead-letters/{id}/retry: the
// delivery is queued again from its first attempt.
func (a *API) retryDeadLetter(c echo.Context) error {
	svc, err := a.alerts()
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if err := svc.Redrive(c.Request().Context(), id); err != nil {
		if errors.Is(err, alert.ErrNotFound) {
			return fault.New(fault.NotFound, "no dead letter %q", id)
		}
		return alertsFault(err, id)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"queued": id})
}
