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
		e.GET("/metrics", a.getMetrics) // metrics.go
	}

	v1 := e.Group("/api/v1")
	// responses.go (and offers), nps.go, webhooks.go
	v1.POST("/responses", a.createResponses)
	v1.POST("/offers", a.createOffers)
	v1.GET("/nps", a.getNPS, a.requireQuery)
	v1.POST("/webhooks/delighted", a.postDelighted)
	v1.POST("/webhooks/asknicely", a.postAskNicely)
	v1.POST("/webhooks/generic/:name", a.postGeneric)
	// apidocs.go: this API's OpenAPI document, and the page made from it.
	v1.GET("/openapi.json", a.getOpenAPI)
	v1.GET("/docs", a.getAPIDocs)

	// console.go: the supervisor console, guarded like the query API
	// (viewers, or anyone in public mode; a browser not signed in is sent
	// to /signin and back).
	e.GET("/console", a.getConsole, a.requireQuery)

	// boards.go: access is per board (access.go), checked by each handler.
	// A template's boards are /boards/TEMPLATE/VALUE (boardLive says how
	// /boards/TEMPLATE/live is told apart from a socket).
	e.GET("/boards/:name", a.getBoardPage)
	e.GET("/boards/:name/live", a.boardLive)
	e.GET("/boards/:name/events", a.boardEvents) // SSE, for networks that block sockets
	e.GET("/boards/:name/:value", a.getBoardPage)
	e.GET("/boards/:name/:value/live", a.boardLive)
	e.GET("/boards/:name/:value/events", a.boardEvents)
	v1.GET("/boards", a.listBoards)
	v1.GET("/boards/:name", a.getBoard)
	v1.GET("/boards/:name/:value", a.getBoard)

	// signin.go: the session cookie of viewers and admins (identity.go).
	e.GET("/signin", a.getSignin)
	e.POST("/signin", a.postSignin)
	e.POST("/signout", a.postSignout)
	v1.GET("/me", a.getMe, a.requireViewer)

	// admin.go, behind the admin role. pprof too: profiles reveal code
	// paths and cost CPU, so they are not for everyone who can reach the
	// port.
	admin := v1.Group("/admin", a.requireAdmin)
	admin.POST("/reload", a.postReload)
	e.GET("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(servePprof)), a.requireAdmin)

	// followups.go, alerts.go: the API over the alert state. The role
	// first (viewers work the follow-ups and read the raised alerts; dead
	// letters hold whole deliveries and receivers' errors: admin), then the
	// bound on its calls into the alert state.
	state := guarded{v1, []echo.MiddlewareFunc{a.requireViewer, a.boundAlerts}}
	state.GET("/followups", a.listFollowUps)
	state.POST("/followups/:id/claim", a.claimFollowUp)
	state.POST("/followups/:id/resolve", a.resolveFollowUp)
	state.POST("/followups/:id/reassign", a.reassignFollowUp)
	state.GET("/alerts", a.listAlerts)
	// inbox.go: the follow-up inbox page of the console, the same checks
	// and transitions as above; its forms' refusals are shown on the page
	// (inboxErrors, outermost, so it sees requireViewer's too).
	e.GET("/console/inbox", a.getInbox, a.requireViewer, a.boundAlerts)
	inbox := guarded{e.Group("/console/inbox"), []echo.MiddlewareFunc{a.inboxErrors, a.requireViewer, a.boundAlerts}}
	inbox.POST("/:id/claim", a.postInboxClaim)
	inbox.POST("/:id/resolve", a.postInboxResolve)
	inbox.POST("/:id/reassign", a.postInboxReassign)
	// links.go: the claim links of chat messages; the link is the
	// permission, so no role (GET shows, POST claims).
	e.GET("/links/:action/:id", a.getLink, a.boundAlerts)
	e.POST("/links/:action/:id", a.postLink, a.boundAlerts)
	adminState := guarded{v1, []echo.MiddlewareFunc{a.requireAdmin, a.boundAlerts}}
	adminState.GET("/alerts/dead-letters", a.listDeadLetters)
	adminState.POST("/alerts/dead-letters/:id/retry", a.retryDeadLetter)
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
