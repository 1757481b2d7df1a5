package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/static"
)

// routes lists every route of the server.
func (a *API) routes(e *echo.Echo) {
	e.Use(requestID)
	e.Use(securityHeaders(a.FrameAncestors))
	e.Use(a.recoverPanics)
	e.Use(a.logRequests)

	e.GET("/", a.getHome)
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(static.FS))))
	e.GET("/healthz", a.healthz)
	e.GET("/readyz", a.readyz)
	if a.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(a.Metrics.Handler()))
	}

	e.GET("/boards/:name", a.getBoardPage)
	e.GET("/boards/:name/live", a.boardLive)

	v1 := e.Group("/api/v1")
	v1.POST("/responses", a.createResponses)
	v1.GET("/nps", a.getNPS, a.requireQuery)
	v1.GET("/boards", a.listBoards)
	v1.GET("/boards/:name", a.getBoard)
	v1.POST("/webhooks/delighted", a.postDelighted)
	v1.POST("/webhooks/asknicely", a.postAskNicely)
	v1.POST("/webhooks/generic/:name", a.postGeneric)

	admin := v1.Group("/admin", a.requireAdmin)
	admin.POST("/reload", a.postReload)

	// pprof, behind the admin token: profiles reveal code paths and cost
	// CPU, so they are not for everyone who can reach the port.
	e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(servePprof)), a.requireAdmin)
	// The admin API: the follow-up queue, threshold alerts, dead letters.
	v1.GET("/followups", a.listFollowUps, a.requireAdmin, a.boundAlerts)
	v1.POST("/followups/:id/claim", a.claimFollowUp, a.requireAdmin, a.boundAlerts)
	v1.POST("/followups/:id/resolve", a.resolveFollowUp, a.requireAdmin, a.boundAlerts)
	v1.GET("/alerts", a.listAlerts, a.requireAdmin, a.boundAlerts)
	v1.GET("/alerts/dead-letters", a.listDeadLetters, a.requireAdmin, a.boundAlerts)
	v1.POST("/alerts/dead-letters/:id/retry", a.retryDeadLetter, a.requireAdmin, a.boundAlerts)
}
