package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/window"
)

// rangeServer runs the API over a memory engine whose clock and retention
// are the API's, with answers every few minutes over the last 40 days in
// New York, some from teams whose names a spreadsheet would run.
func rangeServer(t *testing.T, now time.Time, ret store.Retention) *httptest.Server {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cal := window.MustCalendar(loc)
	clock := func() time.Time { return now }
	opts := store.Options{Rollups: store.DefaultRollups(), Calendar: cal, Retention: ret, Now: clock}
	s := memstore.New(opts)
	t.Cleanup(func() { _ = s.Close() })
	teams := []string{"alpha", "@SUM(1)", "-1+1", "=HYPERLINK(1)", "+2", "\tx", "beta gamma"}
	var batch []store.Response
	for i, at := 0, now.Add(-40*24*time.Hour); at.Before(now); i, at = i+1, at.Add(7*time.Minute+13*time.Second) {
		batch = append(batch, store.Response{ID: "r" + strconv.Itoa(i), Score: (i * 7) % 11, At: at, AtGiven: true,
			Dims: store.Dims{Channel: []string{"phone", "chat"}[i%2], Team: teams[i%len(teams)]}})
	}
	if _, err := s.Record(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Querier: s, PublicBoards: true, MinSample: 30, Calendar: cal, Retention: ret,
		Rollups: store.DefaultRollups(), Now: clock,
	}))
	t.Cleanup(srv.Close)
	return srv
}

type rangeAnswer struct {
	Window     string
	Label      string
	From, To   time.Time
	CoarseEdge bool `json:"coarse_edge"`
	Asked      *struct{ From, To time.Time }
	Groups     []struct {
		Key        map[string]string
		Responses  int64
		Promoters  int64
		Passives   int64
		Detractors int64
		NPS        *float64
		CILow      *float64 `json:"ci_low"`
		CIHigh     *float64 `json:"ci_high"`
		LowSample  bool     `json:"low_sample"`
	}
}

func getJSON(t *testing.T, srv *httptest.Server, query string) (int, rangeAnswer, string) {
	t.Helper()
	res, err := http.Get(srv.URL + "/api/v1/nps?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var a rangeAnswer
	if res.StatusCode == http.StatusOK {
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
	}
	return res.StatusCode, a, string(body)
}

// TestNPSRanges: from/to answer with the span they cover and a label in
// the center's zone; an edge whose minutes or hours expired is widened and
// reported with what was asked; a named window whose minute edge expired
// says so too.
func TestNPSRanges(t *testing.T) {
	now := time.Date(2026, 12, 2, 19, 31, 20, 0, time.UTC) // 14:31 in New York
	srv := rangeServer(t, now, store.DefaultRetention())
	for _, c := range []struct {
		query, label, from, to string
		coarse                 bool
	}{
		{"from=2026-12-02T08:00:00-05:00&to=2026-12-02T14:30:00-05:00", "2 Dec 08:00 – 14:30", "2026-12-02T13:00:00Z", "2026-12-02T19:30:00Z", false},
		{"from=2026-12-02T13:13:00Z", "2 Dec 08:13 – 14:32", "2026-12-02T13:13:00Z", "2026-12-02T19:32:00Z", false},
		{"from=2026-11-29T08:13:00-05:00&to=2026-12-02T14:30:00-05:00", "29 Nov 08:13 – 2 Dec 14:30 (widened to 29 Nov 08:00 – 2 Dec 14:30: finer buckets are no longer kept)", "2026-11-29T13:00:00Z", "2026-12-02T19:30:00Z", true},
		{"from=2026-10-01T08:13:00-04:00&to=2026-10-01T14:30:00-04:00", "1 Oct 08:13 – 14:30 (widened to 1 Oct 00:00 – 24:00: finer buckets are no longer kept)", "2026-10-01T04:00:00Z", "2026-10-02T04:00:00Z", true},
	} {
		status, a, body := getJSON(t, srv, c.query)
		if status != http.StatusOK {
			t.Fatalf("%s: %d %s", c.query, status, body)
		}
		if a.Window != "" || a.From.Format(time.RFC3339) != c.from || a.To.Format(time.RFC3339) != c.to || a.CoarseEdge != c.coarse {
			t.Errorf("%s: got %s..%s coarse %v window %q, want %s..%s coarse %v", c.query, a.From, a.To, a.CoarseEdge, a.Window, c.from, c.to, c.coarse)
		}
		if c.coarse != (a.Asked != nil) {
			t.Errorf("%s: asked %+v with coarse %v", c.query, a.Asked, c.coarse)
		}
		if a.Label != c.label {
			t.Errorf("%s: label %q, want %q", c.query, a.Label, c.label)
		}
	}
	// Labels of ranges are of the covered span once widened; check them
	// separately so a failure names the label.
	for q, want := range map[string]string{
		"from=2026-12-02T08:00:00-05:00&to=2026-12-02T14:30:00-05:00": "2 Dec 08:00 – 14:30",
		"from=2026-11-30T23:00:00-05:00&to=2026-12-01T01:00:00-05:00": "30 Nov 23:00 – 1 Dec 01:00",
		"from=2025-12-31T10:00:00-05:00&to=2026-01-01T00:00:00-05:00": "31 Dec 2025 10:00 – 24:00",
	} {
		if status, a, body := getJSON(t, srv, q); status != http.StatusOK || !strings.HasPrefix(a.Label, want) {
			t.Errorf("%s: %d label %q, want %q (%s)", q, status, a.Label, want, body)
		}
	}
	// The asked bounds come back as asked.
	_, a, _ := getJSON(t, srv, "from=2026-10-01T08:13:00-04:00&to=2026-10-01T14:30:00-04:00")
	if a.Asked == nil || !a.Asked.From.Equal(time.Date(2026, 10, 1, 12, 13, 0, 0, time.UTC)) || !a.Asked.To.Equal(time.Date(2026, 10, 1, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("asked = %+v", a.Asked)
	}
	// A range counts what brute force over its covered span counts: the
	// whole day of 1 Oct, every 7m13s since 40 days back.
	if got, want := a.Groups[0].Responses, countEvery(now.Add(-40*24*time.Hour), 7*time.Minute+13*time.Second, a.From, a.To); got != want {
		t.Errorf("1 Oct counts %d responses, want %d", got, want)
	}
}

// countEvery counts the instants start + i·step in [from, to).
func countEvery(start time.Time, step time.Duration, from, to time.Time) int64 {
	var n int64
	for at := start; at.Before(to); at = at.Add(step) {
		if !at.Before(from) {
			n++
		}
	}
	return n
}

// TestNPSWindowCoarseEdge: with minutes kept only 3h, the 24h window's
// start has no minutes left; it widens to its local hour and says so.
func TestNPSWindowCoarseEdge(t *testing.T) {
	now := time.Date(2026, 12, 2, 19, 31, 20, 0, time.UTC)
	srv := rangeServer(t, now, store.Retention{Minute: 3 * time.Hour, Hour: 32 * 24 * time.Hour, Day: 400 * 24 * time.Hour, Dedupe: 400 * 24 * time.Hour})
	_, a, body := getJSON(t, srv, "window=24h")
	if !a.CoarseEdge || a.Asked == nil || a.From.Format(time.RFC3339) != "2026-12-01T19:00:00Z" || a.Asked.From.Format(time.RFC3339) != "2026-12-01T19:32:00Z" {
		t.Fatalf("24h with minutes kept 3h: %s", body)
	}
	if !strings.HasPrefix(a.Label, "rolling 24 h (widened to 1 Dec 14:00 – 2 Dec 14:32") {
		t.Errorf("label %q", a.Label)
	}
	if _, a, body = getJSON(t, srv, "window=1h"); a.CoarseEdge || strings.Contains(body, "asked") {
		t.Errorf("1h is not coarse: %s", body)
	}
}

// TestNPSRangeErrors: every bad range is a 400 that names its parameter
// and what is wrong.
func TestNPSRangeErrors(t *testing.T) {
	now := time.Date(2026, 12, 2, 19, 31, 20, 0, time.UTC)
	srv := rangeServer(t, now, store.DefaultRetention())
	for q, want := range map[string]string{
		"from=yesterday":                                     "from: \"yesterday\" is not an RFC 3339 time",
		"from=2026-12-02T08:00:30Z":                          "from: 2026-12-02T08:00:30Z is not on a whole minute",
		"from=2026-12-02T08:00:00.5Z":                        "from: 2026-12-02T08:00:00.5Z is not on a whole minute",
		"from=2026-12-02T08:00:00Z&to=2026-12-02T08:00:00Z":  "to: 2026-12-02T08:00:00Z is not after from",
		"from=2026-12-02T09:00:00Z&to=2026-12-02T08:00:00Z":  "to: 2026-12-02T08:00:00Z is not after from",
		"to=2026-12-02T08:00:00Z":                            "from: missing",
		"from=2026-12-02T08:00:00Z&to=2026-12-02":            "to: \"2026-12-02\" is not an RFC 3339 time",
		"window=1h&from=2026-12-02T08:00:00Z":                "window: cannot be combined with from/to",
		"from=2025-10-01T00:00:00Z":                          "from: 2025-10-01T00:00:00Z is older than the day buckets' retention (400d)",
		"from=2026-12-02T08:00:00Z&to=2026-12-05T00:00:00Z":  "to: 2026-12-05T00:00:00Z is more than 24h in the future",
		"window=1h&format=xlsx":                              "format: \"xlsx\" is not a format (want json or csv)",
		"from=2026-12-02T08:00:00Z&frm=2026-12-02T08:00:00Z": "unknown query parameter \"frm\"",
	} {
		status, _, body := getJSON(t, srv, q)
		var p struct{ Detail string }
		_ = json.Unmarshal([]byte(body), &p)
		if status != http.StatusBadRequest || !strings.Contains(p.Detail, want) {
			t.Errorf("%s: %d %q, want 400 with %q", q, status, p.Detail, want)
		}
	}
}

// TestNPSCSVEqualsJSON: the CSV answer holds the JSON's groups, figure for
// figure, for windows and ranges, by one and two dimensions; its text cells
// cannot start a formula, while negative scores stay numbers.
func TestNPSCSVEqualsJSON(t *testing.T) {
	now := time.Date(2026, 12, 2, 19, 31, 20, 0, time.UTC)
	srv := rangeServer(t, now, store.DefaultRetention())
	for _, q := range []string{
		"window=24h&by=team",
		"window=30d&by=team,channel",
		"from=2026-11-29T08:13:00-05:00&to=2026-12-02T14:30:00-05:00&by=channel,team&channel=chat",
		"window=1h",
	} {
		_, js, body := getJSON(t, srv, q)
		for _, via := range []string{"format", "accept"} {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/nps?"+q, nil)
			if via == "format" {
				req.URL.RawQuery += "&format=csv"
			} else {
				req.Header.Set("Accept", "text/html;q=0.9, text/csv")
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(res.Body).ReadAll()
			res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("%s (%s): %d %v", q, via, res.StatusCode, err)
			}
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
				t.Errorf("%s: Content-Type %q", q, ct)
			}
			if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, `attachment; filename="pulseboard-nps-`) || strings.ContainsAny(cd[len(`attachment; filename="`):len(cd)-1], `"/\ ;`) {
				t.Errorf("%s: Content-Disposition %q", q, cd)
			}
			by := []string{}
			if v := mustQuery(t, q).Get("by"); v != "" {
				by = strings.Split(v, ",")
			}
			wantHeader := append(append([]string{}, by...), "nps", "ci_low", "ci_high", "responses", "promoters", "passives", "detractors",
				"promoter_share", "passive_share", "detractor_share", "low_sample", "from", "to",
				// CSAT and the response rate follow (offers_test.go checks their cells).
				"csat", "csat_low", "csat_high", "csat_answers", "csat_satisfied",
				"response_rate", "response_rate_low", "response_rate_high", "offered", "answered")
			if strings.Join(rows[0], "|") != strings.Join(wantHeader, "|") {
				t.Fatalf("%s: header %v", q, rows[0])
			}
			if len(rows)-1 != len(js.Groups) {
				t.Fatalf("%s: %d CSV rows, %d JSON groups (%s)", q, len(rows)-1, len(js.Groups), body)
			}
			num := func(v *float64) string {
				if v == nil {
					return ""
				}
				b, _ := json.Marshal(*v) // the JSON's own printing of it
				return string(b)
			}
			share := func(n, of int64) string {
				if of == 0 {
					return ""
				}
				return strconv.FormatFloat(roundHalfAway(float64(n)*100/float64(of)), 'f', -1, 64)
			}
			for i, g := range js.Groups {
				row := rows[i+1]
				for j, d := range by {
					if want := safeCell(g.Key[d]); row[j] != want {
						t.Errorf("%s: row %d %s = %q, want %q", q, i, d, row[j], want)
					}
				}
				want := []string{num(g.NPS), num(g.CILow), num(g.CIHigh), strconv.FormatInt(g.Responses, 10),
					strconv.FormatInt(g.Promoters, 10), strconv.FormatInt(g.Passives, 10), strconv.FormatInt(g.Detractors, 10),
					share(g.Promoters, g.Responses), share(g.Passives, g.Responses), share(g.Detractors, g.Responses),
					strconv.FormatBool(g.LowSample), js.From.Format(time.RFC3339), js.To.Format(time.RFC3339),
					"", "", "", "0", "0", "", "", "", "0", "0"} // no CSAT answers, no offers here
				if got := strings.Join(row[len(by):], "|"); got != strings.Join(want, "|") {
					t.Errorf("%s: row %d = %s, want %s", q, i, got, strings.Join(want, "|"))
				}
			}
		}
	}
}

// TestNPSCSVNoFormula: no text cell of the export starts a formula, and
// the hostile team names are all there, escaped.
func TestNPSCSVNoFormula(t *testing.T) {
	now := time.Date(2026, 12, 2, 19, 31, 20, 0, time.UTC)
	srv := rangeServer(t, now, store.DefaultRetention())
	res, err := http.Get(srv.URL + "/api/v1/nps?window=24h&by=team&format=csv")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	negative := false
	for _, row := range rows[1:] {
		seen[row[0]] = true
		if strings.ContainsAny(row[0][:1], "=+-@\t\r") {
			t.Errorf("team cell %q can start a formula", row[0])
		}
		if strings.HasPrefix(row[1], "-") {
			if _, err := strconv.ParseFloat(row[1], 64); err != nil {
				t.Errorf("negative score cell %q is not a number", row[1])
			}
			negative = true
		}
	}
	for _, want := range []string{"'@SUM(1)", "'-1+1", "'=HYPERLINK(1)", "'+2", "'\tx", "alpha", "beta gamma"} {
		if !seen[want] {
			t.Errorf("no team cell %q in %v", want, seen)
		}
	}
	if !negative {
		t.Errorf("no negative score in the export: the test does not show numbers stay numbers")
	}
}

func safeCell(s string) string {
	if s != "" && strings.ContainsAny(s[:1], "=+-@\t\r") {
		return "'" + s
	}
	return s
}

func mustQuery(t *testing.T, q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// roundHalfAway rounds to two decimals, halves away from zero (nps.Round).
func roundHalfAway(x float64) float64 {
	if x < 0 {
		return -roundHalfAway(-x)
	}
	return float64(int64(x*100+0.5)) / 100
}

// TestNPSAcceptCSV: Accept picks CSV only when it names text/csv with a
// non-zero quality no lower than JSON's; format= wins over Accept.
func TestNPSAcceptCSV(t *testing.T) {
	now := time.Date(2026, 12, 2, 19, 31, 20, 0, time.UTC)
	srv := rangeServer(t, now, store.DefaultRetention())
	for _, c := range []struct{ query, accept, want string }{
		{"window=1h", "text/csv", "text/csv"},
		{"window=1h", "application/json, text/csv;q=0.5", "application/json"},
		{"window=1h", "text/csv, application/json;q=0.9", "text/csv"},
		{"window=1h", "text/csv;q=0", "application/json"},
		{"window=1h", "text/html,application/xhtml+xml,*/*;q=0.8", "application/json"},
		{"window=1h&format=json", "text/csv", "application/json"},
		{"window=1h&format=csv", "application/json", "text/csv"},
	} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/nps?"+c.query, nil)
		req.Header.Set("Accept", c.accept)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, c.want) {
			t.Errorf("%s with Accept %q: %d %s, want %s", c.query, c.accept, res.StatusCode, ct, c.want)
		}
	}
}
