// Package config is Pulseboard's runtime configuration.
//
// Every setting is one row of a single table (options.go): its name, its
// environment variable, its command-line flag, its YAML key, its default and
// the one function that parses and validates it. Flag registration, the
// environment and YAML look-ups, the defaults, Usage and the documentation
// returned by Options are all driven by that table, so they cannot drift
// apart.
//
// Precedence, highest first: command-line flag, environment variable, YAML
// config file, built-in default. Every value that is given is validated, even
// one that a higher-precedence source overrides, and the first bad one stops
// start-up with a single line naming the setting, where the value came from
// and why it is wrong:
//
//	config: PULSEBOARD_TIMEZONE="Mars/Olympus": unknown time zone
//	config: --addr "x": must be host:port, like :8080 or 127.0.0.1:8080
//	config: config/pulseboard.yaml: min_sample: must be a positive integer
package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"github.com/pulseboard/pulseboard/internal/themes"
	"github.com/pulseboard/pulseboard/internal/window"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/alert"
	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/npsgauge"
	"github.com/pulseboard/pulseboard/internal/store"
)

// DefaultConfigFile is read when neither --config nor PULSEBOARD_CONFIG names
// a file, and only if it exists.
const DefaultConfigFile = "config/pulseboard.yaml"

// DefaultBoardsFile holds the board definitions when no setting names one.
const DefaultBoardsFile = "config/boards.yaml"

// Config is the typed result of Load.
type Config struct {
	// Addr is the HTTP listen address.
	Addr string
	// RedisURL selects the Redis engine; "" means the in-memory engine.
	RedisURL string
	// RedisTimeout bounds how long a request waits on Redis, and each
	// command's socket reads and writes.
	RedisTimeout time.Duration
	// RedisAllowEviction lets the server run on a Redis whose
	// maxmemory-policy may evict keys.
	RedisAllowEviction bool
	// ConfigFile is the YAML file that was read, or "" when none was.
	ConfigFile string
	// IngestTokens are the bearer tokens accepted by the ingest endpoint;
	// none means the program makes one at start.
	IngestTokens []string
	// AdminTokens may call the admin endpoints and open every board.
	AdminTokens []string
	// ViewerTokens are the viewers (name:token): they read everything and
	// work the follow-ups.
	ViewerTokens []auth.NamedToken
	// SessionKey signs sign-in cookies; "" makes a random one per process.
	SessionKey string
	// SessionTTL is how long a sign-in lasts.
	SessionTTL time.Duration
	// PublicURL is the server's address as people reach it
	// (https://pulse.example.com, no trailing slash): the base of the claim
	// links in chat messages; "" makes messages without links.
	PublicURL string
	// TrustedProxies may name a person in TrustedUserHeader ("" is off);
	// TrustedAdminUsers are those of them with the admin role.
	TrustedProxies    []netip.Prefix
	TrustedUserHeader string
	TrustedAdminUsers []string
	// PublicBoards opens every board, the index and the query API without
	// a token; otherwise a board needs a paired screen, an admin token, or
	// its own `access: {public: true}`.
	PublicBoards bool
	// IngestRate is the responses per second one ingest token may send; 0
	// is no limit.
	IngestRate float64
	// MaxScreensPerIP caps the live sockets of one client address; 0 is no
	// limit.
	MaxScreensPerIP int
	// AllowedOrigins are the cross-origin callers allowed, as canonical
	// origins ("https://wall.example.com"); none means same-origin only.
	AllowedOrigins []string
	// Location is the time zone of day buckets and calendar windows, and
	// TimezoneName the IANA name it was loaded from.
	Location     *time.Location
	TimezoneName string
	// WeekStart is the weekday the calendar's weeks (this_week, last_week)
	// start on.
	WeekStart time.Weekday
	// Demo turns on the built-in demo traffic.
	Demo bool
	// LogLevel and LogFormat ("text" or "json") configure the logger.
	LogLevel  slog.Level
	LogFormat string
	// Tenant namespaces Redis keys.
	Tenant string
	// Dimensions is the schema: the built-in dimensions and the operator's
	// own (dimensions).
	Dimensions store.Schema
	// Rollups are the dimension tuples that get counters; the overall rollup
	// is always first.
	Rollups []store.Rollup
	// MinSample is the number of responses below which a score is shown as
	// a low sample.
	MinSample int
	// OfferIDsShared matches a response that names no offer with the offer
	// of its own id (offers.shared_ids; store.Options.OfferIDsShared).
	OfferIDsShared bool
	// Retention is how long buckets and response ids are kept.
	Retention store.Retention
	// MaxSkew is how far in the future a response's time may be.
	MaxSkew time.Duration
	// MaxBodyBytes and MaxBatch bound one ingest request.
	MaxBodyBytes int64
	MaxBatch     int
	// ShutdownTimeout bounds a graceful shutdown.
	ShutdownTimeout time.Duration
	// ChangeLogMaxLen is the approximate length the Redis change log stream
	// is trimmed to.
	ChangeLogMaxLen int64
	// RedisMinReplicas, when positive, is how many replicas must have a
	// batch before it is acknowledged (WAIT), within
	// RedisMinReplicasTimeout.
	RedisMinReplicas        int
	RedisMinReplicasTimeout time.Duration
	// DemoRate is the demo traffic, in responses per second.
	DemoRate float64
	// BoardsFile is the board definitions file; "" means DefaultBoardsFile
	// when it exists, else the built-in boards.
	BoardsFile string
	// BroadcastInterval is the coalescing tick of the broadcaster.
	BroadcastInterval time.Duration
	// SSEKeepAlive is how long a screen's event stream may stay silent
	// before it gets a comment line, for the proxies on its way.
	SSEKeepAlive time.Duration
	// Stream is the Redis stream of the stream ingest ("" off) and
	// StreamGroup its consumer group.
	Stream      string
	StreamGroup string
	// WebhookSecret authenticates survey-tool webhooks ("" turns them off);
	// WebhooksFile holds their field mappings.
	WebhookSecret string
	WebhooksFile  string
	// FrameAncestors are the CSP frame-ancestors sources of every page.
	FrameAncestors []string
	// AlertSecret signs outgoing alert webhooks; Alerts is the alerts
	// section.
	AlertSecret string
	Alerts      alert.Config
	// NPSMetrics are the NPS gauges exported on /metrics (metrics.nps).
	NPSMetrics []npsgauge.Entry
	// Themes are the themes a comment is searched for (themes), checked:
	// themes.New compiles them.
	Themes []themes.Theme
}

// OptionDoc documents one setting, for Usage and the README.
type OptionDoc struct {
	Name    string // the setting's name, as used in messages
	Env     string // environment variable
	Flag    string // command-line flag, with its leading "--"
	YAML    string // key in the config file, dotted for nested keys; "" when the file cannot set it
	Default string // the default, as it would be written
	Help    string // one-line description
}

// Options documents every setting, in table order.
func Options() []OptionDoc {
	docs := make([]OptionDoc, len(options))
	for i, o := range options {
		docs[i] = o.doc()
	}
	return docs
}

// Usage prints how to run the program and a table of every setting.
func Usage(w io.Writer) {
	fmt.Fprintln(w, "Server flags. Every setting can be given, highest precedence first, as a command-line flag,")
	fmt.Fprintln(w, "an environment variable, or a key in the YAML config file (--config).")
	fmt.Fprintln(w, "Durations are Go durations (90s, 5m, 26h) or days (400d).")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FLAG\tENV\tYAML\tDEFAULT\tDESCRIPTION")
	for _, d := range Options() {
		yamlKey := d.YAML
		if yamlKey == "" {
			yamlKey = "-"
		}
		def := d.Default
		if def == "" {
			def = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Flag, d.Env, yamlKey, def, d.Help)
	}
	tw.Flush()
}

// Load reads the configuration from command-line arguments (without the
// program name), the environment (through getenv; nil means os.Getenv) and
// the YAML config file. -h or --help returns an error wrapping flag.ErrHelp;
// the caller then prints Usage.
func Load(args []string, getenv func(string) string) (*Config, error) {
	return load(args, getenv, DefaultConfigFile)
}

// sourceKind says where a raw value came from.
type sourceKind int

const (
	fromDefault sourceKind = iota
	fromFile
	fromEnv
	fromFlag
)

// value is one raw value of one setting and its origin.
type value struct {
	raw  string
	kind sourceKind
	file string // the config file, when kind is fromFile
}

// load is Load with the default config file path as a parameter, so tests
// need not change directory.
func load(args []string, getenv func(string) string, defaultFile string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}

	fset := flag.NewFlagSet("pulseboard", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	flags := make(map[string]*rawFlag, len(options))
	for _, o := range options {
		if o.flag == "" {
			continue
		}
		f := &rawFlag{isBool: o.isBool}
		fset.Var(f, o.flag, o.help)
		flags[o.name] = f
	}
	if err := fset.Parse(args); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if fset.NArg() > 0 {
		return nil, fmt.Errorf("config: unexpected argument %q (settings are given as --name=value)", fset.Arg(0))
	}

	path, err := configFile(flags[optConfig], getenv, defaultFile)
	if err != nil {
		return nil, err
	}
	var fileVals map[string]string
	if path != "" {
		if fileVals, err = readFile(path); err != nil {
			return nil, err
		}
	}

	c := &Config{ConfigFile: path}
	final := make(map[string]value, len(options))
	for _, o := range options {
		if o.parse == nil {
			continue
		}
		layers := []value{{raw: o.def, kind: fromDefault}}
		if raw, ok := fileVals[o.yaml]; ok && o.yaml != "" {
			layers = append(layers, value{raw: raw, kind: fromFile, file: path})
		}
		if raw := getenv(o.env); raw != "" {
			layers = append(layers, value{raw: raw, kind: fromEnv})
		}
		if f := flags[o.name]; f != nil && f.set {
			layers = append(layers, value{raw: f.val, kind: fromFlag})
		}
		for _, v := range layers {
			if err := o.parse(c, strings.TrimSpace(v.raw)); err != nil {
				return nil, fmt.Errorf("config: %s: %w", o.where(v), err)
			}
			final[o.name] = v
		}
	}

	if c.TrustedUserHeader != "" && len(c.TrustedProxies) == 0 {
		o := lookup("trusted_user_header")
		return nil, fmt.Errorf("config: %s: needs trusted_proxies (PULSEBOARD_TRUSTED_PROXIES), the addresses of the proxy that sets it; from anywhere else anybody could send it", o.where(final[o.name]))
	}
	if len(c.TrustedAdminUsers) > 0 && c.TrustedUserHeader == "" {
		o := lookup("trusted_admin_users")
		return nil, fmt.Errorf("config: %s: needs trusted_user_header, the header that names them", o.where(final[o.name]))
	}
	if c.AlertSecret == "" && c.Alerts.HasReceivers() {
		o := lookup("alert_secret")
		return nil, fmt.Errorf("config: %s: must be set when alerts name webhook receivers (deliveries are signed with it)", o.env)
	}
	if err := c.Alerts.CheckReceivers(); err != nil {
		o := lookup("alerts")
		return nil, fmt.Errorf("config: %s: %w", o.where(final[o.name]), err)
	}
	// A WAIT longer than the Redis timeout would be cut off as a lost
	// connection; refuse the pair instead of a confusing 503 later.
	if c.RedisMinReplicas > 0 && c.RedisMinReplicasTimeout >= c.RedisTimeout {
		o := lookup("redis_min_replicas_timeout")
		return nil, fmt.Errorf("config: %s: must be shorter than redis_timeout (%s)",
			o.where(final[o.name]), window.FormatLength(c.RedisTimeout))
	}
	if c.Retention.Day < c.Retention.Hour {
		o := lookup(optRetentionDay)
		return nil, fmt.Errorf("config: %s: must be at least %s (%s)",
			o.where(final[o.name]), optRetentionHour, window.FormatLength(c.Retention.Hour))
	}
	return c, nil
}

// configFile picks the config file: flag, then environment, then the
// default path if it exists. An explicitly named file must exist; an
// explicitly empty --config reads no file.
func configFile(f *rawFlag, getenv func(string) string, defaultFile string) (string, error) {
	o := lookup(optConfig)
	var v value
	switch {
	case f != nil && f.set:
		v = value{raw: strings.TrimSpace(f.val), kind: fromFlag}
	case getenv(o.env) != "":
		v = value{raw: strings.TrimSpace(getenv(o.env)), kind: fromEnv}
	default:
		if defaultFile == "" {
			return "", nil
		}
		switch _, err := os.Stat(defaultFile); {
		case err == nil:
			return defaultFile, nil
		case errors.Is(err, fs.ErrNotExist):
			return "", nil
		default:
			return "", fmt.Errorf("config: default config file %s: %w", defaultFile, err)
		}
	}
	if v.raw == "" {
		return "", nil
	}
	st, err := os.Stat(v.raw)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("config: %s: no such file", o.where(v))
	case err != nil:
		return "", fmt.Errorf("config: %s: %w", o.where(v), err)
	case st.IsDir():
		return "", fmt.Errorf("config: %s: is a directory, not a file", o.where(v))
	}
	return v.raw, nil
}

// readFile reads a YAML config file into raw values keyed by dotted YAML key.
// List values are joined with their option's separator so that one parser
// serves every source.
func readFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return map[string]string{}, nil // empty file
		}
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
		return nil, fmt.Errorf("config: %s: holds more than one YAML document", path)
	}

	out := make(map[string]string)
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	switch {
	case root.Kind == yaml.ScalarNode && root.Tag == "!!null":
		return out, nil
	case root.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("config: %s: must be a mapping of setting names to values", path)
	}
	if err := walk(path, root, "", out); err != nil {
		return nil, err
	}
	return out, nil
}

// walk flattens a YAML mapping into out, checking every key against the
// option table.
func walk(path string, m *yaml.Node, prefix string, out map[string]string) error {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := deref(m.Content[i]), deref(m.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("config: %s: line %d: a key must be a plain name", path, k.Line)
		}
		key := prefix + k.Value
		o := lookupYAML(key)
		if o == nil {
			if sub := yamlChildren(key); len(sub) > 0 {
				if v.Kind != yaml.MappingNode {
					return fmt.Errorf("config: %s: %s: must be a mapping with the keys %s", path, key, strings.Join(sub, ", "))
				}
				if err := walk(path, v, key+".", out); err != nil {
					return err
				}
				continue
			}
			return fmt.Errorf("config: %s: %s: unknown setting (line %d)", path, key, k.Line)
		}
		if _, dup := out[key]; dup {
			return fmt.Errorf("config: %s: %s: set twice (line %d)", path, key, k.Line)
		}
		raw, set, err := scalarOrList(o, v)
		if err != nil {
			return fmt.Errorf("config: %s: %s: %w", path, key, err)
		}
		if set {
			out[key] = raw
		}
	}
	return nil
}

// scalarOrList returns the raw string form of a YAML value. A null value is
// not set at all. A list is accepted for list options only and joined with
// the option's separator.
func scalarOrList(o *option, v *yaml.Node) (string, bool, error) {
	if o.sequence {
		switch {
		case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
			return "", false, nil
		case v.Kind == yaml.ScalarNode:
			return v.Value, true, nil // the same YAML or JSON text the environment takes
		case v.Kind != yaml.SequenceNode:
			return "", false, errors.New("must be a list")
		}
		b, err := yaml.Marshal(v)
		return string(b), err == nil, err
	}
	if o.mapping {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			return "", false, nil
		}
		if v.Kind == yaml.ScalarNode {
			return v.Value, true, nil // the same YAML or JSON text the environment takes
		}
		if v.Kind != yaml.MappingNode {
			return "", false, errors.New("must be a mapping")
		}
		b, err := yaml.Marshal(v)
		return string(b), err == nil, err
	}
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return "", false, nil
		}
		return v.Value, true, nil
	case yaml.SequenceNode:
		if o.list == "" {
			return "", false, errors.New("must be a single value, not a list")
		}
		items := make([]string, 0, len(v.Content))
		for i, it := range v.Content {
			it = deref(it)
			if it.Kind != yaml.ScalarNode || it.Tag == "!!null" {
				return "", false, fmt.Errorf("item %d must be a plain value", i+1)
			}
			if strings.Contains(it.Value, o.list) {
				return "", false, fmt.Errorf("item %d must not contain %q", i+1, o.list)
			}
			items = append(items, it.Value)
		}
		return strings.Join(items, o.list), true, nil
	default:
		if o.list != "" {
			return "", false, errors.New("must be a list or a single value, not a mapping")
		}
		return "", false, errors.New("must be a single value, not a mapping")
	}
}

// deref follows YAML aliases.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// lookup returns the option with a name; the table is static, so a missing
// name is a bug.
func lookup(name string) *option {
	for i := range options {
		if options[i].name == name {
			return &options[i]
		}
	}
	panic("config: no option " + name)
}

// lookupYAML returns the option with a YAML key, or nil.
func lookupYAML(key string) *option {
	for i := range options {
		if options[i].yaml != "" && options[i].yaml == key {
			return &options[i]
		}
	}
	return nil
}

// yamlChildren lists the keys nested under a YAML mapping key, e.g. minute,
// hour, day and dedupe under retention.
func yamlChildren(key string) []string {
	var sub []string
	for _, o := range options {
		if rest, ok := strings.CutPrefix(o.yaml, key+"."); ok {
			sub = append(sub, rest)
		}
	}
	return sub
}

// rawFlag is the flag.Value of every option: it only records the raw text,
// so flags go through the same parser as every other source.
type rawFlag struct {
	val    string
	set    bool
	isBool bool
}

func (f *rawFlag) String() string {
	if f == nil {
		return ""
	}
	return f.val
}

func (f *rawFlag) Set(s string) error {
	f.val, f.set = s, true
	return nil
}

// IsBoolFlag lets a boolean option be given as a bare --demo.
func (f *rawFlag) IsBoolFlag() bool { return f.isBool }
