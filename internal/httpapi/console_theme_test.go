package httpapi_test

import (
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// themeCount is brute force's count of a group: its answers and its
// detractors.
type themeCount struct{ n, d, pa int64 }

// TestConsoleThemes: a breakdown by theme shows each theme's label, its
// mentions by detractors and passives and its NPS impact, 100·D/N with N
// every answer of the view read without theme (a team's, within a team),
// all as brute force over the recorded comments counts them; the rows
// overlap, so the page adds none of them up and says so; a theme row leads
// to its answers; the theme filter offers every theme by its label.
func TestConsoleThemes(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	recorded := s.fill(3000)
	dict := consoleThemes(t)
	span := s.cal.Span(window.Rolling30d, s.clock.Now())
	// count counts, over the 30 days, the answers by the key key gives an
	// answer and one of its themes ("" as the theme: the answer once,
	// whatever its themes).
	count := func(withThemes bool, key func(store.Response, string) (string, bool)) map[string]themeCount {
		out := map[string]themeCount{}
		for _, r := range recorded {
			if !span.Contains(r.At) {
				continue
			}
			ths := []string{""}
			if withThemes {
				ths = dict.Names(r.Comment)
			}
			for _, th := range ths {
				k, ok := key(r, th)
				if !ok {
					continue
				}
				c := out[k]
				c.n++
				if r.Score <= 6 {
					c.d++
				} else if r.Score <= 8 {
					c.pa++
				}
				out[k] = c
			}
		}
		return out
	}
	impactOf := func(d, n int64) float64 { return 100 * float64(d) / float64(n) }
	type shown struct {
		key, label, answersHref string
		n, d, pa                int64
		impact                  float64
	}
	read := func(doc *html.Node) []shown {
		t.Helper()
		var out []shown
		for _, tr := range findAll(byTestID(doc, "groups")[0], "data-testid", func(v string) bool { return strings.HasPrefix(v, "row-") }) {
			r := shown{key: strings.TrimPrefix(attr(tr, "data-testid"), "row-")}
			r.n, _ = strconv.ParseInt(attr(tr, "data-n"), 10, 64)
			var err error
			if r.impact, err = strconv.ParseFloat(attr(tr, "data-impact"), 64); err != nil {
				t.Fatalf("row %s: impact %q", r.key, attr(tr, "data-impact"))
			}
			first := func(id string) string {
				if el := byTestID(tr, id); len(el) > 0 {
					return strings.Fields(text(el[0]))[0]
				}
				return ""
			}
			r.d, _ = strconv.ParseInt(first("detractors-n"), 10, 64)
			r.pa, _ = strconv.ParseInt(first("passives-n"), 10, 64)
			if k := byTestID(tr, "key-theme"); len(k) > 0 {
				r.label = text(k[0])
				r.answersHref = attr(k[0], "href")
			}
			out = append(out, r)
		}
		return out
	}
	all := count(false, func(store.Response, string) (string, bool) { return "", true })[""].n

	// By theme alone: ranked by impact, most costly first.
	doc := s.page("window=30d&by=theme")
	want := count(true, func(_ store.Response, th string) (string, bool) { return th, true })
	got := read(doc)
	if len(got) != len(want) || len(got) < 5 {
		t.Fatalf("by theme: %d rows, want %d", len(got), len(want))
	}
	var mentions int64
	for i, r := range got {
		w := want[r.key]
		mentions += r.n
		if r.n != w.n || r.d != w.d || r.pa != w.pa || math.Abs(r.impact-impactOf(w.d, all)) > 1e-9 {
			t.Errorf("theme %s: n %d, detractors %d, passives %d, impact %g; want %d, %d, %d, %g (N=%d)", r.key, r.n, r.d, r.pa, r.impact, w.n, w.d, w.pa, impactOf(w.d, all), all)
		}
		if r.label != dict.Label(r.key) {
			t.Errorf("theme %s is shown as %q, want its label %q", r.key, r.label, dict.Label(r.key))
		}
		if i > 0 && r.impact > got[i-1].impact {
			t.Errorf("theme %s (impact %g) comes after %s (%g)", r.key, r.impact, got[i-1].key, got[i-1].impact)
		}
		// Its name leads to the answers that mention it.
		u, _ := url.Parse(r.answersHref)
		if q := u.Query(); q.Get("theme") != r.key || q.Has("by") || q.Get("window") != "30d" {
			t.Errorf("theme %s leads to %s, want its answers", r.key, r.answersHref)
		}
	}
	// The rows overlap: nothing adds them up, and the page says so with
	// the view's own count of answers.
	withTheme := count(true, func(store.Response, string) (string, bool) { return "", true })
	var distinct int64
	for _, r := range recorded {
		if span.Contains(r.At) && len(dict.Names(r.Comment)) > 0 {
			distinct++
		}
	}
	if mentions <= distinct || withTheme[""].n != mentions {
		t.Fatalf("the fixture's mentions (%d) do not overlap (%d answers with a theme)", mentions, distinct)
	}
	if len(byTestID(doc, "row-all")) != 0 || len(byTestID(doc, "row-total")) != 0 {
		t.Error("a breakdown by theme has a total row")
	}
	note := text(byTestID(doc, "theme-note")[0])
	if !strings.Contains(note, "overlap") || !strings.Contains(note, fmtThousands(all)+" answers") || strings.Contains(note, fmtThousands(mentions)) {
		t.Errorf("theme note %q: want the overlap said and N=%d, never the sum %d", note, all, mentions)
	}
	if h := byTestID(doc, "sort-impact"); len(h) != 1 || !strings.Contains(attr(h[0].Parent, "title"), "detractors had been passives") {
		t.Error("the impact column does not say what it is")
	}

	// Within a team: N is the team's answers.
	teams := count(false, func(r store.Response, _ string) (string, bool) { return r.Dims.Team, true })
	want = count(true, func(r store.Response, th string) (string, bool) { return r.Dims.Team + "/" + th, true })
	got = read(s.page("window=30d&by=team,theme"))
	if len(got) != len(want) {
		t.Fatalf("by team+theme: %d rows, want %d", len(got), len(want))
	}
	for i, r := range got {
		w, team := want[r.key], strings.Split(r.key, "/")[0]
		if r.n != w.n || math.Abs(r.impact-impactOf(w.d, teams[team].n)) > 1e-9 {
			t.Errorf("%s: n %d impact %g, want %d %g", r.key, r.n, r.impact, w.n, impactOf(w.d, teams[team].n))
		}
		// Teams in order, each one's themes by impact.
		if i == 0 {
			continue
		}
		prev := strings.Split(got[i-1].key, "/")[0]
		if team < prev || team == prev && r.impact > got[i-1].impact {
			t.Errorf("%s (impact %g) comes after %s (%g)", r.key, r.impact, got[i-1].key, got[i-1].impact)
		}
	}
	// A theme filter by team: billing's cost to each team.
	want = count(true, func(r store.Response, th string) (string, bool) { return r.Dims.Team, th == "billing" })
	doc = s.page("window=30d&by=team&theme=billing")
	got = read(doc)
	if len(got) != len(want) {
		t.Fatalf("billing by team: %d rows, want %d", len(got), len(want))
	}
	for _, r := range got {
		w := want[r.key]
		if r.n != w.n || math.Abs(r.impact-impactOf(w.d, teams[r.key].n)) > 1e-9 {
			t.Errorf("billing, team %s: n %d impact %g, want %d %g", r.key, r.n, r.impact, w.n, impactOf(w.d, teams[r.key].n))
		}
	}
	if f := byTestID(doc, "filter-theme"); len(f) != 1 || !strings.Contains(text(f[0]), "theme: Billing errors") {
		t.Error("the theme filter is not shown by its label")
	}
	sel := byTestID(doc, "pick-theme")
	if len(sel) != 1 {
		t.Fatal("no theme filter")
	}
	var values, labels []string
	for _, o := range findAll(sel[0], "value", func(string) bool { return true }) {
		values, labels = append(values, attr(o, "value")), append(labels, text(o))
	}
	var wantValues, wantLabels []string
	for _, th := range dict.Themes() {
		wantValues, wantLabels = append(wantValues, th.Name), append(wantLabels, th.Label)
	}
	if !slices.Equal(values, append([]string{""}, wantValues...)) || !slices.Equal(labels, append([]string{"any"}, wantLabels...)) {
		t.Errorf("theme filter offers %v %v", values, labels)
	}
	// A team's rows drill to its themes.
	for _, r := range rows(s.page("window=30d&by=team")) {
		if u, _ := url.Parse(r.drillLinks["theme"]); u == nil || u.Query().Get("by") != "theme" || u.Query().Get("team") != r.key {
			t.Errorf("team %s drills to its themes at %q", r.key, r.drillLinks["theme"])
		}
	}
}

// TestConsoleThemeAnswers: a theme's answers are exactly those whose
// comment mentions it (the payload's themes, on both engines), each shows
// its themes, and the words that matched are marked in the comment, which
// stays text: markup in a comment is shown, never run, marks or not.
func TestConsoleThemeAnswers(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			s := newConsoleServer(t, engine, nil)
			recorded := s.fill(3000)
			dict := consoleThemes(t)
			for _, th := range []string{"rudeness", "billing", "praise"} {
				span := s.cal.Span(window.Rolling24h, s.clock.Now())
				want := map[string]store.Response{}
				for _, r := range recorded {
					if span.Contains(r.At) && slices.Contains(dict.Names(r.Comment), th) {
						want[r.ID] = r
					}
				}
				code, body := s.get("/console?window=24h&theme=" + th)
				if code != 200 {
					t.Fatalf("%s: %d", th, code)
				}
				doc, _ := html.Parse(strings.NewReader(body))
				trs := findAll(doc, "data-testid", func(v string) bool { return strings.HasPrefix(v, "answer-c-") })
				if len(want) == 0 || len(want) > 50 || len(trs) != len(want) {
					t.Fatalf("%s: %d answers listed, want %d", th, len(trs), len(want))
				}
				for _, tr := range trs {
					id := strings.TrimPrefix(attr(tr, "data-testid"), "answer-")
					r, ok := want[id]
					if !ok {
						t.Errorf("%s: answer %s does not mention it", th, id)
						continue
					}
					var labels []string
					for _, n := range dict.Names(r.Comment) {
						labels = append(labels, dict.Label(n))
					}
					if got := text(byTestID(tr, "themes")[0]); got != strings.Join(labels, ", ") {
						t.Errorf("answer %s shows themes %q, want %q", id, got, strings.Join(labels, ", "))
					}
					cell := byTestID(tr, "comment")[0]
					if text(cell) != strings.Join(strings.Fields(r.Comment), " ") {
						t.Errorf("answer %s shows %q, want the comment %q as text", id, text(cell), r.Comment)
					}
					var marks []string
					for _, m := range findAll(cell, "title", func(string) bool { return true }) {
						if m.Data == "mark" {
							marks = append(marks, text(m))
						}
					}
					if w := wantMarks[r.Comment]; !slices.Equal(marks, w) {
						t.Errorf("answer %s (%q): marks %q, want %q", id, r.Comment, marks, w)
					}
					if len(findAll(cell, "data-x", func(string) bool { return true })) != 0 || hasElement(cell, "b") {
						t.Errorf("answer %s: the comment's markup became elements", id)
					}
				}
				if strings.Contains(body, "<b>rude</b>") {
					t.Errorf("%s: the page holds a comment's markup unescaped", th)
				}
			}
			// An answer's own page marks its evidence too.
			var id string
			for _, r := range recorded {
				if r.Comment == consoleComments[2] && s.cal.Span(window.Rolling24h, s.clock.Now()).Contains(r.At) {
					id = r.ID
				}
			}
			doc := s.page("window=24h&theme=rudeness&answer=" + url.QueryEscape(id))
			c := byTestID(doc, "answer-comment")
			if len(c) != 1 || hasElement(c[0], "b") || !hasElement(c[0], "mark") || text(byTestID(doc, "answer-themes")[0]) != "Rudeness" {
				t.Errorf("answer %s's page: %v", id, c)
			}
		})
	}
}

// wantMarks are the marked words of each of consoleComments: the
// evidence, at its place (a negated word is none).
var wantMarks = map[string][]string{
	consoleComments[0]: {"Waited", "on hold"},
	consoleComments[1]: {"charged twice", "called me back"},
	consoleComments[2]: {"rude", "hung up"},
	consoleComments[3]: {"Great", "thank"},
	consoleComments[4]: {"helpful"},
	consoleComments[5]: {"Still waiting", "refund"},
}

func hasElement(n *html.Node, tag string) bool {
	found := false
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			found = true
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return found
}

func fmtThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
