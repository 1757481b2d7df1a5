package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/views"
)

// Boards: the JSON API (GET /api/v1/boards, /api/v1/boards/{name}), the
// full-screen page (GET /boards/{name}) and the live socket's entry
// (GET /boards/{name}/live) with its Server-Sent Events fallback
// (GET /boards/{name}/events); a template's boards (board/template.go) are
// the same at /boards/{template}/{value}. Who may read a board is decided in access.go;
// the kiosk options of a page's address in screen_options.go.

type boardSummary struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Live  string `json:"live"`
	// Template and Value name an instance's template and its value.
	Template string `json:"template,omitempty"`
	Value    string `json:"value,omitempty"`
}

// templateSummary lists a template: not a board itself (no url), but its
// boards, one per value, sorted by value.
type templateSummary struct {
	Name    string         `json:"name"`
	Title   string         `json:"title"`
	ForEach forEachSummary `json:"for_each"`
	// Boards are its instances now; Private counts those not listed, for
	// a request that may not see a private template's values.
	Boards  []boardSummary `json:"boards"`
	Private int            `json:"private_boards,omitempty"`
}

type forEachSummary struct {
	Dimension string `json:"dimension"`
	// Values is the listed set; absent when the values are those seen in
	// the last 30 days, or not shown to this request.
	Values []string `json:"values,omitempty"`
}

func summaryOf(d board.Board) boardSummary {
	return boardSummary{Name: d.Name, Title: d.Title, URL: board.URLPath(d.Name), Live: board.LivePath(d.Name), Template: d.Template, Value: d.Value}
}

// listBoards answers GET /api/v1/boards: every board ("boards", the
// instances of templates included, in the file's order), and the
// templates with their boards ("templates"). A private template's boards
// are counted, not named, unless the request may see its values.
func (a *API) listBoards(c echo.Context) error {
	cr := a.credentialsOf(c.Request())
	out := []boardSummary{}
	tpls := []templateSummary{}
	for _, e := range a.Boards.Index() {
		if e.ForEach == nil {
			out = append(out, summaryOf(e.Board))
			continue
		}
		ts := templateSummary{Name: e.Name, Title: e.Title, Boards: []boardSummary{},
			ForEach: forEachSummary{Dimension: string(e.ForEach.Dimension), Values: e.ForEach.Values}}
		if !cr.showsValues(e.Board) {
			ts.Private, ts.ForEach.Values = len(e.Instances), nil
			tpls = append(tpls, ts)
			continue
		}
		for _, in := range e.Instances {
			ts.Boards = append(ts.Boards, summaryOf(in))
			out = append(out, summaryOf(in))
		}
		tpls = append(tpls, ts)
	}
	return c.JSON(http.StatusOK, map[string]any{"boards": out, "templates": tpls})
}

type boardAnswer struct {
	board.View
	Epoch string `json:"epoch"`
	Stale bool   `json:"stale"`
	Ready bool   `json:"ready"`
}

// getBoard answers GET /api/v1/boards/{name}: the view a screen would show
// now, computed from this node's aggregator.
func (a *API) getBoard(c echo.Context) error {
	name, err := boardParam(c)
	if err != nil {
		return err
	}
	def, exists, err := a.lookup(name)
	if err != nil {
		return err
	}
	if g := a.credentialsOf(c.Request()).check(def); g != granted {
		return boardAccessError(g, def.Name)
	}
	if !exists {
		return a.noBoard(name)
	}
	v, st, err := a.Boards.Compute(def, a.Now())
	if errors.Is(err, aggregate.ErrNotReady) {
		return fault.Wrap(err, fault.Unavailable, "the board's numbers are still loading")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, boardAnswer{View: v, Epoch: st.Epoch, Stale: st.Stale, Ready: st.Ready})
}

// boardLive upgrades to the board's WebSocket. Access is checked by the
// live side at connect and at every change of the board's definition, so a
// revoked screen is told so on its socket.
//
// /boards/T/live is the socket of board T, but for a template T it is the
// page of T's board for the value "live" (whose socket is
// /boards/T/live/live): names are one namespace, and a template has no
// socket of its own, so the path is never ambiguous and no value needs to
// be forbidden.
func (a *API) boardLive(c echo.Context) error {
	return a.serveScreen(c, "live", a.Screens.Serve)
}

// boardEvents serves the board's live messages as Server-Sent Events, for
// networks that block WebSockets: boardLive's rules, the same hub.
// /boards/T/events is told apart from a template's page as /boards/T/live
// is.
func (a *API) boardEvents(c echo.Context) error {
	return a.serveScreen(c, "events", a.Screens.ServeEvents)
}

// serveScreen checks a live screen's request, at /boards/NAME/{last}, and
// hands it to serve.
func (a *API) serveScreen(c echo.Context, last string, serve func(http.ResponseWriter, *http.Request, string, live.Access) error) error {
	if c.Param("value") == "" && a.isTemplate(c.Param("name")) {
		return a.boardPage(c, c.Param("name")+"/"+last)
	}
	name, err := boardParam(c)
	if err != nil {
		return err
	}
	cr := a.credentialsOf(c.Request())
	if _, _, ok := board.SplitName(name); ok {
		// A template's board is refused before the upgrade, whether it
		// exists or not, so its values cannot be probed (lookup).
		def, _, err := a.lookup(name)
		if err != nil {
			return err
		}
		if g := cr.check(def); g != granted {
			return boardAccessError(g, name)
		}
	}
	may := cr.socketAccess()
	err = serve(c.Response(), c.Request(), name, may)
	if errors.Is(err, live.ErrNoBoard) {
		return a.noBoard(name)
	}
	if errors.Is(err, live.ErrBadVersion) {
		return fault.New(fault.BadRequest, "%s", err.Error())
	}
	return err
}

// boardParam is the board a request's path names: :name, or for a
// template's board :name/:value. A value is a response's dimension value
// (letters, digits, space, -_.@), so the path carries it escaped (a space
// as %20); Echo hands over the raw segment when the path had escapes its
// default encoding would not make (%40 for @), so it is unescaped here,
// exactly once. A value that is not valid names no board: 404.
func boardParam(c echo.Context) (string, error) {
	name, raw := c.Param("name"), c.Param("value")
	if raw == "" {
		return name, nil
	}
	v := raw
	if c.Request().URL.RawPath != "" {
		var err error
		if v, err = url.PathUnescape(raw); err != nil {
			v = raw
		}
	}
	if !board.ValidValue(v) {
		return "", fault.New(fault.NotFound, "no board named %q: %q is not a value a board template has a board for", name+"/"+v, v)
	}
	return name + "/" + v, nil
}

// firstPaintWait is how long a board page waits for a node that is still
// warming up, so the first paint has real numbers rather than dashes.
const firstPaintWait = 3 * time.Second

// getBoardPage renders a full-screen board with its current numbers; the
// page's script then follows the live socket.
func (a *API) getBoardPage(c echo.Context) error {
	if v, err := url.PathUnescape(c.Param("value")); err == nil && v == anyValue {
		if t, ok := a.template(c.Param("name")); ok {
			return a.firstBoard(c, t)
		}
	}
	name, err := boardParam(c)
	if err != nil {
		name = c.Param("name") + "/" + c.Param("value")
	}
	return a.boardPage(c, name)
}

func (a *API) boardPage(c echo.Context, name string) error {
	screen := a.screenOptions(c, name)
	def, exists, err := a.lookup(name)
	if err != nil {
		return a.renderBoardNotFound(c, name, screen)
	}
	if tok := c.QueryParam("token"); tok != "" {
		return a.pair(c, def, tok)
	}
	if g := a.credentialsOf(c.Request()).check(def); g != granted {
		return a.renderNoAccess(c, g, def, screen)
	}
	if !exists {
		if def, exists = a.awaitDiscovery(c.Request().Context(), name); !exists {
			return a.renderBoardNotFound(c, name, screen)
		}
	}
	v, st, err := a.viewWhenReady(c.Request().Context(), def)
	if errors.Is(err, aggregate.ErrNotReady) {
		return fault.Wrap(err, fault.Unavailable, "the board's numbers are still loading; retry in a moment")
	}
	if err != nil {
		return err
	}
	now := a.Now().In(a.Calendar.Location())
	return render(c, http.StatusOK, views.Board(views.BoardPage{
		View: v, Zone: a.Calendar.Location().String(),
		Clock: now.Format("15:04"), Updated: now.Format("15:04:05"), Stale: st.Stale, Screen: screen,
	}))
}

// notFoundRefreshSeconds is how often a screen on a board that does not
// exist (yet) tries again, when no rotation takes it elsewhere.
const notFoundRefreshSeconds = 60

// renderBoardNotFound answers a board page for a board that does not exist:
// an HTML page a screen recovers from, or problem JSON for API clients.
func (a *API) renderBoardNotFound(c echo.Context, name string, screen views.ScreenOptions) error {
	err := a.noBoard(name)
	if !wantsHTML(c.Request()) {
		return err
	}
	msg := fmt.Sprintf("There is no board named %q.", name)
	if a.isTemplate(name) {
		msg = fmt.Sprintf("%q is a board template: it has a board for each value, like /boards/%s/<value>. The index lists them.", name, name)
	}
	return render(c, http.StatusNotFound, views.NotFound(views.NotFoundPage{
		Message: msg, RefreshSeconds: notFoundRefreshSeconds, Screen: screen,
	}))
}

// awaitDiscovery waits, on a node that has not found its templates'
// values yet (it is warming up), up to firstPaintWait for a template's
// board to appear, so a TV that loads its page just after a restart gets
// its board rather than the not-found page. Once the values were found a
// missing board is missing: no wait (a probe costs nothing).
func (a *API) awaitDiscovery(ctx context.Context, name string) (board.Board, bool) {
	limit := time.NewTimer(firstPaintWait)
	defer limit.Stop()
	retry := time.NewTicker(50 * time.Millisecond)
	defer retry.Stop()
	for !a.Boards.Discovered() {
		select {
		case <-ctx.Done():
			return board.Board{}, false
		case <-limit.C:
			return board.Board{}, false
		case <-retry.C:
		}
	}
	return a.Boards.Board(name)
}

// viewWhenReady computes a board at a.Now, waiting up to firstPaintWait
// for a node that is still warming up. The wait is real time (timers, not
// a.Now): it bounds how long a request blocks, and a test's clock stands
// still.
func (a *API) viewWhenReady(ctx context.Context, def board.Board) (board.View, aggregate.Status, error) {
	limit := time.NewTimer(firstPaintWait)
	defer limit.Stop()
	retry := time.NewTicker(50 * time.Millisecond)
	defer retry.Stop()
	for last := false; ; {
		v, st, err := a.Boards.Compute(def, a.Now())
		if !errors.Is(err, aggregate.ErrNotReady) || last {
			return v, st, err
		}
		select {
		case <-ctx.Done():
			return v, st, ctx.Err()
		case <-limit.C:
			last = true // one more try, then the answer stands
		case <-retry.C:
		}
	}
}
