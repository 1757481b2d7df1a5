package jobs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

// TestDailyAcrossSkippedMidnight drives gocron with a fake clock through
// the spring forward of a zone whose clocks skip local midnight: a
// daily job at 00:00 or 00:30 (wall times that do not exist on that day)
// and one at 08:00 each run once on every local day, with a tick on that
// day: the first instant the clocks show that time or later (01:00 on the
// skipped day). A tick on the day before would have the daily digest sum
// up the day before that a second time and never the day itself.
func TestDailyAcrossSkippedMidnight(t *testing.T) {
	// Santiago stands for the three midnight zones (window's tests cover
	// them all): gocron fails the same way in each, and a fake-clock run
	// costs seconds under the race detector.
	for _, zone := range windowtest.MidnightZones[:1] {
		loc := windowtest.Load(t, zone)
		trs := windowtest.Transitions(loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC))
		var tr time.Time
		for _, c := range trs {
			if c.In(loc).Hour() == 1 {
				tr = c
			}
		}
		t.Run(zone, func(t *testing.T) {
			start := tr.Add(-28 * time.Hour)
			end := tr.Add(28 * time.Hour)
			fake := clockwork.NewFakeClockAt(start)
			runs := make(chan ran, 64)
			record := recorder(runs)
			wall := map[string][3]int{"midnight": {0, 0, 0}, "half-past": {0, 30, 0}, "eight": {8, 0, 0}}
			var js []Job
			for name, w := range wall {
				js = append(js, Job{Name: name, Schedule: Daily(w[0], w[1], w[2]), Run: record(name)})
			}
			s, err := New(Options{Claimer: NewLocalClaimer(fake.Now), Clock: fake, Location: loc}, js...)
			if err != nil {
				t.Fatal(err)
			}
			s.Start()
			t.Cleanup(func() { _ = s.Shutdown() })
			// The runs each job must make: on every local day, at the first
			// minute whose clock shows its wall time or later.
			want := map[string][]time.Time{}
			for name, w := range wall {
				sy, sm, sd := start.In(loc).Date()
				for day := time.Date(sy, sm, sd, 12, 0, 0, 0, time.UTC); ; day = day.AddDate(0, 0, 1) {
					y, m, d := day.Date()
					at := windowtest.DayStart(loc, y, m, d)
					for l := at.In(loc); l.Hour()*3600+l.Minute()*60+l.Second() < w[0]*3600+w[1]*60+w[2]; l = at.In(loc) {
						at = at.Add(time.Minute)
					}
					if !at.Before(end) {
						break
					}
					if !at.Before(start) {
						want[name] = append(want[name], at)
					}
				}
			}
			// Step the clock an hour at a time, onto each wanted tick,
			// and a minute at a time while a tick that is due has not run
			// yet: a wake-up can be skipped while the last one is still
			// finishing, and the next one, a minute later, runs the tick.
			got := map[string][]time.Time{}
			for fake.Now().Before(end) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				err := fake.BlockUntilContext(ctx, len(js))
				cancel()
				if err != nil {
					drain(runs, got, 100*time.Millisecond)
					t.Fatalf("at %s gocron has fewer than %d timers armed: a job stopped (runs so far %v)", fake.Now().In(loc), len(js), got)
				}
				now := fake.Now()
				step := time.Hour
				due := 0
				for _, ticks := range want {
					for _, at := range ticks {
						if !at.After(now) {
							due++
						} else if at.Sub(now) < step {
							step = at.Sub(now)
						}
					}
				}
				if count(got) < due {
					step = time.Minute
				}
				fake.Advance(step)
				drain(runs, got, 5*time.Millisecond)
			}
			drain(runs, got, 200*time.Millisecond)
			for name := range wall {
				if g, w := fmt.Sprint(inZone(got[name], loc)), fmt.Sprint(inZone(want[name], loc)); g != w {
					t.Errorf("%s ticks:\n got %v\nwant %v", name, g, w)
				}
			}
		})
	}
}

func count(m map[string][]time.Time) int {
	n := 0
	for _, ts := range m {
		n += len(ts)
	}
	return n
}

func inZone(ts []time.Time, loc *time.Location) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.In(loc).Format("Jan 2 15:04 MST"))
	}
	return out
}

// TestTickSkippedWallTime: on the day the clocks skip 00:00-01:00, the tick
// of a daily 00:30 job is 01:00 that day, whether the run wakes just before
// midnight or after; never 23:30 the day before (time.Date's reading of the
// missing 00:30), which would give that day two ticks.
func TestTickSkippedWallTime(t *testing.T) {
	loc := windowtest.Load(t, "America/Santiago")
	want := time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC) // 01:00 -03
	for _, now := range []time.Time{
		time.Date(2026, 9, 6, 3, 30, 0, 0, time.UTC), // 23:30 -04, Sep 5
		time.Date(2026, 9, 6, 4, 0, 0, 0, time.UTC),
		time.Date(2026, 9, 6, 4, 5, 0, 0, time.UTC),
	} {
		if got := Daily(0, 30, 0).Tick(now, loc); !got.Equal(want) {
			t.Errorf("daily 00:30 at %s: tick %s, want %s", now.In(loc), got.In(loc), want.In(loc))
		}
		if got := Weekly(time.Sunday, 0, 30, 0).Tick(now, loc); !got.Equal(want) {
			t.Errorf("weekly Sunday 00:30 at %s: tick %s, want %s", now.In(loc), got.In(loc), want.In(loc))
		}
	}
}
