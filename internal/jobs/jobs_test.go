package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pulseboard/pulseboard/internal/redistest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// claimers returns both claimers on the real clock, the Redis one in a
// namespace of its own.
func claimers(t *testing.T) map[string]Claimer {
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	return map[string]Claimer{"local": NewLocalClaimer(nil), "redis": NewRedisClaimer(rdb, ns)}
}

// TestClaimer is the one suite both claimers pass.
func TestClaimer(t *testing.T) {
	for name, c := range claimers(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			tick := time.Unix(1_800_000_000, 0)
			release, err := c.Claim(ctx, "j", tick, time.Minute, time.Minute)
			if err != nil {
				t.Fatalf("first claim: %v", err)
			}
			if _, err := c.Claim(ctx, "j", tick.Add(time.Second), time.Minute, time.Minute); !errors.Is(err, ErrTaken) {
				t.Fatalf("next tick while the run lease is held: %v, want ErrTaken", err)
			}
			if err := release(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Claim(ctx, "j", tick, time.Minute, time.Minute); !errors.Is(err, ErrTaken) {
				t.Fatalf("same tick after release: %v, want ErrTaken (a tick runs once)", err)
			}
			if _, err := c.Claim(ctx, "other", tick, time.Minute, time.Minute); err != nil {
				t.Fatalf("another job's same tick: %v", err)
			}
			// A run lease whose node died expires by itself.
			if _, err := c.Claim(ctx, "j", tick.Add(2*time.Second), time.Minute, 50*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			time.Sleep(120 * time.Millisecond)
			release, err = c.Claim(ctx, "j", tick.Add(3*time.Second), time.Minute, time.Minute)
			if err != nil {
				t.Fatalf("after an abandoned lease expired: %v", err)
			}
			// An old release must not free a lease another run holds now.
			_ = release(ctx)
			for i := range 3 {
				if err := c.Ran(ctx, Run{Job: "j", Tick: tick.Add(time.Duration(i%2) * time.Second), Node: "n1"}); err != nil {
					t.Fatal(err)
				}
			}
			runs, err := c.Runs(ctx, "j")
			if err != nil {
				t.Fatal(err)
			}
			if runs[tick.Unix()] != 2 || runs[tick.Unix()+1] != 1 || len(runs) != 2 {
				t.Errorf("ledger %v", runs)
			}
			last, err := c.Last(ctx)
			if err != nil || last["j"].Node != "n1" {
				t.Errorf("last %v %v", last, err)
			}
		})
	}
}

// TestTwoSchedulersOneRedis runs two schedulers on one Redis with the real
// clock: every tick of a one-second job ran exactly once between them.
func TestTwoSchedulersOneRedis(t *testing.T) {
	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	var mu sync.Mutex
	byTick := map[int64][]string{}
	for _, node := range []string{"a", "b"} {
		s, err := New(Options{Claimer: NewRedisClaimer(rdb, ns), Node: node}, Job{
			Name: "tick", Schedule: Every(time.Second),
			Run: func(_ context.Context, tick time.Time) error {
				mu.Lock()
				byTick[tick.Unix()] = append(byTick[tick.Unix()], node)
				mu.Unlock()
				return nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		t.Cleanup(func() { _ = s.Shutdown() })
	}
	time.Sleep(4500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(byTick) < 3 {
		t.Fatalf("only %d ticks ran in 4.5 s: %v", len(byTick), byTick)
	}
	for tick, nodes := range byTick {
		if len(nodes) != 1 {
			t.Errorf("tick %d ran on %v, want one node", tick, nodes)
		}
	}
	runs, err := NewRedisClaimer(rdb, ns).Runs(context.Background(), "tick")
	if err != nil {
		t.Fatal(err)
	}
	for tick, n := range runs {
		if n != 1 {
			t.Errorf("ledger: tick %d ran %d times", tick, n)
		}
	}
}

// TestScheduleWithFakeClock drives gocron with a clockwork fake clock: an
// interval job runs on each multiple of its interval, a daily job at its
// local wall time in the center's zone, each with the tick it belongs to.
func TestScheduleWithFakeClock(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 9, 7, 58, 30, 0, ny)
	fake := clockwork.NewFakeClockAt(start)
	runs := make(chan ran, 16)
	record := recorder(runs)
	s, err := New(Options{Claimer: NewLocalClaimer(fake.Now), Clock: fake, Location: ny},
		Job{Name: "minutely", Schedule: Every(time.Minute), Run: record("minutely")},
		Job{Name: "digest", Schedule: Daily(8, 0, 0), Run: record("digest")},
		Job{Name: "weekly", Schedule: Weekly(time.Tuesday, 8, 0, 0), Run: record("weekly")},
	)
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	t.Cleanup(func() { _ = s.Shutdown() })

	got := map[string][]time.Time{}
	want := map[string][]time.Time{
		"minutely": {time.Date(2026, 3, 9, 7, 59, 0, 0, ny), time.Date(2026, 3, 9, 8, 0, 0, 0, ny), time.Date(2026, 3, 9, 8, 1, 0, 0, ny)},
		"digest":   {time.Date(2026, 3, 9, 8, 0, 0, 0, ny)},
	}
	// Step the fake clock in 10 s steps to 08:01:20, letting the scheduler
	// take each step before the next.
	for fake.Now().Before(time.Date(2026, 3, 9, 8, 1, 20, 0, ny)) {
		waitTimers(t, fake)
		fake.Advance(10 * time.Second)
		drain(runs, got, 100*time.Millisecond)
	}
	drain(runs, got, 300*time.Millisecond)
	for job, ticks := range want {
		if fmt.Sprint(got[job]) != fmt.Sprint(ticks) {
			t.Errorf("%s ran at %v, want %v", job, got[job], ticks)
		}
	}
	if len(got["weekly"]) != 0 {
		t.Errorf("weekly (Tuesdays) ran on a Monday: %v", got["weekly"])
	}
	if d := want["digest"][0]; d.UTC().Hour() != 12 {
		t.Errorf("08:00 in New York after the DST change should be 12:00 UTC, got %s", d.UTC())
	}
}

// waitTimers waits until gocron has armed its timers on the fake clock.
func waitTimers(t *testing.T, fake *clockwork.FakeClock) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := fake.BlockUntilContext(ctx, 3); err != nil {
		t.Fatalf("gocron did not arm its three timers: %v", err)
	}
}

// ran is one run a test job saw.
type ran struct {
	job  string
	tick time.Time
}

// recorder returns, for a job name, a run function that reports each run
// with its tick on runs.
func recorder(runs chan<- ran) func(name string) func(context.Context, time.Time) error {
	return func(name string) func(context.Context, time.Time) error {
		return func(_ context.Context, tick time.Time) error {
			runs <- ran{name, tick}
			return nil
		}
	}
}

func drain(ch chan ran, into map[string][]time.Time, wait time.Duration) {
	deadline := time.After(wait)
	for {
		select {
		case r := <-ch:
			into[r.job] = append(into[r.job], r.tick)
		case <-deadline:
			return
		}
	}
}

func TestTick(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, ny)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		s    Schedule
		now  string
		want string
	}{
		{Every(time.Minute), "2026-03-09 07:59:59", "2026-03-09 08:00:00"},
		{Every(time.Minute), "2026-03-09 08:00:01", "2026-03-09 08:00:00"},
		{Daily(8, 0, 0), "2026-03-09 07:59:58", "2026-03-09 08:00:00"},
		{Daily(8, 0, 0), "2026-03-09 08:00:02", "2026-03-09 08:00:00"},
		{Weekly(time.Monday, 8, 0, 0), "2026-03-09 08:00:01", "2026-03-09 08:00:00"},
	}
	for _, c := range cases {
		if got := c.s.Tick(at(c.now), ny); !got.Equal(at(c.want)) {
			t.Errorf("%s at %s: tick %s, want %s", c.s, c.now, got, c.want)
		}
	}
}
