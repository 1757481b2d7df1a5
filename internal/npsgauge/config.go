package npsgauge

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Limits of the configuration. Every group of an entry is five series
// (score, responses, promoters, passives, detractors), so the total bounds
// what one node adds to a scrape: 10,000 groups are 50,000 series, about
// what a Prometheus target should carry at most.
const (
	// DefaultMaxGroups is an entry's cap on groups when it names none:
	// 40 teams × 12 channels fit, one series per agent of a large center
	// does not.
	DefaultMaxGroups = 500
	// MaxGroupsLimit is the largest max_groups an entry may ask for.
	MaxGroupsLimit = 5000
	// MaxTotalGroups bounds the sum of every entry's max_groups.
	MaxTotalGroups = 10000
	// MaxEntries bounds the entries.
	MaxEntries = 16
)

// Entry is one configured export: the groups of one rollup over one named
// window.
type Entry struct {
	// Rollup is the configured rollup whose groups are exported; its name
	// is the series' "by" label and its dimensions their other labels.
	Rollup store.Rollup
	// Window is the named window counted, the series' "window" label.
	Window window.Window
	// MaxGroups caps the groups exported: those with the fewest responses
	// beyond it are dropped (and counted in
	// pulseboard_nps_series_dropped_total).
	MaxGroups int
}

// Name identifies the entry in logs: "team@1h".
func (e Entry) Name() string { return e.Rollup.Name() + "@" + e.Window.Name }

// entryYAML is one entry as written in the config.
type entryYAML struct {
	By         any    `yaml:"by"`
	Window     string `yaml:"window"`
	MaxGroups  *int   `yaml:"max_groups"`
	AllowAgent bool   `yaml:"allow_agent"`
}

// ParseConfig reads the metrics.nps setting: a YAML (or JSON) list of
// entries {by, window, max_groups, allow_agent}. Each entry's by must name a
// configured rollup exactly (a list of dimensions, or "team+channel"), its
// window one of the named windows. A rollup with the agent dimension is
// refused unless the entry says allow_agent: true, since it is one series
// per agent (the largest dimension of a contact center) and puts agent names
// on /metrics. Errors name the entry by its index from 0, as "[1].by: ...".
// No entries is nil.
func ParseConfig(text string, schema store.Schema, rollups []store.Rollup) ([]Entry, error) {
	var raw []entryYAML
	dec := yaml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		// yaml.v3 lists type errors on lines of their own; config errors
		// are one line.
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", ";")), " ")
		return nil, fmt.Errorf("must be a list of {by: [dimensions], window: NAME} entries: %s", msg)
	}
	if len(raw) > MaxEntries {
		return nil, fmt.Errorf("%d entries: at most %d", len(raw), MaxEntries)
	}
	var out []Entry
	seen := map[string]int{}
	total := 0
	for i, y := range raw {
		e, err := parseEntry(y, schema, rollups)
		if err != nil {
			return nil, fmt.Errorf("[%d].%w", i, err)
		}
		if j, dup := seen[e.Name()]; dup {
			return nil, fmt.Errorf("[%d]: by %s over %s is already entry [%d]", i, e.Rollup.Name(), e.Window.Name, j)
		}
		seen[e.Name()] = i
		total += e.MaxGroups
		if total > MaxTotalGroups {
			return nil, fmt.Errorf("[%d].max_groups: the entries' max_groups add up to more than %d groups (%d series); lower them or export fewer rollups",
				i, MaxTotalGroups, 5*MaxTotalGroups)
		}
		out = append(out, e)
	}
	return out, nil
}

// parseEntry checks one entry; its errors start with the field's name.
func parseEntry(y entryYAML, schema store.Schema, rollups []store.Rollup) (Entry, error) {
	var dims []string
	switch by := y.By.(type) {
	case nil:
		return Entry{}, errors.New(`by: missing: list the dimensions of a configured rollup, like [team], or [] for the overall score`)
	case string:
		dims = strings.FieldsFunc(by, func(r rune) bool { return r == '+' || r == ',' })
	case []any:
		for _, d := range by {
			s, ok := d.(string)
			if !ok {
				return Entry{}, fmt.Errorf("by: %v is not a dimension name", d)
			}
			dims = append(dims, s)
		}
	default:
		return Entry{}, errors.New("by: must be a list of dimensions, like [team, channel]")
	}
	r, err := schema.ParseRollup(strings.Join(dims, "+"))
	if err != nil {
		return Entry{}, fmt.Errorf("by: %w", err)
	}
	found := false
	names := make([]string, len(rollups))
	for i, c := range rollups {
		names[i] = c.Name()
		found = found || c.Name() == r.Name()
	}
	if !found {
		// Only a configured rollup has counters; reading a larger one and
		// folding would cost a scan of more groups on every refresh.
		return Entry{}, fmt.Errorf("by: no rollup %s; rollups are %s", r.Name(), strings.Join(names, ", "))
	}
	if r.Has(store.Agent) && !y.AllowAgent {
		return Entry{}, fmt.Errorf("by: %s has the agent dimension: one series per agent, and agent names on /metrics; add allow_agent: true to export it anyway", r.Name())
	}
	if y.Window == "" {
		return Entry{}, errors.New("window: missing, like 1h or today")
	}
	w, err := window.Parse(y.Window)
	if err != nil {
		return Entry{}, fmt.Errorf("window: %w", err)
	}
	e := Entry{Rollup: r, Window: w, MaxGroups: DefaultMaxGroups}
	if y.MaxGroups != nil {
		if *y.MaxGroups < 1 || *y.MaxGroups > MaxGroupsLimit {
			return Entry{}, fmt.Errorf("max_groups: must be 1 to %d", MaxGroupsLimit)
		}
		e.MaxGroups = *y.MaxGroups
	}
	return e, nil
}
