package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"time"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/themes"
	"github.com/pulseboard/pulseboard/internal/window"
)

// The tokens of the test server.
const (
	ingestToken = "ingest-token-0123456789"
	viewerToken = "viewer-token-dana-0123"
	adminToken  = "admin-token-0123456789"
)

// testBoards are the test server's boards: a plain one with a tile of
// every kind, and a template.
const testBoards = `
boards:
  - name: floor
    title: Floor
    thresholds: {good: 30, poor: 0}
    privacy: {show_agents: true}
    tiles:
      - {id: nps-1h, view: headline, window: 1h, title: Last hour}
      - {id: count, view: count, window: today, title: Responses}
      - {id: channels, view: breakdown, by: channel, window: 1h, title: Channels}
      - {id: teams, view: leaderboard, by: team, window: today, title: Teams}
      - {id: trend, view: trend, window: 24h, step: hour, title: Trend}
      - {id: dist, view: distribution, window: today, title: Scores}
      - {id: comments, view: comments, limit: 3, title: Comments}
      - {id: followups, view: followups, limit: 3, title: Follow-ups}
  - name: team
    title: "Team {value}"
    for_each: {dimension: team, values: [billing, first line]}
    tiles:
      - {id: nps-1h, view: headline, window: 1h, title: Last hour}
`

// testServer is the real HTTP API (httpapi) over a real memory engine,
// this node's aggregator and board registry, and an alert service with a
// memory engine, on a loopback port: what cmd/pulseboard wires, without
// the screens.
type testServer struct {
	URL    string
	Clock  *storetest.Clock
	Store  *memstore.Store
	Alerts alert.Engine
	close  func()
}

func (s *testServer) Close() { s.close() }

// startServer starts a test server; fail is told what went wrong (t.Fatal,
// or panic in an example).
func startServer(fail func(...any)) *testServer {
	clock := &storetest.Clock{}
	clock.Set(time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC))
	cal := window.MustCalendar(time.UTC)
	dict, err := themes.New(themes.Default(), nil)
	if err != nil {
		fail(err)
	}
	opts := store.Options{Rollups: store.DefaultRollups(), Calendar: cal, Retention: store.DefaultRetention(), Now: clock.Now, Themes: dict.Names}
	st := memstore.New(opts)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())

	alertEngine := alert.NewMemory()
	cfg, err := alert.ParseConfig(`
queues:
  - {name: pharma, label: Pharma specialists, sla: 2h}
  - {name: floor, label: Floor supervisors, sla: 24h}
default_queue: floor
`, store.DefaultSchema(), nil, time.ParseDuration)
	if err != nil {
		fail(err)
	}
	alerts := alert.New(alert.Options{Config: cfg, Engine: alertEngine, Calendar: cal, Now: clock.Now, Logger: logger})

	defs, err := board.Parse([]byte(testBoards), store.DefaultSchema(), opts.Rollups)
	if err != nil {
		fail(err)
	}
	agg := aggregate.New(st, opts, opts.Rollups, logger)
	done := make(chan struct{})
	go func() { agg.Run(ctx); close(done) }()
	reg := boards.New(agg, board.Computer{Calendar: cal, MinSample: 30, Alerts: alerts}, defs)

	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Recorder: st, Querier: st, ChangeLog: st, Pinger: st,
		Decoder:      ingest.NewDecoder(ingest.Options{}),
		Boards:       reg,
		IngestTokens: auth.NewTokens(ingestToken),
		AdminTokens:  auth.NewTokens(adminToken),
		ViewerTokens: auth.NewUsers(auth.NamedToken{Name: "dana", Token: viewerToken}),
		Alerts:       alerts,
		Calendar:     cal, Retention: opts.Retention, Schema: store.DefaultSchema(), Themes: dict, Rollups: opts.Rollups, MinSample: 30,
		MaxBodyBytes: ingest.DefaultOptions().MaxBytes,
		Logger:       logger,
		Now:          clock.Now,
	}))
	// Boards answer once the aggregator has warmed up.
	for deadline := time.Now().Add(10 * time.Second); !agg.Status().Ready; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			fail(fmt.Errorf("the aggregator did not warm up"))
		}
	}
	return &testServer{URL: srv.URL, Clock: clock, Store: st, Alerts: alertEngine, close: func() {
		srv.Close()
		cancel()
		<-done
		st.Close()
	}}
}

// openFollowUp opens a follow-up in the server's alert state, as the
// alert service does for a detractor.
func (s *testServer) openFollowUp(id, queue string, age time.Duration) error {
	at := s.Clock.Now().Add(-age)
	_, err := s.Alerts.Open(context.Background(), alert.FollowUp{ID: id, Score: 2, Channel: "phone", Team: "billing", Queue: queue,
		Comment: "no call back", At: at, Opened: at, Due: at.Add(2 * time.Hour), Status: alert.Open})
	return err
}
