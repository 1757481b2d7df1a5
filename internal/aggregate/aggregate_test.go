package aggregate

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// engine is what the tests drive: a whole store, whose contract holds the
// feed the aggregator reads.
type engine = store.Store

func engines(t *testing.T) map[string]func(store.Options) engine {
	return map[string]func(store.Options) engine{
		"memory": func(o store.Options) engine { return memstore.New(o) },
		"redis": func(o store.Options) engine {
			rdb := redistest.Client(t)
			return redisstore.New(rdb, o, redisstore.Config{Tenant: redistest.Namespace(t)})
		},
	}
}

// waitFor polls until cond holds or two seconds pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEqualsEngine runs random traffic with the clock moving and checks, at
// every step, that the aggregator answers every window and breakdown
// exactly as the engine (that is, GET /api/v1/nps) does.
func TestEqualsEngine(t *testing.T) {
	for name, newEngine := range engines(t) {
		t.Run(name, func(t *testing.T) {
			clock := &storetest.Clock{}
			clock.Set(storetest.Start)
			opts := storetest.Options(t, clock)
			eng := newEngine(opts)
			defer eng.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			rng := rand.New(rand.NewPCG(5, 9))
			record := func(n int) {
				for range n {
					batch := make([]store.Response, 1+rng.IntN(20))
					for i := range batch {
						id := fmt.Sprintf("r%d", rng.IntN(3000)) // ids repeat: updates and duplicates
						batch[i] = store.Response{
							ID: id, Score: rng.IntN(11), AtGiven: true, Comment: []string{"", "", "slow"}[rng.IntN(3)],
							At:   clock.Now().Add(-time.Duration(rng.Int64N(int64(36 * time.Hour)))),
							Dims: store.Dims{Channel: []string{"phone", "chat"}[rng.IntN(2)], Team: []string{"a", "b", "c"}[rng.IntN(3)], Agent: fmt.Sprintf("ag%d", rng.IntN(9))},
						}
					}
					if _, err := eng.Record(ctx, batch); err != nil {
						t.Fatal(err)
					}
				}
			}
			record(50) // history before the aggregator starts
			agg := New(eng, opts, opts.Rollups, slog.New(slog.DiscardHandler))
			go agg.Run(ctx)
			waitFor(t, "warm-up", func() bool { return agg.Status().Ready })
			for step := range 6 {
				record(40)
				clock.Advance(time.Duration(step*17) * time.Minute)
				// Wait until the aggregator has read everything written.
				last, err := eng.History(ctx, 1)
				if err != nil {
					t.Fatal(err)
				}
				waitFor(t, "log catch-up", func() bool { return agg.Status().Pos == last[0].Pos })
				for _, w := range window.All {
					for _, by := range [][]store.Dimension{nil, {store.Team}, {store.Agent}, {store.Team, store.Channel}} {
						q := store.Query{By: by, Span: opts.Calendar.Span(w, clock.Now())}
						want, err := eng.Query(ctx, q)
						if err != nil {
							t.Fatal(err)
						}
						got, err := agg.Query(q)
						if err != nil {
							t.Fatal(err)
						}
						if fmt.Sprint(got) != fmt.Sprint(want) {
							t.Fatalf("step %d window %s by %v:\n got %v\nwant %v", step, w.Name, by, got, want)
						}
					}
				}
			}
			if n := len(agg.Recent(10, nil)); n != 10 {
				t.Fatalf("recent answers: %d", n)
			}
		})
	}
}

// TestRewarmsAfterRedisLosesData restarts a Redis without persistence under
// a running aggregator: it must notice the gap, warm up again from the now
// empty engine under a new epoch, and never keep the lost counts.
func TestRewarmsAfterRedisLosesData(t *testing.T) {
	srv := redistest.Private(t)
	clock := &storetest.Clock{}
	clock.Set(time.Now())
	opts := storetest.Options(t, clock)
	eng := redisstore.New(mustClient(t, srv.URL), opts, redisstore.Config{})
	defer eng.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	one := func(id string, score int) {
		t.Helper()
		r := store.Response{ID: id, Score: score, Dims: store.Dims{Channel: "phone"}, At: clock.Now(), AtGiven: true}
		if _, err := eng.Record(ctx, []store.Response{r}); err != nil {
			t.Fatal(err)
		}
	}
	one("before", 10)
	agg := New(eng, opts, opts.Rollups, slog.New(slog.DiscardHandler))
	go agg.Run(ctx)
	waitFor(t, "warm-up", func() bool { return agg.Status().Ready })
	epoch := agg.Status().Epoch
	total := func() int64 {
		g, err := agg.Query(store.Query{Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
		if err != nil {
			return -1
		}
		return g[0].Counts.Responses()
	}
	if total() != 1 {
		t.Fatalf("before restart: %d responses", total())
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	one("after", 2)
	waitFor(t, "re-warm", func() bool { return agg.Status().Epoch != epoch && !agg.Status().Stale && total() == 1 })
	g, _ := agg.Query(store.Query{Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
	if g[0].Counts[2] != 1 {
		t.Fatalf("after re-warm the replica holds %v, want only the new answer", g[0].Counts)
	}
}

func mustClient(t *testing.T, url string) *redis.Client {
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// TestRecentKeepsNewestByTime feeds old answers after new ones (a backfill
// or an import): the feed keeps the newest by answer time.
func TestRecentKeepsNewestByTime(t *testing.T) {
	clock, eng, agg := followMemory(t)
	ctx := context.Background()
	send := func(prefix string, age time.Duration, n int) {
		batch := make([]store.Response, n)
		for i := range batch {
			batch[i] = store.Response{ID: fmt.Sprintf("%s%d", prefix, i), Score: 5, Dims: store.Dims{Channel: "sms"},
				At: clock.Now().Add(-age - time.Duration(i)*time.Second), AtGiven: true, Comment: prefix}
		}
		if _, err := eng.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	send("new", time.Minute, 10)
	send("old", 20*24*time.Hour, recentLength+50)
	waitFor(t, "log catch-up", func() bool { return agg.Status().Pos.Seq == 2 })
	got := agg.Recent(10, nil)
	for _, a := range got {
		if a.Comment != "new" {
			t.Fatalf("the feed shows an old answer %+v before today's", a)
		}
	}
}

// TestFeedFollowsEdits: an answer whose comment is removed leaves the feed;
// answers without a comment never enter it.
func TestFeedFollowsEdits(t *testing.T) {
	clock, eng, agg := followMemory(t)
	ctx := context.Background()
	r := store.Response{ID: "c1", Score: 3, Dims: store.Dims{Channel: "sms"}, At: clock.Now(), AtGiven: true, Comment: "call me"}
	plain := store.Response{ID: "p1", Score: 9, Dims: store.Dims{Channel: "sms"}, At: clock.Now(), AtGiven: true}
	if _, err := eng.Record(ctx, []store.Response{r, plain}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the answer in the feed", func() bool { return len(agg.Recent(10, nil)) == 1 })
	r.Comment = ""
	if _, err := eng.Record(ctx, []store.Response{r}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the edited answer out of the feed", func() bool { return len(agg.Recent(10, nil)) == 0 })
}

// followMemory runs a warmed-up aggregator over a fresh memory engine; both
// stop when the test ends.
func followMemory(t *testing.T) (*storetest.Clock, *memstore.Store, *Aggregator) {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	eng := memstore.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	agg := New(eng, opts, opts.Rollups, slog.New(slog.DiscardHandler))
	go agg.Run(ctx)
	t.Cleanup(func() { cancel(); eng.Close() })
	waitFor(t, "warm-up", func() bool { return agg.Status().Ready })
	return clock, eng, agg
}
