package npsgauge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/window"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// now is the tests' clock: mid-afternoon in Paris, so "today" and the 24h
// window differ.
var now = time.Date(2026, 11, 18, 15, 7, 30, 0, time.UTC)

type engine struct {
	name string
	open func(t testing.TB, opts store.Options) store.Store
}

var engines = []engine{
	{"memory", func(t testing.TB, opts store.Options) store.Store {
		s := memstore.New(opts)
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"redis", func(t testing.TB, opts store.Options) store.Store {
		rdb := redistest.Client(t)
		// The machine may be loaded: a generous timeout, since the test is
		// about the numbers.
		return redisstore.New(rdb, opts, redisstore.Config{Tenant: redistest.Tenant(t, rdb), Timeout: 30 * time.Second})
	}},
}

func options() store.Options {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		panic(err)
	}
	return store.Options{
		Rollups: store.DefaultRollups(), Calendar: window.MustCalendar(loc),
		Retention: store.DefaultRetention(), Now: func() time.Time { return now },
	}
}

func entries(t testing.TB, text string) []Entry {
	t.Helper()
	es, err := ParseConfig(text, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// history makes n responses over the last 30 hours from teams × channels ×
// journeys (some without a journey or a team), then changes the score of
// every tenth: the store's upserts must show in the gauges like anywhere.
func history(n, teams, channels int, seed uint64) (first, updates []store.Response) {
	rng := rand.New(rand.NewPCG(seed, 1))
	journeys := []string{"billing question", "cancel", "onboarding", ""}
	for i := range n {
		var d store.Dims
		d.Set(store.Channel, fmt.Sprintf("ch%d", rng.IntN(channels)))
		if rng.IntN(10) > 0 {
			d.Set(store.Team, fmt.Sprintf("team-%02d", rng.IntN(teams)))
		}
		d.Set(store.Journey, journeys[rng.IntN(len(journeys))])
		d.Set(store.Agent, fmt.Sprintf("agent %d", rng.IntN(60)))
		r := store.Response{
			ID: fmt.Sprintf("r%d", i), Score: rng.IntN(11), Dims: d,
			At: now.Add(-time.Duration(rng.Int64N(int64(30 * time.Hour)))), AtGiven: true,
		}
		first = append(first, r)
		if i%10 == 0 {
			r.Score = (r.Score + 5) % 11
			updates = append(updates, r)
		}
	}
	return first, updates
}

// series gathers every pulseboard_nps_* sample as "name{labels}" → value,
// leaving out empty labels (which Prometheus drops too).
func series(t testing.TB, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				if l.GetValue() != "" {
					ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
				}
			}
			sort.Strings(ls)
			v := m.GetGauge().GetValue()
			if m.GetCounter() != nil {
				v = m.GetCounter().GetValue()
			}
			out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] = v
		}
	}
	return out
}

// bruteForce counts the responses' final versions into each entry's
// groups, the way the gauges must show them.
func bruteForce(es []Entry, cal window.Calendar, rs []store.Response) map[string]float64 {
	final := map[string]store.Response{}
	for _, r := range rs {
		final[r.ID] = r
	}
	out := map[string]float64{}
	for _, e := range es {
		span := cal.Span(e.Window, now)
		groups := map[string]nps.Distribution{}
		labels := map[string]string{}
		for _, r := range final {
			g, ok := e.Rollup.GroupOf(r.Dims)
			if !ok || !span.Contains(r.At) {
				continue
			}
			ls := []string{fmt.Sprintf("by=%q", e.Rollup.Name()), fmt.Sprintf("window=%q", e.Window.Name)}
			for _, d := range e.Rollup.Dims() {
				ls = append(ls, fmt.Sprintf("%s=%q", d, r.Dims.Get(d)))
			}
			sort.Strings(ls)
			labels[g] = strings.Join(ls, ",")
			groups[g] = groups[g].Add(nps.Of(r.Score))
		}
		for g, c := range groups {
			l := "{" + labels[g] + "}"
			if s, ok := c.NPS(); ok {
				out["pulseboard_nps_score"+l] = s
			}
			out["pulseboard_nps_responses"+l] = float64(c.Responses())
			out["pulseboard_nps_promoters"+l] = float64(c.Promoters())
			out["pulseboard_nps_passives"+l] = float64(c.Passives())
			out["pulseboard_nps_detractors"+l] = float64(c.Detractors())
		}
		el := fmt.Sprintf("{by=%q,window=%q}", e.Rollup.Name(), e.Window.Name)
		out["pulseboard_nps_stale"+el] = 0
		out["pulseboard_nps_last_success_timestamp_seconds"+el] = float64(now.Unix())
		out["pulseboard_nps_series_dropped_total"+el] = 0
	}
	return out
}

// TestAgainstBruteForce: on both engines, every series of every entry
// equals a brute-force count over the raw responses, updates included.
func TestAgainstBruteForce(t *testing.T) {
	for _, eng := range engines {
		t.Run(eng.name, func(t *testing.T) {
			t.Parallel()
			opts := options()
			s := eng.open(t, opts)
			first, updates := history(3000, 12, 4, 7)
			ctx := context.Background()
			for _, b := range [][]store.Response{first, updates} {
				if _, err := s.Record(ctx, b); err != nil {
					t.Fatal(err)
				}
			}
			es := entries(t, `
- {by: [team], window: 1h}
- {by: [channel, journey], window: 24h}
- {by: [], window: today}
- {by: [team, channel], window: 15m}
- {by: [team, agent], window: 24h, allow_agent: true, max_groups: 2000}
`)
			g := New(s, Options{Entries: es, Calendar: opts.Calendar, Now: opts.Now, Timeout: 30 * time.Second})
			reg := prometheus.NewPedanticRegistry()
			reg.MustRegister(g)
			g.Refresh(ctx)
			got := series(t, reg)
			want := bruteForce(es, opts.Calendar, append(first, updates...))
			if len(got) != len(want) {
				t.Errorf("%d series, want %d", len(got), len(want))
			}
			for k, w := range want {
				if v, ok := got[k]; !ok || v != w {
					t.Errorf("%s = %v (present %v), want %v", k, v, ok, w)
				}
			}
			for k := range got {
				if _, ok := want[k]; !ok {
					t.Errorf("unexpected %s", k)
				}
			}
			// The fixture must exercise what it claims: many groups per
			// entry, in every entry.
			for _, e := range es {
				n := 0
				for k := range want {
					if strings.HasPrefix(k, "pulseboard_nps_responses{") && strings.Contains(k, fmt.Sprintf("window=%q", e.Window.Name)) && strings.Contains(k, fmt.Sprintf("by=%q", e.Rollup.Name())) {
						n++
					}
				}
				if n == 0 || (len(e.Rollup.Dims()) > 0 && n < 5) {
					t.Errorf("%s: only %d groups in the fixture", e.Name(), n)
				}
			}
		})
	}
}

// TestCap: an entry with more groups than max_groups keeps those with the
// most responses, counts the others at every refresh and warns once.
func TestCap(t *testing.T) {
	t.Parallel()
	opts := options()
	s := memstore.New(opts)
	defer s.Close()
	var batch []store.Response
	// team-0 has 1 response, team-1 2, ... team-5 6.
	for team := range 6 {
		for i := range team + 1 {
			var d store.Dims
			d.Set(store.Channel, "phone")
			d.Set(store.Team, fmt.Sprintf("team-%d", team))
			batch = append(batch, store.Response{ID: fmt.Sprintf("%d-%d", team, i), Score: 10, Dims: d, At: now.Add(-time.Minute), AtGiven: true})
		}
	}
	if _, err := s.Record(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	g := New(s, Options{Entries: entries(t, `[{by: [team], window: 1h, max_groups: 4}]`), Calendar: opts.Calendar, Now: opts.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	g.Refresh(context.Background())
	g.Refresh(context.Background())
	got := series(t, reg)
	for team := range 6 {
		_, ok := got[fmt.Sprintf(`pulseboard_nps_responses{by="team",team="team-%d",window="1h"}`, team)]
		if ok != (team >= 2) {
			t.Errorf("team-%d exported %v", team, ok)
		}
	}
	if v := got[`pulseboard_nps_series_dropped_total{by="team",window="1h"}`]; v != 4 {
		t.Errorf("dropped %v, want 2 per refresh", v)
	}
	if n := strings.Count(logs.String(), "more groups than max_groups"); n != 1 {
		t.Errorf("warned %d times:\n%s", n, logs.String())
	}
}

// failing is a store that fails while told to.
type failing struct {
	Querier
	mu   sync.Mutex
	fail bool
}

func (f *failing) set(b bool) { f.mu.Lock(); f.fail = b; f.mu.Unlock() }

func (f *failing) Query(ctx context.Context, q store.Query) ([]store.Group, error) {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return nil, errors.New("store unavailable")
	}
	return f.Querier.Query(ctx, q)
}

// TestRedisOutage: a killed Redis makes the refresh fail; the group series
// disappear instead of repeating the last numbers, pulseboard_nps_stale is
// 1, and the last success keeps its time. A Redis back on its port brings
// them back (empty: the test's Redis keeps nothing on disk, so the series
// say what it holds, not what it held).
func TestRedisOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Private(t)
	rdb := redistest.ClientAt(t, srv.URL)
	opts := options()
	clock := clockwork.NewFakeClockAt(now)
	opts.Now = clock.Now
	s := redisstore.New(rdb, opts, redisstore.Config{Tenant: redistest.Namespace(t)})
	var d store.Dims
	d.Set(store.Channel, "phone")
	d.Set(store.Team, "billing")
	if _, err := s.Record(context.Background(), []store.Response{{ID: "a", Score: 9, Dims: d, At: now.Add(-time.Minute), AtGiven: true}}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	g := New(s, Options{Entries: entries(t, `[{by: [team], window: 1h}]`), Calendar: opts.Calendar, Now: opts.Now,
		Timeout: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	g.Refresh(context.Background())
	const resp = `pulseboard_nps_responses{by="team",team="billing",window="1h"}`
	const stale = `pulseboard_nps_stale{by="team",window="1h"}`
	const last = `pulseboard_nps_last_success_timestamp_seconds{by="team",window="1h"}`
	if got := series(t, reg); got[resp] != 1 || got[stale] != 0 || got[last] != float64(now.Unix()) {
		t.Fatalf("before the outage: %v", got)
	}

	srv.Kill()
	clock.Advance(15 * time.Second)
	g.Refresh(context.Background())
	g.Refresh(context.Background())
	got := series(t, reg)
	if _, ok := got[resp]; ok || got[stale] != 1 || got[last] != float64(now.Unix()) {
		t.Errorf("during the outage: %v", got)
	}
	if n := strings.Count(logs.String(), "cannot read the store"); n != 1 {
		t.Errorf("outage logged %d times:\n%s", n, logs.String())
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(15 * time.Second)
	g.Refresh(context.Background())
	got = series(t, reg)
	if _, ok := got[resp]; ok || got[stale] != 0 || got[last] != float64(now.Add(30*time.Second).Unix()) {
		t.Errorf("after the outage: %v", got)
	}
	if !strings.Contains(logs.String(), "the store answers again") {
		t.Errorf("recovery not logged:\n%s", logs.String())
	}
}

// TestStaleWithoutRefresh: numbers that were not refreshed for three
// intervals are stale even though no refresh failed (the loop is stuck or
// stopped); a failure is stale at once.
func TestStaleWithoutRefresh(t *testing.T) {
	t.Parallel()
	opts := options()
	clock := clockwork.NewFakeClockAt(now)
	opts.Now = clock.Now
	s := memstore.New(opts)
	defer s.Close()
	var d store.Dims
	d.Set(store.Channel, "phone")
	if _, err := s.Record(context.Background(), []store.Response{{ID: "a", Score: 3, Dims: d, At: now, AtGiven: true}}); err != nil {
		t.Fatal(err)
	}
	f := &failing{Querier: s}
	g := New(f, Options{Entries: entries(t, `[{by: [channel], window: 24h}]`), Calendar: opts.Calendar, Now: opts.Now})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	const score = `pulseboard_nps_score{by="channel",channel="phone",window="24h"}`
	const stale = `pulseboard_nps_stale{by="channel",window="24h"}`
	if got := series(t, reg); got[stale] != 1 || len(got) != 2 {
		t.Errorf("before the first refresh: %v, want stale and no last success", got)
	}
	g.Refresh(context.Background())
	clock.Advance(3 * DefaultEvery)
	if got := series(t, reg); got[score] != -100 || got[stale] != 0 {
		t.Errorf("three intervals on: %v", got)
	}
	clock.Advance(time.Second)
	if got := series(t, reg); got[stale] != 1 {
		t.Errorf("past three intervals: %v", got)
	} else if _, ok := got[score]; ok {
		t.Errorf("stale numbers exported: %v", got)
	}
	g.Refresh(context.Background())
	f.set(true)
	g.Refresh(context.Background())
	if got := series(t, reg); got[stale] != 1 {
		t.Errorf("after a failure: %v", got)
	}
}

// TestRun: Run refreshes at once and then at every tick of its clock, with
// the program's now placing the window; it ends with its context.
func TestRun(t *testing.T) {
	t.Parallel()
	opts := options()
	clock := clockwork.NewFakeClockAt(now)
	opts.Now = clock.Now
	s := memstore.New(opts)
	defer s.Close()
	g := New(s, Options{Entries: entries(t, `[{by: [channel], window: 15m}]`), Calendar: opts.Calendar, Now: opts.Now, Clock: clock})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(g)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); g.Run(ctx) }()
	const resp = `pulseboard_nps_responses{by="channel",channel="sms",window="15m"}`
	waitFor := func(want float64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for series(t, reg)[resp] != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v, want %v", resp, series(t, reg)[resp], want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	var d store.Dims
	d.Set(store.Channel, "sms")
	if _, err := s.Record(ctx, []store.Response{{ID: "a", Score: 8, Dims: d, At: now, AtGiven: true}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := series(t, reg)[resp]; ok {
		t.Fatal("refreshed before its tick")
	}
	clock.Advance(DefaultEvery)
	waitFor(1)
	// 16 minutes on, the answer left the 15m window.
	clock.Advance(16 * time.Minute)
	if _, err := s.Record(ctx, []store.Response{{ID: "b", Score: 8, Dims: d, At: clock.Now(), AtGiven: true}}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultEvery)
	waitFor(1)
	if got := series(t, reg); got[`pulseboard_nps_passives{by="channel",channel="sms",window="15m"}`] != 1 {
		t.Errorf("passives: %v", got)
	}
	cancel()
	<-done
}

func TestBoundLabel(t *testing.T) {
	t.Parallel()
	short := strings.Repeat("é", MaxLabelLen)
	if boundLabel(short) != short {
		t.Error("a 64-character value was cut")
	}
	a, b := strings.Repeat("x", 70)+"a", strings.Repeat("x", 70)+"b"
	ba, bb := boundLabel(a), boundLabel(b)
	if len([]rune(ba)) != MaxLabelLen || ba == bb || !strings.HasPrefix(ba, strings.Repeat("x", 50)) {
		t.Errorf("%q %q", ba, bb)
	}
	long := strings.Repeat("ü", 100)
	if got := boundLabel(long); len([]rune(got)) != MaxLabelLen || !strings.HasPrefix(got, strings.Repeat("ü", 55)) {
		t.Errorf("%q", got)
	}
}

// TestFailingFromStart: a store that never answers is logged once, not at
// every refresh, and its recovery once.
func TestFailingFromStart(t *testing.T) {
	t.Parallel()
	opts := options()
	s := memstore.New(opts)
	defer s.Close()
	f := &failing{Querier: s, fail: true}
	var logs bytes.Buffer
	g := New(f, Options{Entries: entries(t, `[{by: [team], window: 1h}]`), Calendar: opts.Calendar, Now: opts.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	for range 3 {
		g.Refresh(context.Background())
	}
	f.set(false)
	g.Refresh(context.Background())
	g.Refresh(context.Background())
	if n, m := strings.Count(logs.String(), "cannot read the store"), strings.Count(logs.String(), "answers again"); n != 1 || m != 1 {
		t.Errorf("logged the failure %d times and the recovery %d times:\n%s", n, m, logs.String())
	}
}
