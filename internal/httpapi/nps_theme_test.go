package httpapi_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// themeGroup is a group of GET /api/v1/nps as these tests read it.
type themeGroup struct {
	Key        map[string]string `json:"key"`
	Labels     map[string]string `json:"labels"`
	Responses  int64             `json:"responses"`
	Promoters  int64             `json:"promoters"`
	Passives   int64             `json:"passives"`
	Detractors int64             `json:"detractors"`
}

// TestNPSByTheme: by=theme and theme= answer what brute force over the
// recorded responses counts, where a response counts once in each theme
// its comment has (so the groups overlap), and each group carries its
// theme's label.
func TestNPSByTheme(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	recorded := s.fill(3000)
	dict := consoleThemes(t)
	span := s.cal.Span(window.Rolling30d, s.clock.Now())
	// brute counts, over the 30 days, the responses keep passes, by the
	// key by makes of a response and one of its themes.
	brute := func(keep func(store.Response, string) bool, key func(store.Response, string) string) map[string]nps.Distribution {
		out := map[string]nps.Distribution{}
		for _, r := range recorded {
			if !span.Contains(r.At) {
				continue
			}
			for _, th := range dict.Names(r.Comment) {
				if keep(r, th) {
					d := out[key(r, th)]
					d[r.Score]++
					out[key(r, th)] = d
				}
			}
		}
		return out
	}
	ask := func(query string) []themeGroup {
		t.Helper()
		code, body := s.get("/api/v1/nps?window=30d&" + query)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", query, code, body)
		}
		var ans struct{ Groups []themeGroup }
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			t.Fatal(err)
		}
		return ans.Groups
	}
	check := func(query string, want map[string]nps.Distribution, key func(themeGroup) string) {
		t.Helper()
		got := ask(query)
		if len(got) != len(want) {
			t.Errorf("%s: %d groups, want %d", query, len(got), len(want))
		}
		for _, g := range got {
			w := want[key(g)]
			if g.Responses != w.Responses() || g.Promoters != w.Promoters() || g.Passives != w.Passives() || g.Detractors != w.Detractors() {
				t.Errorf("%s: group %v: n %d (%d/%d/%d), want %d (%d/%d/%d)", query, g.Key, g.Responses, g.Promoters, g.Passives, g.Detractors,
					w.Responses(), w.Promoters(), w.Passives(), w.Detractors())
			}
			if th, ok := g.Key["theme"]; ok && (g.Labels["theme"] != dict.Label(th) || len(g.Labels) != 1) {
				t.Errorf("%s: group %v has labels %v, want theme: %q", query, g.Key, g.Labels, dict.Label(th))
			}
			if _, ok := g.Key["theme"]; !ok && g.Labels != nil {
				t.Errorf("%s: group %v without a theme has labels %v", query, g.Key, g.Labels)
			}
		}
	}
	all := func(store.Response, string) bool { return true }
	byTheme := brute(all, func(_ store.Response, th string) string { return th })
	if len(byTheme) < 5 {
		t.Fatalf("the recorded comments hold only the themes %v", byTheme)
	}
	// The groups overlap: their responses add up to more than the
	// responses with a theme (a comment with two themes counts twice).
	var sum int64
	withTheme := 0
	for _, d := range byTheme {
		sum += d.Responses()
	}
	for _, r := range recorded {
		if span.Contains(r.At) && len(dict.Names(r.Comment)) > 0 {
			withTheme++
		}
	}
	if sum <= int64(withTheme) {
		t.Fatalf("the fixture has no comment with two themes: %d mentions of %d answers", sum, withTheme)
	}
	check("by=theme", byTheme, func(g themeGroup) string { return g.Key["theme"] })
	check("by=team,theme", brute(all, func(r store.Response, th string) string { return r.Dims.Team + "/" + th }),
		func(g themeGroup) string { return g.Key["team"] + "/" + g.Key["theme"] })
	// A theme filter: the billing mentions, by team.
	billing := func(_ store.Response, th string) bool { return th == "billing" }
	check("by=team&theme=billing", brute(billing, func(r store.Response, _ string) string { return r.Dims.Team }),
		func(g themeGroup) string { return g.Key["team"] })
	check("theme=billing&team=sales", brute(func(r store.Response, th string) bool { return th == "billing" && r.Dims.Team == "sales" },
		func(store.Response, string) string { return "" }), func(themeGroup) string { return "" })

	// The CSV carries the label after the key dimensions.
	code, body := s.get("/api/v1/nps?window=30d&by=theme&format=csv")
	if code != http.StatusOK {
		t.Fatalf("csv: %d %s", code, body)
	}
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[0][0] != "theme" || rows[0][1] != "theme_label" || rows[0][2] != "nps" {
		t.Errorf("csv header %v", rows[0])
	}
	for _, row := range rows[1:] {
		if row[1] != dict.Label(row[0]) {
			t.Errorf("csv row %v: label %q, want %q", row, row[1], dict.Label(row[0]))
		}
	}
}

// TestNPSThemeFilterRefused: a theme filter that names no theme of the
// dictionary is a 400 naming the parameter and listing the themes (the
// store would answer it with nothing, which reads as "nobody mentions
// it"); a server without themes refuses every theme filter.
func TestNPSThemeFilterRefused(t *testing.T) {
	s := newConsoleServer(t, "memory", nil)
	code, body := s.get("/api/v1/nps?window=1h&theme=bills")
	if code != http.StatusBadRequest {
		t.Fatalf("theme=bills: %d %s", code, body)
	}
	var p struct{ Detail string }
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Detail, `theme: "bills" is not a theme`) {
		t.Errorf("theme=bills: detail %q does not name the parameter", p.Detail)
	}
	for _, th := range consoleThemes(t).Themes() {
		if !strings.Contains(p.Detail, th.Name) {
			t.Errorf("theme=bills: detail %q does not list %s", p.Detail, th.Name)
		}
	}
	// The console refuses it the same way.
	if code, body := s.get("/console?window=1h&theme=bills"); code != http.StatusBadRequest || !strings.Contains(body, "is not a theme") {
		t.Errorf("console theme=bills: %d", code)
	}
	bare := newConsoleServer(t, "memory", func(d *httpapi.Deps) { d.Themes = nil })
	if code, body := bare.get("/api/v1/nps?window=1h&theme=billing"); code != http.StatusBadRequest || !strings.Contains(body, "no themes configured") {
		t.Errorf("without themes, theme=billing: %d %s", code, body)
	}
	if !slices.Contains(store.Schema{}.Queryable(), store.Theme) {
		t.Error("theme is not queryable")
	}
}
