package httpapi

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/alert"
)

// claimFollowUp answers POST /api/v1/followups/{id}/claim {"by"}.
func (a *API) claimFollowUp(c echo.Context) error {
	return a.changeFollowUp(c, false, func(ctx context.Context, svc Alerts, id string, act followUpAction) (alert.FollowUp, error) {
		return svc.Claim(ctx, id, act.By)
	})
}
