// Package jobs runs Pulseboard's scheduled jobs with gocron, once per
// cluster rather than once per node.
//
// Every node runs the same gocron scheduler. Before a job runs, gocron asks
// the distributed locker; this package's locker works out the job's tick
// (the scheduled instant the run belongs to: the nearest multiple of an
// interval, or the nearest daily or weekly wall time) and asks a Claimer to
// claim that tick. A Claimer grants each (job, tick) once: the Redis one
// with SET NX PX on a key of the job name and the tick, the local one (the
// memory engine, one node) with a map. A second key, the job's run lease,
// is held while the run lasts and released with a compare-and-delete, so a
// slow run never overlaps the next tick's run on another node.
//
// Every run is written to a ledger (tick → number of runs), which the
// self-check and the tests read: each tick must have run exactly once.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/pulseboard/pulseboard/internal/window"
)

// Schedule says when a job runs: every interval (aligned to multiples of
// it), or daily or weekly at a local wall time.
type Schedule struct {
	every   time.Duration
	weekly  bool
	weekday time.Weekday
	hour    int
	minute  int
	second  int
}

// Every runs a job at each multiple of d (d of a minute runs on every
// minute boundary).
func Every(d time.Duration) Schedule { return Schedule{every: d} }

// Daily runs a job every day at hour:minute:second, local time.
func Daily(hour, minute, second int) Schedule {
	return Schedule{hour: hour, minute: minute, second: second}
}

// Weekly runs a job every week on day at hour:minute:second, local time.
func Weekly(day time.Weekday, hour, minute, second int) Schedule {
	return Schedule{weekly: true, weekday: day, hour: hour, minute: minute, second: second}
}

func (s Schedule) String() string {
	switch {
	case s.every > 0:
		return "every " + s.every.String()
	case s.weekly:
		return fmt.Sprintf("%s %02d:%02d:%02d", s.weekday, s.hour, s.minute, s.second)
	default:
		return fmt.Sprintf("daily %02d:%02d:%02d", s.hour, s.minute, s.second)
	}
}

// period is the time between two ticks.
func (s Schedule) period() time.Duration {
	switch {
	case s.every > 0:
		return s.every
	case s.weekly:
		return 7 * 24 * time.Hour
	default:
		return 24 * time.Hour
	}
}

// Tick is the scheduled instant a run at now belongs to: the nearest one,
// so nodes whose clocks or timers differ by less than half a period agree.
func (s Schedule) Tick(now time.Time, loc *time.Location) time.Time {
	if s.every > 0 {
		return now.Round(s.every)
	}
	local := now.In(loc)
	y, m, d := local.Date()
	best := time.Time{}
	for off := -7; off <= 7; off++ {
		// WallTime, not time.Date: where the clocks skip the wall time
		// (00:30 where they jump from 00:00 to 01:00), time.Date gives
		// 23:30 the day before, and that day would have two ticks and the
		// skipped one none.
		c := window.WallTime(loc, y, m, d+off, s.hour, s.minute, s.second)
		if s.weekly && c.In(loc).Weekday() != s.weekday {
			continue
		}
		if best.IsZero() || absDur(c.Sub(now)) < absDur(best.Sub(now)) {
			best = c
		}
	}
	return best
}

// due reports whether a wake-up at now may run tick. Interval jobs are
// woken at their ticks. Daily and weekly jobs are woken every second (see
// add) and may run from their tick for wallGrace, so a wake-up that came
// late still runs it; the claim makes it run once.
func (s Schedule) due(tick, now time.Time) bool {
	if s.every > 0 {
		return true
	}
	return !now.Before(tick) && now.Sub(tick) < wallGrace
}

const (
	// wallCheck is how often daily and weekly jobs look for a due tick:
	// their wall times are to the second.
	wallCheck = time.Second
	// wallGrace is how long after its tick a daily or weekly run may
	// start; well under the claim's hold.
	wallGrace = 10 * time.Minute
)

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// hold is how long a tick's claim is kept: long after every node's timer
// for that tick has fired, short enough to leave little behind.
func (s Schedule) hold() time.Duration { return min(max(2*s.period(), time.Minute), time.Hour) }

// lease bounds one run: the run lease expires by itself if its node dies.
func (s Schedule) lease() time.Duration {
	return min(max(2*s.period(), 30*time.Second), 10*time.Minute)
}

// Job is one scheduled job. Run gets the tick the run belongs to and a
// context that ends when the run lease would.
type Job struct {
	Name     string
	Schedule Schedule
	Run      func(ctx context.Context, tick time.Time) error
}

// errNotDue turns down a wake-up of a daily or weekly job with no tick due;
// gocron then skips the run quietly.
var errNotDue = errors.New("job tick not due")

// ErrTaken means another node has claimed the tick, or is still running the
// job's previous tick.
var ErrTaken = errors.New("job tick taken by another run")

// Claimer grants each (job, tick) to one run in the cluster and keeps the
// ledger of runs.
type Claimer interface {
	// Claim takes the tick (kept for hold) and the job's run lease (for
	// lease); release gives the lease back. ErrTaken when another run has
	// either.
	Claim(ctx context.Context, job string, tick time.Time, hold, lease time.Duration) (release func(context.Context) error, err error)
	// Ran records a run of a tick by node in the ledger.
	Ran(ctx context.Context, r Run) error
	// Runs returns the ledger of a job: runs per tick (unix seconds).
	Runs(ctx context.Context, job string) (map[int64]int, error)
	// Last returns the last recorded run of each job.
	Last(ctx context.Context) (map[string]Run, error)
}

// Run is one ledger line.
type Run struct {
	Job   string        `json:"job"`
	Tick  time.Time     `json:"tick"`
	Node  string        `json:"node"`
	Took  time.Duration `json:"took"`
	Error string        `json:"error,omitempty"`
}

// ledgerKeep is how long the ledger remembers runs.
const ledgerKeep = 48 * time.Hour

// Options configure a Scheduler.
type Options struct {
	Claimer Claimer
	// Clock drives gocron, ticks and the runs' durations; nil is the real
	// clock. Tests pass a clockwork fake clock. A LocalClaimer should read
	// the same clock (NewLocalClaimer(clock.Now)).
	Clock clockwork.Clock
	// Location is the zone of daily and weekly wall times.
	Location *time.Location
	// Node names this process in the ledger and logs.
	Node   string
	Logger *slog.Logger
}

// Scheduler is one node's gocron scheduler.
type Scheduler struct {
	cron gocron.Scheduler
	o    Options
	jobs map[string]Job

	mu      sync.Mutex
	claimed map[string]time.Time // the tick each job's current run claimed
	// settled is the last tick of each daily or weekly job this node ran or
	// found taken: its later wake-ups within the grace leave the claimer
	// alone.
	settled map[string]time.Time
}

// New makes a scheduler for jobs; Start starts it.
func New(o Options, jobs ...Job) (*Scheduler, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Scheduler{o: o, jobs: map[string]Job{}, claimed: map[string]time.Time{}, settled: map[string]time.Time{}}
	cron, err := gocron.NewScheduler(
		gocron.WithClock(o.Clock),
		gocron.WithLocation(o.Location),
		gocron.WithDistributedLocker(locker{s}),
		gocron.WithStopTimeout(5*time.Second),
		gocron.WithLogger(gocronLogger{o.Logger}),
	)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	s.cron = cron
	for _, j := range jobs {
		if err := s.add(j); err != nil {
			if serr := cron.Shutdown(); serr != nil {
				err = errors.Join(err, fmt.Errorf("jobs: stop the scheduler: %w", serr))
			}
			return nil, err
		}
	}
	return s, nil
}

func (s *Scheduler) add(j Job) error {
	if _, dup := s.jobs[j.Name]; dup || j.Name == "" {
		return fmt.Errorf("jobs: job name %q is empty or used twice", j.Name)
	}
	s.jobs[j.Name] = j
	var def gocron.JobDefinition
	opts := []gocron.JobOption{gocron.WithName(j.Name), gocron.WithSingletonMode(gocron.LimitModeReschedule)}
	sc := j.Schedule
	// Daily and weekly jobs are not gocron's DailyJob and WeeklyJob: in a
	// zone whose clocks skip midnight (America/Santiago, America/Havana,
	// Atlantic/Azores), gocron's next run of a job at 00:xx on the day before
	// comes out as no run at all, and the job never runs again. Instead they
	// wake every second, and the locker runs them at the first wake-up at
	// or after their tick (Schedule.due), computed with window.WallTime.
	// A wake-up with nothing due costs a few microseconds and no I/O.
	wake := sc.every
	if wake == 0 {
		wake = wallCheck
	}
	def = gocron.DurationJob(wake)
	// Start on the next multiple, so every node's ticks fall on the same
	// instants.
	first := s.o.Clock.Now().Truncate(wake).Add(wake)
	opts = append(opts, gocron.WithStartAt(gocron.WithStartDateTime(first)))
	if _, err := s.cron.NewJob(def, gocron.NewTask(s.task(j)), opts...); err != nil {
		return fmt.Errorf("jobs: %s (%s): %w", j.Name, sc, err)
	}
	return nil
}

// task wraps a job: it runs the tick the locker claimed and writes the
// ledger.
func (s *Scheduler) task(j Job) func(ctx context.Context) {
	return func(ctx context.Context) {
		s.mu.Lock()
		tick := s.claimed[j.Name]
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(ctx, j.Schedule.lease()/2)
		defer cancel()
		began := s.o.Clock.Now()
		err := j.Run(ctx, tick)
		r := Run{Job: j.Name, Tick: tick, Node: s.o.Node, Took: s.o.Clock.Since(began)}
		if err != nil {
			r.Error = err.Error()
			s.o.Logger.Warn("job failed", slog.String("job", j.Name), slog.Time("tick", tick), slog.Any("err", err))
		} else {
			s.o.Logger.Debug("job ran", slog.String("job", j.Name), slog.Time("tick", tick), slog.Duration("took", r.Took))
		}
		if err := s.o.Claimer.Ran(context.WithoutCancel(ctx), r); err != nil {
			s.o.Logger.Warn("job ledger", slog.String("job", j.Name), slog.Any("err", err))
		}
	}
}

// Start starts the scheduler.
func (s *Scheduler) Start() { s.cron.Start() }

// Shutdown stops scheduling and waits for running jobs (up to 5 s).
func (s *Scheduler) Shutdown() error { return s.cron.Shutdown() }

// locker is gocron's distributed locker: it claims the tick of the run
// gocron is about to start.
type locker struct{ s *Scheduler }

func (l locker) Lock(ctx context.Context, name string) (gocron.Lock, error) {
	j, ok := l.s.jobs[name]
	if !ok {
		return nil, fmt.Errorf("jobs: unknown job %q", name)
	}
	now := l.s.o.Clock.Now()
	tick := j.Schedule.Tick(now, l.s.o.Location)
	if !j.Schedule.due(tick, now) {
		return nil, errNotDue
	}
	wall := j.Schedule.every == 0
	l.s.mu.Lock()
	settled := wall && l.s.settled[name].Equal(tick)
	l.s.mu.Unlock()
	if settled {
		return nil, errNotDue
	}
	release, err := l.s.o.Claimer.Claim(ctx, name, tick, j.Schedule.hold(), j.Schedule.lease())
	if err != nil {
		if !errors.Is(err, ErrTaken) {
			l.s.o.Logger.Warn("job lock", slog.String("job", name), slog.Any("err", err))
			return nil, err // try again at the next wake-up
		}
		if wall {
			l.s.mu.Lock()
			l.s.settled[name] = tick
			l.s.mu.Unlock()
		}
		return nil, err
	}
	l.s.mu.Lock()
	l.s.claimed[name] = tick
	if wall {
		l.s.settled[name] = tick
	}
	l.s.mu.Unlock()
	return unlocker(release), nil
}

type unlocker func(context.Context) error

func (u unlocker) Unlock(ctx context.Context) error { return u(context.WithoutCancel(ctx)) }

// gocronLogger sends gocron's own messages to slog at debug level, errors
// as warnings.
type gocronLogger struct{ l *slog.Logger }

func (g gocronLogger) Debug(msg string, args ...any) { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Info(msg string, args ...any)  { g.l.Debug("gocron: "+msg, args...) }
func (g gocronLogger) Warn(msg string, args ...any)  { g.l.Warn("gocron: "+msg, args...) }
func (g gocronLogger) Error(msg string, args ...any) { g.l.Warn("gocron: "+msg, args...) }
