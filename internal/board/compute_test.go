package board

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// fixture records answers into a real memory engine and follows it with a
// real aggregator.
func fixture(t testing.TB, answers []store.Response) (*aggregate.Aggregator, Computer, time.Time) {
	return fixtureWith(t, answers, func(*store.Options) {})
}

// fixtureWith is fixture with the engine's options changed by set first.
func fixtureWith(t testing.TB, answers []store.Response, set func(*store.Options)) (*aggregate.Aggregator, Computer, time.Time) {
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	set(&opts)
	eng := memstore.New(opts)
	t.Cleanup(func() { eng.Close() })
	if _, err := eng.Record(context.Background(), answers); err != nil {
		t.Fatal(err)
	}
	agg := aggregate.New(eng, opts, opts.Rollups, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go agg.Run(ctx)
	for !agg.Status().Ready {
		time.Sleep(time.Millisecond)
	}
	return agg, Computer{Calendar: opts.Calendar, MinSample: 3}, clock.Now()
}

func answer(id string, score int, team, agent, channel string, ago time.Duration, comment string) store.Response {
	return store.Response{ID: id, Score: score, At: storetest.Start.Add(-ago), AtGiven: true, Comment: comment,
		Dims: store.Dims{Channel: channel, Team: team, Agent: agent}}
}

func tileByID(t *testing.T, v View, id string) TileView {
	for _, tv := range v.Tiles {
		if tv.ID == id {
			return tv
		}
	}
	t.Fatalf("no tile %s", id)
	return TileView{}
}

func TestComputeShippedBoards(t *testing.T) {
	var rs []store.Response
	// billing: Ana 10,10,9 (+100), Ben 0,3,8 (−67), Eva one 10 (unranked).
	rs = append(rs,
		answer("1", 10, "billing", "Ana Lima", "phone", 5*time.Minute, "Ana was great, call me on +1 212 555 0100"),
		answer("2", 10, "billing", "Ana Lima", "chat", 10*time.Minute, ""),
		answer("3", 9, "billing", "Ana Lima", "phone", 20*time.Minute, ""),
		answer("4", 0, "billing", "Ben Okafor", "phone", 30*time.Minute, "Terrible. write to me at jo@example.com"),
		answer("5", 3, "billing", "Ben Okafor", "email", 40*time.Minute, "slow"),
		answer("6", 8, "billing", "Ben Okafor", "email", 50*time.Minute, ""),
		answer("7", 10, "billing", "Eva Novak", "sms", 55*time.Minute, ""),
		answer("8", 6, "sales", "Xia Chen", "chat", 3*time.Hour, "meh"),
	)
	agg, comp, now := fixture(t, rs)
	boards, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	floor, err := comp.Compute(boards[0], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	// Last hour: 7 billing answers: 4 promoters, 1 passive, 2 detractors.
	hour := tileByID(t, floor, "nps-1h")
	want := nps.Of(10, 10, 9, 0, 3, 8, 10)
	if score, _ := want.NPS(); hour.Figure.NPS == nil || *hour.Figure.NPS != float64(int(score*100+0.5))/100 || hour.Figure.Responses != 7 {
		t.Fatalf("floor 1h headline %+v, want NPS %.2f of 7", hour.Figure, score)
	}
	if hour.Window != "rolling 60 min" {
		t.Errorf("window label %q", hour.Window)
	}
	feed := tileByID(t, floor, "detractors")
	if len(feed.Answers) != 3 || feed.Answers[0].Comment != "Terrible. write to me at [email]" || feed.Answers[2].Comment != "meh" {
		t.Fatalf("detractor feed %+v", feed.Answers)
	}
	for _, a := range feed.Answers {
		if a.Agent != "" {
			t.Errorf("floor board shows agent %q", a.Agent)
		}
		if a.Comment == "Terrible. write to me at jo@example.com" {
			t.Errorf("e-mail not redacted: %q", a.Comment)
		}
	}
	trend := tileByID(t, floor, "trend")
	if len(trend.Points) != 25 {
		t.Errorf("24h hourly trend has %d points, want 25 (24 and the current hour)", len(trend.Points))
	}

	team, err := comp.Compute(boards[2], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	agents := tileByID(t, team, "agents")
	got := ""
	for _, r := range agents.Rows {
		got += fmt.Sprintf("%d:%s ", r.Rank, r.Label)
	}
	if got != "1:Ana Lima 2:Ben Okafor 0:Eva Novak " {
		t.Errorf("leaderboard %q: Ana first, Ben second, Eva unranked (1 answer, minimum 3)", got)
	}
	comments := tileByID(t, team, "comments")
	if len(comments.Answers) != 3 || comments.Answers[0].Agent != "Ana Lima" || comments.Answers[0].Comment != "Ana was great, call me on [phone]" {
		t.Errorf("team comments %+v", comments.Answers)
	}
	for _, a := range comments.Answers {
		if a.Team != "billing" {
			t.Errorf("team board shows another team's answer: %+v", a)
		}
	}
}

func TestLeaderboardMovement(t *testing.T) {
	var rs []store.Response
	for i := range 40 {
		rs = append(rs, answer(fmt.Sprintf("a%d", i), 10, "billing", "Ana Lima", "phone", 2*time.Hour, ""))
		rs = append(rs, answer(fmt.Sprintf("b%d", i), 5, "billing", "Ben Okafor", "phone", 2*time.Hour, ""))
		rs = append(rs, answer(fmt.Sprintf("c%d", i), 9, "billing", "Chloe Martin", "chat", 20*time.Minute, ""))
	}
	for i := range 100 {
		rs = append(rs, answer(fmt.Sprintf("b-late%d", i), 10, "billing", "Ben Okafor", "phone", 10*time.Minute, ""))
	}
	agg, comp, now := fixture(t, rs)
	boards, err := Parse(configfiles.Boards, store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	v, err := comp.Compute(boards[2], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, r := range tileByID(t, v, "agents").Rows {
		got += fmt.Sprintf("%d:%s:%+d:%v ", r.Rank, r.Label, r.Move, r.New)
	}
	// An hour ago: Ana (+100 of 40) 1st, Ben (−100 of 40) 2nd, Chloe not
	// there yet. Now, against the team's +64: Ana and Chloe tie on +100
	// with 40 answers each (the tie keeps label order), Ben climbs to +43
	// of 140 but falls to third, below the team.
	want := "1:Ana Lima:+0:false 2:Chloe Martin:+0:true 3:Ben Okafor:-1:false "
	if got != want {
		t.Errorf("leaderboard\n got %s\nwant %s", got, want)
	}
}

// TestLeaderboardClosedWindowHasNoMovement: yesterday ended at midnight, so
// nothing in it moved an hour ago; shifting its span back an hour would
// mark Chloe, who answered late yesterday, as new.
func TestLeaderboardClosedWindowHasNoMovement(t *testing.T) {
	var rs []store.Response
	for i := range 3 {
		rs = append(rs, answer(fmt.Sprintf("a%d", i), 10, "billing", "Ana Lima", "phone", 20*time.Hour, ""))
		rs = append(rs, answer(fmt.Sprintf("b%d", i), 5, "billing", "Ben Okafor", "phone", 20*time.Hour, ""))
		// 23:32 yesterday in New York.
		rs = append(rs, answer(fmt.Sprintf("c%d", i), 9, "billing", "Chloe Martin", "chat", 11*time.Hour, ""))
	}
	agg, comp, now := fixture(t, rs)
	boards, err := Parse([]byte("boards:\n- {name: f, privacy: {show_agents: true}, tiles: [{id: agents, view: leaderboard, by: agent, window: yesterday}]}"), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	v, err := comp.Compute(boards[0], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, r := range tileByID(t, v, "agents").Rows {
		got += fmt.Sprintf("%d:%s:%+d:%v ", r.Rank, r.Label, r.Move, r.New)
	}
	if want := "1:Ana Lima:+0:false 2:Chloe Martin:+0:false 3:Ben Okafor:+0:false "; got != want {
		t.Errorf("leaderboard\n got %s\nwant %s", got, want)
	}
}

// TestRangeTiles: a tile with a fixed from/to counts exactly its range and
// is labelled with it; an open one (no to) counts up to now, says "since",
// and its leaderboard moves from the same start; a closed one has no
// headline change and no movement.
func TestRangeTiles(t *testing.T) {
	// storetest.Start is 10:32:41 in New York on 23 Nov.
	var rs []store.Response
	for i, ago := range []time.Duration{5 * time.Minute, 40 * time.Minute, 90 * time.Minute, 150 * time.Minute, 200 * time.Minute, 26 * time.Hour} {
		rs = append(rs, answer(fmt.Sprintf("r%d", i), 10-i, "billing", "Ana Lima", "phone", ago, ""))
	}
	agg, comp, now := fixture(t, rs)
	boards, err := Parse([]byte(`boards:
- name: f
  privacy: {show_agents: true}
  tiles:
  - {id: closed, view: headline, from: '2026-11-23T08:00:00-05:00', to: '2026-11-23T09:45:00-05:00'}
  - {id: open, view: count, from: '2026-11-23T08:00:00-05:00'}
  - {id: lead, view: leaderboard, by: agent, from: '2026-11-22T08:00:00-05:00', to: '2026-11-22T09:00:00-05:00'}
  - {id: old, view: count, from: '2026-11-20T08:10:00-05:00', to: '2026-11-20T09:00:00-05:00'}
`), store.DefaultSchema(), store.DefaultRollups())
	if err != nil {
		t.Fatal(err)
	}
	v, err := comp.Compute(boards[0], agg, now)
	if err != nil {
		t.Fatal(err)
	}
	// 08:00–09:45 holds the answers 150 and 90 minutes ago (08:02, 09:02).
	closed := tileByID(t, v, "closed")
	if closed.Window != "23 Nov 08:00 – 09:45" || closed.Figure.Responses != 2 || closed.Change != nil {
		t.Errorf("closed range: %q n=%d change %+v", closed.Window, closed.Figure.Responses, closed.Change)
	}
	// Since 08:00: 08:02, 09:02, 09:52, 10:27.
	if open := tileByID(t, v, "open"); open.Window != "since 23 Nov 08:00" || open.Figure.Responses != 4 {
		t.Errorf("open range: %q n=%d", open.Window, open.Figure.Responses)
	}
	// 22 Nov 08:00–09:00 holds the answer 26h ago (08:32 on 22 Nov).
	lead := tileByID(t, v, "lead")
	if lead.Window != "22 Nov 08:00 – 09:00" || len(lead.Rows) != 1 || lead.Rows[0].Responses != 1 || lead.Rows[0].New || lead.Rows[0].Move != 0 {
		t.Errorf("closed leaderboard: %q %+v", lead.Window, lead.Rows)
	}
	// Three days back the minutes are gone: 08:10 is read from 08:00, and
	// the label says so.
	if old := tileByID(t, v, "old"); old.Window != "20 Nov 08:10 – 09:00 (read as 20 Nov 08:00 – 09:00)" {
		t.Errorf("old range: %q", old.Window)
	}
}
