package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
)

// resolveFollowUp answers POST /api/v1/followups/{id}/resolve {"by","note"}.
func (a *API) resolveFollowUp(c echo.Context) error {
	return a.changeFollowUp(c, true, func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error) {
		return svc.Resolve(ctx, id, act.By, act.Note)
	})
}
