// Package window is the time arithmetic of Pulseboard: minute, hour and day
// buckets in the contact center's time zone, the rolling and calendar
// windows a board can show, and the exact composition of a window from
// buckets. It does no I/O; both storage engines and the aggregator share it,
// so they agree to the minute on what "the last hour" means.
//
// Buckets:
//   - a minute bucket is an absolute UTC minute;
//   - an hour bucket is a local wall-clock hour. Its absolute boundaries are
//     whole hours shifted by the zone's phase (30 minutes for India, 45 for
//     Nepal, 0 for most zones), so it never depends on DST;
//   - a day bucket is a local calendar day (23, 24 or 25 hours long), from
//     the first instant of its local date (DayStart), which is 01:00 where
//     the clocks skip midnight.
//
// Windows: a rolling window of up to 24h covers exactly the last D minutes,
// the current partial minute included. A 7d or 30d window starts at the
// boundary of the local hour that contains "D ago", because minute buckets
// are not kept that long; it so covers between D and D+1h. A 90d window
// starts at the first instant of the local day that contains "90 days ago",
// because hour buckets are not kept that long either; it so covers between
// 90 and 91 days. The calendar windows start at the first instant of a local
// date (DayStart): "today", "this_week" (weeks start on the calendar's
// WeekStart) and "this_month" at the start of the current day, week or
// month; "yesterday", "last_week" and "last_month" cover the whole period
// before and end where the current one starts. Every other window ends at
// the end of the current minute.
//
// Ranges: an explicit from/to (ParseRange) is a Span like a window's. Any
// span is read through Cover, which composes it from the buckets still
// kept: where an old edge's minutes (or hours) have expired, that edge
// widens to its local hour (or day), and Cover says so.
package window

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Gran is a bucket granularity.
type Gran int

// The three granularities, finest first.
const (
	Minute Gran = iota
	Hour
	Day
)

// Grans lists every granularity, finest first.
var Grans = [...]Gran{Minute, Hour, Day}

// String is the short name used in storage keys.
func (g Gran) String() string {
	switch g {
	case Minute:
		return "m"
	case Hour:
		return "h"
	default:
		return "d"
	}
}

// Calendar maps instants to buckets in one time zone.
type Calendar struct {
	loc *time.Location
	// phase is where local hours start within an absolute hour, in seconds:
	// local wall time is a whole hour exactly when (unix − phase) % 3600 == 0.
	phase int64
	// weekAfterMonday is how many days after Monday weeks start, so that
	// the zero Calendar starts them on Monday like the setting's default.
	weekAfterMonday int64
}

// WithWeekStart returns the calendar with weeks starting on d (this_week,
// last_week).
func (c Calendar) WithWeekStart(d time.Weekday) Calendar {
	c.weekAfterMonday = mod(int64(d)-int64(time.Monday), 7)
	return c
}

// ParseWeekday finds a weekday by its English name, in any case
// ("monday", "Sunday").
func ParseWeekday(name string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if strings.EqualFold(name, d.String()) {
			return d, true
		}
	}
	return 0, false
}

// WeekStart is the weekday the calendar's weeks start on.
func (c Calendar) WeekStart() time.Weekday {
	return time.Weekday(mod(int64(time.Monday)+c.weekAfterMonday, 7))
}

// NewCalendar builds a calendar for loc. It refuses zones whose offset from
// UTC is not constant modulo one hour around now (±2 years): their hour
// buckets could not tile local days exactly. Only Australia/Lord_Howe, with its
// 30-minute DST, is known to be affected.
func NewCalendar(loc *time.Location, now time.Time) (Calendar, error) {
	if loc == nil {
		loc = time.UTC
	}
	phaseOf := func(t time.Time) int64 {
		_, off := t.In(loc).Zone()
		return mod(-int64(off), 3600)
	}
	phase := phaseOf(now)
	end := now.AddDate(2, 0, 0)
	for t := now.AddDate(-2, 0, 0); t.Before(end); {
		if phaseOf(t) != phase {
			return Calendar{}, fmt.Errorf("time zone %s shifts by a fraction of an hour (DST); hour buckets cannot follow it", loc)
		}
		_, next := t.In(loc).ZoneBounds()
		if next.IsZero() || !next.After(t) {
			break
		}
		t = next
	}
	return Calendar{loc: loc, phase: phase}, nil
}

// MustCalendar is NewCalendar for zones known to be valid (tests, UTC).
func MustCalendar(loc *time.Location) Calendar {
	c, err := NewCalendar(loc, time.Now())
	if err != nil {
		panic(err)
	}
	return c
}

// Location is the calendar's time zone.
func (c Calendar) Location() *time.Location {
	if c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// Bucket returns the id of the bucket of granularity g holding t.
func (c Calendar) Bucket(g Gran, t time.Time) int64 {
	u := t.Unix()
	switch g {
	case Minute:
		return floorDiv(u, 60)
	case Hour:
		return floorDiv(u-c.phase, 3600)
	default:
		y, m, d := t.In(c.Location()).Date()
		return floorDiv(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix(), 86400)
	}
}

// Start returns the first instant of bucket id.
func (c Calendar) Start(g Gran, id int64) time.Time {
	switch g {
	case Minute:
		return time.Unix(id*60, 0)
	case Hour:
		return time.Unix(id*3600+c.phase, 0)
	default:
		y, m, d := time.Unix(id*86400, 0).UTC().Date()
		return DayStart(c.Location(), y, m, d)
	}
}

// DayStart is the first instant of the local date y-m-d in loc. Local
// midnight is not always it: time.Date normalises a midnight the clocks
// skip (America/Santiago, America/Havana, Atlantic/Azores spring forward
// from 00:00 to 01:00) to 23:00 of the day before, and does not promise
// which of two midnights it picks when the clocks go back over one.
// Every day boundary in Pulseboard (day buckets, "today", same-day
// deadlines, digests) comes from here.
func DayStart(loc *time.Location, y int, m time.Month, d int) time.Time {
	return WallTime(loc, y, m, d, 0, 0, 0)
}

// WallTime is the first instant at which the clocks in loc show the given
// local date and time or a later one: time.Date where that wall time
// happens once; the instant the clocks jump past it where it is skipped;
// the first of the two where it happens twice. (Overflowing fields
// normalise as in time.Date.)
func WallTime(loc *time.Location, y int, m time.Month, d, hour, minute, sec int) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	// wall is the wanted clock reading as if the zone were UTC, so an
	// instant u shows it or later exactly when u + offset(u) >= wall.
	wall := time.Date(y, m, d, hour, minute, sec, 0, time.UTC).Unix()
	t := time.Date(y, m, d, hour, minute, sec, 0, loc)
	start, _ := t.ZoneBounds()
	if _, off := t.Zone(); t.Unix()+int64(off) == wall && (start.IsZero() || t.Sub(start) >= 24*time.Hour) {
		return t // the usual case: no offset change within a day before t
	}
	// Within each zone period [start, end) with offset off, the instants
	// showing wall or later are [max(start, wall−off), end). The first
	// period where that is not empty holds the answer. No offset exceeds
	// ±26h, so starting a day and a half before t is early enough.
	for cur := t.Add(-36 * time.Hour); ; {
		cur = cur.In(loc)
		_, off := cur.Zone()
		start, end := cur.ZoneBounds()
		u := wall - int64(off)
		if !start.IsZero() && u < start.Unix() {
			u = start.Unix()
		}
		if end.IsZero() || u < end.Unix() {
			return time.Unix(u, 0).In(loc)
		}
		cur = end
	}
}

// End returns the instant just after bucket id.
func (c Calendar) End(g Gran, id int64) time.Time { return c.Start(g, id+1) }

// Ref names one bucket.
type Ref struct {
	Gran Gran
	ID   int64
}

// Span is a half-open interval [From, To) of whole minutes.
type Span struct {
	From, To time.Time
}

// Contains reports whether t falls inside the span.
func (s Span) Contains(t time.Time) bool {
	return !t.Before(s.From) && t.Before(s.To)
}

// Compose returns the buckets that tile s exactly, coarsest first wherever a
// whole bucket fits: days inside the span, then hours, then minutes at the
// edges. At most about 2×59 minutes and 2×23 hours are needed besides the
// days, so a 30-day window reads some 200 buckets, not 43,200. It assumes
// every bucket is still kept; Cover is Compose with retention.
func (c Calendar) Compose(s Span) []Ref { return c.Cover(s, nil).Refs }

// Kept reports whether bucket id of granularity g is still kept. It must
// be monotone, as retention is: when a bucket is kept, every later bucket
// of its granularity is too.
type Kept func(g Gran, id int64) bool

// Cover is how a span is read from the buckets still kept.
type Cover struct {
	// Asked is the span asked for; Span is the span Refs tile exactly.
	Asked, Span Span
	Refs        []Ref
	// FromGran and ToGran are the granularities of the buckets at the
	// start and the end of Span.
	FromGran, ToGran Gran
}

// Coarse reports whether Span differs from Asked: an edge fell where the
// buckets fine enough to meet it exactly are no longer kept.
func (v Cover) Coarse() bool {
	return !v.Span.From.Equal(v.Asked.From) || !v.Span.To.Equal(v.Asked.To)
}

// Cover tiles s with buckets that are still kept (kept nil: all are). It
// walks from the start and takes, at each step, the coarsest kept bucket
// that starts there and ends inside the span. Where no kept bucket fits
// (the minutes or hours at an old edge have expired), it takes the finest
// kept bucket that holds the instant instead, so the edge widens to that
// bucket's boundary: at the start back to the start of the kept hour or
// day, at the end on to its end. Widening keeps every answer the asked span
// holds and shows it, where narrowing would drop some silently; the 7d,
// 30d and 90d windows widen the same way by definition. Only where not
// even the day buckets are kept does the span narrow: it then starts at
// the first day still kept (empty at s.To when none is).
func (c Calendar) Cover(s Span, kept Kept) Cover {
	if kept == nil {
		kept = func(Gran, int64) bool { return true }
	}
	v := Cover{Asked: s, Span: s, Refs: make([]Ref, 0, 64)}
	cur := s.From
	// Before the first bucket: skip days no longer kept.
	for cur.Before(s.To) {
		if id := c.Bucket(Day, cur); !kept(Day, id) {
			cur = c.End(Day, id)
			v.Span.From = cur
			continue
		}
		break
	}
	if !cur.Before(s.To) {
		v.Span = Span{From: s.To, To: s.To}
		return v
	}
	first := true
	for cur.Before(v.Span.To) {
		ref, ok := c.widest(cur, v.Span.To, kept)
		if !ok {
			ref = c.finestKept(cur, kept)
		}
		if first {
			v.Span.From, v.FromGran, first = c.Start(ref.Gran, ref.ID), ref.Gran, false
		}
		v.Refs = append(v.Refs, ref)
		cur = c.End(ref.Gran, ref.ID)
		if cur.After(v.Span.To) {
			v.Span.To = cur
		}
		v.ToGran = ref.Gran
	}
	return v
}

// widest returns the coarsest kept bucket that starts at cur and ends by
// to.
func (c Calendar) widest(cur, to time.Time, kept Kept) (Ref, bool) {
	// Only a local-hour boundary can start an hour or a day: the minutes
	// at a span's edges skip working out where their day starts.
	if mod(cur.Unix()-c.phase, 3600) == 0 {
		for _, g := range [...]Gran{Day, Hour} {
			id := c.Bucket(g, cur)
			if c.Start(g, id).Equal(cur) && !c.End(g, id).After(to) && kept(g, id) {
				return Ref{Gran: g, ID: id}, true
			}
		}
	}
	id := c.Bucket(Minute, cur)
	return Ref{Gran: Minute, ID: id}, kept(Minute, id)
}

// finestKept returns the finest kept bucket that holds cur. Past the first
// step it always starts at cur: cur is then the end of a kept bucket, and
// kept is monotone, so whatever the walk fell back to after it starts
// there too. Cover only calls it where the day of cur is kept.
func (c Calendar) finestKept(cur time.Time, kept Kept) Ref {
	for _, g := range Grans {
		if id := c.Bucket(g, cur); kept(g, id) {
			return Ref{Gran: g, ID: id}
		}
	}
	return Ref{Gran: Day, ID: c.Bucket(Day, cur)}
}

// Period is the local calendar period a calendar window follows.
type Period int

// The periods. A rolling window has none.
const (
	NoPeriod Period = iota
	DayPeriod
	WeekPeriod
	MonthPeriod
)

// Window is a named period a board or query can ask for: a rolling window
// (Length) or a calendar window (Period).
type Window struct {
	Name string
	// Length is the rolling duration; zero for calendar windows.
	Length time.Duration
	// Period is the local day, week or month of a calendar window.
	Period Period
	// Previous picks the whole period before the current one (yesterday,
	// last week, last month) instead of the current one so far.
	Previous bool
}

// Closed reports whether the window ended at the start of the current
// period: its span moves once a period, not every minute.
func (w Window) Closed() bool { return w.Previous }

// The windows Pulseboard serves, in the order boards list them.
var (
	Rolling15m = Window{Name: "15m", Length: 15 * time.Minute}
	Rolling1h  = Window{Name: "1h", Length: time.Hour}
	Rolling2h  = Window{Name: "2h", Length: 2 * time.Hour}
	Rolling4h  = Window{Name: "4h", Length: 4 * time.Hour}
	Rolling8h  = Window{Name: "8h", Length: 8 * time.Hour}
	Rolling12h = Window{Name: "12h", Length: 12 * time.Hour}
	Rolling24h = Window{Name: "24h", Length: 24 * time.Hour}
	Rolling7d  = Window{Name: "7d", Length: 7 * 24 * time.Hour}
	Rolling30d = Window{Name: "30d", Length: 30 * 24 * time.Hour}
	Rolling90d = Window{Name: "90d", Length: 90 * 24 * time.Hour}
	Today      = Window{Name: "today", Period: DayPeriod}
	Yesterday  = Window{Name: "yesterday", Period: DayPeriod, Previous: true}
	ThisWeek   = Window{Name: "this_week", Period: WeekPeriod}
	LastWeek   = Window{Name: "last_week", Period: WeekPeriod, Previous: true}
	ThisMonth  = Window{Name: "this_month", Period: MonthPeriod}
	LastMonth  = Window{Name: "last_month", Period: MonthPeriod, Previous: true}
)

// All lists every window.
var All = []Window{
	Rolling15m, Rolling1h, Rolling2h, Rolling4h, Rolling8h, Rolling12h, Rolling24h, Rolling7d, Rolling30d, Rolling90d,
	Today, Yesterday, ThisWeek, LastWeek, ThisMonth, LastMonth,
}

// minutePrecise is the longest window whose start is exact to the minute:
// minute buckets are kept a little longer than this (26h).
const minutePrecise = 24 * time.Hour

// hourPrecise is the longest window that may start on any local hour:
// hour buckets are kept a little longer than this (32d). Longer windows
// start on a local day.
const hourPrecise = 31 * 24 * time.Hour

// Parse finds a window by name.
func Parse(name string) (Window, error) {
	names := make([]string, len(All))
	for i, w := range All {
		if w.Name == name {
			return w, nil
		}
		names[i] = w.Name
	}
	return Window{}, fmt.Errorf("unknown window %q (want one of %s)", name, strings.Join(names, ", "))
}

// Span returns the interval the window covers at now.
func (c Calendar) Span(w Window, now time.Time) Span {
	to := c.Start(Minute, c.Bucket(Minute, now)+1)
	switch {
	case w.Period != NoPeriod:
		cur := c.periodStart(w.Period, c.Bucket(Day, now))
		if w.Previous {
			return Span{From: c.Start(Day, c.periodStart(w.Period, cur-1)), To: c.Start(Day, cur)}
		}
		return Span{From: c.Start(Day, cur), To: to}
	case w.Length <= minutePrecise:
		return Span{From: to.Add(-w.Length), To: to}
	case w.Length <= hourPrecise:
		return Span{From: c.Start(Hour, c.Bucket(Hour, to.Add(-w.Length))), To: to}
	default:
		return Span{From: c.Start(Day, c.Bucket(Day, to.Add(-w.Length))), To: to}
	}
}

// periodStart returns the id of the first day of the period p that holds
// the day bucket day. Day ids count local dates, so the arithmetic is on
// dates and DayStart alone turns them into instants.
func (c Calendar) periodStart(p Period, day int64) int64 {
	date := time.Unix(day*86400, 0).UTC()
	switch p {
	case WeekPeriod:
		return day - mod(int64(date.Weekday())-int64(c.WeekStart()), 7)
	case MonthPeriod:
		return day - int64(date.Day()-1)
	default:
		return day
	}
}

// Label describes the window for a person reading a board.
func (c Calendar) Label(w Window) string {
	switch {
	case w == Today:
		return "today since 00:00"
	case w == Yesterday:
		return "yesterday"
	case w == ThisWeek:
		return "this week since " + c.WeekStart().String()[:3]
	case w == LastWeek:
		return "last week"
	case w == ThisMonth:
		return "this month since the 1st"
	case w == LastMonth:
		return "last month"
	case w.Length <= time.Hour:
		return fmt.Sprintf("rolling %d min", int(w.Length.Minutes()))
	case w.Length <= minutePrecise:
		return fmt.Sprintf("rolling %d h", int(w.Length.Hours()))
	default:
		return fmt.Sprintf("rolling %d days", int(w.Length.Hours()/24))
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// ParseRange reads an explicit range: from and to are RFC 3339 instants on
// whole minutes (buckets start no finer), to is exclusive and after from.
// An empty to means end, the end of the current minute, like the rolling
// windows. Each error starts with the parameter it is about.
func ParseRange(from, to string, end time.Time) (Span, error) {
	if from == "" {
		return Span{}, fmt.Errorf("from: missing (to needs a from; to alone names no range)")
	}
	f, err := parseMinute(from)
	if err != nil {
		return Span{}, fmt.Errorf("from: %w", err)
	}
	t := end
	if to != "" {
		if t, err = parseMinute(to); err != nil {
			return Span{}, fmt.Errorf("to: %w", err)
		}
	}
	if !f.Before(t) {
		return Span{}, fmt.Errorf("to: %s is not after from %s (to is exclusive)", t.Format(time.RFC3339), f.Format(time.RFC3339))
	}
	return Span{From: f, To: t}, nil
}

func parseMinute(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 time (like 2026-12-02T08:00:00+01:00)", s)
	}
	if t.Second() != 0 || t.Nanosecond() != 0 {
		return time.Time{}, fmt.Errorf("%s is not on a whole minute (buckets start on minutes)", s)
	}
	return t, nil
}

// RangeLabel describes a span for a person, in the calendar's zone: "2 Dec
// 08:00 – 14:30" within one day, "30 Nov 08:00 – 2 Dec 14:30" across days,
// with the year where it is not now's. An end at midnight reads as 24:00
// of the day before, so a whole day is "1 Oct 00:00 – 24:00". A span
// without an end (a tile's open range) is "since 1 Dec 08:00".
func (c Calendar) RangeLabel(s Span, now time.Time) string {
	loc := c.Location()
	from, to := s.From.In(loc), s.To.In(loc)
	year := now.In(loc).Year()
	date := func(t time.Time) string {
		if t.Year() != year {
			return t.Format("2 Jan 2006")
		}
		return t.Format("2 Jan")
	}
	if s.To.IsZero() {
		return "since " + date(from) + " " + from.Format("15:04")
	}
	end := to.Format("15:04")
	endDate := to
	if end == "00:00" && to.After(from) {
		// The end of a day: name the day it ends.
		endDate = to.Add(-time.Minute)
		end = "24:00"
	}
	if sy, sm, sd := from.Date(); sy == endDate.Year() && sm == endDate.Month() && sd == endDate.Day() {
		return date(from) + " " + from.Format("15:04") + " – " + end
	}
	return date(from) + " " + from.Format("15:04") + " – " + date(endDate) + " " + end
}

// FormatLength writes a length as settings and messages write it: whole
// days as "7d", anything else as Go does without its zero units ("2h",
// "15m", "1h30m", "90s").
func FormatLength(d time.Duration) string {
	const day = 24 * time.Hour
	if d > 0 && d%day == 0 {
		return strconv.FormatInt(int64(d/day), 10) + "d"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
