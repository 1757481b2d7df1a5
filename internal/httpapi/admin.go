package httpapi

import (
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/fault"
)

// The admin API's own routes: reloading the boards file, and pprof. The
// alert state's admin routes are in followups.go and alerts.go.

// ErrNoBoardsFile answers a reload when boards come from the built-in set;
// ReloadBoards returns it too.
var ErrNoBoardsFile = fault.New(fault.NotFound, "boards come from the built-in set; there is no boards file to reload")

// postReload answers POST /api/v1/admin/reload: the boards file is read
// now rather than at the next poll, and screens of changed boards reload.
func (a *API) postReload(c echo.Context) error {
	if a.ReloadBoards == nil {
		return ErrNoBoardsFile
	}
	boards, err := a.ReloadBoards(c.Request().Context())
	if _, ok := fault.As(err); ok {
		return err
	}
	if err != nil {
		return fault.Wrap(err, fault.Invalid, "the boards file does not load; the running boards stay: %v", err)
	}
	names := make([]string, len(boards))
	for i, b := range boards {
		names[i] = b.Name
	}
	return c.JSON(http.StatusOK, map[string]any{"boards": names})
}

// servePprof serves net/http/pprof's index and named profiles under
// /debug/pprof/ without touching http.DefaultServeMux.
func servePprof(w http.ResponseWriter, r *http.Request) {
	switch name := strings.TrimPrefix(r.URL.Path, "/debug/pprof/"); name {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	case "":
		pprof.Index(w, r)
	default:
		pprof.Handler(name).ServeHTTP(w, r)
	}
}

// pathID is the :id parameter, decoded exactly once: response ids may
// hold any printable character, so clients escape them in the path
// ("crm%2F42" for crm/42, "100%25" for 100%). Echo routes on the raw path
// only when the request's escaping differs from Go's own (RawPath is then
// set), and otherwise on the already decoded path; decoding its parameter
// again in the second case would turn "a%2541" into "aA", not "a%41".
func pathID(c echo.Context) (string, error) {
	id := c.Param("id")
	if c.Request().URL.RawPath != "" {
		var err error
		if id, err = url.PathUnescape(id); err != nil {
			id = ""
		}
	}
	if id == "" {
		return "", fault.New(fault.BadRequest, "id: escape the id in the path, like crm%%2F42 for crm/42")
	}
	return id, nil
}
