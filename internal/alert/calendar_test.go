package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/internal/window/windowtest"
)

// calendarRig is a store, its change log and the shared alert state of one
// engine, on a calendar and a clock of the test's choosing.
type calendarRig struct {
	st      store.Store
	changes Changes
	eng     Engine
}

// calendarRigs returns both engines' rigs. The Redis change log group is
// created before anything is recorded, so it reads every change.
func calendarRigs(t *testing.T, cal window.Calendar, now func() time.Time) map[string]calendarRig {
	ctx := context.Background()
	opts := store.Options{Rollups: store.DefaultRollups(), Calendar: cal, Retention: store.DefaultRetention(), Now: now}
	mem := memstore.New(opts)
	t.Cleanup(func() { mem.Close() })
	feed, err := NewFeedChanges(ctx, mem, slog.New(slog.DiscardHandler))
	must(t, err)

	rdb := redistest.Client(t)
	ns := redistest.Tenant(t, rdb)
	rs := redisstore.New(redistest.Client(t), opts, redisstore.Config{Tenant: ns})
	group := redisstore.NewGroup(rdb, ns, "alerts", "n1", time.Minute)
	_, err = group.Read(ctx, 10*time.Millisecond)
	must(t, err)
	return map[string]calendarRig{
		"memory": {st: mem, changes: feed, eng: NewMemory()},
		"redis":  {st: rs, changes: group, eng: NewRedis(rdb, ns, time.Hour)},
	}
}

func calendarIn(t *testing.T, loc *time.Location) window.Calendar {
	t.Helper()
	cal, err := window.NewCalendar(loc, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	must(t, err)
	return cal
}

// springForward is loc's first transition of 2026 that skips local
// midnight.
func springForward(t *testing.T, loc *time.Location) time.Time {
	t.Helper()
	for _, tr := range windowtest.Transitions(loc, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		if tr.In(loc).Hour() == 1 {
			return tr
		}
	}
	t.Fatalf("%s: no 2026 transition from 00:00 to 01:00", loc)
	return time.Time{}
}

// nextDayStart is the first instant of the local date after t's.
func nextDayStart(loc *time.Location, t time.Time) time.Time {
	y, m, d := t.In(loc).Date()
	n := time.Date(y, m, d+1, 12, 0, 0, 0, time.UTC)
	return windowtest.DayStart(loc, n.Year(), n.Month(), n.Day())
}

// TestSameDayDueAcrossSkippedMidnight: with the same-day SLA, a detractor
// given in the last hour before the clocks skip midnight (after 23:00, when
// time.Date's "midnight" of the next day has already passed) or in the
// first hour after is due at the end of its own local day, after the
// answer; on both engines, through the change log.
func TestSameDayDueAcrossSkippedMidnight(t *testing.T) {
	for _, zone := range windowtest.MidnightZones {
		loc := windowtest.Load(t, zone)
		cal := calendarIn(t, loc)
		tr := springForward(t, loc)
		answers := map[string]time.Time{}
		var batch []store.Response
		for off := -150 * time.Minute; off <= 150*time.Minute; off += 10 * time.Minute {
			at := tr.Add(off)
			id := fmt.Sprintf("d%03d", len(batch))
			answers[id] = at
			batch = append(batch, store.Response{ID: id, Score: 2, Dims: store.Dims{Channel: "phone"}, At: at, AtGiven: true})
		}
		now := func() time.Time { return tr.Add(3 * time.Hour) }
		for name, rig := range calendarRigs(t, cal, now) {
			t.Run(zone+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				cfg := DefaultConfig()
				cfg.SLA = 0
				cfg.MaxAge = 10 * 365 * 24 * time.Hour // the Redis log's entries carry today's real time
				svc := New(Options{Config: cfg, Engine: rig.eng, Changes: rig.changes, Querier: rig.st, Calendar: cal,
					Rollups: store.DefaultRollups(), Now: now})
				_, err := rig.st.Record(ctx, batch)
				must(t, err)
				for read := 0; read < len(batch); {
					entries, err := rig.changes.Read(ctx, time.Second)
					must(t, err)
					if len(entries) == 0 {
						t.Fatalf("change log ran dry after %d of %d answers", read, len(batch))
					}
					for _, e := range entries {
						read += len(e.Changes)
					}
					must(t, svc.handle(ctx, entries))
				}
				fus, _, err := rig.eng.Unresolved(ctx, 0)
				must(t, err)
				if len(fus) != len(batch) {
					t.Fatalf("%d follow-ups for %d detractors", len(fus), len(batch))
				}
				for _, f := range fus {
					at := answers[f.ID]
					want := nextDayStart(loc, at)
					if !f.Due.After(at) || !f.Due.Equal(want) {
						t.Errorf("answer at %s: due %s, want the end of its local day %s", at.In(loc), f.Due.In(loc), want.In(loc))
					}
				}
			})
		}
	}
}

// TestDigestPeriodsAcrossSkippedMidnight: the daily digests of the days
// around a skipped midnight, and a weekly digest starting on that day, each
// cover exactly their local days: their from and to are the first instants
// of the local dates, their ids name the day, and their counts are every
// answer given on those local dates. On both engines.
func TestDigestPeriodsAcrossSkippedMidnight(t *testing.T) {
	for _, zone := range windowtest.MidnightZones {
		loc := windowtest.Load(t, zone)
		cal := calendarIn(t, loc)
		tr := springForward(t, loc)
		// Answers every 10 minutes from three days before the transition to
		// nine days after; promoters, so they open no follow-ups.
		var batch []store.Response
		for at := tr.Add(-72 * time.Hour); at.Before(tr.Add(9 * 24 * time.Hour)); at = at.Add(10 * time.Minute) {
			batch = append(batch, store.Response{ID: fmt.Sprintf("p%05d", len(batch)), Score: 9, Dims: store.Dims{Channel: "chat"}, At: at, AtGiven: true})
		}
		now := func() time.Time { return tr.Add(9*24*time.Hour + time.Hour) }
		type digest struct {
			event string
			tick  time.Time // 08:00 local, some days after the transition
			first time.Time // the first day summed up
			days  int
		}
		day := func(n int) time.Time { // noon of the n-th local day after the transition's
			y, m, d := tr.In(loc).Date()
			return time.Date(y, m, d+n, 12, 0, 0, 0, loc)
		}
		at8 := func(n int) time.Time { return day(n).Add(-4 * time.Hour) }
		digests := []digest{
			{EventDigestDaily, at8(0), day(-1), 1},
			{EventDigestDaily, at8(1), day(0), 1},
			{EventDigestDaily, at8(2), day(1), 1},
			{EventDigestWeekly, at8(7), day(0), 7},
		}
		for name, rig := range calendarRigs(t, cal, now) {
			t.Run(zone+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				cfg := DefaultConfig()
				cfg.Digest.Webhooks = []string{"http://digest.invalid/hook"}
				svc := New(Options{Config: cfg, Engine: rig.eng, Changes: rig.changes, Querier: rig.st, Calendar: cal,
					Rollups: store.DefaultRollups(), Now: now})
				for i := 0; i < len(batch); i += 500 {
					_, err := rig.st.Record(ctx, batch[i:min(i+500, len(batch))])
					must(t, err)
				}
				for _, d := range digests {
					must(t, svc.Digest(d.event)(ctx, d.tick))
				}
				ds, err := rig.eng.Claim(ctx, now(), time.Minute, 10)
				must(t, err)
				got := map[string]DigestEvent{}
				for _, dl := range ds {
					var ev DigestEvent
					must(t, json.Unmarshal(dl.Body, &ev))
					got[ev.ID] = ev
				}
				for _, d := range digests {
					fy, fm, fd := d.first.Date()
					from := windowtest.DayStart(loc, fy, fm, fd)
					ly, lm, ld := d.first.AddDate(0, 0, d.days).Date()
					to := windowtest.DayStart(loc, ly, lm, ld)
					id := d.event + ":" + d.first.Format("2006-01-02")
					ev, ok := got[id]
					if !ok {
						t.Errorf("tick %s: no digest %s (got %d: %v)", d.tick.In(loc), id, len(got), keys(got))
						continue
					}
					var want int64
					for _, r := range batch {
						if !r.At.Before(from) && r.At.Before(to) {
							want++
						}
					}
					if !ev.From.Equal(from) || !ev.To.Equal(to) || ev.Overall.Responses != want {
						t.Errorf("%s: %s..%s with %d answers, want %s..%s with %d", id, ev.From.In(loc), ev.To.In(loc), ev.Overall.Responses,
							from.In(loc), to.In(loc), want)
					}
				}
			})
		}
	}
}

func keys(m map[string]DigestEvent) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
