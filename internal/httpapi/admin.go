package httpapi

import (
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/fault"
)

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
