package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/pulseboard/pulseboard/internal/themes"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	configfiles "github.com/pulseboard/pulseboard/config"
	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/jobs"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/boards"
	"github.com/pulseboard/pulseboard/internal/config"
	"github.com/pulseboard/pulseboard/internal/demo"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/ingest/redisstream"
	"github.com/pulseboard/pulseboard/internal/live"
	"github.com/pulseboard/pulseboard/internal/metrics"
	"github.com/pulseboard/pulseboard/internal/npsgauge"
	"github.com/pulseboard/pulseboard/internal/redisurl"
	"github.com/pulseboard/pulseboard/internal/session"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/webhook"
	"github.com/pulseboard/pulseboard/internal/window"
	"github.com/pulseboard/pulseboard/views"
)

// Server timeouts. Headers must arrive quickly (slowloris); a body may take
// longer (8 MiB from a slow producer); idle keep-alives are dropped after two
// minutes.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 60 * time.Second
	writeTimeout      = 60 * time.Second
	idleTimeout       = 120 * time.Second
)

// demoHistoryDays of history make every window, 30d included, show numbers
// at once.
const demoHistoryDays = 30

// Main is the whole program: Run starts it, Close stops it in order. Tests
// start the real thing on 127.0.0.1:0.
type Main struct {
	Config *config.Config
	Logger *slog.Logger
	// Now is the clock of every component; tests inject one.
	Now func() time.Time

	store   store.Store
	metrics *metrics.Metrics
	// redis is the process's one Redis client (Redis engine only), shared by
	// the store, alerting, the job claimer and the stream ingest: closed
	// last, once all of them stopped.
	redis redis.UniversalClient
	agg   *aggregate.Aggregator
	// themes is the compiled dictionary the store matches comments with;
	// the console shows its evidence words and labels, the demo writes
	// comments it finds.
	themes *themes.Dictionary
	// boards holds the board definitions: the API, the pages and the
	// screens read them there, and reloads replace them there.
	boards *boards.Registry
	live   *live.Broadcaster
	// bg runs the aggregator, the broadcaster and the boards file watch.
	bg loops
	// The stream ingest, when configured: stopped before the store closes so
	// its last batch is recorded and acknowledged.
	stream   loops
	server   *http.Server
	listener net.Listener
	failed   chan error
	demo     loops
	// boardsPath is the watched boards file ("" for the built-in boards).
	boardsPath string
	// demoHistory is closed once the demo's history is recorded.
	demoHistory chan struct{}
	// Alerting: the service and the scheduler of the once-per-cluster jobs.
	alerts   *alert.Service
	sched    *jobs.Scheduler
	alerting loops
	close    sync.Once
}

// loops are goroutines that run until their context is cancelled. Close
// stops each group of them in turn, in the order the program needs.
type loops struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// start returns the loops' context, a child of parent that stop cancels.
func (l *loops) start(parent context.Context) context.Context {
	ctx, cancel := context.WithCancel(parent)
	l.cancel = cancel
	return ctx
}

// run runs fn in a goroutine that stop waits for.
func (l *loops) run(fn func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn()
	}()
}

// stop cancels the loops' context and waits until every one returned; it
// does nothing for loops never started.
func (l *loops) stop() {
	if l.cancel != nil {
		l.cancel()
		l.wg.Wait()
	}
}

// NewMain prepares a program from a loaded configuration.
func NewMain(cfg *config.Config, logger *slog.Logger) *Main {
	return &Main{Config: cfg, Logger: logger, Now: time.Now, failed: make(chan error, 1), demoHistory: make(chan struct{})}
}

// Run opens the store, starts serving and, with demo on, starts the demo
// traffic. It returns once the server is listening.
func (m *Main) Run(ctx context.Context) error {
	cfg := m.Config
	cal, err := window.NewCalendar(cfg.Location, m.Now())
	if err != nil {
		return fmt.Errorf("time zone: %w", err)
	}
	cal = cal.WithWeekStart(cfg.WeekStart)
	dict, err := themes.New(cfg.Themes, nil)
	if err != nil {
		return fmt.Errorf("compile the themes: %w", err)
	}
	m.themes = dict
	opts := store.Options{Schema: cfg.Dimensions, Rollups: cfg.Rollups, Calendar: cal, Retention: cfg.Retention, Now: m.Now, Themes: dict.Names,
		OfferIDsShared: cfg.OfferIDsShared}
	m.metrics = metrics.New()
	if err := m.openRedis(); err != nil {
		return err
	}
	if err := m.openStore(ctx, opts); err != nil {
		return err
	}

	tokens := cfg.IngestTokens
	if len(tokens) == 0 {
		tok, err := auth.Generate()
		if err != nil {
			return err
		}
		tokens = []string{tok}
		m.Logger.Warn("no ingest token configured; made one for this run (set PULSEBOARD_INGEST_TOKENS to keep one)", slog.String("token", tok))
	}
	// Before alerting: claim links are signed with a key derived from it.
	sessions, err := m.sessionCodec()
	if err != nil {
		return err
	}
	if err := m.startAlerts(ctx, cal, sessions); err != nil {
		return err
	}
	if err := m.startLive(opts, cal); err != nil {
		return err
	}
	decoder := ingest.NewDecoder(ingest.Options{
		MaxBytes: cfg.MaxBodyBytes, MaxItems: cfg.MaxBatch,
		MaxSkew: cfg.MaxSkew, MaxAge: cfg.Retention.Dedupe, Schema: cfg.Dimensions,
	})
	// Adapters' own secrets are named in the webhooks file (secret_env) and
	// read from the process environment, like every other secret.
	hooks, err := webhook.Open(cfg.WebhookSecret, cfg.WebhooksFile, os.Getenv, ingest.Options{MaxSkew: cfg.MaxSkew, MaxAge: cfg.Retention.Dedupe, Schema: cfg.Dimensions})
	if err != nil {
		return err
	}
	if hooks != nil {
		for _, w := range hooks.Warnings() {
			m.Logger.Warn(w)
		}
	}
	handler := httpapi.New(httpapi.Deps{
		Recorder:       m.store,
		Querier:        m.store,
		ChangeLog:      m.store,
		Pinger:         m.store,
		Decoder:        decoder,
		Boards:         m.boards,
		Screens:        m.live,
		IngestTokens:   auth.NewTokens(tokens...),
		AdminTokens:    auth.NewTokens(cfg.AdminTokens...),
		ViewerTokens:   auth.NewUsers(cfg.ViewerTokens...),
		Sessions:       sessions,
		SessionTTL:     cfg.SessionTTL,
		TrustedProxies: cfg.TrustedProxies,
		TrustedAdmins:  cfg.TrustedAdminUsers,
		PublicBoards:   cfg.PublicBoards,
		IngestRate:     cfg.IngestRate,
		IngestBurst:    cfg.MaxBatch,
		ReloadBoards:   m.reloadBoards,
		Alerts:         m.alerts,
		AlertsTimeout:  m.Config.RedisTimeout,
		Webhooks:       hooks,
		Metrics:        m.metrics,
		FrameAncestors: cfg.FrameAncestors,
		Calendar:       cal,
		Retention:      cfg.Retention,
		Schema:         cfg.Dimensions,
		Themes:         m.themes,
		Rollups:        cfg.Rollups,
		MinSample:      int64(cfg.MinSample),
		MaxBodyBytes:   cfg.MaxBodyBytes,
		Logger:         m.Logger,
		Now:            m.Now,

		TrustedUserHeader: cfg.TrustedUserHeader,
	})

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	m.listener = ln
	m.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
	}
	// Screens end as the drain begins: an event stream is a request the
	// drain would wait for, to the end of the shutdown timeout.
	m.server.RegisterOnShutdown(m.live.Close)
	go func() {
		if err := m.server.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.failed <- fmt.Errorf("serve http: %w", err)
		}
	}()
	m.Logger.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("engine", m.engineName()),
		slog.String("timezone", cal.Location().String()))

	if cfg.Demo {
		m.startDemo(ctx)
	}
	return m.startStream(decoder.Options())
}

// sessionCodec signs sign-in cookies with the configured session key, or
// with a random one, which it says costs: sessions end at a restart, and a
// node does not accept another node's sessions (nor, behind an SSO proxy,
// the CSRF tokens of another node's pages).
func (m *Main) sessionCodec() (*session.Codec, error) {
	if m.Config.SessionKey != "" {
		return session.NewCodec([]byte(m.Config.SessionKey)), nil
	}
	key, err := session.RandomKey()
	if err != nil {
		return nil, err
	}
	if len(m.Config.ViewerTokens) > 0 || len(m.Config.AdminTokens) > 0 || m.Config.TrustedUserHeader != "" {
		m.Logger.Warn("no session key configured (PULSEBOARD_SESSION_KEY): sign-ins use a random key of this process; they end when it restarts and are not accepted by other nodes. Set the same key on every node")
	}
	return session.NewCodec(key), nil
}

// startStream starts the Redis stream ingest when a stream is configured.
func (m *Main) startStream(opts ingest.Options) error {
	cfg := m.Config
	if cfg.Stream == "" {
		return nil
	}
	if cfg.RedisURL == "" {
		return errors.New("stream ingest (PULSEBOARD_STREAM) needs Redis: set PULSEBOARD_REDIS_URL")
	}
	consumer := redisstream.New(m.redis, m.store, redisstream.Config{
		Stream: cfg.Stream, Group: cfg.StreamGroup, Ingest: opts, Now: m.Now, Logger: m.Logger,
	})
	ctx := m.stream.start(context.Background())
	m.stream.run(func() { _ = consumer.Run(ctx) })
	m.Logger.Info("stream ingest on", slog.String("stream", cfg.Stream), slog.String("group", cfg.StreamGroup))
	return nil
}

// boardsWatchEvery is how often the boards file is checked for edits.
const boardsWatchEvery = 2 * time.Second

// templateValuesEvery is how often board templates look for new values
// (a team's first answer): one grouped query of the node's replica per
// template, so a new team has its board within seconds.
const templateValuesEvery = 2 * time.Second

// startLive starts the aggregator (this node's replica of the counters),
// the board registry, the broadcaster that pushes boards to screens, and
// the boards file watch.
func (m *Main) startLive(opts store.Options, cal window.Calendar) error {
	path, data := m.boardsFile()
	defs, err := board.Parse(data, m.Config.Dimensions, m.Config.Rollups)
	if err != nil {
		return fmt.Errorf("boards (%s): %w", path, err)
	}
	ctx := m.bg.start(context.Background())
	m.agg = aggregate.New(m.store, opts, m.Config.Rollups, m.Logger)
	m.boards = boards.New(m.agg, board.Computer{Calendar: cal, Retention: m.Config.Retention, MinSample: int64(m.Config.MinSample), Alerts: m.alerts,
		Labels: m.themes.Label}, defs)
	m.live = live.New(m.agg, m.boards, live.Options{
		Interval: m.Config.BroadcastInterval, AllowedOrigins: m.Config.AllowedOrigins, Now: m.Now, Logger: m.Logger,
		RenderTile: views.TileHTML,
		Observer:   m.metrics,
		MaxPerIP:   m.Config.MaxScreensPerIP,
		Changed:    m.alerts.Changed(),
		KeepAlive:  m.Config.SSEKeepAlive,
	})
	m.boardsPath = path
	m.warnUnreachableBoards(defs)
	m.metrics.Screens(func() map[string]int { return screensByTemplate(m.live.Clients()) })
	// Of those, the screens on the SSE fallback: a series of its own, so
	// pulseboard_ws_clients keeps its one label and its dashboards.
	m.metrics.GaugeFunc("pulseboard_sse_clients", "Screens connected by Server-Sent Events (the fallback for networks that block WebSockets); pulseboard_ws_clients counts them too.", func() float64 {
		return float64(m.live.EventStreams())
	})
	m.metrics.GaugeFunc("pulseboard_aggregator_stale", "1 while the node cannot read its store and boards show their last numbers.", func() float64 {
		if m.agg.Status().Stale {
			return 1
		}
		return 0
	})
	m.bg.run(func() { m.agg.Run(ctx) })
	m.bg.run(func() { m.live.Run(ctx) })
	m.startNPSGauges(ctx, cal)
	m.bg.run(func() {
		// A template's board whose value left the 30-day window stays while
		// a screen shows it.
		watched := func(name string) bool { return m.live.Clients()[name] > 0 }
		m.boards.FollowValues(ctx, templateValuesEvery, m.Now, watched, m.Logger)
	})
	if path != "" {
		m.bg.run(func() {
			board.WatchFile(ctx, path, boardsWatchEvery, m.Config.Dimensions, m.Config.Rollups, data, func(b []board.Board) {
				m.Logger.Info("boards reloaded", slog.String("file", path), slog.Any("boards", board.Names(b)))
				m.boards.Set(b)
			}, func(err error) { m.Logger.Error("boards file", slog.Any("err", err)) })
		})
	}
	m.Logger.Info("boards", slog.String("file", path), slog.Any("boards", board.Names(defs)))
	return nil
}

// startNPSGauges exports the configured NPS gauges (metrics.nps): one
// store query per entry every 15 s, with the loops of the live side, which
// stop before the store closes.
func (m *Main) startNPSGauges(ctx context.Context, cal window.Calendar) {
	if len(m.Config.NPSMetrics) == 0 {
		return
	}
	g := npsgauge.New(m.store, npsgauge.Options{
		Entries: m.Config.NPSMetrics, Calendar: cal,
		Now: m.Now, Timeout: m.Config.RedisTimeout, Logger: m.Logger,
	})
	m.metrics.RegisterPrivate(g)
	m.bg.run(func() { g.Run(ctx) })
}

// screensByTemplate counts a template's screens under "T/*", so the
// metric's labels name no value (team or agent names are user data, and
// /metrics is open) and stay as few as the boards file's definitions.
func screensByTemplate(clients map[string]int) map[string]int {
	out := make(map[string]int, len(clients))
	for name, n := range clients {
		if tpl, _, ok := board.SplitName(name); ok {
			name = tpl + "/*"
		}
		out[name] += n
	}
	return out
}

// reloadBoards re-reads the boards file at once (the admin reload); a file
// that does not parse keeps the running boards.
func (m *Main) reloadBoards(context.Context) ([]board.Board, error) {
	if m.boardsPath == "" {
		return nil, httpapi.ErrNoBoardsFile
	}
	defs, _, err := board.Load(m.boardsPath, m.Config.Dimensions, m.Config.Rollups)
	if err != nil {
		return nil, err
	}
	m.boards.Set(defs)
	m.warnUnreachableBoards(defs)
	m.Logger.Info("boards reloaded by an admin", slog.String("file", m.boardsPath), slog.Any("boards", board.Names(defs)))
	return defs, nil
}

// warnUnreachableBoards says once when a board can be opened by nobody: it is
// private, has no paired screen, and no admin, viewer or proxy user can
// come.
func (m *Main) warnUnreachableBoards(boards []board.Board) {
	if m.Config.PublicBoards || len(m.Config.AdminTokens) > 0 || len(m.Config.ViewerTokens) > 0 || m.Config.TrustedUserHeader != "" {
		return
	}
	for _, b := range boards {
		if !b.Public && len(b.Screens) == 0 {
			m.Logger.Warn("board is private and has no paired screen; nobody can open it: add access.screens to it (`pulseboard token --board NAME --screen TV`), or set PULSEBOARD_PUBLIC_BOARDS=true",
				slog.String("board", b.Name))
		}
	}
}

// boardsFile finds the board definitions: the configured file, else
// config/boards.yaml when present, else the built-in boards ("" path: not
// watched).
func (m *Main) boardsFile() (string, []byte) {
	path := m.Config.BoardsFile
	if path == "" {
		if _, err := os.Stat(config.DefaultBoardsFile); err == nil {
			path = config.DefaultBoardsFile
		}
	}
	if path == "" {
		return "", configfiles.Boards
	}
	data, err := os.ReadFile(path)
	if err != nil {
		m.Logger.Error("boards file unreadable; using the built-in boards", slog.String("file", path), slog.Any("err", err))
		return "", configfiles.Boards
	}
	return path, data
}

// openRedis makes the process's one Redis client, when Redis is
// configured: every Redis user gets it (the store, alerting's engine and
// consumer group, the job claimer, the stream ingest), so the process keeps
// one pool, one set of timeouts (PULSEBOARD_REDIS_TIMEOUT, honoured from
// each call's context), one metrics hook and, on a cluster, one slot map
// with one failover hook (redisurl).
func (m *Main) openRedis() error {
	if m.Config.RedisURL == "" {
		return nil
	}
	rdb, err := redisurl.NewClient(m.Config.RedisURL, redisurl.WithTimeout(m.Config.RedisTimeout), redisurl.WithHeldConns(m.heldRedisConns()))
	if err != nil {
		return err
	}
	rdb.AddHook(m.metrics.RedisHook())
	m.redis = rdb
	return nil
}

// heldRedisConns counts the callers that hold a connection of the shared
// client for a whole blocking read, each in its own goroutine for the life
// of the process: the aggregator's XREAD BLOCK, alerting's XREADGROUP BLOCK
// and, when configured, the stream ingest's. The pool gets one connection
// for each on top of the share every other caller had in a client of its
// own before the client was shared.
func (m *Main) heldRedisConns() int {
	n := 2
	if m.Config.Stream != "" {
		n++
	}
	return n
}

func (m *Main) openStore(ctx context.Context, opts store.Options) error {
	if m.Config.RedisURL == "" {
		if m.Config.RedisMinReplicas > 0 {
			return errors.New("PULSEBOARD_REDIS_MIN_REPLICAS needs Redis: set PULSEBOARD_REDIS_URL")
		}
		m.store = memstore.New(opts)
		return nil
	}
	s, err := redisstore.Open(ctx, m.redis, opts, redisstore.Config{
		Tenant: m.Config.Tenant, ChangeLogMaxLen: m.Config.ChangeLogMaxLen,
		Timeout: m.Config.RedisTimeout, AllowEviction: m.Config.RedisAllowEviction, Logger: m.Logger,
		MinReplicas: m.Config.RedisMinReplicas, MinReplicasTimeout: m.Config.RedisMinReplicasTimeout,
	})
	if err != nil {
		return fmt.Errorf("open redis store: connect to redis at %s: %w", redisurl.Describe(m.Config.RedisURL), err)
	}
	m.store = s
	m.metrics.GaugeFunc("pulseboard_redis_eviction_policy_ok",
		"1 while Redis runs maxmemory-policy noeviction (on every master), 0 while it may evict keys, -1 when it does not say; read at start and by /readyz at most every 10 s.",
		func() float64 { return float64(s.EvictionState()) })
	return nil
}

func (m *Main) engineName() string {
	switch {
	case m.Config.RedisURL == "":
		return "memory"
	case redisurl.IsCluster(m.Config.RedisURL):
		return "redis cluster"
	case redisurl.IsSentinel(m.Config.RedisURL):
		return "redis sentinel"
	}
	return "redis"
}

// startDemo fills an empty store with a month of history, then streams live
// responses until Close.
func (m *Main) startDemo(ctx context.Context) {
	ctx = m.demo.start(context.WithoutCancel(ctx))
	gen := demo.New(uint64(m.Now().UnixNano()), m.Config.Location)
	m.demo.run(func() {
		if m.storeIsEmpty(ctx) {
			start := time.Now()
			n, err := gen.Backfill(ctx, m.store, m.Now(), demoHistoryDays, m.Config.DemoRate)
			if err != nil {
				m.Logger.Warn("demo history", slog.Any("err", err))
			}
			m.Logger.Info("demo history recorded", slog.Int("responses", n), slog.Duration("took", time.Since(start)))
		}
		close(m.demoHistory)
		m.demo.run(func() {
			demo.RunDesk(ctx, m.alerts, m.Now, func(err error) { m.Logger.Warn("demo desk", slog.Any("err", err)) })
		})
		m.Logger.Info("demo traffic on", slog.Float64("per_second", m.Config.DemoRate))
		gen.Run(ctx, m.store, m.Config.DemoRate, m.Now, func(err error) {
			m.Logger.Warn("demo traffic", slog.Any("err", err))
		})
	})
}

func (m *Main) storeIsEmpty(ctx context.Context) bool {
	cal, _ := window.NewCalendar(m.Config.Location, m.Now())
	groups, err := m.store.Query(ctx, store.Query{Span: cal.Span(window.Rolling30d, m.Now())})
	return err == nil && len(groups) == 1 && groups[0].Counts.Responses() == 0
}

// DemoHistory is closed once demo traffic has recorded its history.
func (m *Main) DemoHistory() <-chan struct{} { return m.demoHistory }

// Addr is the address the server listens on (useful with port 0).
func (m *Main) Addr() string { return m.listener.Addr().String() }

// Failed delivers an error if the server stops on its own.
func (m *Main) Failed() <-chan error { return m.failed }

// Close stops the program in order: stop accepting and finish in-flight
// requests (so every acknowledged ingest is recorded), close the screens'
// sockets with "going away", stop the aggregator and broadcaster, stop the
// demo, stop the jobs and alerting, stop the stream ingest (its last batch
// recorded and acknowledged), close the store, and last close the Redis
// client they all shared. It is safe to call more than once.
func (m *Main) Close(ctx context.Context) error {
	var errs []error
	m.close.Do(func() {
		if m.server != nil {
			if err := m.server.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("drain http: %w", err))
			}
		}
		if m.live != nil {
			m.live.Close()
		}
		m.bg.stop()
		m.demo.stop()
		if m.sched != nil {
			if err := m.sched.Shutdown(); err != nil {
				errs = append(errs, fmt.Errorf("stop jobs: %w", err))
			}
		}
		m.alerting.stop()
		m.stream.stop()
		if m.store != nil {
			if err := m.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close store: %w", err))
			}
		}
		// Every user of the client stopped above.
		if m.redis != nil {
			if err := m.redis.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close redis client: %w", err))
			}
		}
	})
	return errors.Join(errs...)
}
