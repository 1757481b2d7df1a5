package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
)

const dashboardFile = "../../config/deploy/grafana/pulseboard.json"

// promqlToken is one token of a PromQL expression once strings, label
// matchers, ranges and groupings are gone: a number, a Grafana variable,
// or an identifier (with the "(" that makes it a function call).
var (
	promqlString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promqlRange    = regexp.MustCompile(`\[[^\]]*\]`)
	// label_values(selector, label), a Grafana template query, ends with
	// a label name.
	promqlLabelValues = regexp.MustCompile(`\blabel_values\((.*),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)`)
	promqlOffset      = regexp.MustCompile(`\boffset\s+-?[0-9A-Za-z_$]+`)
	promqlGrouping    = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlToken       = regexp.MustCompile(`\$\{?[A-Za-z0-9_]+\}?|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
)

// promqlKeywords are identifiers that are not metric names: aggregation
// operators, set and comparison modifiers, literals.
var promqlKeywords = []string{"sum", "min", "max", "avg", "count", "group", "stddev", "stdvar", "topk", "bottomk",
	"quantile", "count_values", "limitk", "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right",
	"bool", "and", "or", "unless", "offset", "atan2", "inf", "nan", "le"}

// promqlNames returns the metric names an expression selects: identifiers
// standing as series selectors, not functions, keywords, label names or
// Grafana variables. It is no PromQL parser, but enough for a dashboard's
// expressions, and TestPromQLNames pins what it sees.
func promqlNames(expr string) []string {
	s := promqlString.ReplaceAllString(expr, `""`)
	s = promqlLabelValues.ReplaceAllString(s, "label_values($1)")
	s = promqlMatchers.ReplaceAllString(s, "{}")
	s = promqlRange.ReplaceAllString(s, "[]")
	s = promqlOffset.ReplaceAllString(s, " ")
	s = promqlGrouping.ReplaceAllString(s, " ")
	var out []string
	for _, tok := range promqlToken.FindAllString(s, -1) {
		switch {
		case tok[0] == '$', tok[0] >= '0' && tok[0] <= '9', strings.HasSuffix(tok, "("),
			slices.Contains(promqlKeywords, strings.ToLower(tok)):
			continue
		}
		if !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

func TestPromQLNames(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		`histogram_quantile(0.99, sum by (le) (rate(pulseboard_broadcast_seconds_bucket[$__rate_interval])))`:          "pulseboard_broadcast_seconds_bucket",
		`100 * (sum(max by (team) (a_total{by="team",window="$window"})) - sum(b)) / sum without (x, y) (c{d=~"e|f"})`: "a_total b c",
		`sum(rate(x{code="503"}[5m])) or vector(0)`:                                                                    "x",
		`time() - max by (by, window) (last_ts)`:                                                                       "last_ts",
		`sort_desc(max by (team) (d{by="team"})) > bool 1e3 unless on (team) group_left e offset 5m`:                   "d e",
		`label_values(pulseboard_nps_score{by="team"}, window)`:                                                        "pulseboard_nps_score",
		`rate(y[${__interval}])`: "y",
	} {
		if got := strings.Join(promqlNames(expr), " "); got != want {
			t.Errorf("%s\n got %q\nwant %q", expr, got, want)
		}
	}
}

// dashboard is the part of a Grafana dashboard the tests read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Query      json.RawMessage `json:"query"`
			Datasource *datasource     `json:"datasource"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int                      `json:"id"`
	Type       string                   `json:"type"`
	Title      string                   `json:"title"`
	Datasource *datasource              `json:"datasource"`
	GridPos    struct{ H, W, X, Y int } `json:"gridPos"`
	Targets    []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"`
}

// loadDashboard reads the shipped dashboard and checks its structure: a
// schema version, a title and uid, panels with unique ids, a place on the
// grid, a title, the Prometheus data source variable and targets with
// expressions. It returns every PromQL expression, template queries
// included.
func loadDashboard(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.SchemaVersion < 30 || d.Title == "" || d.UID == "" {
		t.Errorf("schemaVersion %d, title %q, uid %q", d.SchemaVersion, d.Title, d.UID)
	}
	var exprs []string
	hasDS := false
	for _, v := range d.Templating.List {
		switch v.Type {
		case "datasource":
			hasDS = hasDS || v.Name == "ds" && string(v.Query) == `"prometheus"`
		case "query":
			var q struct{ Query string }
			if err := json.Unmarshal(v.Query, &q); err != nil || q.Query == "" || v.Datasource == nil || v.Datasource.UID != "${ds}" {
				t.Errorf("variable %s: query %s, datasource %+v", v.Name, v.Query, v.Datasource)
			}
			exprs = append(exprs, q.Query)
		}
	}
	if !hasDS {
		t.Error(`no data source variable "ds" of type prometheus`)
	}
	ids := map[int]bool{}
	var all []panel
	for _, p := range d.Panels {
		all = append(all, p)
		all = append(all, p.Panels...)
	}
	graphs := 0
	for _, p := range all {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" || p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %d: title %q, grid %+v", p.ID, p.Title, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		graphs++
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${ds}" {
			t.Errorf("panel %q: datasource %+v", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no targets", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if tg.Expr == "" || tg.RefID == "" || refs[tg.RefID] || tg.Datasource == nil || tg.Datasource.UID != "${ds}" {
				t.Errorf("panel %q: target %+v", p.Title, tg)
			}
			refs[tg.RefID] = true
			exprs = append(exprs, tg.Expr)
		}
	}
	if graphs < 10 {
		t.Errorf("%d panels with queries", graphs)
	}
	return exprs
}

// sampleNames lists the sample names of a Prometheus text exposition: a
// histogram's are its _bucket, _sum and _count series, as a query names
// them.
func sampleNames(exposition string) map[string]bool {
	out := map[string]bool{}
	for _, line := range strings.Split(exposition, "\n") {
		if line == "" || line[0] == '#' {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			out[line[:i]] = true
		}
	}
	return out
}

const dashViewerToken = "dashboard-viewer-token-0123"

// TestGrafanaDashboard checks the shipped dashboard against the real
// program: every metric its queries name is in a scrape of /metrics from
// servers on a real Redis with metrics.nps configured, answers ingested, a
// screen connected and, at the end, Redis killed (the 503s and Redis
// errors a dashboard watches for only exist once they happened). On the
// way it checks the NPS series' numbers and who may see them. Grafana
// itself does not run here: the dashboard's structure is checked, not
// rendered.
func TestGrafanaDashboard(t *testing.T) {
	exprs := loadDashboard(t)
	names := map[string]bool{}
	for _, e := range exprs {
		for _, n := range promqlNames(e) {
			names[n] = true
		}
	}
	if len(names) < 15 || !names["pulseboard_nps_score"] || !names["pulseboard_broadcast_seconds_bucket"] {
		t.Fatalf("the dashboard names only %v", names)
	}

	srv := redistest.Private(t)
	// Answers recorded through one node; a second node with metrics.nps
	// reads them at its start, as any node reads the shared store.
	_, writer := startNow(t, "--redis-url", srv.URL)
	answers := []struct {
		team, channel, journey string
		score                  int
	}{
		{"billing", "phone", "cancel", 10}, {"billing", "phone", "cancel", 9}, {"billing", "chat", "cancel", 8},
		{"billing", "chat", "onboarding", 3}, {"sales", "phone", "onboarding", 0}, {"sales", "email", "onboarding", 6},
		{"sales", "email", "cancel", 10},
	}
	var body strings.Builder
	for i, a := range answers {
		fmt.Fprintf(&body, `{"id":"g%d","score":%d,"team":%q,"channel":%q,"journey":%q}`+"\n", i, a.score, a.team, a.channel, a.journey)
	}
	if r := writer.post(body.String(), "application/x-ndjson"); r.status != 202 {
		t.Fatalf("ingest: %d %s", r.status, r.raw)
	}

	m, c := startNow(t, "--redis-url", srv.URL, "--redis-timeout", "1s", "--viewer-tokens", "dana:"+dashViewerToken,
		"--metrics-nps", "[{by: [team], window: 1h}, {by: [journey, channel], window: 24h}]")
	watch(t, m.Addr(), "floor")
	viewer := func() string {
		t.Helper()
		r := c.do("GET", "/metrics", "", dashViewerToken, nil)
		if r.status != 200 {
			t.Fatalf("/metrics as a viewer: %d %s", r.status, r.raw)
		}
		return r.raw
	}
	want := []string{
		`pulseboard_nps_score{by="team",team="billing",window="1h"} 25`,
		`pulseboard_nps_responses{by="team",team="billing",window="1h"} 4`,
		`pulseboard_nps_promoters{by="team",team="billing",window="1h"} 2`,
		`pulseboard_nps_passives{by="team",team="billing",window="1h"} 1`,
		`pulseboard_nps_detractors{by="team",team="billing",window="1h"} 1`,
		`pulseboard_nps_score{by="team",team="sales",window="1h"} -33.333333333333336`,
		`pulseboard_nps_detractors{by="team",team="sales",window="1h"} 2`,
		`pulseboard_nps_score{by="channel+journey",channel="email",journey="onboarding",window="24h"} -100`,
		`pulseboard_nps_responses{by="channel+journey",channel="phone",journey="cancel",window="24h"} 2`,
		`pulseboard_nps_stale{by="team",window="1h"} 0`,
		`pulseboard_nps_series_dropped_total{by="channel+journey",window="24h"} 0`,
	}
	var scrape string
	deadline := time.Now().Add(10 * time.Second)
	for {
		scrape = viewer()
		missing := slices.DeleteFunc(slices.Clone(want), func(w string) bool { return strings.Contains(scrape, w+"\n") })
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks %q:\n%s", missing, grep(scrape, "pulseboard_nps_"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := strings.Count(scrape, "\npulseboard_nps_responses{"); got != 2+6 {
		t.Errorf("%d response series, want 2 teams and 6 channel+journey groups:\n%s", got, grep(scrape, "pulseboard_nps_responses"))
	}

	// Who sees them: not anyone (the scores name teams), and a wrong token
	// is refused rather than served the open part.
	if r := c.get("/metrics"); r.status != 200 || strings.Contains(r.raw, "pulseboard_nps_") || !strings.Contains(r.raw, "pulseboard_ws_clients") {
		t.Errorf("anonymous /metrics: %d, NPS series shown: %v", r.status, strings.Contains(r.raw, "pulseboard_nps_"))
	}
	for _, bad := range []string{"not-a-token-at-all-0000", token} {
		if r := c.do("GET", "/metrics", "", bad, nil); r.status != 401 || strings.Contains(r.raw, "pulseboard_") {
			t.Errorf("/metrics with the bearer %q: %d %s", bad, r.status, r.raw)
		}
	}

	// Redis goes away: ingest answers 503 and Redis errors are counted.
	srv.Kill()
	if r := c.post(`{"id":"during","score":5,"channel":"sms"}`, "application/json"); r.status != 503 {
		t.Fatalf("ingest with Redis down: %d %s", r.status, r.raw)
	}
	outage := viewer()
	for _, w := range []string{`pulseboard_ingest_requests_total{code="503"} 1`, "pulseboard_redis_errors_total{"} {
		if !strings.Contains(outage, w) {
			t.Errorf("/metrics during the outage lacks %q", w)
		}
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}

	seen := sampleNames(scrape)
	for n := range sampleNames(outage) {
		seen[n] = true
	}
	var missing []string
	for n := range names {
		if !seen[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard queries metrics no scrape has: %v", missing)
	}
}

// grep keeps the lines of s that contain sub.
func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
