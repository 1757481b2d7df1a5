package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	pbclient "github.com/pulseboard/pulseboard/pkg/client"
)

func postTeam(t *testing.T, c client, id string, score int, team string) {
	t.Helper()
	c.record(pbclient.Response{ID: id, Score: pbclient.Score(score), Channel: "chat", Team: team, Agent: "Ana Lima"})
}

// templateBoards lists GET /api/v1/boards' boards of template tpl.
func templateBoards(t *testing.T, c client, tpl string) []string {
	t.Helper()
	list, err := c.api("").Boards(context.Background())
	if err != nil {
		t.Fatalf("GET /api/v1/boards: %v", err)
	}
	var out []string
	for _, tm := range list.Templates {
		if tm.Name != tpl {
			continue
		}
		for _, b := range tm.Boards {
			out = append(out, b.URL)
		}
	}
	return out
}

// TestTemplateBoardForNewTeam: on the real server, on both engines, a team
// that answers for the first time after start gets its board from the
// shipped team template, with its name escaped in the address (a space
// round-trips as %20): the page, the JSON, the index, a rotation through
// the template, and the live socket, which follows its answers and only
// its answers.
func TestTemplateBoardForNewTeam(t *testing.T) {
	for name, args := range engines(t) {
		t.Run(name, func(t *testing.T) {
			m, c := startNow(t, args...)
			postTeam(t, c, "b-1", 9, "billing")
			if r := c.get("/boards/team/first%20line"); r.status != 404 {
				t.Fatalf("a team with no answer has a board: %d", r.status)
			}

			postTeam(t, c, "f-1", 10, "first line")
			eventually(t, "the new team's board", 10*time.Second, func() bool {
				return c.get("/boards/team/first%20line").status == 200
			})
			page := c.get("/boards/team/first%20line")
			for _, want := range []string{`<h1 data-testid="board-title">Team first line</h1>`, `data-live="/boards/team/first%20line/live?v=2"`, `data-board="team/first line"`} {
				if !strings.Contains(page.raw, want) {
					t.Errorf("the board page lacks %s", want)
				}
			}
			if got := templateBoards(t, c, "team"); !slices.Equal(got, []string{"/boards/team/billing", "/boards/team/first%20line"}) {
				t.Errorf("GET /api/v1/boards: team's boards %v", got)
			}
			if home := c.get("/"); !strings.Contains(home.raw, `href="/boards/team/first%20line"`) || !strings.Contains(home.raw, `data-testid="template-team"`) ||
				!strings.Contains(home.raw, `>Team …</h2>`) || !strings.Contains(home.raw, `>Team first line</span>`) {
				t.Errorf("the index does not list the new team's board")
			}
			// rotate=team/* goes through the template's boards by value.
			next := func(path string) string {
				raw := c.get(path).raw
				_, after, ok := strings.Cut(raw, `<meta name="pulseboard-next" content="`)
				if !ok {
					return ""
				}
				v, _, _ := strings.Cut(after, `"`)
				return strings.ReplaceAll(v, "&amp;", "&")
			}
			if got := next("/boards/floor?rotate=team/*&every=5s"); got != "/boards/team/billing?rotate=team/*&every=5s" {
				t.Errorf("rotation from floor: next %q", got)
			}
			if got := next("/boards/team/billing?rotate=team/*&every=5s"); got != "/boards/team/first%20line?rotate=team/*&every=5s" {
				t.Errorf("rotation from billing: next %q", got)
			}
			if got := next("/boards/team/first%20line?rotate=floor,team/*"); got != "/boards/floor?rotate=floor,team/*" {
				t.Errorf("rotation from first line: next %q", got)
			}

			// The socket, at the address the page names.
			s := dial(t, m.Addr(), "team/first%20line")
			if e, err := s.next(2 * time.Second); err != nil || e.Type != live.TypeSnapshot {
				t.Fatalf("first message %+v, %v", e, err)
			}
			for i := range 4 {
				postTeam(t, c, fmt.Sprintf("f-%d", i+2), []int{0, 3, 10, 6}[i], "first line")
				postTeam(t, c, fmt.Sprintf("b-%d", i+2), 10, "billing")
			}
			_, want := c.overall("window=1h&team=first%20line")
			s.until("the headline shows first line's NPS", 3*time.Second, func() bool {
				got := s.headline("nps-1h")
				return got != nil && *got == want.(float64)
			})
			if n := s.tiles["nps-1h"].Figure.Responses; n != 5 {
				t.Errorf("first line's board counts %d answers, want its 5", n)
			}
			// /metrics counts the template's screens together and names no team.
			if met := c.get("/metrics").raw; !strings.Contains(met, `pulseboard_ws_clients{board="team/*"} 1`) || strings.Contains(met, "first line") {
				t.Errorf("/metrics: %s", grepLines(met, "pulseboard_ws_clients"))
			}
			b := c.get("/api/v1/boards/team/first%20line")
			if b.status != 200 || b.body["title"] != "Team first line" || b.body["board"] != "team/first line" {
				t.Errorf("GET /api/v1/boards/team/first%%20line: %d %s", b.status, b.raw)
			}
		})
	}
}

// TestTemplateHostilePaths: values in a path are user data. Whatever a
// path holds, it is a 404 that says what was not found, escaped, or the
// board of exactly that valid value; /boards/team/live is team "live"'s
// page, since a template has no socket of its own.
func TestTemplateHostilePaths(t *testing.T) {
	m, c := startNow(t)
	html := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", c.base+path, nil)
		req.Header.Set("Accept", "text/html")
		r := c.send(req)
		return r.status, r.raw
	}
	for _, path := range []string{
		"/boards/team/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
		"/boards/team/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
		"/boards/team/a%2Fb", "/boards/team/..%2F..%2Fapi", "/boards/team/%20billing", "/boards/team/%E2%80%AEgnillib",
	} {
		status, body := html(path)
		if status != 404 {
			t.Errorf("GET %s: %d, want 404", path, status)
		}
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("GET %s: the value reached the page unescaped", path)
		}
		if r := c.get("/api/v1" + path); r.status != 404 || r.body["type"] != "urn:pulseboard:problem:not_found" {
			t.Errorf("GET /api/v1%s: %d %s", path, r.status, r.raw)
		}
	}
	if status, body := html("/boards/team"); status != 404 || !strings.Contains(body, "is a board template") {
		t.Errorf("GET /boards/team: %d, want a 404 saying it is a template", status)
	}

	// Values that are valid but need care: "live", "@" sent escaped, and
	// an escape sent escaped (which is not the same value).
	postTeam(t, c, "l-1", 9, "live")
	postTeam(t, c, "a-1", 9, "a@b")
	eventually(t, "the boards of live and a@b", 10*time.Second, func() bool {
		return c.get("/boards/team/live").status == 200 && c.get("/boards/team/a%40b").status == 200
	})
	if status, body := html("/boards/team/live"); status != 200 || !strings.Contains(body, ">Team live</h1>") {
		t.Errorf("GET /boards/team/live: %d, want team live's page", status)
	}
	if status, _ := html("/boards/team/a@b"); status != 200 {
		t.Errorf("GET /boards/team/a@b: %d", status)
	}
	if r := c.get("/boards/team/a%2540b"); r.status != 404 {
		t.Errorf("GET /boards/team/a%%2540b: %d: unescaped twice", r.status)
	}
	if e, err := dial(t, m.Addr(), "team/live").next(2 * time.Second); err != nil || e.Type != live.TypeSnapshot {
		t.Errorf("team live's socket /boards/team/live/live: %+v %v", e, err)
	}
	if e, err := dial(t, m.Addr(), "floor").next(2 * time.Second); err != nil || e.Type != live.TypeSnapshot {
		t.Errorf("floor's socket: %+v %v", e, err)
	}
}

// TestTemplateAccess: a template's boards are as private as the template,
// and a screen paired through any of them is paired with all of them (its
// cookie covers /boards/TEMPLATE), so rotate=T/* needs one pairing; it
// opens no other board. A screen with `value:` opens its value's board
// only.
func TestTemplateAccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "boards.yaml")
	yaml := fmt.Sprintf(`boards:
- name: wall
  tiles: [{id: n, view: headline, window: 1h}]
- name: open
  access: {public: true}
  tiles: [{id: n, view: headline, window: 1h}]
- name: team
  title: "Team {value}"
  for_each: {dimension: team, values: [billing, sales]}
  access: {screens: [{name: team-tv, token_sha256: %s}, {name: sales-tv, token_sha256: %s, value: sales}]}
  tiles: [{id: n, view: headline, window: 1h}]
`, auth.HashOf(lobbyToken), auth.HashOf(otherTVToken))
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	m, c := startNow(t, "--boards", path, "--public-boards=false", "--admin-tokens", adminToken)
	// The open board list and index name no value of a private template:
	// values are user data. An admin sees them.
	list := c.get("/api/v1/boards")
	if strings.Contains(list.raw, "sales") || !strings.Contains(list.raw, `"private_boards":2`) {
		t.Errorf("GET /api/v1/boards names a private template's values: %s", list.raw)
	}
	if home := c.get("/"); strings.Contains(home.raw, "sales") || !strings.Contains(home.raw, "2 private boards") {
		t.Errorf("the index names a private template's values")
	}
	if r := c.do("GET", "/api/v1/boards", "", adminToken, nil); !strings.Contains(r.raw, `"url":"/boards/team/sales"`) {
		t.Errorf("an admin's board list lacks the template's boards: %s", r.raw)
	}
	tv := newTVBrowser(t, "http://"+m.Addr())
	// Unpaired, a board that exists and one that does not are refused
	// alike (page, JSON, socket): values cannot be probed.
	for _, v := range []string{"sales", "nope"} {
		if res, _ := tv.get("/boards/team/" + v); res.StatusCode != 401 {
			t.Errorf("unpaired page of %s: %d, want 401", v, res.StatusCode)
		}
		if r := c.get("/api/v1/boards/team/" + v); r.status != 401 {
			t.Errorf("unpaired GET /api/v1/boards/team/%s: %d, want 401", v, r.status)
		}
		if _, res, err := tv.dialAs("team/" + v); err == nil || res == nil || res.StatusCode != 401 {
			t.Errorf("unpaired socket of %s: %v %v, want 401 before the upgrade", v, res, err)
		}
	}
	res, _ := tv.get("/boards/team/billing?token=" + lobbyToken + "&kiosk=1")
	if res.StatusCode != 303 || res.Header.Get("Location") != "/boards/team/billing?kiosk=1" {
		t.Fatalf("pairing: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if ck := res.Cookies(); len(ck) != 1 || ck[0].Path != "/boards/team" {
		t.Fatalf("pairing cookie %v: want one for /boards/team", ck)
	}
	for _, p := range []string{"/boards/team/billing", "/boards/team/sales"} {
		if res, _ := tv.get(p); res.StatusCode != 200 {
			t.Errorf("paired screen: GET %s %d", p, res.StatusCode)
		}
	}
	if s, res, err := tv.dialAs("team/sales"); err != nil {
		t.Errorf("paired screen's socket for sales: %v %v", res, err)
	} else if e, err := s.next(2 * time.Second); err != nil || e.Type != live.TypeSnapshot {
		t.Errorf("paired screen's socket for sales: %+v %v", e, err)
	}
	if res, _ := tv.get("/boards/wall"); res.StatusCode != 401 {
		t.Errorf("the template's screen opened another board: %d", res.StatusCode)
	}
	if res, _ := tv.get("/boards/team/nope"); res.StatusCode != 404 {
		t.Errorf("paired screen on a value with no board: %d, want 404", res.StatusCode)
	}

	// Rotation through a private template: a page that may not list its
	// values (a public board, a missing one) goes on to /boards/team/*,
	// which sends the paired screen to its first board and refuses others.
	anon := newTVBrowser(t, "http://"+m.Addr())
	for p, q := range map[string]string{"/boards/open": "rotate=open,team/*", "/boards/nope": "rotate=team/*"} {
		_, body := anon.get(p+"?"+q, "Accept", "text/html")
		if !strings.Contains(body, `content="/boards/team/%2A?`+q+`"`) || strings.Contains(body, "billing") || strings.Contains(body, "sales") {
			t.Errorf("GET %s: the rotation names a private template's values, or does not go on to team/*", p)
		}
	}
	if res, body := anon.get("/boards/team/%2A?rotate=open,team/*", "Accept", "text/html"); res.StatusCode != 401 || strings.Contains(body, "billing") {
		t.Errorf("unpaired /boards/team/*: %d", res.StatusCode)
	}
	if res, _ := tv.get("/boards/team/%2A?rotate=open,team/*"); res.StatusCode != 303 || res.Header.Get("Location") != "/boards/team/billing?rotate=open,team/*" {
		t.Errorf("paired /boards/team/*: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, body := tv.get("/boards/team/sales?rotate=open,team/*"); !strings.Contains(body, `content="/boards/open?rotate=open,team/*"`) {
		t.Errorf("paired screen's rotation from sales does not go on to open")
	}
	if _, body := tv.get("/boards/team/billing?rotate=open,team/*"); !strings.Contains(body, `content="/boards/team/sales?rotate=open,team/*"`) {
		t.Errorf("paired screen's rotation from billing does not go on to sales")
	}

	// A screen paired with one value's board opens that one only.
	sales := newTVBrowser(t, "http://"+m.Addr())
	res, _ = sales.get("/boards/team/sales?token=" + otherTVToken)
	if ck := res.Cookies(); res.StatusCode != 303 || len(ck) != 1 || ck[0].Path != "/boards/team/sales" {
		t.Fatalf("pairing with sales only: %d, cookies %v", res.StatusCode, ck)
	}
	if res, _ := sales.get("/boards/team/sales"); res.StatusCode != 200 {
		t.Errorf("sales screen on sales: %d", res.StatusCode)
	}
	if res, _ := sales.get("/boards/team/billing"); res.StatusCode != 401 {
		t.Errorf("sales screen on billing: %d, want 401", res.StatusCode)
	}
	if res, _ := sales.get("/boards/team/billing?token=" + otherTVToken); res.StatusCode != 403 {
		t.Errorf("sales screen's token at billing: %d, want 403", res.StatusCode)
	}
}

// TestTemplateBoardOutlivesItsWindowWhileWatched: 31 days after a team's
// last answer its board is gone, unless a screen shows it; then it stays
// until the screen leaves (the program hands the broadcaster's screen
// counts to the registry).
func TestTemplateBoardOutlivesItsWindowWhileWatched(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	m := start(t, clock)
	c := client{t: t, base: "http://" + m.Addr()}
	postTeam(t, c, "w-1", 9, "watched")
	postTeam(t, c, "u-1", 9, "unwatched")
	eventually(t, "both boards", 10*time.Second, func() bool {
		return c.get("/boards/team/watched").status == 200 && c.get("/boards/team/unwatched").status == 200
	})
	s := watch(t, m.Addr(), "team/watched")
	clock.Advance(31 * 24 * time.Hour)
	postTeam(t, c, "f-1", 9, "fresh") // the node hears from its store after the jump
	eventually(t, "the unwatched board's removal", 10*time.Second, func() bool {
		return c.get("/boards/team/unwatched").status == 404 && c.get("/boards/team/fresh").status == 200
	})
	if r := c.get("/boards/team/watched"); r.status != 200 {
		t.Fatalf("the watched board went while a screen showed it: %d", r.status)
	}
	s.conn.Close()
	eventually(t, "the board's removal once nobody watches", 10*time.Second, func() bool {
		return c.get("/boards/team/watched").status == 404
	})
}

// TestTemplateBoardRightAfterStart: a TV that loads a team's board while
// its node is still warming up (a restart, a deploy) gets the board, not
// the not-found page: the page waits for the first look for values.
func TestTemplateBoardRightAfterStart(t *testing.T) {
	args := []string{"--redis-url", redistest.URL(t), "--tenant", redistest.Namespace(t)}
	first, c := startNow(t, args...)
	postTeam(t, c, "r-1", 9, "billing")
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, c = startNow(t, args...)
	if r := c.get("/boards/team/billing"); r.status != 200 {
		t.Fatalf("right after start: %d", r.status)
	}
}

// TestBrowserTemplateBoard: in Chromium, the board of a team whose name
// holds a space follows its live socket (the script connects to the
// page's data-live, the value escaped) and shows that team's numbers.
func TestBrowserTemplateBoard(t *testing.T) {
	ctx := browser(t)
	m, c := startNow(t)
	postTeam(t, c, "s-1", 10, "first line")
	eventually(t, "the team's board", 10*time.Second, func() bool { return c.get("/boards/team/first%20line").status == 200 })
	if err := chromedp.Do(ctx, chromedp.Navigate("http://"+m.Addr()+"/boards/team/first%20line"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="status"]`))); err != nil {
		t.Fatal(err)
	}
	if got := textOf(ctx, `[data-testid="board-title"]`); got != "Team first line" {
		t.Fatalf("title %q", got)
	}
	eventually(t, "status live", 5*time.Second, func() bool { return textOf(ctx, `[data-testid="status"]`) == "live" })
	for i, score := range []int{0, 2, 9} {
		postTeam(t, c, fmt.Sprintf("s-%d", i+2), score, "first line")
		postTeam(t, c, fmt.Sprintf("o-%d", i), 10, "other")
	}
	_, want := c.overall("window=1h&team=first%20line")
	eventually(t, "the team's headline "+board.FormatScore(want.(float64)), 3*time.Second, func() bool {
		return textOf(ctx, `[data-testid="tile-nps-1h"] [data-testid="score"]`) == board.FormatScore(want.(float64))
	})
}
