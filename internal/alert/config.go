package alert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Config is the alerts section of the configuration file.
type Config struct {
	// DetractorCutoff: a response at or below it is a detractor alert.
	DetractorCutoff int
	// MaxAge: a response first recorded longer than this after it was
	// given is history (an import, a backfill), not news: it raises no
	// alert. An update into a detractor alerts whatever its age.
	MaxAge time.Duration
	// Webhooks receive detractor and threshold events.
	Webhooks []string
	// Kinds are the receivers that are not generic signed webhooks: each
	// URL's message format (KindSlack, KindTeams), wherever it is listed.
	// A URL not in it is KindWebhook.
	Kinds map[string]Kind
	// ClaimLinkTTL is how long the claim link of a detractor's chat
	// message works.
	ClaimLinkTTL time.Duration
	// Retries is how many attempts a delivery gets before it becomes a dead
	// letter; Backoff the wait after the first failure, doubled after each
	// further one up to MaxBackoff; Timeout bounds one attempt.
	Retries    int
	Backoff    time.Duration
	MaxBackoff time.Duration
	Timeout    time.Duration
	// SLA is how long a follow-up may stay open; zero means the same day:
	// due at the next local midnight after the answer.
	SLA time.Duration
	// Keep is how long resolved follow-ups and dead letters are kept.
	Keep time.Duration
	// Queues are the named follow-up queues, Routing the rules that send a
	// detractor to one (first match wins), DefaultQueue the queue of the
	// detractors no rule matches ("": DefaultQueueName). See queues.go.
	Queues       []Queue
	Routing      []Route
	DefaultQueue string
	// Thresholds are the threshold rules, evaluated every EvaluateEvery.
	Thresholds    []Rule
	EvaluateEvery time.Duration
	// EmergingThemes is the emerging theme detector (emerging.go),
	// evaluated every EvaluateEvery too.
	EmergingThemes EmergingThemes
	// Digest is the daily and weekly summary.
	Digest Digest
	// SweepEvery and SelfCheckEvery schedule the housekeeping jobs.
	SweepEvery     time.Duration
	SelfCheckEvery time.Duration
	// AllowPrivateReceivers lets deliveries reach receivers on loopback,
	// link-local, private and unspecified addresses (AllowPrivateSetting;
	// not part of the alerts section).
	AllowPrivateReceivers bool
}

// Rule raises an alert for each group whose Metric over Window is below
// Below with enough of a sample, and resolves it once the figure is back at
// or above Below with enough of a sample again:
//   - MetricNPS: the NPS (-100..100), with at least MinResponses NPS answers;
//   - MetricResponseRate: the share of the surveys offered in the window
//     that got an answer (at any time), in percent, with at least MinOffers
//     offers;
//   - MetricCSAT: the share of CSAT answers that are satisfied (4 or 5), in
//     percent, with at least MinResponses CSAT answers.
type Rule struct {
	Name    string
	Title   string
	Metric  Metric
	Filters map[store.Dimension]string
	By      []store.Dimension
	Window  window.Window
	Below   float64
	// MinResponses is the least answers an nps or csat rule judges;
	// MinOffers the least offers a response_rate rule judges.
	MinResponses int64
	MinOffers    int64
}

// Metric is what a threshold rule watches.
type Metric string

// The metrics of threshold rules.
const (
	MetricNPS          Metric = "nps"
	MetricResponseRate Metric = "response_rate"
	MetricCSAT         Metric = "csat"
)

// Metrics are the metrics a rule may name, in the order the docs list them.
var Metrics = []Metric{MetricNPS, MetricResponseRate, MetricCSAT}

// Label is the metric as people read it: "NPS", "response rate", "CSAT".
func (m Metric) Label() string {
	switch m {
	case MetricResponseRate:
		return "response rate"
	case MetricCSAT:
		return "CSAT"
	}
	return "NPS"
}

// Default minimum samples of a rule.
const (
	defaultMinResponses = 30
	defaultMinOffers    = 100
)

// Digest schedules the summaries: daily at At (local "15:04", or
// "15:04:05"), weekly on
// Weekday at the same time, to Webhooks (none: no digests).
type Digest struct {
	At       string
	Hour     int
	Minute   int
	Second   int
	Weekday  time.Weekday
	Webhooks []string
}

// DefaultConfig is the configuration when the file says nothing: detractors
// at 6 or below, same-day SLA, eight attempts from 2 s doubling to 10 min,
// thresholds checked every minute, digests at 08:00 and on Mondays.
func DefaultConfig() Config {
	return Config{
		DetractorCutoff: 6,
		MaxAge:          time.Hour,
		Retries:         8,
		Backoff:         2 * time.Second,
		MaxBackoff:      10 * time.Minute,
		Timeout:         10 * time.Second,
		Keep:            30 * 24 * time.Hour,
		EvaluateEvery:   time.Minute,
		EmergingThemes:  DefaultEmergingThemes(),
		Digest:          Digest{At: "08:00", Hour: 8, Weekday: time.Monday},
		ClaimLinkTTL:    72 * time.Hour,
		SweepEvery:      time.Hour,
		SelfCheckEvery:  time.Minute,
	}
}

// The YAML shapes; durations are strings parsed by the caller's parser, so
// they read like every other duration of the configuration.
type configYAML struct {
	DetractorCutoff *int          `yaml:"detractor_cutoff"`
	MaxAge          string        `yaml:"max_age"`
	Webhooks        receiversYAML `yaml:"webhooks"`
	ClaimLinkTTL    string        `yaml:"claim_link_ttl"`
	Retries         *int          `yaml:"retries"`
	Backoff         string        `yaml:"backoff"`
	MaxBackoff      string        `yaml:"max_backoff"`
	Timeout         string        `yaml:"timeout"`
	SLA             string        `yaml:"sla"`
	Keep            string        `yaml:"keep"`
	Queues          queuesYAML    `yaml:"queues"`
	Routing         routesYAML    `yaml:"routing"`
	DefaultQueue    string        `yaml:"default_queue"`
	Thresholds      []ruleYAML    `yaml:"thresholds"`
	EvaluateEvery   string        `yaml:"evaluate_every"`
	EmergingThemes  *emergingYAML `yaml:"emerging_themes"`
	Digest          digestYAML    `yaml:"digest"`
	SweepEvery      string        `yaml:"sweep_every"`
	SelfCheckEvery  string        `yaml:"self_check_every"`
}

type ruleYAML struct {
	Name         string            `yaml:"name"`
	Title        string            `yaml:"title"`
	Metric       string            `yaml:"metric"`
	Filters      map[string]string `yaml:"filters"`
	By           []string          `yaml:"by"`
	Window       string            `yaml:"window"`
	Below        *float64          `yaml:"below"`
	MinResponses *int64            `yaml:"min_responses"`
	MinOffers    *int64            `yaml:"min_offers"`
}

type digestYAML struct {
	At       string        `yaml:"at"`
	Weekday  string        `yaml:"weekday"`
	Webhooks receiversYAML `yaml:"webhooks"`
}

var ruleNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ParseConfig reads the alerts section (YAML or JSON text; empty gives the
// defaults). Rules name dimensions of the schema and are checked against the
// rollups, so a rule that no counter can answer fails at start.
// parseDuration is the configuration's duration parser.
func ParseConfig(text string, schema store.Schema, rollups []store.Rollup, parseDuration func(string) (time.Duration, error)) (Config, error) {
	c := DefaultConfig()
	var y configYAML
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil && !errors.Is(err, io.EOF) {
		return c, fmt.Errorf("must be a mapping of alert settings: %w", err)
	}
	if y.DetractorCutoff != nil {
		if *y.DetractorCutoff < 0 || *y.DetractorCutoff > 10 {
			return c, errors.New("detractor_cutoff: must be a score 0 to 10")
		}
		c.DetractorCutoff = *y.DetractorCutoff
	}
	if y.Retries != nil {
		if *y.Retries < 1 || *y.Retries > 50 {
			return c, errors.New("retries: must be 1 to 50 attempts")
		}
		c.Retries = *y.Retries
	}
	durations := []struct {
		name string
		raw  string
		into *time.Duration
		min  time.Duration
	}{
		{"max_age", y.MaxAge, &c.MaxAge, time.Minute},
		{"backoff", y.Backoff, &c.Backoff, 10 * time.Millisecond},
		{"max_backoff", y.MaxBackoff, &c.MaxBackoff, 10 * time.Millisecond},
		{"timeout", y.Timeout, &c.Timeout, 100 * time.Millisecond},
		{"keep", y.Keep, &c.Keep, time.Hour},
		{"evaluate_every", y.EvaluateEvery, &c.EvaluateEvery, time.Second},
		{"sweep_every", y.SweepEvery, &c.SweepEvery, time.Second},
		{"self_check_every", y.SelfCheckEvery, &c.SelfCheckEvery, time.Second},
		{"claim_link_ttl", y.ClaimLinkTTL, &c.ClaimLinkTTL, 5 * time.Minute},
	}
	for _, d := range durations {
		if d.raw == "" {
			continue
		}
		v, err := parseDuration(d.raw)
		if err != nil {
			return c, fmt.Errorf("%s: %w", d.name, err)
		}
		if v < d.min {
			return c, fmt.Errorf("%s: must be at least %s", d.name, d.min)
		}
		*d.into = v
	}
	if c.ClaimLinkTTL > maxClaimLinkTTL {
		return c, fmt.Errorf("claim_link_ttl: must be at most %s", maxClaimLinkTTL)
	}
	if c.MaxBackoff < c.Backoff {
		return c, errors.New("max_backoff: must be at least backoff")
	}
	var err error
	if c.SLA, err = parseSLA(y.SLA, parseDuration); err != nil {
		return c, fmt.Errorf("sla: %w", err)
	}
	if err := parseQueues(&c, y, schema, parseDuration); err != nil {
		return c, err
	}
	if c.Webhooks, err = c.parseReceivers("webhooks", y.Webhooks); err != nil {
		return c, err
	}
	if c.Digest, err = c.parseDigest(y.Digest); err != nil {
		return c, err
	}
	if c.EmergingThemes, err = parseEmerging(y.EmergingThemes, schema, rollups, parseDuration); err != nil {
		return c, fmt.Errorf("emerging_themes.%w", err)
	}
	seen := map[string]bool{}
	for i, ry := range y.Thresholds {
		r, err := ry.compile(schema, rollups)
		if err != nil {
			return c, fmt.Errorf("thresholds[%d] (%s): %w", i, ry.Name, err)
		}
		if seen[r.Name] {
			return c, fmt.Errorf("thresholds[%d]: name %q is used twice", i, r.Name)
		}
		seen[r.Name] = true
		c.Thresholds = append(c.Thresholds, r)
	}
	return c, nil
}

// parseReceivers reads a list of receivers: URLs, and the kind of each
// one that is not a generic webhook into c.Kinds.
func (c *Config) parseReceivers(field string, raw receiversYAML) ([]string, error) {
	var out []string
	for i, r := range raw {
		u, err := url.Parse(r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s[%d]: %q must be an http:// or https:// URL", field, i, r.URL)
		}
		kind := KindWebhook
		if r.Kind != "" {
			if kind, err = ParseKind(r.Kind); err != nil {
				return nil, fmt.Errorf("%s[%d].kind: %w", field, i, err)
			}
		}
		// One URL is one receiver: it gets one format wherever it is
		// listed, and a URL listed bare elsewhere takes the kind given.
		if old, ok := c.Kinds[r.URL]; ok && r.Kind != "" && old != kind {
			return nil, fmt.Errorf("%s[%d].kind: %q is a %s receiver elsewhere in the alerts section; one URL has one kind", field, i, r.URL, old)
		}
		if r.Kind != "" {
			if c.Kinds == nil {
				c.Kinds = map[string]Kind{}
			}
			c.Kinds[r.URL] = kind
		}
		if !slices.Contains(out, r.URL) {
			out = append(out, r.URL)
		}
	}
	return out, nil
}

func (c *Config) parseDigest(y digestYAML) (Digest, error) {
	d := DefaultConfig().Digest
	if y.At != "" {
		t, err := time.Parse("15:04", y.At)
		if err != nil {
			t, err = time.Parse("15:04:05", y.At)
		}
		if err != nil {
			return d, fmt.Errorf("digest.at: %q must be a local time like 08:00", y.At)
		}
		d.At, d.Hour, d.Minute, d.Second = y.At, t.Hour(), t.Minute(), t.Second()
	}
	if y.Weekday != "" {
		wd, ok := window.ParseWeekday(y.Weekday)
		if !ok {
			return d, fmt.Errorf("digest.weekday: %q must be a day like monday", y.Weekday)
		}
		d.Weekday = wd
	}
	var err error
	d.Webhooks, err = c.parseReceivers("digest.webhooks", y.Webhooks)
	return d, err
}

func (ry ruleYAML) compile(schema store.Schema, rollups []store.Rollup) (Rule, error) {
	r := Rule{Name: ry.Name, Title: ry.Title, Filters: map[store.Dimension]string{}}
	if !ruleNameRE.MatchString(r.Name) {
		return r, errors.New("name: want 1 to 64 of a-z 0-9 _ -")
	}
	for k, v := range ry.Filters {
		d, err := schema.Parse(k)
		if err != nil {
			return r, fmt.Errorf("filters: %w", err)
		}
		if v == "" {
			return r, fmt.Errorf("filters: %s is empty", k)
		}
		r.Filters[d] = v
	}
	for _, b := range ry.By {
		d, err := schema.Parse(b)
		if err != nil {
			return r, fmt.Errorf("by: %w", err)
		}
		r.By = append(r.By, d)
	}
	var err error
	if ry.Window == "" {
		ry.Window = "1h"
	}
	if r.Window, err = window.Parse(ry.Window); err != nil {
		return r, err
	}
	r.Metric = MetricNPS
	if ry.Metric != "" {
		r.Metric = Metric(ry.Metric)
		if !slices.Contains(Metrics, r.Metric) {
			return r, fmt.Errorf("metric: %q must be one of nps, response_rate, csat", ry.Metric)
		}
	}
	lo, what := 0.0, "the "+r.Metric.Label()+" level in percent (0 to 100)"
	if r.Metric == MetricNPS {
		lo, what = -100, "the NPS level (-100 to 100)"
	}
	if ry.Below == nil {
		return r, fmt.Errorf("below: %s is required", what)
	}
	if *ry.Below < lo || *ry.Below > 100 {
		return r, fmt.Errorf("below: must be %s", what)
	}
	r.Below = *ry.Below
	switch {
	case ry.MinOffers != nil && r.Metric != MetricResponseRate:
		return r, fmt.Errorf("min_offers needs metric response_rate (this rule's metric is %s: its minimum is min_responses)", r.Metric)
	case ry.MinResponses != nil && r.Metric == MetricResponseRate:
		return r, errors.New("min_responses counts answers; a response_rate rule counts offers: use min_offers")
	}
	r.MinResponses, r.MinOffers = defaultMinResponses, defaultMinOffers
	if ry.MinResponses != nil {
		if *ry.MinResponses < 1 {
			return r, errors.New("min_responses: must be at least 1")
		}
		r.MinResponses = *ry.MinResponses
	}
	if ry.MinOffers != nil {
		if *ry.MinOffers < 1 {
			return r, errors.New("min_offers: must be at least 1")
		}
		r.MinOffers = *ry.MinOffers
	}
	if _, err := store.PlanQuery(rollups, r.query(window.Span{})); err != nil {
		return r, err
	}
	if r.Title == "" {
		r.Title = r.Name
	}
	return r, nil
}

func (r Rule) query(span window.Span) store.Query {
	return store.Query{By: r.By, Filters: r.Filters, Span: span}
}
