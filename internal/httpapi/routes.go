package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/static"
)

// routes lists every route of the server, by resource; each resource's
// handlers are in the file of its name.
func (a *API) routes(e *echo.Echo) {
	e.Use(requestID)
	e.Use(securityHeaders(a.FrameAncestors))
	e.Use(a.recoverPanics)
	e.Use(a.logRequests)

	// home.go, health.go
	e.GET("/", a.getHome)
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(static.FS))))
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	if a.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(a.Metrics.Handler()))
	}

	v1 := e.Group("/api/v1")
	// responses.go, nps.go, webhooks.go
	v1.POST("/responses", a.createResponses)
	v1.GET("/nps", a.getNPS, a.requireQuery)
	v1.POST("/webhooks/delighted", a.postDelighted)
	v1.POST("/webhooks/asknicely", a.postAskNicely)
	v1.POST("/webhooks/generic/:name", a.postGeneric)

	// console.go: the supervisor console, guarded like the query API.
	e.GET("/console", a.getConsole, a.requireQueryPage)

	// boards.go: access is per board (access.go), checked by each handler.
	e.GET("/boards/:name", a.getBoardPage)
	e.GET("/boards/:name/live", a.boardLive)
	v1.GET("/boards", a.listBoards)
	v1.GET("/boards/:name", a.getBoard)

	// admin.go, behind the admin token. pprof too: profiles reveal code
	// paths and cost CPU, so they are not for everyone who can reach the
	// port.
	admin := v1.Group("/admin", a.requireAdmin)
	admin.POST("/reload", a.postReload)
	e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(servePprof)), a.requireAdmin)

	// followups.go, alerts.go: the admin API over the alert state. The
	// admin token first, then the bound on its calls into the alert state.
	state := guarded{v1, []echo.MiddlewareFunc{a.requireAdmin, a.boundAlerts}}
	state.GET("/followups", a.listFollowUps)
	state.POST("/followups/:id/claim", a.claimFollowUp)
	state.POST("/followups/:id/resolve", a.resolveFollowUp)
	state.GET("/alerts", a.listAlerts)
	state.GET("/alerts/dead-letters", a.listDeadLetters)
	state.POST("/alerts/dead-letters/:id/retry", a.retryDeadLetter)
}

// guarded is a group of routes that share their middleware, declared once.
// It is not an echo.Group: one of those with middleware also claims every
// path under its prefix, unknown ones and known ones with another method,
// and runs them through its middleware, so without a token they would
// answer 401 where they answer 404 and 405 (TestAdminAlertStateRoutes).
type guarded struct {
	g  *echo.Group
	mw []echo.MiddlewareFunc
}

func (r guarded) GET(path string, h echo.HandlerFunc)  { r.g.GET(path, h, r.mw...) }
func (r guarded) POST(path string, h echo.HandlerFunc) { r.g.POST(path, h, r.mw...) }
