package boards

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// templateYAML is a team template with a tile of each kind that counts,
// and a listed template beside it.
const templateYAML = `boards:
- name: floor
  tiles:
  - {id: n, view: count, window: 24h}
- name: team
  title: "Team {value}"
  for_each: team
  privacy: {show_agents: true}
  tiles:
  - {id: nps-24h, view: headline, window: 24h}
  - {id: n-30d, view: count, window: 30d}
  - {id: channels, view: breakdown, by: channel, window: 7d}
  - {id: agents, view: leaderboard, by: agent, window: 30d, top: 50}
  - {id: phone, view: count, window: 7d, filters: {channel: phone}}
- name: pair
  for_each: {dimension: team, values: [sales, nobody]}
  tiles:
  - {id: n, view: count, window: 7d}
`

// live is a real engine followed by a real aggregator, with the raw
// answers kept for brute force.
type live struct {
	clock *storetest.Clock
	opts  store.Options
	eng   store.Store
	agg   *aggregate.Aggregator
	raw   []store.Response
}

func engines(t *testing.T) map[string]func(store.Options) store.Store {
	return map[string]func(store.Options) store.Store{
		"memory": func(o store.Options) store.Store { return memstore.New(o) },
		"redis": func(o store.Options) store.Store {
			return redisstore.New(redistest.Client(t), o, redisstore.Config{Tenant: redistest.Namespace(t)})
		},
	}
}

func startLive(t testing.TB, newEngine func(store.Options) store.Store) *live {
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	l := &live{clock: clock, opts: storetest.Options(t, clock)}
	l.eng = newEngine(l.opts)
	t.Cleanup(func() { l.eng.Close() })
	l.agg = aggregate.New(l.eng, l.opts, l.opts.Rollups, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go l.agg.Run(ctx)
	return l
}

// record stores answers and waits until the aggregator has read them.
func (l *live) record(t *testing.T, rs ...store.Response) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.eng.Record(ctx, rs); err != nil {
		t.Fatal(err)
	}
	l.raw = append(l.raw, rs...)
	last, err := l.eng.History(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for st := l.agg.Status(); !st.Ready || st.Pos != last[0].Pos; st = l.agg.Status() {
		if time.Now().After(deadline) {
			t.Fatal("the aggregator did not catch up")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// brute counts the raw answers in span that match every filter.
func (l *live) brute(span window.Span, filters map[store.Dimension]string) nps.Distribution {
	var d nps.Distribution
	for _, r := range l.raw {
		if r.At.Before(span.From) || !r.At.Before(span.To) {
			continue
		}
		ok := true
		for dim, v := range filters {
			ok = ok && r.Dims.Get(dim) == v
		}
		if ok {
			d[r.Score]++
		}
	}
	return d
}

// teamsSeen is the brute-force answer to "which teams answered in the
// last 30 days".
func (l *live) teamsSeen() []string {
	span := l.opts.Calendar.Span(board.DiscoveryWindow, l.clock.Now())
	var out []string
	for _, r := range l.raw {
		if v := r.Dims.Team; v != "" && !r.At.Before(span.From) && r.At.Before(span.To) && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

func instanceNames(r *Registry, template string) []string {
	var out []string
	for _, e := range r.Index() {
		if e.Name == template {
			for _, in := range e.Instances {
				out = append(out, in.Name)
			}
		}
	}
	return out
}

func prefixed(p string, vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = p + v
	}
	return out
}

// TestTemplateInstancesAgainstBruteForce: on both engines, a template has a
// board for exactly the teams seen in the last 30 days, and every tile of
// every instance shows what a brute-force count of the raw answers filtered
// to its team gives; a team that appears later gets its board at the next
// Refresh, and one that leaves the window loses it unless a screen shows it.
func TestTemplateInstancesAgainstBruteForce(t *testing.T) {
	for name, newEngine := range engines(t) {
		t.Run(name, func(t *testing.T) {
			l := startLive(t, newEngine)
			rng := rand.New(rand.NewPCG(15, 4))
			teams := []string{"billing", "first line", "a@b.c", "sales", ""}
			var rs []store.Response
			for i := range 600 {
				rs = append(rs, store.Response{
					ID: fmt.Sprintf("r%d", i), Score: rng.IntN(11), AtGiven: true,
					At: l.clock.Now().Add(-time.Duration(rng.Int64N(int64(29 * 24 * time.Hour)))),
					Dims: store.Dims{Channel: []string{"phone", "chat", "email"}[rng.IntN(3)], Team: teams[rng.IntN(len(teams))],
						Agent: fmt.Sprintf("ag%d", rng.IntN(7))},
				})
			}
			// A team last heard of 35 days ago has no board.
			rs = append(rs, store.Response{ID: "old", Score: 9, AtGiven: true, At: l.clock.Now().Add(-35 * 24 * time.Hour),
				Dims: store.Dims{Channel: "phone", Team: "gone"}})
			l.record(t, rs...)

			defs, err := board.Parse([]byte(templateYAML), store.DefaultSchema(), store.DefaultRollups())
			if err != nil {
				t.Fatal(err)
			}
			comp := board.Computer{Calendar: l.opts.Calendar, MinSample: 3}
			r := New(l.agg, comp, defs)
			signals := r.Subscribe()
			if got := instanceNames(r, "team"); got != nil || r.Discovered() {
				t.Fatalf("instances before the first Refresh: %v, discovered %v", got, r.Discovered())
			}
			if got := instanceNames(r, "pair"); !slices.Equal(got, []string{"pair/nobody", "pair/sales"}) {
				t.Fatalf("a listed template's boards %v, want its values at once, sorted", got)
			}
			ch, err := r.Refresh(l.clock.Now(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if !r.Discovered() {
				t.Fatal("not discovered after a Refresh that succeeded")
			}
			want := l.teamsSeen()
			if !slices.Equal(want, []string{"a@b.c", "billing", "first line", "sales"}) {
				t.Fatalf("brute force found %v: the fixture is wrong", want)
			}
			if got := instanceNames(r, "team"); !slices.Equal(got, prefixed("team/", want)) || !slices.Equal(ch.Added, got) || ch.Removed != nil {
				t.Fatalf("instances %v (added %v, removed %v), want %v", got, ch.Added, ch.Removed, want)
			}
			select {
			case <-signals:
			default:
				t.Fatal("new instances did not signal the subscribers")
			}
			if got := board.Names(r.Boards()); !slices.Equal(got, []string{"floor", "pair/nobody", "pair/sales", "team/a@b.c", "team/billing", "team/first line", "team/sales"}) {
				t.Fatalf("boards served: %v", got)
			}
			checkInstances(t, l, r)

			// A refresh that finds the same values changes nothing and
			// tells nobody: screens are not reloaded every two seconds.
			if ch, err := r.Refresh(l.clock.Now(), nil); err != nil || ch.Added != nil || ch.Removed != nil {
				t.Fatalf("second refresh: %+v, %v", ch, err)
			}
			select {
			case <-signals:
				t.Fatal("a refresh that changed nothing signalled")
			default:
			}

			// A team that appears after start gets its board.
			l.record(t, store.Response{ID: "new-1", Score: 3, AtGiven: true, At: l.clock.Now().Add(-time.Minute),
				Dims: store.Dims{Channel: "chat", Team: "night shift", Agent: "ag1"}})
			if _, ok := r.Board("team/night shift"); ok {
				t.Fatal("an instance before the refresh that finds it")
			}
			if ch, err := r.Refresh(l.clock.Now(), nil); err != nil || !slices.Equal(ch.Added, []string{"team/night shift"}) {
				t.Fatalf("refresh after the new team: %+v, %v", ch, err)
			}
			checkInstances(t, l, r)

			// 31 days on, only the new team's answer... is also gone; a
			// fresh answer keeps sales. billing stays while a screen
			// shows it.
			l.clock.Advance(31 * 24 * time.Hour)
			l.record(t, store.Response{ID: "late-1", Score: 10, AtGiven: true, At: l.clock.Now(), Dims: store.Dims{Channel: "chat", Team: "sales"}})
			watched := func(name string) bool { return name == "team/billing" }
			ch, err = r.Refresh(l.clock.Now(), watched)
			if err != nil {
				t.Fatal(err)
			}
			if got := instanceNames(r, "team"); !slices.Equal(got, []string{"team/billing", "team/sales"}) {
				t.Fatalf("after 31 days: %v, want sales (answered) and billing (watched)", got)
			}
			if !slices.Equal(ch.Removed, []string{"team/a@b.c", "team/first line", "team/night shift"}) {
				t.Fatalf("removed %v", ch.Removed)
			}
			if _, err := r.Refresh(l.clock.Now(), nil); err != nil {
				t.Fatal(err)
			}
			if got := instanceNames(r, "team"); !slices.Equal(got, []string{"team/sales"}) {
				t.Fatalf("once nobody watches: %v", got)
			}
			checkInstances(t, l, r)
		})
	}
}

// checkInstances computes every instance of the team template and compares
// each tile with brute force over the raw answers.
func checkInstances(t *testing.T, l *live, r *Registry) {
	t.Helper()
	now := l.clock.Now()
	cal := l.opts.Calendar
	for _, name := range instanceNames(r, "team") {
		def, _ := r.Board(name)
		v, _, err := r.View(name, now)
		if err != nil {
			t.Fatal(err)
		}
		if v.Title != "Team "+def.Value {
			t.Errorf("%s: title %q", name, v.Title)
		}
		team := map[store.Dimension]string{store.Team: def.Value}
		for i, tile := range def.Tiles {
			tv := v.Tiles[i]
			span := cal.Span(tile.Window, now)
			switch tile.View {
			case board.Headline, board.Count:
				want := l.brute(span, tile.Filters)
				if tv.Figure.Responses != want.Responses() || !reflect.DeepEqual(*tv.Figure, board.FigureOf(tile.Title, want, tile.Thresholds, 3)) {
					t.Errorf("%s tile %s: %+v, want %d answers: %v", name, tile.ID, *tv.Figure, want.Responses(), want)
				}
				if tile.ID == "phone" && tile.Filters[store.Channel] != "phone" {
					t.Errorf("%s: the tile's own filter is lost: %v", name, tile.Filters)
				}
			case board.Breakdown, board.Leaderboard:
				rows := map[string]board.Figure{}
				for _, row := range tv.Rows {
					rows[row.Label] = row.Figure
				}
				seen := 0
				for _, x := range []string{"phone", "chat", "email", "ag0", "ag1", "ag2", "ag3", "ag4", "ag5", "ag6"} {
					f := map[store.Dimension]string{store.Team: def.Value, tile.By: x}
					want := l.brute(span, f)
					got, ok := rows[x]
					if want.Responses() == 0 {
						if ok {
							t.Errorf("%s tile %s: row %s with no answers", name, tile.ID, x)
						}
						continue
					}
					seen++
					if !ok || !reflect.DeepEqual(got, board.FigureOf(x, want, tile.Thresholds, 3)) {
						t.Errorf("%s tile %s row %s: %+v, want %d answers", name, tile.ID, x, got, want.Responses())
					}
				}
				if seen != len(rows) {
					t.Errorf("%s tile %s: %d rows, brute force has %d", name, tile.ID, len(rows), seen)
				}
			}
		}
		// The whole team over 30 days, as a cross-check of the filter.
		if got, want := v.Tiles[1].Figure.Responses, l.brute(cal.Span(window.Rolling30d, now), team).Responses(); got != want {
			t.Errorf("%s: 30d count %d, brute force %d", name, got, want)
		}
	}
}

// BenchmarkRefresh measures finding a template's values: 40 teams, 240,000
// answers over 30 days, in the memory engine's replica (docs/BENCHMARKS.md).
func BenchmarkRefresh(b *testing.B) {
	l := startLive(b, func(o store.Options) store.Store { return memstore.New(o) })
	rng := rand.New(rand.NewPCG(1, 2))
	batch := make([]store.Response, 0, 1000)
	for i := range 240_000 {
		batch = append(batch, store.Response{ID: fmt.Sprintf("r%d", i), Score: rng.IntN(11), AtGiven: true,
			At:   l.clock.Now().Add(-time.Duration(rng.Int64N(int64(30 * 24 * time.Hour)))),
			Dims: store.Dims{Channel: "phone", Team: fmt.Sprintf("team-%d", rng.IntN(40)), Agent: fmt.Sprintf("ag%d", rng.IntN(480))}})
		if len(batch) == cap(batch) {
			if _, err := l.eng.Record(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	for !l.agg.Status().Ready {
		time.Sleep(time.Millisecond)
	}
	defs, err := board.Parse([]byte(templateYAML), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		b.Fatal(err)
	}
	r := New(l.agg, board.Computer{Calendar: l.opts.Calendar, MinSample: 3}, defs)
	b.ResetTimer()
	for b.Loop() {
		if _, err := r.Refresh(l.clock.Now(), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if n := len(instanceNames(r, "team")); n != 40 {
		b.Fatalf("%d instances, want 40", n)
	}
}
