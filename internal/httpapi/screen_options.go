package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/views"
)

// The screen options a kiosk URL may carry (README: Boards). They are read on
// the server, so a typo is shown on the screen itself instead of being
// ignored, and a rotation never sends a TV to a board it cannot show.
const (
	defaultRotateEvery = 30 * time.Second
	// minRotateEvery keeps a rotation readable, and a mistyped every=1s from
	// reloading a TV every second.
	minRotateEvery = 5 * time.Second
	maxRotateEvery = 24 * time.Hour
)

var (
	everyPattern = regexp.MustCompile(`^(\d{1,5})(s|m)?$`)
	quietPattern = regexp.MustCompile(`^(\d{1,2})-(\d{1,2})$`)
)

// screenOptions reads ?kiosk=, ?quiet=, ?rotate= and ?every= for the screen
// showing board current. usable says whether this screen can show a board
// (it exists and the screen may open it). Every value that cannot be used is
// named in Notes with what happens instead; the rest still apply.
//
// An entry "T/*" names every current board of template T, sorted by value
// (expand returns them, or ok false when T is no template).
func screenOptions(q url.Values, current string, usable func(name string) (bool, string), expand func(template string) (names []string, ok bool)) views.ScreenOptions {
	var o views.ScreenOptions
	note := func(format string, a ...any) { o.Notes = append(o.Notes, fmt.Sprintf(format, a...)) }

	switch k := q.Get("kiosk"); k {
	case "", "0":
	case "1":
		o.Kiosk = true
	default:
		note("kiosk=%s: want 1; the cursor stays visible", k)
	}

	if spec := q.Get("quiet"); spec != "" {
		m := quietPattern.FindStringSubmatch(spec)
		from, to := -1, -1
		if m != nil {
			from, _ = strconv.Atoi(m[1])
			to, _ = strconv.Atoi(m[2])
		}
		if m == nil || from > 23 || to > 23 || from == to {
			note("quiet=%s: want two different hours from 0 to 23, like 22-6; not dimming", spec)
		} else {
			o.Quiet, o.QuietFrom, o.QuietTo = true, from, to
		}
	}

	every := defaultRotateEvery
	if spec := q.Get("every"); spec != "" {
		m := everyPattern.FindStringSubmatch(spec)
		var d time.Duration
		if m != nil {
			n, _ := strconv.Atoi(m[1])
			d = time.Duration(n) * time.Second
			if m[2] == "m" {
				d = time.Duration(n) * time.Minute
			}
		}
		switch {
		case m == nil || d > maxRotateEvery:
			note("every=%s: want seconds or minutes, like 30s or 2m; rotating every %s", spec, fmtEvery(every))
		case d < minRotateEvery:
			every = minRotateEvery
			note("every=%s: shortest is %s; rotating every %s", spec, fmtEvery(minRotateEvery), fmtEvery(every))
		default:
			every = d
		}
	}

	if spec := q.Get("rotate"); spec != "" {
		var shown []string
		for _, name := range strings.Split(spec, ",") {
			name = strings.TrimSpace(name)
			names := []string{name}
			if tpl, ok := strings.CutSuffix(name, "/*"); ok {
				if names, ok = expand(tpl); !ok {
					note("rotate: no board template named %q; skipped", tpl)
					continue
				}
			}
			for _, name := range names {
				if name == "" || slices.Contains(shown, name) {
					continue
				}
				if ok, why := usable(name); !ok {
					note("rotate: %s; skipped", why)
					continue
				}
				shown = append(shown, name)
			}
		}
		switch {
		case len(shown) == 0:
			note("rotate=%s: none of these boards can be shown here; not rotating", spec)
		case len(shown) == 1 && shown[0] == current:
			// Only this board is left: nothing to rotate to.
		default:
			i := slices.Index(shown, current) // -1 when this board is not in the list: start at its first
			o.Next = shown[(i+1)%len(shown)]
			o.EverySeconds = int(every / time.Second)
		}
	}
	return o
}

func fmtEvery(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + "m"
	}
	return strconv.Itoa(int(d/time.Second)) + "s"
}

// screenOptions reads the kiosk options of a board page's address; a
// rotation goes on to the next board that exists, keeping the options.
func (a *API) screenOptions(c echo.Context, current string) views.ScreenOptions {
	q := c.Request().URL.Query()
	q.Del("token")
	cr := a.credentialsOf(c.Request())
	o := screenOptions(q, current, func(name string) (bool, string) {
		if tpl, v, ok := board.SplitName(name); ok && v == anyValue && a.isTemplate(tpl) {
			return true, ""
		}
		if _, err := a.boardDef(name); err != nil {
			return false, fmt.Sprintf("no board named %q", name)
		}
		return true, ""
	}, func(tpl string) ([]string, bool) {
		t, ok := a.template(tpl)
		if !ok {
			return nil, false
		}
		if cr.showsValues(t) || cr.check(t) == granted {
			return a.instanceNames(tpl)
		}
		// This page may not list a private template's values (a paired
		// screen's cookie for it is not sent here): the rotation goes on
		// to T/*, whose page sends a screen paired with it to its first
		// board.
		return []string{tpl + "/" + anyValue}, true
	})
	if o.Next != "" {
		o.Next = board.URLPath(o.Next)
		if q := withoutToken(c.Request().URL.RawQuery); q != "" {
			o.Next += "?" + q
		}
	}
	return o
}

// withoutToken is a query string as the screen's address had it, in its own
// order and spelling, less any pairing token (which must not travel on).
func withoutToken(raw string) string {
	var kept []string
	for part := range strings.SplitSeq(raw, "&") {
		key, _, _ := strings.Cut(part, "=")
		if k, err := url.QueryUnescape(key); part == "" || (err == nil && k == "token") {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}

// anyValue stands for "the template's first board" in a rotation
// (/boards/T/*): it is not a value (values hold no "*").
const anyValue = "*"

// firstBoard answers /boards/T/*: a screen that may open template T goes on
// to its first board (by value), keeping its options; any other is refused
// as by the template's boards, and learns no value.
func (a *API) firstBoard(c echo.Context, tpl board.Board) error {
	screen := a.screenOptions(c, tpl.Name+"/"+anyValue)
	if g := a.credentialsOf(c.Request()).check(tpl); g != granted {
		return a.renderNoAccess(c, g, tpl, screen)
	}
	names, _ := a.instanceNames(tpl.Name)
	if len(names) == 0 {
		return a.renderBoardNotFound(c, tpl.Name+"/"+anyValue, screen)
	}
	target := board.URLPath(names[0])
	if q := withoutToken(c.Request().URL.RawQuery); q != "" {
		target += "?" + q
	}
	return c.Redirect(http.StatusSeeOther, target)
}

// instanceNames are a template's current boards, sorted by value; ok is
// false when no template has that name.
func (a *API) instanceNames(template string) ([]string, bool) {
	for _, e := range a.Boards.Index() {
		if e.Name == template && e.ForEach != nil {
			names := make([]string, len(e.Instances))
			for i, in := range e.Instances {
				names[i] = in.Name
			}
			return names, true
		}
	}
	return nil, false
}
