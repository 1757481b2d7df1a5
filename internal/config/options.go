package config

import (
	"errors"
	"fmt"
	"github.com/pulseboard/pulseboard/internal/themes"
	"log/slog"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/npsgauge"
	"github.com/pulseboard/pulseboard/internal/store"
)

// option is one row of the settings table.
type option struct {
	name string // the setting's name in messages; equal to yaml when the file can set it
	env  string
	flag string // without the leading dashes
	yaml string // dotted for nested keys; "" when the file cannot set it
	// def is the raw default, fed to parse like any other value; defDoc,
	// when set, is how the default is documented instead.
	def    string
	defDoc string
	help   string
	// list is the separator of a list option; a YAML list is joined with it.
	list string
	// isBool lets the flag be given without a value.
	isBool bool
	// mapping marks a setting whose file value is a YAML mapping, handed to
	// parse as YAML text (the environment and the flag give the text).
	mapping bool
	// sequence marks a setting whose file value is a YAML list of
	// mappings, handed to parse as YAML text like a mapping's.
	sequence bool
	// redact, when set, is how a value is shown in an error message; "" means
	// the value is not shown at all.
	redact func(raw string) string
	// parse validates a raw value and stores it in c. Nil for the config
	// file, which Load handles before every other option.
	parse func(c *Config, raw string) error
}

// Names of options that code refers to.
const (
	optConfig        = "config"
	optRetentionHour = "retention.hour"
	optRetentionDay  = "retention.day"
)

// options is the settings table. Its order is the order of Usage, Options
// and the example config file.
var options = []option{
	{
		name: "addr", env: "PULSEBOARD_ADDR", flag: "addr", yaml: "addr",
		def:   ":8080",
		help:  "HTTP listen address, host:port",
		parse: func(c *Config, raw string) (err error) { c.Addr, err = parseAddr(raw); return },
	},
	{
		name: "redis_url", env: "PULSEBOARD_REDIS_URL", flag: "redis-url", yaml: "redis_url",
		def: "", defDoc: "(none: in-memory engine)",
		help:   "Redis URL (redis://, rediss:// or unix://; redis+cluster://host:port,host:port/ for Redis Cluster; redis+sentinel://host:port,host:port/master for Redis Sentinel); empty keeps data in memory",
		redact: redactURL,
		parse:  func(c *Config, raw string) (err error) { c.RedisURL, err = parseRedisURL(raw); return },
	},
	{
		name: "redis_timeout", env: "PULSEBOARD_REDIS_TIMEOUT", flag: "redis-timeout", yaml: "redis_timeout",
		def:   "3s",
		help:  "how long a request waits on Redis before it answers 503 with Retry-After (ingest, queries; /readyz waits at most 1s); also each command's socket timeout",
		parse: func(c *Config, raw string) (err error) { c.RedisTimeout, err = parsePositiveDuration(raw); return },
	},
	{
		name: "redis_allow_eviction", env: "PULSEBOARD_REDIS_ALLOW_EVICTION", flag: "redis-allow-eviction", yaml: "redis_allow_eviction",
		def:    "false",
		help:   "start and stay ready on a Redis whose maxmemory-policy may evict keys (anything but noeviction), which can lose counts and ids under memory pressure",
		isBool: true,
		parse:  func(c *Config, raw string) (err error) { c.RedisAllowEviction, err = parseBool(raw); return },
	},
	{
		name: optConfig, env: "PULSEBOARD_CONFIG", flag: "config",
		defDoc: DefaultConfigFile + " (if it exists)",
		help:   "YAML config file; a named file must exist",
	},
	{
		name: "ingest_tokens", env: "PULSEBOARD_INGEST_TOKENS", flag: "ingest-tokens", yaml: "ingest_tokens",
		def: "", defDoc: "(none: one is generated at start)",
		help:   "comma-separated bearer tokens accepted by ingest, each at least 16 characters, or its hash as sha256:<hex>",
		list:   ",",
		redact: func(string) string { return "" },
		parse:  func(c *Config, raw string) (err error) { c.IngestTokens, err = parseTokens(raw); return },
	},
	{
		name: "admin_tokens", env: "PULSEBOARD_ADMIN_TOKENS", flag: "admin-tokens", yaml: "admin_tokens",
		def: "", defDoc: "(none: admin API off)",
		help:   "comma-separated admin bearer tokens (follow-ups, alerts, dead letters, reloads, pprof, every board), in the clear or as sha256:<hex>",
		list:   ",",
		redact: func(string) string { return "" },
		parse:  func(c *Config, raw string) (err error) { c.AdminTokens, err = parseTokens(raw); return },
	},
	{
		name: "viewer_tokens", env: "PULSEBOARD_VIEWER_TOKENS", flag: "viewer-tokens", yaml: "viewer_tokens",
		def: "", defDoc: "(none)",
		help:   "comma-separated name:token viewer entries (supervisors, team leads: read the query API, every board and the console, work the follow-ups), each token in the clear or as sha256:<hex>",
		list:   ",",
		redact: func(string) string { return "" },
		parse:  func(c *Config, raw string) (err error) { c.ViewerTokens, err = parseViewerTokens(raw); return },
	},
	{
		name: "session_key", env: "PULSEBOARD_SESSION_KEY", flag: "session-key", yaml: "session_key",
		def: "", defDoc: "(none: a random key per process)",
		help:   "key that signs sign-in cookies, at least 32 characters; set the same on every node, or sessions end at each restart and work on one node only",
		redact: func(string) string { return "" },
		parse:  func(c *Config, raw string) (err error) { c.SessionKey, err = parseSessionKey(raw); return },
	},
	{
		name: "public_url", env: "PULSEBOARD_PUBLIC_URL", flag: "public-url", yaml: "public_url",
		def: "", defDoc: "(none: chat messages carry no claim link)",
		help:  "the server's address as people reach it, like https://pulse.example.com: the base of the claim links in Slack and Teams messages (signed with session_key)",
		parse: func(c *Config, raw string) (err error) { c.PublicURL, err = parsePublicURL(raw); return },
	},
	{
		name: "session_ttl", env: "PULSEBOARD_SESSION_TTL", flag: "session-ttl", yaml: "session_ttl",
		def:   "12h",
		help:  "how long a sign-in lasts, 5m to 30d",
		parse: func(c *Config, raw string) (err error) { c.SessionTTL, err = parseSessionTTL(raw); return },
	},
	{
		name: "trusted_proxies", env: "PULSEBOARD_TRUSTED_PROXIES", flag: "trusted-proxies", yaml: "trusted_proxies",
		def: "", defDoc: "(none)",
		help:  "comma-separated IP addresses or CIDR prefixes of the single-sign-on proxies whose trusted_user_header is believed (the TCP peer, not X-Forwarded-For)",
		list:  ",",
		parse: func(c *Config, raw string) (err error) { c.TrustedProxies, err = parseTrustedProxies(raw); return },
	},
	{
		name: "trusted_user_header", env: "PULSEBOARD_TRUSTED_USER_HEADER", flag: "trusted-user-header", yaml: "trusted_user_header",
		def: "", defDoc: "(none: off)",
		help:  "header in which a trusted proxy names the signed-in person (a viewer), like X-Forwarded-User from oauth2-proxy; needs trusted_proxies",
		parse: func(c *Config, raw string) (err error) { c.TrustedUserHeader, err = parseHeaderName(raw); return },
	},
	{
		name: "trusted_admin_users", env: "PULSEBOARD_TRUSTED_ADMIN_USERS", flag: "trusted-admin-users", yaml: "trusted_admin_users",
		def: "", defDoc: "(none)",
		help:  "comma-separated names the proxy's header gives that get the admin role instead of viewer",
		list:  ",",
		parse: func(c *Config, raw string) (err error) { c.TrustedAdminUsers, err = parseUserNames(raw); return },
	},
	{
		name: "public_boards", env: "PULSEBOARD_PUBLIC_BOARDS", flag: "public-boards", yaml: "public_boards",
		def:    "false",
		help:   "open every board, the index and the query API without a token (1/0, true/false, yes/no); else boards need a paired screen",
		isBool: true,
		parse:  func(c *Config, raw string) (err error) { c.PublicBoards, err = parseBool(raw); return },
	},
	{
		name: "ingest_rate", env: "PULSEBOARD_INGEST_RATE", flag: "ingest-rate", yaml: "ingest_rate",
		def:   "50000",
		help:  "responses per second each ingest token may send, with a burst of one second's worth or one full batch; 0 for no limit",
		parse: func(c *Config, raw string) (err error) { c.IngestRate, err = parseNonNegativeFloat(raw); return },
	},
	{
		name: "max_screens_per_ip", env: "PULSEBOARD_MAX_SCREENS_PER_IP", flag: "max-screens-per-ip", yaml: "max_screens_per_ip",
		def:   "256",
		help:  "live sockets one client address may hold open; 0 for no limit (raise it behind a proxy that hides addresses)",
		parse: func(c *Config, raw string) (err error) { c.MaxScreensPerIP, err = parseNonNegativeInt(raw); return },
	},
	{
		name: "allowed_origins", env: "PULSEBOARD_ALLOWED_ORIGINS", flag: "allowed-origins", yaml: "allowed_origins",
		def: "", defDoc: "(none: same origin only)",
		help:  "comma-separated origins, besides a board's own, whose pages may open its live socket (a site that embeds boards), like https://wall.example.com",
		list:  ",",
		parse: func(c *Config, raw string) (err error) { c.AllowedOrigins, err = parseOrigins(raw); return },
	},
	{
		name: "timezone", env: "PULSEBOARD_TIMEZONE", flag: "timezone", yaml: "timezone",
		def:  "UTC",
		help: "IANA time zone of day buckets and calendar windows",
		parse: func(c *Config, raw string) error {
			loc, err := parseLocation(raw)
			if err != nil {
				return err
			}
			c.Location, c.TimezoneName = loc, raw
			return nil
		},
	},
	{
		name: "week_start", env: "PULSEBOARD_WEEK_START", flag: "week-start", yaml: "week_start",
		def:   "monday",
		help:  "the weekday weeks start on for the this_week and last_week windows",
		parse: func(c *Config, raw string) (err error) { c.WeekStart, err = parseWeekday(raw); return },
	},
	{
		name: "demo", env: "PULSEBOARD_DEMO", flag: "demo", yaml: "demo",
		def:    "false",
		help:   "generate demo traffic (1/0, true/false, yes/no)",
		isBool: true,
		parse:  func(c *Config, raw string) (err error) { c.Demo, err = parseBool(raw); return },
	},
	{
		name: "demo_rate", env: "PULSEBOARD_DEMO_RATE", flag: "demo-rate", yaml: "demo_rate",
		def:   "1",
		help:  "demo traffic, in answers per second in the busiest hour (from about six times as many interactions, each offered a survey)",
		parse: func(c *Config, raw string) (err error) { c.DemoRate, err = parsePositiveFloat(raw); return },
	},
	{
		name: "log_level", env: "PULSEBOARD_LOG_LEVEL", flag: "log-level", yaml: "log_level",
		def:   "info",
		help:  "debug, info, warn or error",
		parse: func(c *Config, raw string) (err error) { c.LogLevel, err = parseLogLevel(raw); return },
	},
	{
		name: "log_format", env: "PULSEBOARD_LOG_FORMAT", flag: "log-format", yaml: "log_format",
		def:   "text",
		help:  "text or json",
		parse: func(c *Config, raw string) (err error) { c.LogFormat, err = parseLogFormat(raw); return },
	},
	{
		name: "tenant", env: "PULSEBOARD_TENANT", flag: "tenant", yaml: "tenant",
		def:   "default",
		help:  "namespace of Redis keys: 1 to 32 of a-z 0-9 _ -",
		parse: func(c *Config, raw string) (err error) { c.Tenant, err = parseTenant(raw); return },
	},
	{
		// Before rollups, alerts and the boards, which name dimensions.
		name: "dimensions", env: "PULSEBOARD_DIMENSIONS", flag: "dimensions", yaml: "dimensions",
		def: "", defDoc: "(none: channel, segment, journey, team, agent)",
		help: fmt.Sprintf("comma-separated dimensions of your own besides channel, segment, journey, team and agent, like region,language: lower-case names, at most %d in all", store.MaxDimensions),
		list: ",",
		parse: func(c *Config, raw string) (err error) {
			c.Dimensions, err = store.NewSchema(splitList(raw, ",")...)
			return
		},
	},
	{
		name: "themes", env: "PULSEBOARD_THEMES", flag: "themes", yaml: "themes",
		def: "default", defDoc: "default (waiting, call-backs, transfers, billing, rudeness, unresolved, praise; en, es, de, fr, pt)",
		help:     `what comments are about, counted in rollups holding "theme": "default", "none", or a list of {name, label, terms, negatable} (see config/pulseboard.example.yaml) that replaces the default; as YAML or JSON text in the environment or flag`,
		sequence: true,
		parse: func(c *Config, raw string) (err error) {
			c.Themes, err = themes.Parse(raw)
			return
		},
	},
	{
		name: "rollups", env: "PULSEBOARD_ROLLUPS", flag: "rollups", yaml: "rollups",
		def:   defaultRollups(),
		help:  `semicolon-separated dimension tuples that get counters, like "channel;team+channel"; "all" is always included`,
		list:  ";",
		parse: func(c *Config, raw string) (err error) { c.Rollups, err = parseRollups(c.Dimensions, raw); return },
	},
	{
		name: "min_sample", env: "PULSEBOARD_MIN_SAMPLE", flag: "min-sample", yaml: "min_sample",
		def:   "30",
		help:  "responses below which a score is flagged as a low sample",
		parse: func(c *Config, raw string) (err error) { c.MinSample, err = parsePositiveInt(raw); return },
	},
	{
		name: "offers.shared_ids", env: "PULSEBOARD_OFFERS_SHARED_IDS", flag: "offers-shared-ids", yaml: "offers.shared_ids",
		def:    "false",
		help:   "a response that names no offer_id answers the offer of its own id (producers that give a survey and its answer the interaction's id); off, it is unsolicited",
		isBool: true,
		parse:  func(c *Config, raw string) (err error) { c.OfferIDsShared, err = parseBool(raw); return },
	},
	{
		name: "retention.minute", env: "PULSEBOARD_RETENTION_MINUTE", flag: "retention-minute", yaml: "retention.minute",
		def:  "26h",
		help: "how long minute buckets are kept; at least 25h (the 24h window reads them)",
		parse: func(c *Config, raw string) (err error) {
			c.Retention.Minute, err = parseRetention(raw, 25*time.Hour, "the 24h window reads minute buckets")
			return
		},
	},
	{
		name: optRetentionHour, env: "PULSEBOARD_RETENTION_HOUR", flag: "retention-hour", yaml: optRetentionHour,
		def:  "32d",
		help: "how long hour buckets are kept; at least 31d (the 30d window reads them)",
		parse: func(c *Config, raw string) (err error) {
			c.Retention.Hour, err = parseRetention(raw, 31*day, "the 30d window reads hour buckets")
			return
		},
	},
	{
		name: optRetentionDay, env: "PULSEBOARD_RETENTION_DAY", flag: "retention-day", yaml: optRetentionDay,
		def:  "400d",
		help: "how long day buckets are kept; at least retention.hour",
		parse: func(c *Config, raw string) (err error) {
			c.Retention.Day, err = parseRetention(raw, 0, "")
			return
		},
	},
	{
		name: "retention.dedupe", env: "PULSEBOARD_RETENTION_DEDUPE", flag: "retention-dedupe", yaml: "retention.dedupe",
		def:  "400d",
		help: "how long response ids are remembered for upserts; older responses are rejected; at least 31d",
		parse: func(c *Config, raw string) (err error) {
			c.Retention.Dedupe, err = parseRetention(raw, 31*day, "responses up to 30d old must be deduplicated")
			return
		},
	},
	{
		name: "max_skew", env: "PULSEBOARD_MAX_SKEW", flag: "max-skew", yaml: "max_skew",
		def:   "5m",
		help:  "how far in the future a response's time may be",
		parse: func(c *Config, raw string) (err error) { c.MaxSkew, err = parseDuration(raw); return },
	},
	{
		name: "max_body_bytes", env: "PULSEBOARD_MAX_BODY_BYTES", flag: "max-body-bytes", yaml: "max_body_bytes",
		def:   "8MiB",
		help:  "largest ingest request body: bytes, or with KiB, MiB or GiB",
		parse: func(c *Config, raw string) (err error) { c.MaxBodyBytes, err = parseBytes(raw); return },
	},
	{
		name: "max_batch", env: "PULSEBOARD_MAX_BATCH", flag: "max-batch", yaml: "max_batch",
		def:   "10000",
		help:  "most responses in one ingest request",
		parse: func(c *Config, raw string) (err error) { c.MaxBatch, err = parsePositiveInt(raw); return },
	},
	{
		name: "shutdown_timeout", env: "PULSEBOARD_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout", yaml: "shutdown_timeout",
		def:   "10s",
		help:  "how long a graceful shutdown may take",
		parse: func(c *Config, raw string) (err error) { c.ShutdownTimeout, err = parsePositiveDuration(raw); return },
	},
	{
		name: "changelog_maxlen", env: "PULSEBOARD_CHANGELOG_MAXLEN", flag: "changelog-maxlen", yaml: "changelog_maxlen",
		def:   "100000",
		help:  "approximate length the Redis change log stream is trimmed to",
		parse: func(c *Config, raw string) (err error) { c.ChangeLogMaxLen, err = parsePositiveInt64(raw); return },
	},
	{
		name: "redis_min_replicas", env: "PULSEBOARD_REDIS_MIN_REPLICAS", flag: "redis-min-replicas", yaml: "redis_min_replicas",
		def:   "0",
		help:  "replicas that must have a batch before it is acknowledged (WAIT after each batch; 503 when fewer took it); 0 acknowledges once the master has it",
		parse: func(c *Config, raw string) (err error) { c.RedisMinReplicas, err = parseMinReplicas(raw); return },
	},
	{
		name: "redis_min_replicas_timeout", env: "PULSEBOARD_REDIS_MIN_REPLICAS_TIMEOUT", flag: "redis-min-replicas-timeout", yaml: "redis_min_replicas_timeout",
		def:  "1s",
		help: "how long a batch waits for redis_min_replicas replicas before it is refused with 503; 10ms to 2s, and shorter than redis_timeout",
		parse: func(c *Config, raw string) (err error) {
			c.RedisMinReplicasTimeout, err = parseMinReplicasTimeout(raw)
			return
		},
	},
	{
		name: "boards", env: "PULSEBOARD_BOARDS", flag: "boards", yaml: "boards",
		def: "", defDoc: DefaultBoardsFile + " if it exists, else the built-in boards",
		help: "YAML file of board definitions; edits are picked up while running",
		parse: func(c *Config, raw string) (err error) {
			c.BoardsFile, err = parseOptionalFile(raw, "boards file")
			return
		},
	},
	{
		name: "sse_keepalive", env: "PULSEBOARD_SSE_KEEPALIVE", flag: "sse-keepalive", yaml: "sse_keepalive",
		def:  "15s",
		help: "longest silence of a screen's event stream (the SSE fallback) before a comment line keeps proxies from closing it; 1s to 5m",
		parse: func(c *Config, raw string) (err error) {
			c.SSEKeepAlive, err = parseDurationBetween(raw, time.Second, 5*time.Minute)
			return
		},
	},
	{
		name: "broadcast_interval", env: "PULSEBOARD_BROADCAST_INTERVAL", flag: "broadcast-interval", yaml: "broadcast_interval",
		def:  "250ms",
		help: "how often boards are recomputed and pushed when something changed; 50ms to 10s",
		parse: func(c *Config, raw string) (err error) {
			c.BroadcastInterval, err = parseBroadcastInterval(raw)
			return
		},
	},
	{
		name: "stream", env: "PULSEBOARD_STREAM", flag: "stream", yaml: "stream",
		def: "", defDoc: "(none: stream ingest off)",
		help:  "Redis stream that producers XADD responses to; every node reads it in one consumer group (needs redis_url)",
		parse: func(c *Config, raw string) (err error) { c.Stream, err = parseStreamKey(raw); return },
	},
	{
		name: "stream_group", env: "PULSEBOARD_STREAM_GROUP", flag: "stream-group", yaml: "stream_group",
		def:  "pulseboard",
		help: "consumer group of the stream ingest",
		parse: func(c *Config, raw string) (err error) {
			if raw == "" {
				return errors.New("must be up to 128 characters without spaces, not empty")
			}
			c.StreamGroup, err = parseStreamKey(raw)
			return
		},
	},
	{
		name: "webhook_secret", env: "PULSEBOARD_WEBHOOK_SECRET", flag: "webhook-secret", yaml: "webhook_secret",
		def: "", defDoc: "(none: only webhook adapters with their own secret are on)",
		help:   "secret of the webhook adapters without their own (secret_env in the webhooks file), at least 16 characters",
		redact: func(string) string { return "" },
		parse:  func(c *Config, raw string) (err error) { c.WebhookSecret, err = parseSecret(raw); return },
	},
	{
		name: "webhooks", env: "PULSEBOARD_WEBHOOKS", flag: "webhooks", yaml: "webhooks",
		def: "", defDoc: "(none: built-in mappings only)",
		help: "YAML file of webhook field mappings (generic adapters, and property names for Delighted and AskNicely) and of each adapter's secret_env",
		parse: func(c *Config, raw string) (err error) {
			c.WebhooksFile, err = parseOptionalFile(raw, "webhooks file")
			return
		},
	},
	{
		name: "frame_ancestors", env: "PULSEBOARD_FRAME_ANCESTORS", flag: "frame-ancestors", yaml: "frame_ancestors",
		def:   "'self'",
		help:  "who may embed the pages in a frame (CSP frame-ancestors): 'self', 'none', or space-separated origins like https://wall.example.com",
		parse: func(c *Config, raw string) (err error) { c.FrameAncestors, err = parseFrameAncestors(raw); return },
	},
	{
		name: "alert_secret", env: "PULSEBOARD_ALERT_SECRET", flag: "alert-secret", yaml: "alert_secret",
		def: "", defDoc: "(none: needed once alerts.webhooks or alerts.digest.webhooks name a receiver)",
		help:   "secret that signs outgoing alert webhooks (HMAC-SHA256, X-Pulseboard-Signature), at least 16 characters",
		redact: func(string) string { return "" },
		parse:  func(c *Config, raw string) (err error) { c.AlertSecret, err = parseSecret(raw); return },
	},
	{
		name: "alerts", env: "PULSEBOARD_ALERTS", flag: "alerts", yaml: "alerts",
		def: "", defDoc: "detractors at 6 or below, same-day SLA, no receivers, no threshold rules, emerging themes on",
		help:    "the alerts section (see config/pulseboard.example.yaml): detractor cutoff, webhooks, retries, SLA, threshold rules, emerging themes, digest; as YAML or JSON text in the environment or flag",
		mapping: true,
		parse: func(c *Config, raw string) (err error) {
			c.Alerts, err = alert.ParseConfig(raw, c.Dimensions, c.Rollups, parseDuration)
			return
		},
	},
	{
		// After alerts, whose parse replaces the whole section this sets a
		// field of.
		name: "alert_allow_private_receivers", env: alert.AllowPrivateSetting, flag: "alert-allow-private-receivers", yaml: "alert_allow_private_receivers",
		def:    "false",
		help:   "let alert webhooks reach receivers on loopback, link-local, private and unspecified addresses (1/0, true/false, yes/no); refused otherwise, also when a name resolves there",
		isBool: true,
		parse:  func(c *Config, raw string) (err error) { c.Alerts.AllowPrivateReceivers, err = parseBool(raw); return },
	},
	{
		// After rollups: each entry names one.
		name: "metrics.nps", env: "PULSEBOARD_METRICS_NPS", flag: "metrics-nps", yaml: "metrics.nps",
		def: "", defDoc: "(none: no NPS series on /metrics)",
		help:     "NPS gauges on /metrics for viewers and admins (see config/pulseboard.example.yaml): a list of {by: [dimensions of a configured rollup], window: NAME, max_groups: 500}; agent needs allow_agent: true; as YAML or JSON text in the environment or flag",
		sequence: true,
		parse: func(c *Config, raw string) (err error) {
			c.NPSMetrics, err = npsgauge.ParseConfig(raw, c.Dimensions, c.Rollups)
			return
		},
	},
}

// defaultRollups writes store.DefaultRollups in the form the rollups option
// parses.
func defaultRollups() string {
	rs := store.DefaultRollups()
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Name()
	}
	return strings.Join(names, ";")
}

// doc is the option's documentation.
func (o *option) doc() OptionDoc {
	d := OptionDoc{Name: o.name, Env: o.env, YAML: o.yaml, Default: o.def, Help: o.help}
	if o.flag != "" {
		d.Flag = "--" + o.flag
	}
	if o.defDoc != "" {
		d.Default = o.defDoc
	}
	return d
}

// where names the setting and the source of a value, for error messages:
// `PULSEBOARD_ADDR="x"`, `--addr "x"`, `config/pulseboard.yaml: addr`.
func (o *option) where(v value) string {
	shown, show := v.raw, true
	if o.redact != nil {
		shown = o.redact(v.raw)
		show = shown != ""
	}
	switch v.kind {
	case fromFlag:
		if !show {
			return "--" + o.flag
		}
		return fmt.Sprintf("--%s %q", o.flag, shown)
	case fromEnv:
		if !show {
			return o.env
		}
		return fmt.Sprintf("%s=%q", o.env, shown)
	case fromFile:
		return v.file + ": " + o.yaml
	default:
		if !show {
			return "default " + o.name
		}
		return fmt.Sprintf("default %s %q", o.name, shown)
	}
}

// levelNames maps log_level values to slog levels.
var levelNames = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}
