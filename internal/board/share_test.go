package board

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/proportion"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

// surveyFixture is offers and answers as recorded, with what a brute force
// needs: each offer once (a resent one is a duplicate), each answer's
// latest version.
type surveyFixture struct {
	recorded []store.Response
	offers   map[string]store.Response
	answers  map[string]store.Response
}

// randomSurveys makes offers on three channels and three teams over the
// last 110 minutes, some sent twice; answers to some of them, a minute
// later or (late answers) within the last five minutes, with a score, a
// CSAT or both, some corrected with another CSAT; and unsolicited answers.
func randomSurveys(seed uint64) surveyFixture {
	rng := rand.New(rand.NewPCG(seed, 3))
	f := surveyFixture{offers: map[string]store.Response{}, answers: map[string]store.Response{}}
	channels, teams := []string{"phone", "chat", "email"}, []string{"alpha", "bravo", "charlie"}
	rate := map[string]int{"phone": 40, "chat": 25, "email": 10}
	for i := range 2000 {
		ch := channels[rng.IntN(len(channels))]
		o := store.Response{Kind: store.KindOffer, ID: fmt.Sprintf("o%d", i), Version: 1, AtGiven: true,
			At:   storetest.Start.Add(-time.Duration(1+rng.IntN(110*60)) * time.Second),
			Dims: store.Dims{Channel: ch, Team: teams[rng.IntN(len(teams))]}}
		f.recorded = append(f.recorded, o)
		f.offers[o.ID] = o
		if rng.IntN(10) == 0 {
			f.recorded = append(f.recorded, o) // resent: a duplicate
		}
		if rng.IntN(100) >= rate[ch] {
			continue
		}
		a := store.Response{ID: fmt.Sprintf("a%d", i), OfferID: o.ID, Version: 1, AtGiven: true, At: o.At.Add(time.Minute),
			Score: store.NoScore, Dims: o.Dims}
		if rng.IntN(6) == 0 {
			a.At = storetest.Start.Add(-time.Duration(rng.IntN(300)) * time.Second) // late
		}
		switch rng.IntN(3) {
		case 0:
			a.Score = rng.IntN(11)
		case 1:
			a.CSAT = 1 + rng.IntN(5)
		default:
			a.Score, a.CSAT = rng.IntN(11), 1+rng.IntN(5)
		}
		f.recorded = append(f.recorded, a)
		f.answers[a.ID] = a
		if a.CSAT != 0 && rng.IntN(8) == 0 {
			a.Version, a.CSAT = 2, 1+rng.IntN(5) // corrected
			f.recorded = append(f.recorded, a)
			f.answers[a.ID] = a
		}
	}
	for i := range 60 {
		a := store.Response{ID: fmt.Sprintf("u%d", i), Version: 1, AtGiven: true, Score: store.NoScore, CSAT: 1 + rng.IntN(5),
			At:   storetest.Start.Add(-time.Duration(1+rng.IntN(110*60)) * time.Second),
			Dims: store.Dims{Channel: channels[rng.IntN(len(channels))], Team: teams[rng.IntN(len(teams))]}}
		f.recorded = append(f.recorded, a)
		f.answers[a.ID] = a
	}
	return f
}

// in reports whether dims match filters and a breakdown's value.
func in(d store.Dims, filters map[store.Dimension]string, by store.Dimension, value string) bool {
	for k, v := range filters {
		if d.Get(k) != v {
			return false
		}
	}
	return by == "" || d.Get(by) == value
}

// count is the brute force: offers made in span and how many were
// answered (at any time), and CSAT answers given in span and how many were
// 4 or 5, the latest version of each.
func (f surveyFixture) count(span window.Span, filters map[store.Dimension]string, by store.Dimension, value string) (offered, answered int64, d csat.Distribution) {
	named := map[string]bool{}
	for _, a := range f.answers {
		named[a.OfferID] = true
		if a.CSAT != 0 && span.Contains(a.At) && in(a.Dims, filters, by, value) {
			d[a.CSAT-1]++
		}
	}
	for _, o := range f.offers {
		if span.Contains(o.At) && in(o.Dims, filters, by, value) {
			offered++
			if named[o.ID] {
				answered++
			}
		}
	}
	return
}

// checkShare compares a figure with part of whole counted by hand.
func checkShare(t *testing.T, what string, got ShareFigure, part, whole, minSample int64) {
	t.Helper()
	if got.Part != part || got.Whole != whole {
		t.Errorf("%s: %d of %d, want %d of %d", what, got.Part, got.Whole, part, whole)
		return
	}
	if whole == 0 {
		if got.Value != nil || got.Percent != "—" || got.Interval != "" {
			t.Errorf("%s: of nothing: %+v", what, got)
		}
		return
	}
	lo, hi := proportion.Wilson(part, whole, proportion.Z95)
	v := 100 * float64(part) / float64(whole)
	if got.Value == nil || math.Abs(*got.Value-v) > .005 || math.Abs(*got.Low-100*lo) > .005 || math.Abs(*got.High-100*hi) > .005 {
		t.Errorf("%s: %v (%v–%v), want %.4f (%.4f–%.4f)", what, deref(got.Value), deref(got.Low), deref(got.High), v, 100*lo, 100*hi)
	}
	if !(*got.Low <= *got.Value && *got.Value <= *got.High) {
		t.Errorf("%s: the interval %v–%v does not hold %v", what, *got.Low, *got.High, *got.Value)
	}
	if got.Percent != FormatPercent(*got.Value) || got.LowSample != (whole < minSample) {
		t.Errorf("%s: %q low sample %v", what, got.Percent, got.LowSample)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestShareTilesAgainstBruteForce records random offers and answers
// (resent offers, corrected CSAT, late answers, unsolicited ones) and
// checks response_rate and csat tiles, with and without by and filters,
// and the headlines' rate lines, against counts over the raw records: an
// offer counts in the window it was made in, however late its answer; a
// CSAT answer in its own.
func TestShareTilesAgainstBruteForce(t *testing.T) {
	f := randomSurveys(5)
	agg, comp, now := fixture(t, f.recorded)
	comp.MinSample = 30
	bravo := map[store.Dimension]string{store.Team: "bravo"}
	zulu := map[store.Dimension]string{store.Team: "zulu"}
	b := Board{Name: "b", Tiles: []Tile{
		{ID: "rate", View: ResponseRate, Window: window.Rolling1h},
		{ID: "rate-ch", View: ResponseRate, Window: window.Today, By: store.Channel, Filters: bravo},
		{ID: "rate-15", View: ResponseRate, Window: window.Rolling15m, By: store.Team},
		{ID: "csat", View: CSAT, Window: window.Rolling1h},
		{ID: "csat-ch", View: CSAT, Window: window.Rolling2h, By: store.Channel},
		{ID: "csat-bravo", View: CSAT, Window: window.Today, Filters: bravo},
		{ID: "head", View: Headline, Window: window.Rolling1h, Thresholds: DefaultThresholds},
		{ID: "head-bravo", View: Headline, Window: window.Today, Filters: bravo, Thresholds: DefaultThresholds},
		{ID: "head-zulu", View: Headline, Window: window.Today, Filters: zulu, Thresholds: DefaultThresholds},
		{ID: "rate-zulu", View: ResponseRate, Window: window.Today, Filters: zulu},
		{ID: "csat-zulu", View: CSAT, Window: window.Today, By: store.Channel, Filters: zulu},
	}}
	v, err := comp.Compute(b, agg, now)
	if err != nil {
		t.Fatal(err)
	}
	values := map[store.Dimension][]string{store.Channel: {"phone", "chat", "email"}, store.Team: {"alpha", "bravo", "charlie"}}
	late := 0
	for _, a := range f.answers {
		if o, ok := f.offers[a.OfferID]; ok && a.At.Sub(o.At) > time.Hour {
			late++
		}
	}
	if late < 20 {
		t.Fatalf("%d late answers: the fixture should have more", late)
	}
	for _, tile := range b.Tiles {
		span := comp.Calendar.Span(tile.Window, now)
		tv := tileByID(t, v, tile.ID)
		offered, answered, d := f.count(span, tile.Filters, "", "")
		switch tile.View {
		case Headline:
			if offered == 0 {
				if tv.Rate != nil {
					t.Errorf("%s: a rate line without offers: %+v", tile.ID, tv.Rate)
				}
				continue
			}
			if tv.Rate == nil || len(tv.Rate.Rows) > 0 {
				t.Fatalf("%s: %d offers, rate %+v", tile.ID, offered, tv.Rate)
			}
			checkShare(t, tile.ID, tv.Rate.ShareFigure, answered, offered, 30)
		case ResponseRate:
			if tv.Rate == nil {
				t.Fatalf("%s: no rate", tile.ID)
			}
			checkShare(t, tile.ID, tv.Rate.ShareFigure, answered, offered, 30)
			if tv.Empty != (offered == 0) {
				t.Errorf("%s: empty %v with %d offers", tile.ID, tv.Empty, offered)
			}
			var want []string
			for _, val := range values[tile.By] {
				if o, a, _ := f.count(span, tile.Filters, tile.By, val); o > 0 {
					want = append(want, val)
					i := slices.IndexFunc(tv.Rate.Rows, func(r ShareFigure) bool { return r.Label == val })
					if i < 0 {
						t.Errorf("%s: no row %s", tile.ID, val)
						continue
					}
					checkShare(t, tile.ID+" "+val, tv.Rate.Rows[i], a, o, 30)
				}
			}
			checkRows(t, tile.ID, tv.Rate.Rows, want)
		case CSAT:
			if tv.CSAT == nil {
				t.Fatalf("%s: no csat", tile.ID)
			}
			checkShare(t, tile.ID, tv.CSAT.ShareFigure, d.Satisfied(), d.Answers(), 30)
			if tv.CSAT.Counts != d || tv.Empty != (d.Answers() == 0) {
				t.Errorf("%s: counts %v (empty %v), want %v", tile.ID, tv.CSAT.Counts, tv.Empty, d)
			}
			sum := 0.0
			for i, s := range tv.CSAT.Shares {
				sum += s
				if n := d.Answers(); n > 0 && math.Abs(s-100*float64(d[i])/float64(n)) > .005 {
					t.Errorf("%s: share of %d is %v, want %v", tile.ID, i+1, s, 100*float64(d[i])/float64(n))
				}
			}
			if d.Answers() > 0 && math.Abs(sum-100) > .05 {
				t.Errorf("%s: shares add up to %v", tile.ID, sum)
			}
			var want []string
			for _, val := range values[tile.By] {
				if _, _, dv := f.count(span, tile.Filters, tile.By, val); dv.Answers() > 0 {
					want = append(want, val)
					i := slices.IndexFunc(tv.CSAT.Rows, func(r ShareFigure) bool { return r.Label == val })
					if i < 0 {
						t.Errorf("%s: no row %s", tile.ID, val)
						continue
					}
					checkShare(t, tile.ID+" "+val, tv.CSAT.Rows[i], dv.Satisfied(), dv.Answers(), 30)
				}
			}
			checkRows(t, tile.ID, tv.CSAT.Rows, want)
		}
	}
	// The fixture is not trivial: each kind of tile saw offers, answers
	// and a tile without.
	if r := tileByID(t, v, "rate-ch").Rate; len(r.Rows) != 3 || r.Whole < 100 {
		t.Errorf("rate-ch: %+v", r)
	}
	if c := tileByID(t, v, "csat-ch").CSAT; len(c.Rows) != 3 || c.Whole < 100 {
		t.Errorf("csat-ch: %+v", c)
	}
	for _, id := range []string{"rate-zulu", "csat-zulu"} {
		if !tileByID(t, v, id).Empty {
			t.Errorf("%s: not empty", id)
		}
	}
}

// checkRows: the rows are the groups with a whole, the largest whole
// first, then by label.
func checkRows(t *testing.T, id string, rows []ShareFigure, want []string) {
	t.Helper()
	var got []string
	for i, r := range rows {
		got = append(got, r.Label)
		if i > 0 && (r.Whole > rows[i-1].Whole || r.Whole == rows[i-1].Whole && r.Label < rows[i-1].Label) {
			t.Errorf("%s: %s (%d) after %s (%d)", id, r.Label, r.Whole, rows[i-1].Label, rows[i-1].Whole)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s: rows %v, want %v", id, got, want)
	}
}

func TestFormatPercent(t *testing.T) {
	for in, want := range map[float64]string{0: "0%", 100: "100%", 23.02: "23%", 23.5: "24%", 0.4: "0.4%", 0.04: "<0.1%",
		99.6: "99.6%", 99.96: ">99.9%", 99.4: "99%", 0.5: "1%"} {
		if got := FormatPercent(in); got != want {
			t.Errorf("FormatPercent(%v) = %q, want %q", in, got, want)
		}
	}
	if s := ShareOf("", 3, 40, 30); s.Percent != "7.5%" && s.Percent != "8%" || s.Interval == "" || !strings.HasSuffix(s.Interval, "%") || s.LowSample {
		t.Errorf("3 of 40: %+v", s)
	}
	if s := ShareOf("", 0, 10, 30); s.Percent != "0%" || s.Interval != "0–28%" || !s.LowSample {
		t.Errorf("0 of 10: %+v (Wilson: 0 to 27.75%%)", s)
	}
}

// TestParseShareTiles: response_rate and csat take an optional by (1x2 by
// default with it), not by theme for a response rate (an offer has no
// comment), not by agent without show_agents, and need rollups.
func TestParseShareTiles(t *testing.T) {
	bs, err := Parse([]byte(`boards:
  - name: b
    tiles:
      - {id: r, view: response_rate, window: 8h}
      - {id: rc, view: response_rate, window: 8h, by: channel}
      - {id: c, view: csat, window: today, by: theme}
      - {id: cw, view: csat, window: today, by: channel, size: 2x1}
`), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		by         store.Dimension
		cols, rows int
	}{{"", 1, 1}, {store.Channel, 1, 2}, {store.Theme, 1, 2}, {store.Channel, 2, 1}} {
		if tl := bs[0].Tiles[i]; tl.By != want.by || tl.Cols != want.cols || tl.Rows != want.rows {
			t.Errorf("tile %s: by %q %dx%d, want %q %dx%d", tl.ID, tl.By, tl.Cols, tl.Rows, want.by, want.cols, want.rows)
		}
	}
	for _, c := range []struct{ board, want string }{
		{"{name: f, tiles: [{id: a, view: response_rate, window: 1h, by: theme}]}", "a survey offer has no comment"},
		{"{name: f, tiles: [{id: a, view: response_rate, window: 1h, filters: {theme: billing}}]}", "a survey offer has no comment"},
		{"{name: f, tiles: [{id: a, view: csat, window: 1h, by: agent}]}", "does not allow agent names"},
		{"{name: f, tiles: [{id: a, view: csat, window: 1h, by: colour}]}", "by: "},
		{"{name: f, tiles: [{id: a, view: response_rate, window: 1h, by: segment, filters: {team: x}}]}", "no configured rollup"},
		{"{name: f, for_each: {dimension: theme, values: [billing]}, tiles: [{id: a, view: response_rate, window: 1h}]}", "a survey offer has none"},
		{"{name: f, for_each: team, tiles: [{id: a, view: csat, window: 1h, by: team}]}", "breaks down by team"},
	} {
		_, err := Parse([]byte("boards:\n- "+c.board), store.DefaultSchema(), store.DefaultRollups())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.board, err, c.want)
		}
	}
}
