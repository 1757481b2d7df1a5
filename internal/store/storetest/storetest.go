// Package storetest is the conformance suite every storage engine must pass.
// It drives an engine through upserts, duplicates, changes, late and
// out-of-order responses across 40 days, and compares every window, rollup
// and filter with a brute-force count over the raw responses. It also
// checks the change feed (store.Feed): the log's entries, order, positions,
// waiting and gaps, and a replica warmed from a snapshot taken during
// writes. The clock is injected; nothing sleeps but the feed's blocking
// reads.
package storetest

import (
	"context"
	"fmt"
	"github.com/pulseboard/pulseboard/internal/themes"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Factory makes a fresh, empty engine for one test; the engine must use
// opts.Now as its clock. The suite closes it.
type Factory func(t testing.TB, opts store.Options) store.Store

// Clock is a settable clock for engines under test; servers under test read
// it from other goroutines, hence the lock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Start is the suite's "now": 22 days after the US fall-back, so 40 days of
// history in America/New_York cross a 25-hour day.
var Start = time.Date(2026, 11, 23, 15, 32, 41, 0, time.UTC)

// Options returns engine options with the default rollups and retention,
// New York's calendar and the given clock.
func Options(t testing.TB, clock *Clock) store.Options {
	return OptionsIn(t, clock, "America/New_York")
}

// OptionsIn is Options with the calendar of another zone.
func OptionsIn(t testing.TB, clock *Clock, zone string) store.Options {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatalf("load zone: %v", err)
	}
	cal, err := window.NewCalendar(loc, clock.Now())
	if err != nil {
		t.Fatalf("calendar: %v", err)
	}
	return store.Options{
		Rollups:   store.DefaultRollups(),
		Calendar:  cal,
		Retention: store.DefaultRetention(),
		Now:       clock.Now,
	}
}

// Run runs the whole suite against an engine.
func Run(t *testing.T, newStore Factory) {
	t.Run("Duplicate", func(t *testing.T) { testDuplicate(t, newStore) })
	t.Run("ChangeRetracts", func(t *testing.T) { testChangeRetracts(t, newStore) })
	t.Run("SameIDTwiceInBatch", func(t *testing.T) { testSameIDTwiceInBatch(t, newStore) })
	t.Run("RepeatWithoutTimeKeepsTime", func(t *testing.T) { testRepeatWithoutTime(t, newStore) })
	t.Run("OlderVersionIsStale", func(t *testing.T) { testOlderVersionIsStale(t, newStore) })
	t.Run("EmptyAndUncovered", func(t *testing.T) { testEmptyAndUncovered(t, newStore) })
	t.Run("RandomAgainstBruteForce", func(t *testing.T) { testRandom(t, newStore) })
	t.Run("ChangeFeed", func(t *testing.T) { testFeed(t, newStore) })
	t.Run("ReplicaFollowsLog", func(t *testing.T) { testReplica(t, newStore) })
	t.Run("MidnightTransitions", func(t *testing.T) { testMidnightTransitions(t, newStore) })
	t.Run("RangesWithRetention", func(t *testing.T) { testRanges(t, newStore) })
	t.Run("OffersAndCSAT", func(t *testing.T) { testOffers(t, newStore) })
}

// harness pairs an engine with the brute-force model fed the same input.
type harness struct {
	t     *testing.T
	clock *Clock
	opts  store.Options
	s     store.Store
	model *model
}

func newHarness(t *testing.T, newStore Factory) *harness {
	return newHarnessIn(t, newStore, "America/New_York", Start)
}

// newHarnessIn is newHarness with the calendar of zone and the clock at
// start.
func newHarnessIn(t *testing.T, newStore Factory, zone string, start time.Time) *harness {
	return newHarnessAt(t, newStore, zone, start, func(*store.Options) {})
}

// newHarnessWith is newHarness with options changed by set.
func newHarnessWith(t *testing.T, newStore Factory, set func(*store.Options)) *harness {
	return newHarnessAt(t, newStore, "America/New_York", Start, set)
}

func newHarnessAt(t *testing.T, newStore Factory, zone string, start time.Time, set func(*store.Options)) *harness {
	clock := &Clock{}
	clock.Set(start)
	opts := withRegion(t, OptionsIn(t, clock, zone))
	set(&opts)
	s := newStore(t, opts)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	m := newModel(opts.Themes)
	m.shared = opts.OfferIDsShared
	return &harness{t: t, clock: clock, opts: opts, s: s, model: m}
}

// record sends a batch to the engine and the model and checks the engine's
// result against the model's.
func (h *harness) record(batch []store.Response) store.RecordResult {
	h.t.Helper()
	got, err := h.s.Record(context.Background(), batch)
	if err != nil {
		h.t.Fatalf("record %d responses: %v", len(batch), err)
	}
	want := h.model.record(batch)
	if got != want {
		h.t.Fatalf("record result = %+v, want %+v", got, want)
	}
	return got
}

// check compares one query with the brute-force answer.
func (h *harness) check(w window.Window, by []store.Dimension, filters map[store.Dimension]string) {
	h.t.Helper()
	span := h.opts.Calendar.Span(w, h.clock.Now())
	q := store.Query{By: by, Filters: filters, Span: span}
	got, err := h.s.Query(context.Background(), q)
	if err != nil {
		h.t.Fatalf("query %s by %v %v: %v", w.Name, by, filters, err)
	}
	want := h.model.query(q)
	if g, w2 := render(got), render(want); g != w2 {
		h.t.Fatalf("window %s by %v filters %v at %s:\n got: %s\nwant: %s", w.Name, by, filters, h.clock.Now(), g, w2)
	}
}

// render prints groups canonically for comparison and failure messages.
func render(groups []store.Group) string {
	lines := make([]string, 0, len(groups))
	for _, g := range groups {
		var keys []string
		for d, v := range g.Key {
			keys = append(keys, string(d)+"="+v)
		}
		sort.Strings(keys)
		lines = append(lines, fmt.Sprintf("{%s %v csat %v offers %d/%d}", strings.Join(keys, ","), g.Counts, g.CSAT, g.Answered, g.Offered))
	}
	sort.Strings(lines)
	return strings.Join(lines, " ")
}

func resp(id string, score int, at time.Time, d store.Dims) store.Response {
	return store.Response{ID: id, Score: score, Dims: d, At: at, AtGiven: true}
}

func overall(t *testing.T, h *harness, w window.Window) nps.Distribution {
	t.Helper()
	groups, err := h.s.Query(context.Background(), store.Query{Span: h.opts.Calendar.Span(w, h.clock.Now())})
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if len(groups) != 1 {
		t.Fatalf("overall query returned %d groups", len(groups))
	}
	return groups[0].Counts
}

func testDuplicate(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	at := Start.Add(-10 * time.Minute)
	r := resp("a", 9, at, store.Dims{Channel: "phone", Team: "alpha"})
	if res := h.record([]store.Response{r}); res.Accepted != 1 {
		t.Fatalf("first send: %+v", res)
	}
	if res := h.record([]store.Response{r}); res.Duplicates != 1 {
		t.Fatalf("second send: %+v", res)
	}
	if got := overall(t, h, window.Rolling1h); got != nps.Of(9) {
		t.Fatalf("a duplicate was applied: %v", got)
	}
}

func testChangeRetracts(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	at := Start.Add(-10 * time.Minute)
	h.record([]store.Response{resp("a", 3, at, store.Dims{Channel: "phone", Team: "alpha"})})
	res := h.record([]store.Response{resp("a", 10, at, store.Dims{Channel: "email", Team: "beta"})})
	if res.Updated != 1 {
		t.Fatalf("change: %+v", res)
	}
	if got := overall(t, h, window.Rolling1h); got != nps.Of(10) {
		t.Fatalf("old score not retracted: %v", got)
	}
	for _, w := range window.All {
		h.check(w, []store.Dimension{store.Team}, nil)
		h.check(w, []store.Dimension{store.Channel}, map[store.Dimension]string{store.Team: "beta"})
	}
	// A comment change is an update that leaves the counts alone.
	c := resp("a", 10, at, store.Dims{Channel: "email", Team: "beta"})
	c.Comment = "fixed"
	if res := h.record([]store.Response{c}); res.Updated != 1 {
		t.Fatalf("comment change: %+v", res)
	}
	if got := overall(t, h, window.Rolling1h); got != nps.Of(10) {
		t.Fatalf("comment change altered counts: %v", got)
	}
}

func testSameIDTwiceInBatch(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	at := Start.Add(-3 * time.Hour)
	d := store.Dims{Channel: "chat"}
	res := h.record([]store.Response{resp("x", 2, at, d), resp("x", 2, at, d), resp("x", 8, at.Add(time.Hour), d)})
	if res != (store.RecordResult{Accepted: 1, Duplicates: 1, Updated: 1}) {
		t.Fatalf("result %+v", res)
	}
	if got := overall(t, h, window.Rolling8h); got != nps.Of(8) {
		t.Fatalf("counts %v", got)
	}
	// Moved out of the last hour's window? at+1h is 2h ago: not in 1h.
	if got := overall(t, h, window.Rolling1h); got.Responses() != 0 {
		t.Fatalf("1h window holds %v", got)
	}
}

func testRepeatWithoutTime(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	first := store.Response{ID: "r", Score: 6, Dims: store.Dims{Channel: "sms"}, At: h.clock.Now()}
	h.record([]store.Response{first})
	h.clock.Advance(3 * time.Hour)
	again := first
	again.At = h.clock.Now() // the receive time a second delivery gets
	if res := h.record([]store.Response{again}); res.Duplicates != 1 {
		t.Fatalf("repeat without at: %+v", res)
	}
	changed := again
	changed.Score = 9
	if res := h.record([]store.Response{changed}); res.Updated != 1 {
		t.Fatalf("change without at: %+v", res)
	}
	// The response keeps its first time: 3h ago, outside the last hour.
	if got := overall(t, h, window.Rolling1h); got.Responses() != 0 {
		t.Fatalf("changed response moved to now: %v", got)
	}
	if got := overall(t, h, window.Rolling8h); got != nps.Of(9) {
		t.Fatalf("8h window: %v", got)
	}
}

// testOlderVersionIsStale: a survey tool's "created" retried after its
// "updated", or a replay of an old body, must not put the old score back.
func testOlderVersionIsStale(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	at := Start.Add(-20 * time.Minute)
	d := store.Dims{Channel: "web", Team: "alpha"}
	v := func(score int, version uint64) store.Response {
		r := resp("v", score, at, d)
		r.Version = version
		return r
	}
	h.record([]store.Response{v(6, 100)})
	if res := h.record([]store.Response{v(9, 200)}); res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("newer version: %+v", res)
	}
	// The created event retried, and the same in a batch of its own kind.
	if res := h.record([]store.Response{v(6, 100), v(6, 150)}); res != (store.RecordResult{Stale: 2}) {
		t.Fatalf("older versions: %+v", res)
	}
	if got := overall(t, h, window.Rolling1h); got != nps.Of(9) {
		t.Fatalf("an older version was applied: %v", got)
	}
	// The same version again is a duplicate; the same version with other
	// content is applied (the producer's word for what that version is).
	if res := h.record([]store.Response{v(9, 200)}); res != (store.RecordResult{Duplicates: 1}) {
		t.Fatalf("same version: %+v", res)
	}
	if res := h.record([]store.Response{v(8, 200)}); res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("same version, other score: %+v", res)
	}
	// A duplicate with a higher version still raises the stored version:
	// a version between the two, with other content, is now stale.
	if res := h.record([]store.Response{v(8, 400)}); res != (store.RecordResult{Duplicates: 1}) {
		t.Fatalf("higher version, same content: %+v", res)
	}
	if res := h.record([]store.Response{v(3, 300)}); res != (store.RecordResult{Stale: 1}) {
		t.Fatalf("version between: %+v", res)
	}
	// Unversioned: applied as before, and the stored version stays, so the
	// tool's old retry is still stale afterwards.
	if res := h.record([]store.Response{resp("v", 10, at, d)}); res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("unversioned after versioned: %+v", res)
	}
	if res := h.record([]store.Response{v(6, 100)}); res != (store.RecordResult{Stale: 1}) {
		t.Fatalf("old version after an unversioned change: %+v", res)
	}
	if res := h.record([]store.Response{v(7, 500)}); res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("newer version after an unversioned change: %+v", res)
	}
	// Unversioned first, then versions: any version applies over none.
	h.record([]store.Response{resp("u", 2, at, d)})
	if res := h.record([]store.Response{func() store.Response { r := resp("u", 4, at, d); r.Version = 1; return r }()}); res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("versioned after unversioned: %+v", res)
	}
	if got := overall(t, h, window.Rolling1h); got != nps.Of(7, 4) {
		t.Fatalf("counts %v", got)
	}
	for _, w := range window.All {
		h.check(w, []store.Dimension{store.Team}, nil)
	}
}

func testEmptyAndUncovered(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	if got := overall(t, h, window.Rolling30d); got.Responses() != 0 {
		t.Fatalf("empty store: %v", got)
	}
	_, err := h.s.Query(context.Background(), store.Query{
		By:   []store.Dimension{store.Segment},
		Span: h.opts.Calendar.Span(window.Rolling1h, h.clock.Now()),
		// segment+agent is not a default rollup.
		Filters: map[store.Dimension]string{store.Agent: "ann"},
	})
	if err == nil || !strings.Contains(err.Error(), "no configured rollup") {
		t.Fatalf("uncovered query: err = %v", err)
	}
}

// region is the suite's own dimension: a configured dimension must count
// like a built-in one.
const region store.Dimension = "region"

// withRegion adds region to the schema and rollups over it to the
// default ones, so the suite checks a custom dimension against brute force,
// and the themes of the default dictionary with rollups over theme, so it
// checks a dimension with many values per response.
func withRegion(t testing.TB, opts store.Options) store.Options {
	schema, err := store.NewSchema(string(region))
	if err != nil {
		t.Fatal(err)
	}
	opts.Schema = schema
	opts.Rollups = append(opts.Rollups, mustRollups(t, schema, "region", "team+region", "region+theme")...)
	opts.Themes = dictionary(t).Names
	return opts
}

// dictionary is the default theme dictionary.
func dictionary(t testing.TB) *themes.Dictionary {
	d, err := themes.New(themes.Default(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// comments are what the generator's customers write: no theme, one, several,
// a negated one, in more than one language.
var comments = []string{
	"fine",
	"I waited on hold for ages",
	"the agent was rude and transferred me twice",
	"not rude at all, very helpful",
	"charged twice on my bill, still waiting for a refund",
	"nobody called me back",
	"esperé mucho tiempo en la cola",
	"Rechnung falsch, unfreundlich am Telefon",
	"great service, thank you",
}

func mustRollups(t testing.TB, schema store.Schema, names ...string) []store.Rollup {
	var out []store.Rollup
	for _, n := range names {
		r, err := schema.ParseRollup(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// queries lists breakdowns and filters the rollups of withRegion cover.
func queries(rng *rand.Rand) []struct {
	by      []store.Dimension
	filters map[store.Dimension]string
} {
	type q = struct {
		by      []store.Dimension
		filters map[store.Dimension]string
	}
	team := teams[rng.IntN(len(teams))]
	agent := agentsOf[team][rng.IntN(len(agentsOf[team]))]
	ch := channels[rng.IntN(len(channels))]
	jr := journeys[rng.IntN(len(journeys))]
	rg := regions[rng.IntN(len(regions))]
	theme := themeNames[rng.IntN(len(themeNames))]
	return []q{
		{nil, nil},
		{[]store.Dimension{store.Channel}, nil},
		{[]store.Dimension{store.Segment}, nil},
		{[]store.Dimension{store.Team}, nil},
		{[]store.Dimension{store.Agent}, nil},
		{[]store.Dimension{store.Team, store.Channel}, nil},
		{[]store.Dimension{store.Team, store.Agent}, nil},
		{nil, map[store.Dimension]string{store.Team: team}},
		{nil, map[store.Dimension]string{store.Channel: ch}},
		{nil, map[store.Dimension]string{store.Agent: agent}},
		{[]store.Dimension{store.Channel}, map[store.Dimension]string{store.Team: team}},
		{[]store.Dimension{store.Agent}, map[store.Dimension]string{store.Team: team}},
		{[]store.Dimension{store.Team}, map[store.Dimension]string{store.Channel: ch}},
		{nil, map[store.Dimension]string{store.Team: team, store.Channel: ch}},
		{[]store.Dimension{store.Journey}, nil},
		{[]store.Dimension{store.Journey, store.Channel}, nil},
		{[]store.Dimension{store.Channel}, map[store.Dimension]string{store.Journey: jr}},
		{nil, map[store.Dimension]string{store.Journey: jr, store.Channel: ch}},
		{[]store.Dimension{region}, nil},
		{nil, map[store.Dimension]string{region: rg}},
		{[]store.Dimension{store.Team}, map[store.Dimension]string{region: rg}},
		{[]store.Dimension{region}, map[store.Dimension]string{store.Team: team}},
		{[]store.Dimension{store.Theme}, nil},
		{[]store.Dimension{store.Team, store.Theme}, nil},
		{[]store.Dimension{store.Theme}, map[store.Dimension]string{store.Team: team}},
		{[]store.Dimension{store.Team}, map[store.Dimension]string{store.Theme: theme}},
		{nil, map[store.Dimension]string{store.Theme: theme}},
		{[]store.Dimension{store.Theme}, map[store.Dimension]string{region: rg}},
	}
}

var (
	channels = []string{"phone", "chat", "email", "sms"}
	segments = []string{"consumer", "smb", "enterprise"}
	journeys = []string{"new order", "billing question", "pharma", "medical devices"}
	regions  = []string{"north", "south", "east"}
	// themeNames are themes the comments hold, and one they never do.
	themeNames = []string{"waiting", "rudeness", "billing", "transfers", "callbacks", "praise", "unresolved"}
	teams      = []string{"alpha", "bravo", "charlie", "delta"}
	agentsOf   = map[string][]string{
		"alpha":   {"ann", "ali", "ada"},
		"bravo":   {"bob", "bea", "ben"},
		"charlie": {"cal", "cy", "cleo"},
		"delta":   {"dan", "dee", "dot"},
	}
)

// generator makes random responses, repeats and changes.
type generator struct {
	rng       *rand.Rand
	next      int
	nextOffer int
	sent      []store.Response
}

func (g *generator) dims() store.Dims {
	d := store.Dims{Channel: channels[g.rng.IntN(len(channels))]}
	if g.rng.IntN(5) > 0 {
		d.Segment = segments[g.rng.IntN(len(segments))]
	}
	if g.rng.IntN(8) > 0 {
		d.Team = teams[g.rng.IntN(len(teams))]
		if g.rng.IntN(6) > 0 {
			a := agentsOf[d.Team]
			d.Agent = a[g.rng.IntN(len(a))]
		}
	}
	if g.rng.IntN(4) > 0 {
		d.Journey = journeys[g.rng.IntN(len(journeys))]
	}
	if g.rng.IntN(3) > 0 {
		d.Set(region, regions[g.rng.IntN(len(regions))])
	}
	return d
}

// at spreads times over 40 days, weighted to the recent past where the short
// windows look, with a few in the near future within the allowed skew.
func (g *generator) at(now time.Time) time.Time {
	var back time.Duration
	switch g.rng.IntN(6) {
	case 0:
		back = time.Duration(g.rng.Int64N(int64(40 * 24 * time.Hour)))
	case 1:
		back = time.Duration(g.rng.Int64N(int64(8 * 24 * time.Hour)))
	case 2:
		back = time.Duration(g.rng.Int64N(int64(26 * time.Hour)))
	case 3:
		back = time.Duration(g.rng.Int64N(int64(2 * time.Hour)))
	case 4:
		back = time.Duration(g.rng.Int64N(int64(20 * time.Minute)))
	default:
		back = time.Duration(g.rng.Int64N(int64(90*time.Second))) - 60*time.Second
	}
	return now.Add(-back).Truncate(time.Second)
}

// response returns a new response, an exact repeat, a changed version of an
// earlier one, or a repeat without a time.
func (g *generator) response(now time.Time) store.Response {
	if len(g.sent) > 0 {
		old := g.sent[g.rng.IntN(len(g.sent))]
		switch p := g.rng.IntN(100); {
		case p < 12:
			return old // duplicate
		case p < 20:
			if old.Kind == store.KindResponse {
				g.scores(&old)
			}
			if g.rng.IntN(3) == 0 {
				old.Dims = g.dims()
			}
			if g.rng.IntN(4) == 0 {
				old.At = g.at(now)
			}
			if g.rng.IntN(3) == 0 && old.Kind == store.KindResponse {
				old.Comment = comments[g.rng.IntN(len(comments))]
			}
			g.sent = append(g.sent, old)
			return old
		case p < 24:
			old.AtGiven = false
			old.At = now
			if g.rng.IntN(2) == 0 && old.Kind == store.KindResponse {
				g.scores(&old)
			}
			return old
		case p < 34:
			// A new, older or equal version, changed or not.
			old.Version = uint64(g.rng.IntN(8))
			if g.rng.IntN(2) == 0 && old.Kind == store.KindResponse {
				g.scores(&old)
			}
			g.sent = append(g.sent, old)
			return old
		}
	}
	if g.rng.IntN(4) == 0 {
		g.nextOffer++
		o := store.Response{Kind: store.KindOffer, ID: fmt.Sprintf("offer-%05d", g.nextOffer), Dims: g.dims(), At: g.at(now), AtGiven: true}
		g.sent = append(g.sent, o)
		return o
	}
	g.next++
	r := store.Response{
		ID:      fmt.Sprintf("resp-%05d", g.next),
		Dims:    g.dims(),
		At:      g.at(now),
		AtGiven: true,
	}
	g.scores(&r)
	if g.rng.IntN(10) == 0 {
		r.AtGiven, r.At = false, now
	}
	if g.rng.IntN(2) == 0 {
		r.Comment = comments[g.rng.IntN(len(comments))]
	}
	if g.rng.IntN(5) < 2 {
		// An offer sent before, or one still to come (answered early);
		// two answers may name the same offer.
		r.OfferID = fmt.Sprintf("offer-%05d", max(1, g.nextOffer-g.rng.IntN(30)+5))
	}
	g.sent = append(g.sent, r)
	return r
}

// scores gives a response an NPS score, a CSAT score or both.
func (g *generator) scores(r *store.Response) {
	r.Score, r.CSAT = g.rng.IntN(11), 0
	switch g.rng.IntN(10) {
	case 0, 1:
		r.Score, r.CSAT = store.NoScore, 1+g.rng.IntN(5)
	case 2, 3, 4:
		r.CSAT = 1 + g.rng.IntN(5)
	}
}

func testRandom(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	rng := rand.New(rand.NewPCG(2, 26))
	g := &generator{rng: rng}
	steps := []time.Duration{0, 7 * time.Minute, 2*time.Hour + 13*time.Minute, 29*time.Hour + 5*time.Minute, 3 * 24 * time.Hour, 11*time.Hour + 59*time.Minute}
	total := 0
	for _, step := range steps {
		h.clock.Advance(step)
		n := 1500
		if step > 0 {
			n = 600
		}
		for sent := 0; sent < n; {
			size := 1 + rng.IntN(150)
			batch := make([]store.Response, 0, size)
			for range size {
				batch = append(batch, g.response(h.clock.Now()))
			}
			h.record(batch)
			sent += size
		}
		total += n
		for _, w := range window.All {
			for _, q := range queries(rng) {
				h.check(w, q.by, q.filters)
			}
		}
	}
	if distinct := len(h.model.latest); distinct < 2000 {
		t.Fatalf("only %d distinct responses of %d sent: the generator is not exercising the engine", distinct, total)
	}
	if h.model.updates < 200 || h.model.duplicates < 200 || h.model.stale < 30 {
		t.Fatalf("too few updates (%d), duplicates (%d) or stale versions (%d)", h.model.updates, h.model.duplicates, h.model.stale)
	}
	var answered, early, csatOnly, both int
	for id := range h.model.offers {
		if h.model.answered[id] {
			answered++
		}
	}
	early = h.model.answeredFirst
	for _, r := range h.model.latest {
		switch {
		case r.Score == store.NoScore:
			csatOnly++
		case r.CSAT != 0:
			both++
		}
	}
	if len(h.model.offers) < 500 || answered < 300 || early < 3 || csatOnly < 150 || both < 300 {
		t.Fatalf("too few offers (%d), answered offers (%d), offers recorded after their answer (%d), CSAT-only answers (%d) or answers with both scores (%d)",
			len(h.model.offers), answered, early, csatOnly, both)
	}
	t.Logf("%d responses (%d CSAT only, %d with both scores), %d offers (%d answered), %d offers recorded after their answer",
		len(h.model.latest), csatOnly, both, len(h.model.offers), answered, early)
}

// model is the brute force: the latest version of every response, and a
// linear scan per query.
type model struct {
	themes func(comment string) []string
	// shared: a response naming no offer answers the offer of its id.
	shared bool
	latest map[string]store.Response
	offers map[string]store.Response
	// answered holds the offers an applied response named, recorded yet
	// or not.
	answered map[string]bool
	// answeredFirst counts offers recorded after an answer named them.
	answeredFirst int
	updates       int
	duplicates    int
	stale         int
}

func newModel(themes func(string) []string) *model {
	return &model{latest: make(map[string]store.Response), offers: make(map[string]store.Response), answered: make(map[string]bool), themes: themes}
}

func (m *model) record(batch []store.Response) store.RecordResult {
	var res store.RecordResult
	for _, r := range batch {
		r.Themes = nil
		if m.themes != nil && r.Comment != "" {
			r.Themes = m.themes(r.Comment)
		}
		latest := m.latest
		if r.Kind == store.KindOffer {
			latest = m.offers
		}
		old, known := latest[r.ID]
		if known && !r.AtGiven {
			r.At = old.At
		}
		if known && r.Version == 0 {
			r.Version = old.Version
		}
		switch {
		case known && r.Version < old.Version:
			res.Stale++
			m.stale++
			continue
		case known && sameContent(old, r) && old.At.Unix() == r.At.Unix():
			res.Duplicates++
			m.duplicates++
			old.Version = max(old.Version, r.Version)
			latest[r.ID] = old
			continue
		case known:
			res.Updated++
			m.updates++
		default:
			res.Accepted++
		}
		latest[r.ID] = r
		switch {
		case r.Kind == store.KindOffer:
			if !known && m.answered[r.ID] {
				m.answeredFirst++
			}
		case r.OfferID != "":
			m.answered[r.OfferID] = true
		case m.shared:
			m.answered[r.ID] = true
		}
	}
	return res
}

func sameContent(a, b store.Response) bool {
	return a.Score == b.Score && a.CSAT == b.CSAT && a.OfferID == b.OfferID && a.Dims == b.Dims && a.Comment == b.Comment && slices.Equal(a.Tags, b.Tags)
}

func (m *model) query(q store.Query) []store.Group {
	groups := map[string]*store.Group{}
	add := func(r store.Response, theme string, count func(*store.Group)) {
		get := func(d store.Dimension) string {
			if d == store.Theme {
				return theme
			}
			return r.Dims.Get(d)
		}
		key := map[store.Dimension]string{}
		var ks []string
		for d, v := range q.Filters {
			if get(d) != v {
				return
			}
		}
		for _, d := range q.By {
			v := get(d)
			if v == "" {
				return
			}
			key[d] = v
			ks = append(ks, v)
		}
		k := strings.Join(ks, "/")
		if groups[k] == nil {
			groups[k] = &store.Group{Key: key}
		}
		count(groups[k])
	}
	answer := func(r store.Response) func(*store.Group) {
		return func(g *store.Group) {
			if r.Score != store.NoScore {
				g.Counts[r.Score]++
			}
			if r.CSAT != 0 {
				g.CSAT[r.CSAT-1]++
			}
		}
	}
	_, byTheme := q.Filters[store.Theme]
	byTheme = byTheme || slices.Contains(q.By, store.Theme)
	for _, r := range m.latest {
		if !q.Span.Contains(r.At) {
			continue
		}
		if !byTheme {
			add(r, "", answer(r))
			continue
		}
		// A response counts once under each of its themes.
		for _, t := range r.Themes {
			add(r, t, answer(r))
		}
	}
	for id, o := range m.offers {
		if !q.Span.Contains(o.At) || byTheme {
			continue // offers have no comment, so no theme
		}
		add(o, "", func(g *store.Group) {
			g.Offered++
			if m.answered[id] {
				g.Answered++
			}
		})
	}
	out := []store.Group{}
	for _, g := range groups {
		out = append(out, *g)
	}
	if len(q.By) == 0 && len(out) == 0 {
		out = append(out, store.Group{Key: map[store.Dimension]string{}})
	}
	return out
}

// testReplica warms a replica from a snapshot taken while another goroutine
// keeps writing, then follows the log, and checks that it answers every
// query exactly as the engine does.
func testReplica(t *testing.T, newStore Factory) {
	h := newHarness(t, newStore)
	feed := h.s
	rng := rand.New(rand.NewPCG(7, 7))
	g := &generator{rng: rng}
	ctx := context.Background()
	send := func(n int) {
		for range n {
			batch := make([]store.Response, 1+rng.IntN(40))
			for i := range batch {
				batch[i] = g.response(h.clock.Now())
			}
			if _, err := h.s.Record(ctx, batch); err != nil {
				t.Errorf("record: %v", err)
				return
			}
		}
	}
	send(40)
	// Writes race the snapshot: each bucket must carry the position it
	// reflects, or the replay below counts some changes twice.
	wrote := make(chan struct{})
	go func() { defer close(wrote); send(60) }()
	snap, err := feed.Snapshot(ctx, h.opts.Rollups)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	<-wrote
	send(30)
	rep := store.NewReplica(h.opts, h.opts.Rollups, snap)
	for {
		entries, err := feed.Tail(ctx, rep.Pos(), 10*time.Millisecond)
		if err != nil {
			t.Fatalf("tail from %v: %v", rep.Pos(), err)
		}
		if len(entries) == 0 {
			break
		}
		for _, e := range entries {
			rep.Apply(e, h.clock.Now())
		}
	}
	for _, w := range window.All {
		for _, q := range queries(rng) {
			sq := store.Query{By: q.by, Filters: q.filters, Span: h.opts.Calendar.Span(w, h.clock.Now())}
			want, err := h.s.Query(ctx, sq)
			if err != nil {
				t.Fatal(err)
			}
			got, err := rep.Query(sq, h.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			if render(got) != render(want) {
				t.Fatalf("replica differs for %s by %v %v:\n got: %s\nwant: %s", w.Name, q.by, q.filters, render(got), render(want))
			}
		}
	}
	hist, err := feed.History(ctx, 5)
	if err != nil || len(hist) != 5 || hist[4].Pos != rep.Pos() || !hist[4].Pos.After(hist[0].Pos) {
		t.Fatalf("history: %d entries, %v", len(hist), err)
	}
}
