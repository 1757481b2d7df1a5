package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/pulseboard/pulseboard/internal/themes"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/store"
)

// fakeEnv is a getenv over a map; tests never read the real environment.
func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// absent is a default config path that does not exist.
func absent(t *testing.T) string {
	return filepath.Join(t.TempDir(), "absent.yaml")
}

// writeYAML writes a config file in a fresh temp dir and returns its path.
func writeYAML(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pulseboard.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// yamlFor writes one setting as YAML, nesting dotted keys.
func yamlFor(key, raw string) string {
	if parent, child, ok := strings.Cut(key, "."); ok {
		return fmt.Sprintf("%s:\n  %s: %q\n", parent, child, raw)
	}
	return fmt.Sprintf("%s: %q\n", key, raw)
}

func docOf(t *testing.T, name string) OptionDoc {
	t.Helper()
	for _, d := range Options() {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no option %q", name)
	return OptionDoc{}
}

func defaults() *Config {
	c := &Config{
		Addr:              ":8080",
		RedisTimeout:      3 * time.Second,
		Location:          time.UTC,
		TimezoneName:      "UTC",
		WeekStart:         time.Monday,
		LogLevel:          slog.LevelInfo,
		LogFormat:         "text",
		Tenant:            "default",
		Rollups:           store.DefaultRollups(),
		MinSample:         30,
		Retention:         store.DefaultRetention(),
		MaxSkew:           5 * time.Minute,
		MaxBodyBytes:      8 << 20,
		MaxBatch:          10000,
		ShutdownTimeout:   10 * time.Second,
		ChangeLogMaxLen:   100000,
		DemoRate:          1,
		BroadcastInterval: 250 * time.Millisecond,
		SSEKeepAlive:      15 * time.Second,
		StreamGroup:       "pulseboard",
		FrameAncestors:    []string{"'self'"},
		IngestRate:        50000,
		MaxScreensPerIP:   256,
		Alerts:            alert.DefaultConfig(),
		SessionTTL:        12 * time.Hour,
		Themes:            themes.Default(),
	}
	c.RedisMinReplicasTimeout = time.Second
	return c
}

func rollupNames(rs []store.Rollup) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name()
	}
	return out
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(nil, fakeEnv(nil), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	if want := defaults(); !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if got, want := rollupNames(c.Rollups), []string{"all", "channel", "segment", "team", "agent", "channel+team", "team+agent", "journey", "channel+journey", "theme", "team+theme"}; !reflect.DeepEqual(got, want) {
		t.Errorf("default rollups = %v, want %v", got, want)
	}
}

func TestLoadExported(t *testing.T) {
	t.Parallel()
	c, err := Load([]string{"--config=", "--addr=127.0.0.1:9000"}, fakeEnv(map[string]string{"PULSEBOARD_TENANT": "acme"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:9000" || c.Tenant != "acme" || c.ConfigFile != "" {
		t.Errorf("Load = addr %q tenant %q file %q", c.Addr, c.Tenant, c.ConfigFile)
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	type vals struct{ file, env, flag string }
	options := []struct {
		name string
		v    vals // distinct valid values per source
		get  func(*Config) any
		// want maps a raw value (or "" for the default) to the result.
		want func(raw string) any
	}{
		{
			name: "addr",
			v:    vals{":1001", ":1002", ":1003"},
			get:  func(c *Config) any { return c.Addr },
			want: func(raw string) any {
				if raw == "" {
					return ":8080"
				}
				return raw
			},
		},
		{
			name: "retention.minute",
			v:    vals{"30h", "2d", "3d"},
			get:  func(c *Config) any { return c.Retention.Minute },
			want: func(raw string) any {
				d := map[string]time.Duration{"": 26 * time.Hour, "30h": 30 * time.Hour, "2d": 48 * time.Hour, "3d": 72 * time.Hour}
				return d[raw]
			},
		},
		{
			name: "ingest_tokens",
			v:    vals{"file-token-0123456789", "env-token-0123456789", "flag-token-0123456789"},
			get:  func(c *Config) any { return c.IngestTokens },
			want: func(raw string) any {
				if raw == "" {
					return []string(nil)
				}
				return []string{raw}
			},
		},
		{
			name: "demo",
			v:    vals{"yes", "0", "true"},
			get:  func(c *Config) any { return c.Demo },
			want: func(raw string) any { return raw == "yes" || raw == "true" },
		},
	}
	layers := []struct {
		name            string
		file, env, flag bool
		winner          string
	}{
		{"none", false, false, false, ""},
		{"file", true, false, false, "file"},
		{"env", false, true, false, "env"},
		{"flag", false, false, true, "flag"},
		{"file+env", true, true, false, "env"},
		{"file+flag", true, false, true, "flag"},
		{"env+flag", false, true, true, "flag"},
		{"file+env+flag", true, true, true, "flag"},
	}
	for _, o := range options {
		for _, l := range layers {
			t.Run(o.name+"/"+l.name, func(t *testing.T) {
				t.Parallel()
				d := docOf(t, o.name)
				var args []string
				env := map[string]string{}
				def := absent(t)
				if l.file {
					args = append(args, "--config="+writeYAML(t, yamlFor(d.YAML, o.v.file)))
				}
				if l.env {
					env[d.Env] = o.v.env
				}
				if l.flag {
					args = append(args, d.Flag+"="+o.v.flag)
				}
				c, err := load(args, fakeEnv(env), def)
				if err != nil {
					t.Fatal(err)
				}
				raw := map[string]string{"": "", "file": o.v.file, "env": o.v.env, "flag": o.v.flag}[l.winner]
				if got, want := o.get(c), o.want(raw); !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %v, want %v (from %q)", o.name, got, want, l.winner)
				}
			})
		}
	}
}

// badValues holds, for every setting the file can set, values its validator
// must reject and a fragment of the reason.
var badValues = []struct {
	name, raw, reason string
}{
	{"addr", "x", "must be host:port"},
	{"addr", "localhost:99999", "port must be a number from 0 to 65535"},
	{"redis_url", "http://localhost:6379", "scheme must be redis, rediss or unix"},
	{"redis_url", "redis://", "needs a host"},
	{"redis_url", "redis://localhost:6379/zero", "database number"},
	{"redis_url", "unix://", "needs a socket path"},
	{"redis_url", "redis+cluster://a:1,b:2/0", "a cluster has no database number"},
	{"redis_url", "redis+sentinel://a:1,b:2/", "the path must name the master set"},
	{"redis_url", "redis+sentinel://a:1,,b:2/mymaster", "needs host:port sentinels"},
	{"redis_timeout", "0s", "must be positive"},
	{"redis_allow_eviction", "maybe", "must be one of 1, 0, true, false, yes, no"},
	{"ingest_tokens", "tiny-token", "token 1 is shorter than 16 characters"},
	{"ingest_tokens", "aaaaaaaaaaaaaaaaaaaa,bbbbbbbb bbbbbbbbbbbb", "token 2 contains a space"},
	{"ingest_tokens", "sha256:abcd", "token 1: want sha256: and 64 hex digits"},
	{"admin_tokens", "tiny-admin", "token 1 is shorter than 16 characters"},
	{"viewer_tokens", "aaaaaaaaaaaaaaaaaaaa", "viewer 1: want name:token"},
	{"viewer_tokens", "dana:tiny-token", `viewer "dana": token 1 is shorter than 16 characters`},
	{"viewer_tokens", "<b>dana</b>:aaaaaaaaaaaaaaaaaaaa", "viewer 1: name"},
	{"viewer_tokens", "sha256:aaaaaaaaaaaaaaaaaaaa", "a viewer needs a name"},
	{"viewer_tokens", "dana:sha256:abcd", "want sha256: and 64 hex digits"},
	{"viewer_tokens", "dana:aaaaaaaaaaaaaaaaaaaa,lee:aaaaaaaaaaaaaaaaaaaa", `viewers "dana" and "lee" have the same token`},
	{"session_key", "too-short-for-a-key", "at least 32 characters"},
	{"session_key", "a key with spaces that is long enough to pass", "without spaces"},
	{"session_ttl", "1m", "from 5m to 30d"},
	{"session_ttl", "31d", "from 5m to 30d"},
	{"trusted_proxies", "10.0.0.0/33", "not an IP address or a CIDR prefix"},
	{"trusted_proxies", "proxy.example.com", "not an IP address or a CIDR prefix"},
	{"trusted_user_header", "X Forwarded User", "must be a header name"},
	{"trusted_user_header", "Authorization", "is not a user header"},
	{"trusted_admin_users", "<script>", "a user name is"},
	{"public_boards", "open", "must be one of 1, 0, true, false, yes, no"},
	{"ingest_rate", "-1", "must be a number, 0 for no limit"},
	{"ingest_rate", "fast", "must be a number, 0 for no limit"},
	{"max_screens_per_ip", "-5", "must be a whole number, 0 for no limit"},
	{"max_screens_per_ip", "2.5", "must be a whole number, 0 for no limit"},
	{"allowed_origins", "wall.example.com", "not an origin"},
	{"allowed_origins", "https://wall.example.com/path", "not an origin"},
	{"allowed_origins", "ftp://wall.example.com", "not an origin"},
	{"allowed_origins", "https://wall.example.com?x=1", "not an origin"},
	{"timezone", "Mars/Olympus", "unknown time zone"},
	{"week_start", "mon", "must be a weekday"},
	{"demo", "maybe", "must be one of 1, 0, true, false, yes, no"},
	{"offers.shared_ids", "sometimes", "must be one of 1, 0, true, false, yes, no"},
	{"alert_allow_private_receivers", "sometimes", "must be one of 1, 0, true, false, yes, no"},
	{"demo_rate", "0", "must be a positive number"},
	{"demo_rate", "NaN", "must be a positive number"},
	{"demo_rate", "fast", "must be a positive number"},
	{"log_level", "loud", "must be debug, info, warn or error"},
	{"log_format", "xml", "must be text or json"},
	{"tenant", "Acme", "must be 1 to 32 characters"},
	{"tenant", "a/b", "must be 1 to 32 characters"},
	{"tenant", strings.Repeat("a", 33), "must be 1 to 32 characters"},
	{"dimensions", "Region", "lower-case"},
	{"dimensions", "team", "built in"},
	{"dimensions", "score", "collide"},
	{"dimensions", "a,b,c,d", "at most 3"},
	{"dimensions", "region,region", "listed twice"},
	{"rollups", "team+planet", `unknown dimension "planet"`},
	{"rollups", "channel;team+team", "appears twice"},
	{"min_sample", "0", "must be a positive integer"},
	{"boards", "/no/such/boards.yaml", "cannot read the boards file"},
	{"broadcast_interval", "10ms", "must be between 50ms and 10s"},
	{"sse_keepalive", "500ms", "must be between 1s and 5m0s"},
	{"sse_keepalive", "6m", "must be between 1s and 5m0s"},
	{"broadcast_interval", "soon", "duration"},
	{"stream", "has space", "without spaces"},
	{"stream_group", "a group", "without spaces"},
	{"webhook_secret", "short", "at least 16"},
	{"webhooks", "/no/such/webhooks.yaml", "cannot read the webhooks file"},
	{"frame_ancestors", "wall.example.com", "is not 'self', 'none' or an origin"},
	{"frame_ancestors", "'none' 'self'", "must stand alone"},
	{"public_url", "pulse.example.com", "must be the server's address"},
	{"public_url", "https://pulse.example.com/board", "no path"},
	{"public_url", "javascript:alert(1)", "must be the server's address"},
	{"min_sample", "1.5", "must be a positive integer"},
	{"retention.minute", "24h", "must be at least 25h"},
	{"retention.minute", "long", "must be a duration"},
	{"retention.hour", "30d", "must be at least 31d"},
	{"retention.day", "0s", "must be positive"},
	{"retention.day", "-1d", "must be a duration"},
	{"retention.dedupe", "30d", "must be at least 31d"},
	{"max_skew", "-1m", "must not be negative"},
	{"max_skew", "soon", "must be a duration"},
	{"max_body_bytes", "8MB", "must be a positive size in bytes"},
	{"max_body_bytes", "0", "must be a positive size in bytes"},
	{"max_body_bytes", "2GiB", "must be at most 1GiB"},
	{"max_batch", "0", "must be a positive integer"},
	{"shutdown_timeout", "0s", "must be positive"},
	{"changelog_maxlen", "-5", "must be a positive integer"},
	{"redis_min_replicas", "-1", "from 0 (off) to 16"},
	{"redis_min_replicas", "one", "from 0 (off) to 16"},
	{"redis_min_replicas_timeout", "5s", "must be between 10ms and 2s"},
	{"redis_min_replicas_timeout", "0s", "must be positive"},
	{"admin_tokens", "abc", "shorter than 16"},
	{"alert_secret", "short", "at least 16"},
	{"alerts", "{detractor_cutoff: 11}", "detractor_cutoff: must be a score 0 to 10"},
	{"alerts", "{thresholds: [{name: low, window: 1h, below: 0, by: [zone]}]}", "thresholds[0] (low): by:"},
	{"alerts", "{thresholds: [{name: a, below: 0}, {name: b, metric: csat, below: 80}, {name: phone-rate, below: 15, min_offers: 200}]}", "thresholds[2] (phone-rate): min_offers needs metric response_rate"},
	{"alerts", "{thresholds: [{name: phone-rate, metric: response_rate, below: 150}]}", "thresholds[0] (phone-rate): below: must be the response rate level in percent (0 to 100)"},
	{"alerts", "{thresholds: [{name: x, metric: ces, below: 1}]}", `thresholds[0] (x): metric: "ces" must be one of nps, response_rate, csat`},
	{"alerts", "{emerging_themes: {window: 5m}}", "emerging_themes.window: must be 15m to 24h"},
	{"alerts", "{emerging_themes: {by: [agent]}}", "emerging_themes.by: "},
	{"alerts", "{emerging_themes: {min_share: -0.1}}", "emerging_themes.min_share: must be a share"},
	{"metrics.nps", "[{by: [team], window: 1h}, {by: [channel, agent], window: 1h}]", "[1].by: no rollup channel+agent; rollups are all, channel,"},
	{"metrics.nps", "[{by: [agent], window: 1h}]", "add allow_agent: true"},
	{"metrics.nps", "[{by: [team], window: 1h, colour: red}]", "field colour not found"},
	{"themes", "[{name: Waiting, terms: [wait*]}]", `themes[0].name "Waiting"`},
	{"themes", "[{name: waiting, terms: [\"w*\"]}]", "a stem needs 3 letters"},
	{"themes", "[{name: waiting, words: [wait]}]", "field words not found"},
	{"themes", "sometimes", "want \"default\", \"none\" or a list"},
}

func TestEveryValidatorRejects(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, b := range badValues {
		covered[b.name] = true
	}
	for _, d := range Options() {
		if d.YAML != "" && !covered[d.Name] {
			t.Errorf("option %s has no bad-value case", d.Name)
		}
	}

	secret := map[string]bool{"ingest_tokens": true, "webhook_secret": true, "admin_tokens": true, "alert_secret": true,
		"viewer_tokens": true, "session_key": true}
	for _, b := range badValues {
		for _, src := range []string{"flag", "env", "file"} {
			t.Run(b.name+"/"+src+"/"+b.raw, func(t *testing.T) {
				t.Parallel()
				d := docOf(t, b.name)
				var args []string
				env := map[string]string{}
				var where string
				switch src {
				case "flag":
					args = []string{d.Flag + "=" + b.raw}
					where = fmt.Sprintf("%s %q: ", d.Flag, b.raw)
					if secret[b.name] {
						where = d.Flag + ": "
					}
				case "env":
					env[d.Env] = b.raw
					where = fmt.Sprintf("%s=%q: ", d.Env, b.raw)
					if secret[b.name] {
						where = d.Env + ": "
					}
				case "file":
					p := writeYAML(t, yamlFor(d.YAML, b.raw))
					args = []string{"--config=" + p}
					where = p + ": " + d.YAML + ": "
				}
				c, err := load(args, fakeEnv(env), absent(t))
				if err == nil {
					t.Fatalf("accepted %q, got %+v", b.raw, c)
				}
				msg := err.Error()
				if want := "config: " + where; !strings.HasPrefix(msg, want) {
					t.Errorf("error %q does not start with %q", msg, want)
				}
				if !strings.Contains(msg, b.reason) {
					t.Errorf("error %q does not say %q", msg, b.reason)
				}
				if strings.Contains(msg, "\n") {
					t.Errorf("error %q spans several lines", msg)
				}
				// (The temp file's path holds the test name, hence the trim.)
				if secret[b.name] && strings.Contains(strings.TrimPrefix(msg, "config: "+where), b.raw) {
					t.Errorf("error %q shows a secret", msg)
				}
			})
		}
	}
}

func TestExactMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{
			name: "timezone from env",
			env:  map[string]string{"PULSEBOARD_TIMEZONE": "Mars/Olympus"},
			want: `config: PULSEBOARD_TIMEZONE="Mars/Olympus": unknown time zone`,
		},
		{
			name: "addr from flag",
			args: []string{"--addr", "x"},
			want: `config: --addr "x": must be host:port, like :8080 or 127.0.0.1:8080`,
		},
		{
			name: "redis password redacted",
			env:  map[string]string{"PULSEBOARD_REDIS_URL": "http://user:s3cret@localhost:6379"},
			want: `config: PULSEBOARD_REDIS_URL="http://user:xxxxx@localhost:6379": scheme must be redis, rediss or unix (redis+cluster or rediss+cluster for Redis Cluster, redis+sentinel or rediss+sentinel for Redis Sentinel)`,
		},
		{
			name: "retention day below hour",
			env:  map[string]string{"PULSEBOARD_RETENTION_DAY": "31d"},
			want: `config: PULSEBOARD_RETENTION_DAY="31d": must be at least retention.hour (32d)`,
		},
		{
			name: "retention day below hour from flag",
			args: []string{"--retention-hour=40d", "--retention-day=39d"},
			want: `config: --retention-day "39d": must be at least retention.hour (40d)`,
		},
		{
			name: "unknown flag",
			args: []string{"--colour=red"},
			want: `config: flag provided but not defined: -colour`,
		},
		{
			name: "positional argument",
			args: []string{"serve"},
			want: `config: unexpected argument "serve" (settings are given as --name=value)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(tt.args, fakeEnv(tt.env), absent(t))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\n want %s", err, tt.want)
			}
		})
	}
}

func TestOverriddenBadValueStillFails(t *testing.T) {
	t.Parallel()
	_, err := load([]string{"--log-level=debug"}, fakeEnv(map[string]string{"PULSEBOARD_LOG_LEVEL": "loud"}), absent(t))
	if err == nil || !strings.HasPrefix(err.Error(), `config: PULSEBOARD_LOG_LEVEL="loud": `) {
		t.Errorf("error = %v, want the overridden env value rejected", err)
	}
}

func TestRetentionDayMayEqualHour(t *testing.T) {
	t.Parallel()
	p := writeYAML(t, "retention:\n  hour: 31d\n  day: 744h\n")
	c, err := load([]string{"--config", p}, fakeEnv(nil), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.Retention.Day != 31*day || c.Retention.Hour != 31*day {
		t.Errorf("retention = %+v", c.Retention)
	}
	// From the file, the cross check names the file and key.
	p = writeYAML(t, "retention:\n  day: 31d\n")
	_, err = load([]string{"--config", p}, fakeEnv(nil), absent(t))
	if want := "config: " + p + ": retention.day: must be at least retention.hour (32d)"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestYAMLFile(t *testing.T) {
	t.Parallel()
	// everyKind is a file with a value of every kind (string, URL, list,
	// bool, number, level, mapping), its ingest tokens, day retention and
	// further settings given.
	everyKind := func(tokens, day, more string) string {
		return `
addr: "127.0.0.1:9090"
redis_url: rediss://:pw@redis.example.com:6380/2
ingest_tokens: [` + tokens + `]
allowed_origins: https://Wall.Example.com/, http://localhost:3000
timezone: Europe/Paris
week_start: Sunday
demo: yes
demo_rate: 0.5
log_level: WARN
log_format: json
tenant: acme-eu_1
rollups: [team, "team,channel", agent+team]
min_sample: 50
retention: {minute: 25h, hour: 31d, day: ` + day + `, dedupe: 60d}
` + more
	}
	const limits = `max_skew: 90s
max_body_bytes: 512KiB
max_batch: 500
shutdown_timeout: 1m
changelog_maxlen: 5000
`
	tests := []struct {
		name    string
		body    string
		wantErr string // fragment after "config: <path>: "; "" means success
		check   func(t *testing.T, c *Config)
	}{
		{name: "empty file", body: "", check: func(t *testing.T, c *Config) {
			if c.Addr != ":8080" {
				t.Errorf("addr = %q", c.Addr)
			}
		}},
		{name: "comments only", body: "# nothing\n", check: func(t *testing.T, c *Config) {}},
		{name: "null value keeps default", body: "addr:\ntenant: ~\n", check: func(t *testing.T, c *Config) {
			if c.Addr != ":8080" || c.Tenant != "default" {
				t.Errorf("addr %q tenant %q", c.Addr, c.Tenant)
			}
		}},
		{name: "all kinds", body: everyKind("aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb", "2y", ""), wantErr: "retention.day: must be a duration"},
		{name: "all kinds valid", body: everyKind("aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb", "1d12h", limits), wantErr: "retention.day: must be at least retention.hour (31d)"},
		{name: "every field", body: everyKind("aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb, aaaaaaaaaaaaaaaa", "365d", limits+`redis_min_replicas: 1
redis_min_replicas_timeout: 250ms
broadcast_interval: 100ms
sse_keepalive: 20s
admin_tokens: [sha256:8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92]
public_boards: yes
ingest_rate: 0
max_screens_per_ip: 10
viewer_tokens: ["dana:cccccccccccccccc", "Lee O'Neil:sha256:8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"]
session_key: 0123456789abcdef0123456789abcdef
session_ttl: 8h
trusted_proxies: [10.1.2.3, "192.168.0.0/16", "::ffff:10.9.9.9"]
trusted_user_header: x-forwarded-user
trusted_admin_users: [ops@example.com]
themes:
  - {name: waiting, label: "Hold time", negatable: true, terms: ["wait*", "on hold"]}
`), check: func(t *testing.T, c *Config) {
			paris, _ := time.LoadLocation("Europe/Paris")
			want := &Config{
				Addr:         "127.0.0.1:9090",
				RedisURL:     "rediss://:pw@redis.example.com:6380/2",
				RedisTimeout: 3 * time.Second,
				ConfigFile:   c.ConfigFile,
				IngestTokens: []string{"aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"},
				AdminTokens:  []string{"sha256:8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"},
				ViewerTokens: []auth.NamedToken{{Name: "dana", Token: "cccccccccccccccc"},
					{Name: "Lee O'Neil", Token: "sha256:8d969eef6ecad3c29a3a629280e686cf0c3f5d5a86aff3ca12020c923adc6c92"}},
				SessionKey:        "0123456789abcdef0123456789abcdef",
				SessionTTL:        8 * time.Hour,
				TrustedProxies:    []netip.Prefix{netip.MustParsePrefix("10.1.2.3/32"), netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("10.9.9.9/32")},
				TrustedUserHeader: "X-Forwarded-User",
				TrustedAdminUsers: []string{"ops@example.com"},
				PublicBoards:      true,
				MaxScreensPerIP:   10,
				AllowedOrigins:    []string{"https://wall.example.com", "http://localhost:3000"},
				Location:          paris,
				TimezoneName:      "Europe/Paris",
				WeekStart:         time.Sunday,
				Demo:              true,
				LogLevel:          slog.LevelWarn,
				LogFormat:         "json",
				Tenant:            "acme-eu_1",
				Rollups:           []store.Rollup{store.MustRollup(), store.MustRollup(store.Team), store.MustRollup(store.Channel, store.Team), store.MustRollup(store.Team, store.Agent)},
				MinSample:         50,
				Retention:         store.Retention{Minute: 25 * time.Hour, Hour: 31 * day, Day: 365 * day, Dedupe: 60 * day},
				MaxSkew:           90 * time.Second,
				MaxBodyBytes:      512 << 10,
				MaxBatch:          500,
				ShutdownTimeout:   time.Minute,
				ChangeLogMaxLen:   5000,
				DemoRate:          0.5,
				BroadcastInterval: 100 * time.Millisecond,
				SSEKeepAlive:      20 * time.Second,
				StreamGroup:       "pulseboard",
				FrameAncestors:    []string{"'self'"},
				Alerts:            alert.DefaultConfig(),
				Themes:            []themes.Theme{{Name: "waiting", Label: "Hold time", Negatable: true, Terms: []string{"wait*", "on hold"}}},
			}
			want.RedisMinReplicas, want.RedisMinReplicasTimeout = 1, 250*time.Millisecond
			// These rollups hold no theme: the emerging themes, on by
			// default, are off, and say why.
			if e := c.Alerts.EmergingThemes; e.Enabled || !strings.Contains(e.Unavailable, "no configured rollup covers the dimensions [theme]") {
				t.Errorf("emerging themes without a theme rollup: %+v", e)
			}
			want.Alerts.EmergingThemes.Enabled, want.Alerts.EmergingThemes.Unavailable = false, c.Alerts.EmergingThemes.Unavailable
			if c.Location.String() != "Europe/Paris" {
				t.Errorf("location = %v", c.Location)
			}
			c.Location, want.Location = nil, nil
			if !reflect.DeepEqual(c, want) {
				t.Errorf("\n got %+v\nwant %+v", c, want)
			}
		}},
		{name: "unknown key", body: "addr: \":1\"\nlow_sample_min: 3\n", wantErr: "low_sample_min: unknown setting (line 2)"},
		{name: "unknown nested key", body: "retention:\n  week: 1h\n", wantErr: "retention.week: unknown setting (line 2)"},
		{name: "flag-only setting", body: "config: other.yaml\n", wantErr: "config: unknown setting"},
		{name: "nested key at top level", body: "minute: 26h\n", wantErr: "minute: unknown setting"},
		{name: "scalar for nested", body: "retention: 26h\n", wantErr: "retention: must be a mapping with the keys minute, hour, day, dedupe"},
		{name: "list for scalar", body: "addr: [\":1\", \":2\"]\n", wantErr: "addr: must be a single value, not a list"},
		{name: "mapping for scalar", body: "addr:\n  host: x\n", wantErr: "addr: must be a single value, not a mapping"},
		{name: "mapping for list", body: "rollups:\n  team: x\n", wantErr: "rollups: must be a list or a single value, not a mapping"},
		{name: "list item with separator", body: "ingest_tokens: [\"aaaaaaaaaaaaaaaa,bbbbbbbbbbbbbbbb\"]\n", wantErr: `ingest_tokens: item 1 must not contain ","`},
		{name: "nested list item", body: "rollups: [[team]]\n", wantErr: "rollups: item 1 must be a plain value"},
		{name: "set twice", body: "addr: \":1\"\naddr: \":2\"\n", wantErr: "addr: set twice (line 2)"},
		{name: "syntax error", body: "addr: [\n", wantErr: "yaml: "},
		{name: "not a mapping", body: "- addr\n", wantErr: "must be a mapping of setting names to values"},
		{name: "two documents", body: "addr: \":1\"\n---\naddr: \":2\"\n", wantErr: "holds more than one YAML document"},
		{name: "unknown key with anchor", body: "x_tokens: &t [aaaaaaaaaaaaaaaa]\n", wantErr: "x_tokens: unknown setting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := writeYAML(t, tt.body)
			c, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t))
			if tt.wantErr != "" {
				want := "config: " + p + ": " + tt.wantErr
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("error = %v\n want prefix %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ConfigFile != p {
				t.Errorf("ConfigFile = %q, want %q", c.ConfigFile, p)
			}
			tt.check(t, c)
		})
	}
}

func TestYAMLAlias(t *testing.T) {
	t.Parallel()
	p := writeYAML(t, "ingest_tokens: &t [aaaaaaaaaaaaaaaa]\nrollups: *t\n")
	_, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t))
	// The alias is followed: the token list is read as rollups.
	if err == nil || !strings.Contains(err.Error(), "rollups: rollup") {
		t.Errorf("error = %v, want the aliased list parsed as rollups", err)
	}
}

func TestConfigFileChoice(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	present := filepath.Join(dir, "default.yaml")
	if err := os.WriteFile(present, []byte("tenant: fromdefault\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	named := filepath.Join(dir, "named.yaml")
	if err := os.WriteFile(named, []byte("tenant: fromnamed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.yaml")

	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		def        string
		wantFile   string
		wantTenant string
		wantErr    string
	}{
		{name: "default present", def: present, wantFile: present, wantTenant: "fromdefault"},
		{name: "default absent", def: missing, wantFile: "", wantTenant: "default"},
		{name: "flag names file", args: []string{"--config", named}, def: present, wantFile: named, wantTenant: "fromnamed"},
		{name: "env names file", env: map[string]string{"PULSEBOARD_CONFIG": named}, def: present, wantFile: named, wantTenant: "fromnamed"},
		{name: "flag beats env", args: []string{"--config=" + named}, env: map[string]string{"PULSEBOARD_CONFIG": missing}, def: missing, wantFile: named, wantTenant: "fromnamed"},
		{name: "empty flag reads nothing", args: []string{"--config="}, def: present, wantFile: "", wantTenant: "default"},
		{
			name: "flag names missing file", args: []string{"--config=" + missing}, def: present,
			wantErr: fmt.Sprintf("config: --config %q: no such file", missing),
		},
		{
			name: "env names missing file", env: map[string]string{"PULSEBOARD_CONFIG": missing}, def: present,
			wantErr: fmt.Sprintf("config: PULSEBOARD_CONFIG=%q: no such file", missing),
		},
		{
			name: "flag names directory", args: []string{"--config=" + dir}, def: missing,
			wantErr: fmt.Sprintf("config: --config %q: is a directory, not a file", dir),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(tt.args, fakeEnv(tt.env), tt.def)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error = %v\n want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ConfigFile != tt.wantFile || c.Tenant != tt.wantTenant {
				t.Errorf("file %q tenant %q, want %q %q", c.ConfigFile, c.Tenant, tt.wantFile, tt.wantTenant)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"-h", "--help", "-help"} {
		_, err := load([]string{arg}, fakeEnv(nil), absent(t))
		if !errors.Is(err, flag.ErrHelp) {
			t.Errorf("%s: error = %v, want flag.ErrHelp", arg, err)
		}
	}
}

func TestFlagForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		demo bool
		addr string
	}{
		{[]string{"--demo"}, true, ":8080"},
		{[]string{"-demo"}, true, ":8080"},
		{[]string{"--demo=no"}, false, ":8080"},
		{[]string{"--demo=1", "-addr", ":1"}, true, ":1"},
		{[]string{"--addr=:1", "--addr=:2"}, true, ":2"}, // demo from the environment
	}
	for _, tt := range tests {
		c, err := load(tt.args, fakeEnv(map[string]string{"PULSEBOARD_DEMO": "true"}), absent(t))
		if err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if c.Demo != tt.demo || c.Addr != tt.addr {
			t.Errorf("%v: demo %v addr %q, want %v %q", tt.args, c.Demo, c.Addr, tt.demo, tt.addr)
		}
	}
}

func TestRollups(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string // PULSEBOARD_ROLLUPS
		yaml string // rollups value in YAML, used when env is ""
		want []string
	}{
		{name: "env list", env: "channel;team;team+channel", want: []string{"all", "channel", "team", "channel+team"}},
		{name: "duplicates in any order", env: "team+channel;channel+team;channel;team,channel", want: []string{"all", "channel+team", "channel"}},
		{name: "all listed later", env: "team;all", want: []string{"all", "team"}},
		{name: "all listed first", env: "all;team", want: []string{"all", "team"}},
		{name: "spaces and empty items", env: " team ; ;agent ;", want: []string{"all", "team", "agent"}},
		{name: "comma form", env: "team,channel", want: []string{"all", "channel+team"}},
		{name: "all only", env: "all", want: []string{"all"}},
		{name: "yaml list", yaml: `["team,channel", agent, agent]`, want: []string{"all", "channel+team", "agent"}},
		{name: "yaml string", yaml: `"team;agent+segment"`, want: []string{"all", "team", "segment+agent"}},
		{name: "yaml empty list", yaml: `[]`, want: []string{"all"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			env := map[string]string{}
			if tt.env != "" {
				env["PULSEBOARD_ROLLUPS"] = tt.env
			} else {
				args = []string{"--config=" + writeYAML(t, "rollups: "+tt.yaml+"\n")}
			}
			c, err := load(args, fakeEnv(env), absent(t))
			if err != nil {
				t.Fatal(err)
			}
			if got := rollupNames(c.Rollups); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("rollups = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListForms(t *testing.T) {
	t.Parallel()
	const a, b = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"
	tests := []struct {
		name          string
		env           map[string]string
		yaml          string
		tokens, origs []string
	}{
		{
			name:   "env comma strings",
			env:    map[string]string{"PULSEBOARD_INGEST_TOKENS": " " + a + " , " + b + ",", "PULSEBOARD_ALLOWED_ORIGINS": "https://WALL.example.com:8443/,http://localhost:3000"},
			tokens: []string{a, b}, origs: []string{"https://wall.example.com:8443", "http://localhost:3000"},
		},
		{
			name:   "yaml lists",
			yaml:   "ingest_tokens:\n  - " + a + "\n  - " + b + "\n  - " + a + "\nallowed_origins:\n  - https://a.example\n  - https://a.example/\n",
			tokens: []string{a, b}, origs: []string{"https://a.example"},
		},
		{
			name:   "yaml strings",
			yaml:   "ingest_tokens: " + a + "," + b + "\nallowed_origins: https://a.example, https://b.example\n",
			tokens: []string{a, b}, origs: []string{"https://a.example", "https://b.example"},
		},
		{
			name: "yaml empty lists",
			yaml: "ingest_tokens: []\nallowed_origins: []\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var args []string
			if tt.yaml != "" {
				args = []string{"--config=" + writeYAML(t, tt.yaml)}
			}
			c, err := load(args, fakeEnv(tt.env), absent(t))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(c.IngestTokens, tt.tokens) {
				t.Errorf("tokens = %q, want %q", c.IngestTokens, tt.tokens)
			}
			if !reflect.DeepEqual(c.AllowedOrigins, tt.origs) {
				t.Errorf("origins = %q, want %q", c.AllowedOrigins, tt.origs)
			}
		})
	}
}

func TestScalarForms(t *testing.T) {
	t.Parallel()
	c, err := load(nil, fakeEnv(map[string]string{
		"PULSEBOARD_LOG_LEVEL":        "DEBUG",
		"PULSEBOARD_LOG_FORMAT":       " JSON ",
		"PULSEBOARD_DEMO":             "Yes",
		"PULSEBOARD_DEMO_RATE":        "12.5",
		"PULSEBOARD_REDIS_URL":        "unix:///run/redis.sock",
		"PULSEBOARD_MAX_BODY_BYTES":   "1048576",
		"PULSEBOARD_CHANGELOG_MAXLEN": "7",
	}), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != slog.LevelDebug || c.LogFormat != "json" || !c.Demo || c.DemoRate != 12.5 ||
		c.RedisURL != "unix:///run/redis.sock" || c.MaxBodyBytes != 1<<20 || c.ChangeLogMaxLen != 7 {
		t.Errorf("got %+v", c)
	}
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{
		"400d":    400 * day,
		"1.5d":    36 * time.Hour,
		"1d12h":   36 * time.Hour,
		"0d":      0,
		"0s":      0,
		"26h":     26 * time.Hour,
		"768h":    32 * day,
		"90s":     90 * time.Second,
		"1h30m":   90 * time.Minute,
		"2d30m":   48*time.Hour + 30*time.Minute,
		"9600h":   400 * day,
		"100000d": 100000 * day,
	}
	for in, want := range good {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "d", "1dd", "-1d", "1d-1h", "1d+1h", ".5d", "1.d", "1e3d", "abc", "10", "-5m", "1 d", "999999999d", "106751d23h59m"} {
		if got, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseBytes(t *testing.T) {
	t.Parallel()
	good := map[string]int64{
		"8MiB":       8 << 20,
		"512KiB":     512 << 10,
		"512 KiB":    512 << 10,
		"1gib":       1 << 30,
		"100B":       100,
		"8388608":    8 << 20,
		"1073741824": 1 << 30,
	}
	for in, want := range good {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "8MB", "8M", "0", "-1", "1.5MiB", "2GiB", "1073741825", "MiB", "9223372036854775807GiB"} {
		if got, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) = %v, want an error", in, got)
		}
	}
}

func TestOptionsDocs(t *testing.T) {
	t.Parallel()
	seen := map[string]map[string]bool{"name": {}, "env": {}, "flag": {}, "yaml": {}}
	unique := func(kind, v string) {
		if v == "" {
			return
		}
		if seen[kind][v] {
			t.Errorf("%s %q used twice", kind, v)
		}
		seen[kind][v] = true
	}
	var usage bytes.Buffer
	Usage(&usage)
	out := usage.String()
	for _, d := range Options() {
		unique("name", d.Name)
		unique("env", d.Env)
		unique("flag", d.Flag)
		unique("yaml", d.YAML)
		if !strings.HasPrefix(d.Env, "PULSEBOARD_") {
			t.Errorf("%s: env %q", d.Name, d.Env)
		}
		if !strings.HasPrefix(d.Flag, "--") {
			t.Errorf("%s: flag %q", d.Name, d.Flag)
		}
		if d.YAML == "" && d.Name != "config" {
			t.Errorf("%s: no YAML key", d.Name)
		}
		if d.Help == "" || d.Default == "" {
			t.Errorf("%s: help %q default %q", d.Name, d.Help, d.Default)
		}
		for _, s := range []string{d.Env, d.Flag, d.YAML, d.Default, d.Help} {
			if !strings.Contains(out, s) {
				t.Errorf("Usage lacks %q", s)
			}
		}
	}
	// A guard against a Config field without an option: 20 fields, where
	// TimezoneName shares the timezone option and Retention has four.
	if n := reflect.TypeFor[Config]().NumField(); n != 50 || len(Options()) != 53 {
		t.Errorf("Config has %d fields and %d options; give every new field an option and update this count", n, len(Options()))
	}
}

// TestMinReplicasTimeoutUnderRedisTimeout: WAIT must end before the Redis
// timeout cuts the call off.
func TestMinReplicasTimeoutUnderRedisTimeout(t *testing.T) {
	t.Parallel()
	env := fakeEnv(map[string]string{"PULSEBOARD_REDIS_MIN_REPLICAS": "1", "PULSEBOARD_REDIS_MIN_REPLICAS_TIMEOUT": "2s", "PULSEBOARD_REDIS_TIMEOUT": "2s"})
	if _, err := load(nil, env, absent(t)); err == nil || !strings.Contains(err.Error(), "must be shorter than redis_timeout (2s)") {
		t.Fatalf("min replicas timeout of 2s with a redis timeout of 2s: %v", err)
	}
	env = fakeEnv(map[string]string{"PULSEBOARD_REDIS_MIN_REPLICAS": "1", "PULSEBOARD_REDIS_MIN_REPLICAS_TIMEOUT": "1500ms", "PULSEBOARD_REDIS_TIMEOUT": "2s"})
	if c, err := load(nil, env, absent(t)); err != nil || c.RedisMinReplicas != 1 || c.RedisMinReplicasTimeout != 1500*time.Millisecond {
		t.Fatalf("1.5s under 2s: %+v, %v", c, err)
	}
}

func TestExampleFile(t *testing.T) {
	t.Parallel()
	const example = "../../config/pulseboard.example.yaml"
	keys, err := readFile(example)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range Options() {
		if _, ok := keys[d.YAML]; d.YAML != "" && !ok {
			t.Errorf("example file does not show %s", d.YAML)
		}
	}
	c, err := load([]string{"--config=" + example}, fakeEnv(nil), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	want := defaults()
	want.ConfigFile = example
	if !reflect.DeepEqual(c, want) {
		t.Errorf("example file is not the defaults:\n got %+v\nwant %+v", c, want)
	}
}

// TestAlertsSection: the alerts section is a nested mapping in the file (or
// YAML text in the environment); receivers need the signing secret.
func TestAlertsSection(t *testing.T) {
	t.Parallel()
	body := `
alerts:
  detractor_cutoff: 5
  webhooks: [https://crm.example.com/hook]
  sla: 4h
  thresholds:
    - {name: phone-1h, filters: {channel: phone}, window: 1h, below: 0, min_responses: 20}
    - {name: phone-rate, metric: response_rate, filters: {channel: phone}, window: 2h, below: 15, min_offers: 200}
    - {name: team-csat, metric: csat, by: [team], window: 4h, below: 80, min_responses: 40}
  digest: {at: "07:30", weekday: friday, webhooks: [https://chat.example.com/digest]}
`
	p := writeYAML(t, body)
	if _, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t)); err == nil || !strings.Contains(err.Error(), "PULSEBOARD_ALERT_SECRET: must be set") {
		t.Fatalf("receivers without a secret: %v", err)
	}
	c, err := load([]string{"--config=" + p}, fakeEnv(map[string]string{"PULSEBOARD_ALERT_SECRET": "0123456789abcdef"}), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Alerts
	if a.DetractorCutoff != 5 || a.SLA != 4*time.Hour || len(a.Thresholds) != 3 || a.Thresholds[0].Filters[store.Channel] != "phone" ||
		a.Thresholds[0].Metric != alert.MetricNPS || a.Thresholds[1].Metric != alert.MetricResponseRate || a.Thresholds[1].MinOffers != 200 ||
		a.Thresholds[1].Below != 15 || a.Thresholds[2].Metric != alert.MetricCSAT || a.Thresholds[2].MinResponses != 40 ||
		a.Digest.Hour != 7 || a.Digest.Minute != 30 || a.Digest.Weekday != time.Friday || len(a.Webhooks) != 1 {
		t.Errorf("alerts %+v", a)
	}
	c, err = load(nil, fakeEnv(map[string]string{"PULSEBOARD_ALERTS": `{"detractor_cutoff": 4}`}), absent(t))
	if err != nil || c.Alerts.DetractorCutoff != 4 {
		t.Fatalf("alerts from the environment: %v %+v", err, c)
	}
}

// TestPrivateAlertReceivers: a receiver on a literal private address stops
// start-up with a line naming the setting that holds it, the address and
// the setting that allows it; with that setting it starts.
func TestPrivateAlertReceivers(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PULSEBOARD_ALERT_SECRET": "0123456789abcdef",
		"PULSEBOARD_ALERTS": `{"webhooks": ["https://crm.example.com/hook"], "digest": {"webhooks": ["http://10.0.0.7:8080/digest"]}}`}
	_, err := load(nil, fakeEnv(env), absent(t))
	if err == nil || !strings.Contains(err.Error(), "PULSEBOARD_ALERTS") || !strings.Contains(err.Error(), "digest.webhooks[0]") ||
		!strings.Contains(err.Error(), "10.0.0.7 is a private address") || !strings.Contains(err.Error(), "PULSEBOARD_ALERT_ALLOW_PRIVATE_RECEIVERS=true") {
		t.Fatalf("private receiver: %v", err)
	}
	env["PULSEBOARD_ALERT_ALLOW_PRIVATE_RECEIVERS"] = "true"
	c, err := load(nil, fakeEnv(env), absent(t))
	if err != nil || !c.Alerts.AllowPrivateReceivers {
		t.Fatalf("allowed: %v", err)
	}
}

// TestDimensions: dimensions of one's own, from the file or the
// environment, in any order, become part of the schema rollups and alerts
// are parsed with; a rollup over one that is not configured fails.
func TestDimensions(t *testing.T) {
	t.Parallel()
	p := writeYAML(t, "dimensions: [region, language]\nrollups: [team+region, language]\nalerts:\n  thresholds:\n    - {name: north, by: [team], filters: {region: north}, below: 0}\n")
	c, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Dimensions.String(); got != "channel, segment, journey, team, agent, language, region" {
		t.Errorf("schema = %s", got)
	}
	if got := rollupNames(c.Rollups); !reflect.DeepEqual(got, []string{"all", "team+region", "language"}) {
		t.Errorf("rollups = %v", got)
	}
	if len(c.Alerts.Thresholds) != 1 || c.Alerts.Thresholds[0].Filters["region"] != "north" {
		t.Errorf("thresholds = %+v", c.Alerts.Thresholds)
	}
	c2, err := load(nil, fakeEnv(map[string]string{"PULSEBOARD_DIMENSIONS": "language, region", "PULSEBOARD_ROLLUPS": "region+team"}), absent(t))
	if err != nil || c2.Dimensions != c.Dimensions || rollupNames(c2.Rollups)[1] != "team+region" {
		t.Errorf("from the environment: %+v, %v", c2, err)
	}
	_, err = load(nil, fakeEnv(map[string]string{"PULSEBOARD_ROLLUPS": "team+region"}), absent(t))
	if err == nil || !strings.Contains(err.Error(), `unknown dimension "region"`) {
		t.Errorf("a rollup over an unconfigured dimension: %v", err)
	}
	// The example file's journey rule works on the default rollups.
	p = writeYAML(t, "alerts:\n  thresholds:\n    - {name: phone-journeys, by: [journey], filters: {channel: phone}, window: 4h, below: 0}\n")
	if c, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t)); err != nil || c.Alerts.Thresholds[0].By[0] != "journey" {
		t.Errorf("a rule by journey: %v", err)
	}
	p = writeYAML(t, "alerts:\n  thresholds:\n    - {name: north, by: [region], below: 0}\n")
	if _, err = load([]string{"--config=" + p}, fakeEnv(nil), absent(t)); err == nil || !strings.Contains(err.Error(), `unknown dimension "region"`) {
		t.Errorf("an alert over an unconfigured dimension: %v", err)
	}
}

// TestNPSMetricsSection: metrics.nps is a list of mappings under metrics in
// the file, YAML or JSON text in the environment; its entries name the
// rollups configured before it, custom dimensions included.
func TestNPSMetricsSection(t *testing.T) {
	t.Parallel()
	p := writeYAML(t, `
dimensions: [region]
rollups: [team, "channel+journey", "region+team"]
metrics:
  nps:
    - {by: [team], window: 1h}
    - {by: [channel, journey], window: 24h, max_groups: 100}
    - by: [region, team]
      window: today
`)
	c, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range c.NPSMetrics {
		names = append(names, fmt.Sprintf("%s/%d", e.Name(), e.MaxGroups))
	}
	if got := strings.Join(names, " "); got != "team@1h/500 channel+journey@24h/100 team+region@today/500" {
		t.Errorf("entries %s", got)
	}
	c, err = load(nil, fakeEnv(map[string]string{"PULSEBOARD_METRICS_NPS": `[{"by": ["channel"], "window": "15m"}]`}), absent(t))
	if err != nil || len(c.NPSMetrics) != 1 || c.NPSMetrics[0].Name() != "channel@15m" {
		t.Fatalf("from the environment: %v %+v", err, c)
	}
	// A rollup the entry needs but the rollups setting does not list.
	_, err = load(nil, fakeEnv(map[string]string{"PULSEBOARD_ROLLUPS": "team", "PULSEBOARD_METRICS_NPS": "[{by: [channel], window: 1h}]"}), absent(t))
	if want := `config: PULSEBOARD_METRICS_NPS="[{by: [channel], window: 1h}]": [0].by: no rollup channel; rollups are all, team`; err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
	p = writeYAML(t, "metrics:\n  nps: {by: [team], window: 1h}\n")
	if _, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t)); err == nil || !strings.Contains(err.Error(), "metrics.nps: must be a list") {
		t.Errorf("a mapping for the list: %v", err)
	}
}

// TestOffersSharedIDs: offers.shared_ids is a nested key of the file, and
// an environment variable and a flag; it is off by default.
func TestOffersSharedIDs(t *testing.T) {
	t.Parallel()
	if c, err := load(nil, fakeEnv(nil), absent(t)); err != nil || c.OfferIDsShared {
		t.Fatalf("default: %v, %v", c.OfferIDsShared, err)
	}
	p := writeYAML(t, "offers:\n  shared_ids: true\n")
	if c, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t)); err != nil || !c.OfferIDsShared {
		t.Fatalf("file: %v, %v", c, err)
	}
	if c, err := load(nil, fakeEnv(map[string]string{"PULSEBOARD_OFFERS_SHARED_IDS": "yes"}), absent(t)); err != nil || !c.OfferIDsShared {
		t.Fatalf("env: %v, %v", c, err)
	}
	if c, err := load([]string{"--offers-shared-ids", "--config=" + p}, fakeEnv(map[string]string{"PULSEBOARD_OFFERS_SHARED_IDS": "no"}), absent(t)); err != nil || !c.OfferIDsShared {
		t.Fatalf("flag: %v, %v", c, err)
	}
	p = writeYAML(t, "offers:\n  shared_ids: sometimes\n")
	if _, err := load([]string{"--config=" + p}, fakeEnv(nil), absent(t)); err == nil || !strings.Contains(err.Error(), "offers.shared_ids") {
		t.Fatalf("bad value: %v", err)
	}
}
