package httpapi

import (
	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// getMetrics serves Prometheus metrics. The operational series (counts,
// timings, states) are open to anyone, as probes are. The NPS gauges
// (metrics.nps) name teams (and agents, where an entry allows them) and
// show their scores, so they are added only for a viewer or an admin: a
// bearer token in Prometheus's authorization setting. Public mode does not
// open them: it shows agent names only where a board's privacy does, and
// an entry of /metrics cannot ask a board. A bearer token that is not valid
// is a 401, like anywhere else, so a Prometheus with a wrong token sees
// its target down instead of silently missing the NPS series.
func (a *API) getMetrics(c echo.Context) error {
	p, err := a.principal(c)
	if err != nil {
		return err
	}
	if auth.Bearer(c.Request()) != "" && p.Role == auth.NoRole {
		return fault.New(fault.Unauthorized, "the bearer token is not a viewer's or an admin's token; send one of those for the NPS series, or none for the open ones")
	}
	h := a.Metrics.Handler()
	if p.MayRead() {
		h = a.Metrics.ReaderHandler()
	}
	h.ServeHTTP(c.Response(), c.Request())
	return nil
}
