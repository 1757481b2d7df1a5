package window

import (
	"strings"
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// TestComposeTilesSpan checks, for every window at many instants in zones
// with DST and with half- and quarter-hour offsets, that the buckets are
// contiguous, lie inside the span and cover it exactly, and that coarse
// buckets are used wherever they fit.
func TestComposeTilesSpan(t *testing.T) {
	zones := []string{"UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Asia/Kathmandu", "Australia/Adelaide", "America/St_Johns"}
	// 2026-11-01 is the US fall-back day, 2026-03-29 the EU spring-forward.
	starts := []time.Time{
		time.Date(2026, 11, 23, 15, 32, 41, 0, time.UTC),
		time.Date(2026, 11, 1, 6, 17, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 1, 59, 59, 0, time.UTC),
		time.Date(2026, 4, 5, 0, 0, 0, 0, time.UTC),
	}
	for _, zone := range zones {
		loc := mustLoc(t, zone)
		cal, err := NewCalendar(loc, starts[0])
		if err != nil {
			t.Fatalf("%s: %v", zone, err)
		}
		for _, base := range starts {
			for step := 0; step < 48; step++ {
				now := base.Add(time.Duration(step) * 37 * time.Minute)
				for _, w := range All {
					s := cal.Span(w, now)
					refs := cal.Compose(s)
					cur := s.From
					for _, r := range refs {
						if got := cal.Start(r.Gran, r.ID); !got.Equal(cur) {
							t.Fatalf("%s %s at %s: bucket %v starts %s, want %s", zone, w.Name, now, r, got, cur)
						}
						cur = cal.End(r.Gran, r.ID)
						if cur.After(s.To) {
							t.Fatalf("%s %s at %s: bucket %v ends after span", zone, w.Name, now, r)
						}
					}
					if !cur.Equal(s.To) {
						t.Fatalf("%s %s at %s: buckets end %s, span ends %s", zone, w.Name, now, cur, s.To)
					}
					// Up to 92 local days for 90d and last_month, else 31.
					days := 31
					if s.To.Sub(s.From) > 32*24*time.Hour {
						days = 92
					}
					if len(refs) > 2*60+2*24+days {
						t.Fatalf("%s %s: %d buckets, composition is not using coarse buckets", zone, w.Name, len(refs))
					}
					if w.Closed() {
						if s.To.After(now) || !s.To.Equal(cal.Start(Day, cal.Bucket(Day, s.To))) {
							t.Fatalf("%s %s: a closed window must end at a day start by now: now %s to %s", zone, w.Name, now, s.To)
						}
					} else if !now.Before(s.To) || now.Before(s.To.Add(-time.Minute)) {
						t.Fatalf("%s %s: span must end at the end of the current minute: now %s to %s", zone, w.Name, now, s.To)
					}
				}
			}
		}
	}
}

func TestSpans(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	cal := MustCalendar(ny)
	now := time.Date(2026, 11, 23, 15, 32, 41, 0, time.UTC) // 10:32:41 EST
	to := time.Date(2026, 11, 23, 15, 33, 0, 0, time.UTC)
	cases := []struct {
		w    Window
		from time.Time
	}{
		{Rolling15m, to.Add(-15 * time.Minute)},
		{Rolling1h, to.Add(-time.Hour)},
		{Rolling24h, to.Add(-24 * time.Hour)},
		// 7d before 15:33 UTC is 2026-11-16 15:33; its local hour starts 15:00.
		{Rolling7d, time.Date(2026, 11, 16, 15, 0, 0, 0, time.UTC)},
		{Today, time.Date(2026, 11, 23, 5, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		s := cal.Span(c.w, now)
		if !s.From.Equal(c.from) || !s.To.Equal(to) {
			t.Errorf("%s: span %s..%s, want %s..%s", c.w.Name, s.From.UTC(), s.To.UTC(), c.from, to)
		}
	}
	// 2026-11-23 is a Monday; EST is UTC−5 since the fall-back of 11-01,
	// EDT (−4) before.
	est := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 5, 0, 0, 0, time.UTC) }
	edt := func(m time.Month, d int) time.Time { return time.Date(2026, m, d, 4, 0, 0, 0, time.UTC) }
	sun := cal.WithWeekStart(time.Sunday)
	calendar := []struct {
		cal      Calendar
		w        Window
		from, to time.Time
	}{
		{cal, Rolling2h, to.Add(-2 * time.Hour), to},
		{cal, Rolling12h, to.Add(-12 * time.Hour), to},
		// 90 days before 15:33 UTC is 2026-08-25 11:33 EDT; that day starts 04:00 UTC.
		{cal, Rolling90d, edt(8, 25), to},
		{cal, Yesterday, est(11, 22), est(11, 23)},
		{cal, ThisWeek, est(11, 23), to},
		{cal, LastWeek, est(11, 16), est(11, 23)},
		{sun, ThisWeek, est(11, 22), to},
		{sun, LastWeek, est(11, 15), est(11, 22)},
		{cal, ThisMonth, est(11, 1).Add(-time.Hour), to},
		{cal, LastMonth, edt(10, 1), edt(11, 1)},
	}
	for _, c := range calendar {
		s := c.cal.Span(c.w, now)
		if !s.From.Equal(c.from) || !s.To.Equal(c.to) {
			t.Errorf("%s from %s: span %s..%s, want %s..%s", c.w.Name, c.cal.WeekStart(), s.From.UTC(), s.To.UTC(), c.from, c.to)
		}
	}
	// The day of the US fall-back is 25 hours long.
	fb := cal.Bucket(Day, time.Date(2026, 11, 1, 12, 0, 0, 0, ny))
	if got := cal.End(Day, fb).Sub(cal.Start(Day, fb)); got != 25*time.Hour {
		t.Errorf("fall-back day lasts %s, want 25h", got)
	}
}

func TestHourPhase(t *testing.T) {
	cal := MustCalendar(mustLoc(t, "Asia/Kolkata"))
	at := time.Date(2026, 11, 23, 10, 45, 0, 0, time.UTC) // 16:15 IST
	id := cal.Bucket(Hour, at)
	if got, want := cal.Start(Hour, id), time.Date(2026, 11, 23, 10, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Kolkata hour starts %s, want %s", got, want)
	}
}

func TestRejectsFractionalDST(t *testing.T) {
	if _, err := NewCalendar(mustLoc(t, "Australia/Lord_Howe"), time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Fatal("Lord Howe's 30-minute DST must be refused")
	}
}

func TestParse(t *testing.T) {
	for _, w := range All {
		got, err := Parse(w.Name)
		if err != nil || got != w {
			t.Errorf("Parse(%q) = %v, %v", w.Name, got, err)
		}
	}
	_, err := Parse("3h")
	if err == nil {
		t.Fatal("Parse(3h) must fail")
	}
	for _, w := range All {
		if !strings.Contains(err.Error(), w.Name) {
			t.Errorf("Parse's error %q does not list %s", err, w.Name)
		}
	}
	cal := MustCalendar(time.UTC)
	for w, want := range map[Window]string{
		Rolling1h: "rolling 60 min", Rolling2h: "rolling 2 h", Rolling12h: "rolling 12 h", Rolling90d: "rolling 90 days",
		Today: "today since 00:00", Yesterday: "yesterday", ThisWeek: "this week since Mon", LastWeek: "last week",
		ThisMonth: "this month since the 1st", LastMonth: "last month",
	} {
		if got := cal.Label(w); got != want {
			t.Errorf("label %s = %q, want %q", w.Name, got, want)
		}
	}
	if got := cal.WithWeekStart(time.Sunday).Label(ThisWeek); got != "this week since Sun" {
		t.Errorf("label this_week from Sunday = %q", got)
	}
}

// TestFormatLength: lengths as settings and messages write them.
func TestFormatLength(t *testing.T) {
	tests := map[time.Duration]string{
		25 * time.Hour:                "25h",
		31 * 24 * time.Hour:           "31d",
		90 * time.Minute:              "1h30m",
		10 * time.Second:              "10s",
		90 * time.Second:              "1m30s",
		0:                             "0s",
		26*time.Hour + 30*time.Second: "26h0m30s",
	}
	for in, want := range tests {
		if got := FormatLength(in); got != want {
			t.Errorf("FormatLength(%v) = %q, want %q", in, got, want)
		}
	}
}
