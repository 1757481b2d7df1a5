package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// requireAdmin lets a request through only with an admin bearer token
// (PULSEBOARD_ADMIN_TOKENS); with none configured the admin API is off.
func (a *API) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.AdminTokens == nil || a.AdminTokens.Empty() {
			return fault.New(fault.Unauthorized, "the admin API is off: set PULSEBOARD_ADMIN_TOKENS")
		}
		if !a.AdminTokens.Valid(auth.Bearer(c.Request())) {
			return fault.New(fault.Unauthorized, "a valid admin token is required: send Authorization: Bearer <token>")
		}
		return next(c)
	}
}
