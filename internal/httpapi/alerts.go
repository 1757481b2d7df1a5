package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// The alert state as the admin API reads it: raised threshold alerts, and
// dead letters (deliveries that ran out of attempts) with their retry.
// Follow-ups are in followups.go; all of these are admin only, bounded by
// boundAlerts (routes.go).

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

// retryDeadLetter answers POST /api/v1/alerts/dead-letters/{id}/retry: the
// delivery is queued again from its first attempt.
func (a *API) retryDeadLetter(c echo.Context) error {
	svc, id, err := a.alertsAndID(c)
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

func (a *API) alerts() (Alerts, error) {
	if a.Alerts == nil {
		return nil, fault.New(fault.NotFound, "alerts are not set up on this server")
	}
	return a.Alerts, nil
}

// alertsAndID is the alert state and the :id of a request about one
// follow-up or dead letter.
func (a *API) alertsAndID(c echo.Context) (Alerts, string, error) {
	svc, err := a.alerts()
	if err != nil {
		return nil, "", err
	}
	id, err := pathID(c)
	return svc, id, err
}

// boundAlerts gives a request AlertsTimeout to finish its calls into the
// alert state; past it they fail, and the request answers 503.
func (a *API) boundAlerts(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.AlertsTimeout <= 0 {
			return next(c)
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), a.AlertsTimeout)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		return next(c)
	}
}

// alertsFault maps the alert service's errors to fault codes. Any other
// error is the alert state failing (a stalled Redis, boundAlerts' deadline):
// 503, marked so the log names the alert state, not the store.
func alertsFault(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, alert.ErrNotFound):
		return fault.New(fault.NotFound, "no follow-up %q", id)
	case errors.Is(err, alert.ErrResolved):
		return fault.New(fault.Conflict, "follow-up %q is resolved", id)
	case errors.Is(err, alert.ErrClaimed):
		return fault.New(fault.Conflict, "follow-up %q is claimed by someone else", id)
	case errors.Is(err, alert.ErrUnknownQueue):
		return fault.New(fault.Invalid, "queue: %s", err.Error())
	case errors.Is(err, alert.ErrConflict):
		return fault.New(fault.Conflict, "follow-up %q is resolved or claimed by someone else", id)
	case errors.Is(err, alert.ErrBadStatus):
		return fault.New(fault.BadRequest, "%s", err.Error())
	}
	return fault.Wrap(fmt.Errorf("%w: %w", errAlertState, err), fault.Unavailable, "the alert state is unavailable; retry in a moment")
}
