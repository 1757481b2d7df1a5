package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/themes"
	"github.com/pulseboard/pulseboard/internal/window"
)

// consoleEngine is a store both the console and the API read.
type consoleEngine interface {
	httpapi.Recorder
	httpapi.Querier
	httpapi.ChangeLog
}

// consoleServer serves the console and the API over one engine, filled with
// a month of answers from a fixed seed, at a fixed clock. Its schema adds
// the operator's own region to the built-ins (journey among them), with
// rollups over region and team+region besides the default ones. get and
// page ask as a viewer (consoleViewer) unless told otherwise.
type consoleServer struct {
	t     *testing.T
	url   string
	clock *storetest.Clock
	eng   consoleEngine
	cal   window.Calendar
}

// consoleViewer is the viewer token every request sends by default.
const consoleViewer = "lee-console-viewer-token-12345"

const region store.Dimension = "region"

// consoleTeams hold names with spaces and @, which ingest allows and every
// link and cell must escape.
var (
	consoleTeams    = []string{"billing", "sales", "tech support", "vip@desk"}
	consoleAgents   = []string{"Ana Lima", "Ben O", "c.d@x", "Dee"}
	consoleChannels = []string{"phone", "chat", "email"}
	consoleJourneys = []string{"new order", "pharma", "medical devices"}
	consoleRegions  = []string{"north", "south"}
)

// consoleComments hold themes of the default dictionary: none, one,
// several, a phrase, a negated one ("not rude" is no rudeness), and markup
// that every page must escape around its highlighted words.
var consoleComments = []string{
	"Waited 40 minutes on hold, then the line dropped",
	"I was charged twice and nobody called me back",
	"The agent was <b>rude</b> & hung up on me",
	"Great help, thank you!",
	"Not rude at all, very helpful",
	"Still waiting for my refund",
	"ok",
}

// consoleThemes is the default dictionary, which the console's engine
// matches comments with.
func consoleThemes(t testing.TB) *themes.Dictionary {
	d, err := themes.New(themes.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newConsoleServer(t *testing.T, engine string, deps func(*httpapi.Deps)) *consoleServer {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	schema, err := store.NewSchema(string(region))
	if err != nil {
		t.Fatal(err)
	}
	opts.Schema = schema
	opts.Themes = consoleThemes(t).Names
	for _, name := range []string{"region", "team+region"} {
		r, err := schema.ParseRollup(name)
		if err != nil {
			t.Fatal(err)
		}
		opts.Rollups = append(opts.Rollups, r)
	}
	viewer, err := auth.ParseNamedToken("lee:" + consoleViewer)
	if err != nil {
		t.Fatal(err)
	}
	var eng interface {
		consoleEngine
		Close() error
	}
	switch engine {
	case "memory":
		eng = memstore.New(opts)
	case "redis":
		srv, err := redistest.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		rdb := redistest.ClientAt(t, srv.URL)
		eng = redisstore.New(rdb, opts, redisstore.Config{Tenant: redistest.Tenant(t, rdb)})
	default:
		t.Fatalf("engine %q", engine)
	}
	t.Cleanup(func() { eng.Close() })
	d := httpapi.Deps{
		Querier: eng, ChangeLog: eng, PublicBoards: true, MinSample: 30,
		Calendar: opts.Calendar, Schema: schema, Rollups: opts.Rollups, Now: clock.Now,
		ViewerTokens: auth.NewUsers(viewer), Themes: consoleThemes(t),
	}
	if deps != nil {
		deps(&d)
	}
	srv := httptest.NewServer(httpapi.New(d))
	t.Cleanup(srv.Close)
	return &consoleServer{t: t, url: srv.URL, clock: clock, eng: eng, cal: opts.Calendar}
}

// fill records n answers spread over the last 30 days, more of them
// recent, every tenth with a comment holding an e-mail address.
func (s *consoleServer) fill(n int) []store.Response {
	s.t.Helper()
	var all []store.Response
	rng := rand.New(rand.NewPCG(7, 15))
	now := s.clock.Now()
	batch := make([]store.Response, 0, 500)
	flush := func() {
		if _, err := s.eng.Record(context.Background(), batch); err != nil {
			s.t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range n {
		back := time.Duration(rng.Float64() * rng.Float64() * float64(30*24*time.Hour))
		r := store.Response{
			ID: fmt.Sprintf("c-%d", i), Score: rng.IntN(11), At: now.Add(-back).Truncate(time.Second), AtGiven: true,
			Dims: store.Dims{
				Channel: consoleChannels[rng.IntN(len(consoleChannels))], Segment: []string{"smb", "enterprise"}[rng.IntN(2)],
				Team: consoleTeams[rng.IntN(len(consoleTeams))], Agent: consoleAgents[rng.IntN(len(consoleAgents))],
				Journey: consoleJourneys[rng.IntN(len(consoleJourneys))],
			},
		}
		r.Dims.Set(region, consoleRegions[rng.IntN(len(consoleRegions))])
		switch {
		case i%10 == 0:
			r.Comment = fmt.Sprintf("answer %d, write to jo%d@example.com", i, i)
		case i%10 == 3 || i%10 == 6:
			// Chosen by i, not drawn: the seed's other draws stay as they were.
			r.Comment = consoleComments[(i/10)%len(consoleComments)]
		}
		batch = append(batch, r)
		all = append(all, r)
		if len(batch) == cap(batch) {
			flush()
		}
	}
	flush()
	return all
}

// get fetches a path as the viewer, with the header pairs given (an
// empty Authorization asks anonymously), without following redirects.
func (s *consoleServer) get(path string, header ...string) (int, string) {
	s.t.Helper()
	res := s.do(path, header...)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, string(b)
}

func (s *consoleServer) do(path string, header ...string) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.url+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+consoleViewer)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
		if header[i+1] == "" {
			req.Header.Del(header[i])
		}
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// page fetches a console address that must answer 200 and parses it.
func (s *consoleServer) page(query string) *html.Node {
	s.t.Helper()
	code, body := s.get("/console?" + query)
	if code != http.StatusOK {
		s.t.Fatalf("GET /console?%s: %d %s", query, code, body)
	}
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	return doc
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// findAll lists the elements under n whose attribute key passes match.
func findAll(n *html.Node, key string, match func(string) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			for _, a := range n.Attr {
				if a.Key == key && match(a.Val) {
					out = append(out, n)
					break
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func byTestID(n *html.Node, id string) []*html.Node {
	return findAll(n, "data-testid", func(v string) bool { return v == id })
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// consoleRow is one group row as the page shows it.
type consoleRow struct {
	key                  string
	nps, ciLow, ciHigh   string
	n                    string
	keyLinks, drillLinks map[string]string
}

func rows(doc *html.Node) []consoleRow {
	table := byTestID(doc, "groups")
	if len(table) != 1 {
		return nil
	}
	var out []consoleRow
	for _, tr := range findAll(table[0], "data-testid", func(v string) bool { return strings.HasPrefix(v, "row-") }) {
		r := consoleRow{key: strings.TrimPrefix(attr(tr, "data-testid"), "row-"), nps: attr(tr, "data-nps"),
			ciLow: attr(tr, "data-ci-low"), ciHigh: attr(tr, "data-ci-high"), n: attr(tr, "data-n"),
			keyLinks: map[string]string{}, drillLinks: map[string]string{}}
		for _, a := range findAll(tr, "data-testid", func(v string) bool { return strings.HasPrefix(v, "key-") || strings.HasPrefix(v, "drill-") }) {
			if id := attr(a, "data-testid"); strings.HasPrefix(id, "key-") {
				r.keyLinks[strings.TrimPrefix(id, "key-")] = attr(a, "href")
			} else {
				r.drillLinks[strings.TrimPrefix(id, "drill-")] = attr(a, "href")
			}
		}
		out = append(out, r)
	}
	return out
}

// apiGroups asks GET /api/v1/nps and keys its groups as the console does.
func (s *consoleServer) apiGroups(query string, by []string) map[string]map[string]any {
	s.t.Helper()
	code, body := s.get("/api/v1/nps?" + query)
	if code != http.StatusOK {
		s.t.Fatalf("GET /api/v1/nps?%s: %d %s", query, code, body)
	}
	var ans struct {
		Groups []map[string]any `json:"groups"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		s.t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for _, g := range ans.Groups {
		key := g["key"].(map[string]any)
		parts := make([]string, len(by))
		for i, d := range by {
			parts[i] = key[d].(string)
		}
		k := strings.Join(parts, "/")
		if k == "" {
			k = "all"
		}
		out[k] = g
	}
	return out
}

func numText(v any) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(v.(float64), 'g', -1, 64)
}

// TestConsoleMatchesAPI: every group the console shows has the API's
// figures for the same address, on both engines, the console shows every
// group the API has, and its heading is the API's label.
func TestConsoleMatchesAPI(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			s := newConsoleServer(t, engine, nil)
			s.fill(6000)
			for _, q := range []struct {
				query string
				by    []string
			}{
				{"window=today&by=team", []string{"team"}},
				{"window=1h&by=channel", []string{"channel"}},
				{"window=7d&by=agent&team=vip%40desk", []string{"agent"}},
				{"window=30d&by=team,agent", []string{"team", "agent"}},
				{"window=last_week&by=channel,team&channel=chat", []string{"channel", "team"}},
				{"window=90d&team=tech+support", nil},
				{"window=this_month&by=segment", []string{"segment"}},
				{"window=today&by=journey", []string{"journey"}},
				{"window=7d&by=channel,journey&journey=medical+devices", []string{"channel", "journey"}},
				{"window=24h&by=region", []string{"region"}},
				{"window=30d&by=team&region=north", []string{"team"}},
				{"window=30d&by=region&team=tech+support", []string{"region"}},
			} {
				s.checkLikeAPI(q.query, q.by)
			}
		})
	}
}

// TestConsoleSort: sort= orders the rows server-side, each way, and the
// current column's header links to the reverse order.
func TestConsoleSort(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	s.fill(3000)
	num := func(v string) float64 {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("number %q: %v", v, err)
		}
		return f
	}
	for _, c := range []struct {
		sort string
		val  func(consoleRow) float64
		desc bool
	}{
		{"nps", func(r consoleRow) float64 { return num(r.nps) }, false},
		{"-nps", func(r consoleRow) float64 { return num(r.nps) }, true},
		{"n", func(r consoleRow) float64 { return num(r.n) }, false},
		{"-n", func(r consoleRow) float64 { return num(r.n) }, true},
	} {
		doc := s.page("window=30d&by=agent&sort=" + c.sort)
		rs := rows(doc)
		if len(rs) != len(consoleAgents) {
			t.Fatalf("sort=%s: %d rows, want %d", c.sort, len(rs), len(consoleAgents))
		}
		vals := make([]float64, len(rs))
		for i, r := range rs {
			vals[i] = c.val(r)
		}
		sorted := slices.IsSorted(vals)
		if c.desc {
			slices.Reverse(vals)
			sorted = slices.IsSorted(vals)
		}
		if !sorted {
			t.Errorf("sort=%s: rows are not in order: %v", c.sort, vals)
		}
		col := strings.TrimPrefix(c.sort, "-")
		head := byTestID(doc, "sort-"+col)
		if len(head) != 1 {
			t.Fatalf("sort=%s: no header link for %s", c.sort, col)
		}
		u, _ := url.Parse(attr(head[0], "href"))
		wantNext := "-" + col
		if c.desc {
			wantNext = col
		}
		if got := u.Query().Get("sort"); got != wantNext || u.Query().Get("by") != "agent" || u.Query().Get("window") != "30d" {
			t.Errorf("sort=%s: the header links to %s, want sort=%s keeping window and by", c.sort, u, wantNext)
		}
	}
	// Without sort=, the API's order (by key).
	var keys []string
	for _, r := range rows(s.page("window=30d&by=agent")) {
		keys = append(keys, r.key)
	}
	if !slices.IsSorted(keys) {
		t.Errorf("default order %v, want the API's key order", keys)
	}
	if code, body := s.get("/console?window=1h&by=team&sort=colour", "Accept", "text/html"); code != http.StatusBadRequest || !strings.Contains(body, "sort: unknown column") {
		t.Errorf("sort=colour: %d %s", code, body)
	}
}

// TestConsoleDrillDown: every row links to the next level with the view's
// window and filters, and the row's own value added as a filter; the
// agent level lists the agent's answers.
func TestConsoleDrillDown(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	s.fill(3000)
	doc := s.page("window=7d&by=team&sort=-nps")
	rs := rows(doc)
	if len(rs) != len(consoleTeams) {
		t.Fatalf("%d team rows, want %d", len(rs), len(consoleTeams))
	}
	for _, r := range rs {
		for _, next := range []string{"agent", "channel"} {
			link, ok := r.drillLinks[next]
			if !ok {
				t.Fatalf("team %q has no drill by %s: %v", r.key, next, r.drillLinks)
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			if q := u.Query(); u.Path != "/console" || q.Get("by") != next || q.Get("team") != r.key || q.Get("window") != "7d" {
				t.Errorf("team %q drills to %s, want by=%s&team=%s keeping window=7d", r.key, link, next, r.key)
			}
		}
		if r.keyLinks["team"] != r.drillLinks["agent"] {
			t.Errorf("team %q: its name links to %s, want its agents first (%s)", r.key, r.keyLinks["team"], r.drillLinks["agent"])
		}
		if ans := r.drillLinks["answers"]; ans == "" || strings.Contains(ans, "by=") {
			t.Errorf("team %q: answers link %q, want one without by", r.key, ans)
		}
	}
	// A filter is kept: billing's channels drill to their answers with
	// both the team and the channel (no rollup breaks them down further).
	for _, r := range rows(s.page("window=24h&by=channel&team=billing")) {
		if len(r.drillLinks) != 1 {
			t.Errorf("channel %q of billing offers %v, want its answers only", r.key, r.drillLinks)
		}
		u, _ := url.Parse(r.drillLinks["answers"])
		if q := u.Query(); q.Get("team") != "billing" || q.Get("channel") != r.key || q.Get("window") != "24h" || q.Has("by") {
			t.Errorf("channel %q of billing drills to %s", r.key, u)
		}
	}
	// A team's own page (no breakdown) offers what comes after team in the
	// schema's order first (its agents, then the operator's region, then
	// the themes of its comments, team+theme being a rollup), then its
	// channels, keeping the team.
	all := byTestID(s.page("window=24h&team=billing"), "row-all")
	if len(all) != 1 {
		t.Fatal("no overall row for team=billing")
	}
	var order []string
	for _, a := range findAll(all[0], "data-testid", func(v string) bool { return strings.HasPrefix(v, "drill-") }) {
		order = append(order, attr(a, "data-testid"))
		if u, _ := url.Parse(attr(a, "href")); u.Query().Get("team") != "billing" {
			t.Errorf("team=billing drills to %s", u)
		}
	}
	if !slices.Equal(order, []string{"drill-agent", "drill-region", "drill-theme", "drill-channel"}) {
		t.Errorf("team=billing offers %v, want its agents, regions, themes, then its channels", order)
	}
	// Follow a team with a space to its agents, then an agent with @.
	var vip consoleRow
	for _, r := range rows(s.page("window=30d&by=team")) {
		if r.key == "vip@desk" {
			vip = r
		}
	}
	if vip.keyLinks["team"] == "" {
		t.Fatal("no row for team vip@desk")
	}
	agents := rows(s.page(strings.TrimPrefix(vip.keyLinks["team"], "/console?")))
	var cd consoleRow
	for _, r := range agents {
		if r.key == "c.d@x" {
			cd = r
		}
	}
	if cd.keyLinks["agent"] == "" {
		t.Fatalf("no agent c.d@x under vip@desk: %v", agents)
	}
	u, _ := url.Parse(cd.keyLinks["agent"])
	if q := u.Query(); q.Get("agent") != "c.d@x" || q.Get("team") != "vip@desk" || q.Get("window") != "30d" || q.Has("by") {
		t.Fatalf("agent c.d@x links to %s", u)
	}
	doc = s.page(u.RawQuery)
	answers := findAll(doc, "data-testid", func(v string) bool { return strings.HasPrefix(v, "answer-c-") })
	if len(answers) == 0 {
		t.Fatalf("the agent's page lists no answers: %s", text(byTestID(doc, "answers")[0]))
	}
	for _, tr := range answers {
		if tx := text(tr); !strings.Contains(tx, "vip@desk") || !strings.Contains(tx, "c.d@x") {
			t.Errorf("answer row %q is not of team vip@desk and agent c.d@x", tx)
		}
	}
}

// TestConsoleAnswers: the answers list holds exactly the view's answers in
// the window (filters on journey and the operator's region too), newest
// first, comments redacted; an answer's own page shows
// it; the note says how many of the window's answers it could list.
func TestConsoleAnswers(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			s := newConsoleServer(t, engine, nil)
			recorded := s.fill(3000)
			cal := storetest.Options(t, s.clock).Calendar
			// Brute force over what was recorded.
			matches := func(w window.Window, team, agent string) map[string]time.Time {
				span := cal.Span(w, s.clock.Now())
				out := map[string]time.Time{}
				for _, r := range recorded {
					if r.Dims.Team == team && r.Dims.Agent == agent && span.Contains(r.At) {
						out[r.ID] = r.At
					}
				}
				return out
			}
			listed := func(doc *html.Node) []string {
				var out []string
				for _, tr := range findAll(doc, "data-testid", func(v string) bool { return strings.HasPrefix(v, "answer-c-") }) {
					out = append(out, strings.TrimPrefix(attr(tr, "data-testid"), "answer-"))
				}
				return out
			}
			// A view with fewer answers than the list holds: all of them.
			want := matches(window.Rolling24h, "sales", "Dee")
			doc := s.page("window=24h&team=sales&agent=Dee")
			got := listed(doc)
			if len(want) == 0 || len(want) >= 50 || !sameSet(got, slices.Collect(maps.Keys(want))) {
				t.Fatalf("24h: answers listed %v, want %v", got, want)
			}
			if note := text(byTestID(doc, "answers-note")[0]); note != fmt.Sprintf("All %d answers of this view in the window.", len(want)) {
				t.Errorf("24h: note %q", note)
			}
			// The operator's own dimension and journey filter the log's
			// payloads too (region is in the payload's "dims").
			for _, c := range []struct {
				w       window.Window
				filters string
				keep    func(store.Response) bool
			}{
				{window.Rolling2h, "team=sales&region=north", func(r store.Response) bool { return r.Dims.Team == "sales" && r.Dims.Get(region) == "north" }},
				{window.Rolling1h, "journey=pharma&channel=chat", func(r store.Response) bool { return r.Dims.Journey == "pharma" && r.Dims.Channel == "chat" }},
			} {
				query := "window=" + c.w.Name + "&" + c.filters
				span := cal.Span(c.w, s.clock.Now())
				var want []string
				for _, r := range recorded {
					if c.keep(r) && span.Contains(r.At) {
						want = append(want, r.ID)
					}
				}
				got := listed(s.page(query))
				if len(want) == 0 || len(want) > 50 || !sameSet(got, want) {
					t.Errorf("%s: answers listed %v, want %v", query, got, want)
				}
			}
			// A view with more: 50 of its answers, newest first.
			want = matches(window.Rolling7d, "sales", "Dee")
			doc = s.page("window=7d&team=sales&agent=Dee")
			got = listed(doc)
			if len(want) <= 50 || len(got) != 50 {
				t.Fatalf("7d: %d answers listed of %d", len(got), len(want))
			}
			for i, id := range got {
				at, ok := want[id]
				if !ok {
					t.Fatalf("7d: answer %s is not of this view", id)
				}
				if i > 0 && at.After(want[got[i-1]]) {
					t.Errorf("7d: answer %s (%s) is listed after an older one", id, at)
				}
			}
			body := text(byTestID(doc, "answers")[0])
			if strings.Contains(body, "@example.com") {
				t.Errorf("a comment's e-mail address is shown: %s", body)
			}
			// An answer with a comment: its own page.
			var link string
			for _, tr := range findAll(doc, "data-testid", func(v string) bool { return strings.HasPrefix(v, "answer-c-") }) {
				if strings.Contains(text(tr), "[email]") {
					link = attr(byTestID(tr, "answer-link")[0], "href")
					break
				}
			}
			if link == "" {
				t.Fatal("no listed answer has a comment")
			}
			u, _ := url.Parse(link)
			detail := s.page(u.RawQuery)
			if c := byTestID(detail, "answer-comment"); len(c) != 1 || !strings.Contains(text(c[0]), "[email]") || strings.Contains(text(c[0]), "example.com") {
				t.Errorf("answer page comment: %v", c)
			}
			if id := text(byTestID(detail, "answer-id")[0]); id != u.Query().Get("answer") {
				t.Errorf("answer page shows %q, want %q", id, u.Query().Get("answer"))
			}
		})
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// TestConsoleEscaping: names with spaces and @ are encoded in every link
// and escaped in markup; a value ingest would refuse (<script>) is refused
// with a 400 page that shows it escaped.
func TestConsoleEscaping(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	s.fill(2000)
	code, body := s.get("/console?window=30d&by=agent&team=vip%40desk")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	for _, raw := range []string{"team=vip@desk", "agent=c.d@x", "agent=Ana Lima", "href=\"/console?agent=Ana Lima"} {
		if strings.Contains(body, raw) {
			t.Errorf("the page holds the unencoded %q", raw)
		}
	}
	if !strings.Contains(body, "<title>Pulseboard · vip@desk, 30d by agent · Console</title>") {
		t.Error("the page's title does not name the view")
	}
	for _, enc := range []string{"team=vip%40desk", "agent=c.d%40x", "agent=Ana+Lima"} {
		if !strings.Contains(body, enc) {
			t.Errorf("the page has no link with %q", enc)
		}
	}
	if ingest.ValueProblem("<script>") == "" {
		t.Fatal("ingest accepts <script> as a dimension value")
	}
	code, body = s.get("/console?window=1h&by=agent&team=%3Cscript%3Ealert(1)%3C/script%3E", "Accept", "text/html")
	if code != http.StatusBadRequest {
		t.Fatalf("team=<script>: %d", code)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "console-error") || !strings.Contains(body, "team: may hold only") {
		t.Errorf("team=<script>: the page does not refuse it safely: %s", body)
	}
	if code, body := s.get("/console?window=1h&by=colour"); code != http.StatusBadRequest || !strings.Contains(body, "by: unknown dimension") {
		t.Errorf("by=colour: %d %s", code, body)
	}
	if code, body := s.get("/console?window=1h&by=team,channel,agent"); code != http.StatusBadRequest || !strings.Contains(body, "no configured rollup covers") {
		t.Errorf("an uncovered breakdown: %d %s", code, body)
	}
}

// TestConsoleForm: a bare /console goes to today by team; the breakdowns
// offered are exactly the covered ones; filters offer the values seen.
func TestConsoleForm(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	s.fill(2000)
	req, _ := http.NewRequest(http.MethodGet, s.url+"/console", nil)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/console?by=team&window=today" {
		t.Fatalf("bare /console: %d to %q", res.StatusCode, loc)
	}
	options := func(doc *html.Node, id string) []string {
		sel := byTestID(doc, id)
		if len(sel) != 1 {
			t.Fatalf("no %s", id)
		}
		var out []string
		for _, o := range findAll(sel[0], "value", func(string) bool { return true }) {
			out = append(out, attr(o, "value"))
		}
		return out
	}
	doc := s.page("window=today&by=team")
	// theme comes after the response's own dimensions, alone and in pairs.
	if got, want := options(doc, "pick-by"), []string{"", "channel", "segment", "journey", "team", "agent", "region", "theme",
		"channel,journey", "channel,team", "team,agent", "team,region", "team,theme"}; !slices.Equal(got, want) {
		t.Errorf("breakdowns offered %v, want %v", got, want)
	}
	// With a channel filter only the breakdowns a rollup covers with it.
	doc = s.page("window=today&by=team&channel=chat")
	if got, want := options(doc, "pick-by"), []string{"", "channel", "journey", "team", "channel,journey", "channel,team"}; !slices.Equal(got, want) {
		t.Errorf("breakdowns offered with channel=chat %v, want %v", got, want)
	}
	if got := options(doc, "pick-team"); !slices.Equal(got, append([]string{""}, sortedCopy(consoleTeams)...)) {
		t.Errorf("team values %v", got)
	}
	if got := options(doc, "pick-journey"); !slices.Equal(got, append([]string{""}, sortedCopy(consoleJourneys)...)) {
		t.Errorf("journey values %v", got)
	}
	if got := options(doc, "pick-region"); !slices.Equal(got, append([]string{""}, sortedCopy(consoleRegions)...)) {
		t.Errorf("region values %v", got)
	}
	if got := options(doc, "pick-window"); len(got) != len(window.All)+1 || got[len(got)-1] != "range" {
		t.Errorf("the window picker lists %v, want the %d windows and the range", got, len(window.All))
	}
	exp := byTestID(doc, "export")
	if len(exp) != 1 {
		t.Fatal("no export link")
	}
	u, _ := url.Parse(attr(exp[0], "href"))
	if q := u.Query(); u.Path != "/api/v1/nps" || q.Get("format") != "csv" || q.Get("window") != "today" || q.Get("by") != "team" || q.Get("channel") != "chat" || len(q) != 4 {
		t.Errorf("export link %s", u)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestConsoleResultsPart: the poll's request gets the results alone, with
// the same numbers.
func TestConsoleResultsPart(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	s.fill(2000)
	code, part := s.get("/console?window=today&by=team", "X-Pulseboard-Part", "results")
	if code != 200 || strings.Contains(part, "<form") || strings.Contains(part, "<html") || !strings.Contains(part, `data-testid="groups"`) {
		t.Fatalf("results part: %d %s", code, part)
	}
	doc, err := html.Parse(strings.NewReader(part))
	if err != nil {
		t.Fatal(err)
	}
	full := rows(s.page("window=today&by=team"))
	if got := rows(doc); len(got) != len(full) || got[0].nps != full[0].nps {
		t.Errorf("the part's rows %v differ from the page's %v", got, full)
	}
}

// TestConsoleAccess: without public_boards the console is guarded like the
// query API: a browser not signed in is sent to /signin and back, an API
// client gets problem JSON, a viewer or an admin the console.
func TestConsoleAccess(t *testing.T) {
	s := newConsoleServer(t, "memory", func(d *httpapi.Deps) {
		d.PublicBoards = false
		d.AdminTokens = auth.NewTokens("console-admin-token-123456")
	})
	res := s.do("/console?window=1h&by=team", "Authorization", "", "Accept", "text/html,application/xhtml+xml")
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/signin?next=%2Fconsole%3Fwindow%3D1h%26by%3Dteam" {
		t.Errorf("browser not signed in: %d to %q", res.StatusCode, loc)
	}
	code, body := s.get("/console?window=1h", "Authorization", "")
	if code != http.StatusUnauthorized || !strings.Contains(body, `"status":401`) {
		t.Errorf("client without a token: %d %s", code, body)
	}
	for who, tok := range map[string]string{"viewer": consoleViewer, "admin": "console-admin-token-123456"} {
		code, body = s.get("/console?window=1h&by=agent", "Authorization", "Bearer "+tok)
		if code != http.StatusOK || !strings.Contains(body, `data-testid="groups"`) {
			t.Errorf("%s: %d", who, code)
		}
	}
}

// TestConsoleAudience: agent names are for signed-in viewers and admins
// (Principal.MaySeeAgentNames). An anonymous reader of a public server
// reads the console, without the agent breakdown, filter, drill-downs or
// answer column, and an address asking for agents is refused.
func TestConsoleAudience(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	s.fill(2000)
	anon := []string{"Authorization", ""}
	code, body := s.get("/console?window=30d&by=team", anon...)
	if code != http.StatusOK {
		t.Fatalf("anonymous, public mode: %d %s", code, body)
	}
	for _, agent := range append(slices.Clone(consoleAgents), "by=agent", `name="agent"`, "drill-agent") {
		if strings.Contains(body, agent) || strings.Contains(body, url.QueryEscape(agent)) {
			t.Errorf("anonymous: the page shows %q", agent)
		}
	}
	if !strings.Contains(body, `data-testid="console-signin"`) || !strings.Contains(body, `/signin?next=%2Fconsole%3Fwindow%3D30d%26by%3Dteam`) {
		t.Errorf("anonymous: no sign-in link back to the view")
	}
	code, body = s.get("/console?window=30d&team=billing", anon...)
	if doc, _ := html.Parse(strings.NewReader(body)); code != http.StatusOK || len(byTestID(doc, "answers")) != 1 {
		t.Fatalf("anonymous answers: %d", code)
	}
	for _, agent := range consoleAgents {
		if strings.Contains(body, agent) {
			t.Errorf("anonymous answers show agent %q", agent)
		}
	}
	for _, addr := range []string{"window=1h&by=agent", "window=1h&agent=Dee", "window=1h&by=team,agent"} {
		if code, body := s.get("/console?"+addr, anon...); code != http.StatusForbidden || !strings.Contains(body, "agent names are not shown to you") {
			t.Errorf("anonymous %s: %d %s", addr, code, body)
		}
	}
	// The viewer sees them all.
	code, body = s.get("/console?window=30d&by=team")
	if code != http.StatusOK || !strings.Contains(body, "drill-agent") || !strings.Contains(body, `name="agent"`) {
		t.Errorf("viewer: %d, no agents offered", code)
	}
	if strings.Contains(body, `data-testid="console-signin"`) {
		t.Errorf("viewer: offered to sign in")
	}
}

// TestConsoleRange: the form's from/to in the center's time become the
// API's RFC 3339 range (a redirect to that address); the range's groups,
// label and export equal the API's; a range older than the minute buckets
// says it was widened; a named window makes the form's from/to moot; and
// a range that cannot be read is a 400 page keeping the picks.
func TestConsoleRange(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			s := newConsoleServer(t, engine, nil)
			s.fill(4000)
			loc := s.cal.Location()
			now := s.clock.Now().In(loc)
			local := func(t time.Time) string { return t.In(loc).Format("2006-01-02T15:04") }
			// Yesterday 09:13 to today 08:47, in New York's time.
			from := time.Date(now.Year(), now.Month(), now.Day()-1, 9, 13, 0, 0, loc)
			to := time.Date(now.Year(), now.Month(), now.Day(), 8, 47, 0, 0, loc)
			form := url.Values{"window": {"range"}, "from": {local(from)}, "to": {local(to)}, "by": {"journey"}, "team": {""}}
			res := s.do("/console?" + form.Encode())
			res.Body.Close()
			u, err := url.Parse(res.Header.Get("Location"))
			if err != nil || res.StatusCode != http.StatusSeeOther {
				t.Fatalf("the form's range: %d to %q", res.StatusCode, res.Header.Get("Location"))
			}
			q := u.Query()
			if q.Get("from") != from.Format(time.RFC3339) || q.Get("to") != to.Format(time.RFC3339) || q.Has("window") || q.Get("by") != "journey" || q.Has("team") {
				t.Fatalf("the form's range goes to %s, want from=%s&to=%s&by=journey", u, from.Format(time.RFC3339), to.Format(time.RFC3339))
			}
			s.checkLikeAPI(u.RawQuery, []string{"journey"})
			doc := s.page(u.RawQuery)
			if len(byTestID(doc, "coarse-note")) != 0 {
				t.Error("a range within the minute buckets' retention says it was widened")
			}
			if v := attr(byTestID(doc, "pick-from")[0], "value"); v != local(from) {
				t.Errorf("the form's from shows %q, want %q", v, local(from))
			}
			if sel := findAll(byTestID(doc, "pick-window")[0], "selected", func(string) bool { return true }); len(sel) != 1 || attr(sel[0], "value") != "range" {
				t.Error("the window picker does not show the range chosen")
			}
			exp, _ := url.Parse(attr(byTestID(doc, "export")[0], "href"))
			if eq := exp.Query(); eq.Get("format") != "csv" || eq.Get("from") != q.Get("from") || eq.Get("to") != q.Get("to") || eq.Get("by") != "journey" {
				t.Errorf("export link %s", exp)
			}
			// Three days back at 09:13: the minute buckets are gone, the
			// start widens to 09:00, and the page says so.
			old := url.Values{"from": {from.AddDate(0, 0, -2).Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}, "by": {"region"}, "team": {"sales"}}
			s.checkLikeAPI(old.Encode(), []string{"region"})
			doc = s.page(old.Encode())
			if n := byTestID(doc, "coarse-note"); len(n) != 1 || !strings.Contains(text(n[0]), "widened span") {
				t.Errorf("a widened range has no note: %v", n)
			}
			if l := text(byTestID(doc, "results-label")[0]); !strings.Contains(l, "09:13") || !strings.Contains(l, "widened to") || !strings.Contains(l, "09:00") {
				t.Errorf("a widened range's heading %q does not name the span asked and the span read", l)
			}
			// A named window wins over the form's from/to.
			res = s.do("/console?window=7d&by=team&" + url.Values{"from": {local(from)}, "to": {local(to)}}.Encode())
			res.Body.Close()
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != "/console?by=team&window=7d" {
				t.Errorf("window=7d with from/to: %d to %q", res.StatusCode, loc)
			}
			for addr, want := range map[string]string{
				"window=range&by=team":                "from: pick the start",
				"window=range&from=yesterday&by=team": "from: \"yesterday\" is not a date and time",
				"from=" + url.QueryEscape(local(to)) + "&to=" + url.QueryEscape(local(from)): "to: ",
			} {
				code, body := s.get("/console?"+addr, "Accept", "text/html")
				if code != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), want) {
					t.Errorf("%s: %d, want 400 saying %q", addr, code, want)
					continue
				}
				doc, _ := html.Parse(strings.NewReader(body))
				if sel := findAll(byTestID(doc, "pick-window")[0], "selected", func(string) bool { return true }); len(sel) != 1 || attr(sel[0], "value") != "range" {
					t.Errorf("%s: the refused page's form does not keep the range chosen", addr)
				}
			}
		})
	}
}

// checkLikeAPI checks that the console's groups and label for an address
// are the API's.
func (s *consoleServer) checkLikeAPI(query string, by []string) {
	s.t.Helper()
	doc := s.page(query)
	got, want := rows(doc), s.apiGroups(query, by)
	if len(got) != len(want) || len(got) == 0 {
		s.t.Fatalf("%s: console shows %d groups, the API %d", query, len(got), len(want))
	}
	for _, r := range got {
		g, ok := want[r.key]
		if !ok || r.nps != numText(g["nps"]) || r.ciLow != numText(g["ci_low"]) || r.ciHigh != numText(g["ci_high"]) || r.n != numText(g["responses"]) {
			s.t.Errorf("%s group %q: console nps %s [%s, %s] n %s, API %v", query, r.key, r.nps, r.ciLow, r.ciHigh, r.n, g)
		}
	}
	_, body := s.get("/api/v1/nps?" + query)
	var ans struct {
		Label string `json:"label"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil {
		s.t.Fatal(err)
	}
	if l := byTestID(doc, "results-label"); len(l) != 1 || !strings.HasPrefix(text(l[0]), ans.Label) {
		s.t.Errorf("%s: the console's heading %q does not start with the API's label %q", query, text(l[0]), ans.Label)
	}
}
