package alert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/proportion"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Emerging themes: a theme that detractors suddenly mention far more often
// than they did over the week before. The figure is the share of
// detractors whose comment mentions the theme (mentions / detractors), not
// a share of the themes mentioned nor of the commented detractors: a
// comment can carry several themes, so theme counts overlap and the number
// of detractors who commented is not derivable from them. The denominator
// is every detractor of the scope (a query without theme), whether they
// commented or not; it is the figure a supervisor can say aloud ("38% of
// our detractors in the last two hours mention billing").
//
// A theme is raised when, over the recent window (default 2h), at least
// MinMentions detractors mention it, at least MinShare of them, and the
// lower bound of its share's Wilson interval at recentZ lies above the
// upper bound of its share over the baseline (the Baseline before the
// window, default 7 days) at baselineZ: the rise is larger than both
// samples' noise. It resolves
// once the recent share itself is back at or below the baseline's upper
// bound, so a share hovering at the edge does not raise and resolve by
// turns.
//
// The recent bound is far stricter than a 95% one on purpose: the detector
// looks at every theme (and every group of `by`) every minute, over windows
// that overlap, so even a 0.1% chance per look raised a false alert every
// few days per theme. TestEmergingFalseRaises measures the rate this
// gives, TestEmergingDetectsARise what it costs.

// EventThemeRaised and EventThemeResolved are the emerging theme's events.
const (
	EventThemeRaised   = "theme.raised"
	EventThemeResolved = "theme.resolved"
)

// EmergingRule is the Rule of the emerging themes' alerts in the shared
// state, which they share with the threshold alerts (a threshold rule's
// name cannot contain a colon, nor can it be this: their ids start with
// "theme:").
const EmergingRule = "emerging-themes"

// The interval widths: recentZ puts the recent share's lower bound 4
// standard errors below it (a one-sided 99.997% bound), baselineZ is the
// baseline's 95% interval. A 95% or 99.9% recent bound raised a false
// alert every day or two at a center where nothing changed (the detector
// looks every minute at windows that overlap: TestEmergingFalseRaises).
const (
	recentZ   = 4.0
	baselineZ = 1.96
)

// EmergingThemes configures the detector (alerts.emerging_themes).
type EmergingThemes struct {
	// Enabled runs the detector; on by default.
	Enabled bool
	// By breaks the scope down (e.g. team): each group is judged against
	// its own baseline. Empty: the whole center. A rollup must hold the
	// dimensions and theme.
	By []store.Dimension
	// Window is the recent window, Baseline the span before it that the
	// window is compared with.
	Window   time.Duration
	Baseline time.Duration
	// MinMentions is the fewest detractors mentioning a theme in the
	// window that can raise it; MinShare the smallest share of the
	// detractors (0 to 1): a theme 2% of them mention is not what makes
	// them unhappy, however sharply it rose (praise among detractors,
	// rare words).
	MinMentions int64
	MinShare    float64
	// Unavailable says why the detector is off although the configuration
	// did not turn it off: the rollups hold no theme (nor the dimensions
	// of By). "" when it runs or was turned off.
	Unavailable string
}

// DefaultEmergingThemes is on, over the whole center, 2h against the 7
// days before, with at least 5 detractors mentioning the theme and 5% of
// them.
func DefaultEmergingThemes() EmergingThemes {
	return EmergingThemes{Enabled: true, Window: 2 * time.Hour, Baseline: 7 * 24 * time.Hour, MinMentions: 5, MinShare: 0.05}
}

type emergingYAML struct {
	Enabled     *bool    `yaml:"enabled"`
	By          []string `yaml:"by"`
	Window      string   `yaml:"window"`
	Baseline    string   `yaml:"baseline"`
	MinMentions *int64   `yaml:"min_mentions"`
	MinShare    *float64 `yaml:"min_share"`
}

// parseEmerging reads alerts.emerging_themes; y nil is a configuration
// that does not mention it. A default detector that the rollups cannot
// answer is turned off with the reason in Unavailable (a configuration
// with its own rollups must not fail to start because of a detector it
// never asked for); one the configuration asks for fails.
func parseEmerging(y *emergingYAML, schema store.Schema, rollups []store.Rollup, parseDuration func(string) (time.Duration, error)) (EmergingThemes, error) {
	e := DefaultEmergingThemes()
	if y == nil {
		y = &emergingYAML{}
	}
	explicit := y.Enabled != nil || len(y.By) > 0 || y.Window != "" || y.Baseline != "" || y.MinMentions != nil || y.MinShare != nil
	if y.Enabled != nil {
		e.Enabled = *y.Enabled
	}
	for i, b := range y.By {
		d, err := schema.Parse(b)
		if err != nil {
			return e, fmt.Errorf("by[%d]: %w", i, err)
		}
		if d == store.Theme {
			return e, fmt.Errorf("by[%d]: theme is what is judged; by names the groups (team, channel…)", i)
		}
		if slices.Contains(e.By, d) {
			return e, fmt.Errorf("by[%d]: %s is named twice", i, d)
		}
		e.By = append(e.By, d)
	}
	for _, d := range []struct {
		name     string
		raw      string
		into     *time.Duration
		min, max time.Duration
		bounds   string
	}{
		{"window", y.Window, &e.Window, 15 * time.Minute, 24 * time.Hour, "15m to 24h"},
		// Hours are kept 32 days (store.DefaultRetention): the baseline
		// and the window fit.
		{"baseline", y.Baseline, &e.Baseline, 24 * time.Hour, 28 * 24 * time.Hour, "1d to 28d"},
	} {
		if d.raw == "" {
			continue
		}
		v, err := parseDuration(d.raw)
		if err != nil {
			return e, fmt.Errorf("%s: %w", d.name, err)
		}
		if v < d.min || v > d.max {
			return e, fmt.Errorf("%s: must be %s", d.name, d.bounds)
		}
		*d.into = v
	}
	if e.Baseline < 2*e.Window {
		return e, errors.New("baseline: must be at least twice the window")
	}
	if y.MinMentions != nil {
		if *y.MinMentions < 1 || *y.MinMentions > 10000 {
			return e, errors.New("min_mentions: must be 1 to 10000 detractors")
		}
		e.MinMentions = *y.MinMentions
	}
	if y.MinShare != nil {
		if !(*y.MinShare >= 0 && *y.MinShare <= 1) { // NaN too
			return e, errors.New("min_share: must be a share of the detractors, 0 to 1 (0.05 is 5%)")
		}
		e.MinShare = *y.MinShare
	}
	if !e.Enabled {
		return e, nil
	}
	for _, q := range []store.Query{e.query(window.Span{}, true), e.query(window.Span{}, false)} {
		if _, err := store.PlanQuery(rollups, q); err != nil {
			if !explicit {
				e.Enabled, e.Unavailable = false, fmt.Sprintf("no rollup answers it (%v); add the theme rollup or set alerts.emerging_themes.enabled: false", err)
				return e, nil
			}
			return e, fmt.Errorf("by: %w (add a rollup like %s)", err, rollupName(append(slices.Clone(e.By), store.Theme)))
		}
	}
	return e, nil
}

func rollupName(ds []store.Dimension) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = string(d)
	}
	return strings.Join(parts, "+")
}

// query is the detector's query over span: by theme (the mentions) or
// without it (all detractors of each group).
func (e EmergingThemes) query(span window.Span, byTheme bool) store.Query {
	by := slices.Clone(e.By)
	if byTheme {
		by = append(by, store.Theme)
	}
	return store.Query{By: by, Filters: map[store.Dimension]string{}, Span: span}
}

// ThemeShare is a theme's share of the detractors over a span.
type ThemeShare struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Mentions is how many detractors' comments mention the theme;
	// Detractors all the scope's detractors, commented or not.
	Mentions   int64 `json:"mentions"`
	Detractors int64 `json:"detractors"`
	// Share is Mentions/Detractors (0 to 1; 0 without detractors); Low
	// and High its Wilson interval (the recent one at 4 standard errors,
	// the baseline's at 95%).
	Share float64 `json:"share"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
}

// shareOf is x of n with its Wilson interval at z. No detractors say
// nothing: the interval is 0 to 1.
func shareOf(x, n int64, z float64) ThemeShare {
	s := ThemeShare{Mentions: x, Detractors: n, High: 1}
	if n <= 0 {
		return s
	}
	s.Share = float64(x) / float64(n)
	s.Low, s.High = proportion.Wilson(x, n, z)
	return s
}

// verdict is what the detector makes of a theme's recent and baseline
// shares: raise it (or keep it raised), resolve it if it was raised, or
// leave it as it is.
type verdict int

const (
	keep verdict = iota
	raise
	resolve
)

func (e EmergingThemes) judge(recent, baseline ThemeShare) verdict {
	switch {
	case recent.Mentions >= e.MinMentions && recent.Share >= e.MinShare && recent.Low > baseline.High:
		return raise
	case recent.Share <= baseline.High:
		return resolve
	}
	return keep
}

// ThemeAlert is an emerging theme, raised: the body of the theme events'
// "alert", and of Snapshot.Themes.
type ThemeAlert struct {
	// ID is "theme:" and the theme's name, and the group's key of a
	// detector with by: "theme:billing", "theme:transfers/team=support".
	ID    string `json:"id"`
	Title string `json:"title"`
	// Theme is the theme's name, Label how boards name it.
	Theme string `json:"theme"`
	Label string `json:"label"`
	// Filters are the scope (the group of `by`); none: the whole center.
	Filters map[store.Dimension]string `json:"filters,omitempty"`
	// Window is the recent window's length ("2h"), BaselineSpan the
	// span before it ("7d"); Recent and Baseline the theme's share over
	// each.
	Window       string     `json:"window"`
	BaselineSpan string     `json:"baseline_span"`
	Recent       ThemeShare `json:"recent"`
	Baseline     ThemeShare `json:"baseline"`
	Since        time.Time  `json:"since"`
	Updated      time.Time  `json:"updated"`
}

// ThemeEvent is the body of theme.raised and theme.resolved deliveries.
type ThemeEvent struct {
	Event string     `json:"event"`
	ID    string     `json:"id"`
	Alert ThemeAlert `json:"alert"`
}

// themeAlertOf reads a theme alert from the shared state, where it is an
// Active carrying it; false for a threshold alert.
func themeAlertOf(a Active) (ThemeAlert, bool) {
	if a.Theme == nil {
		return ThemeAlert{}, false
	}
	t := *a.Theme
	t.ID, t.Title, t.Filters, t.Since, t.Updated = a.ID, a.Title, a.Filters, a.Since, a.Updated
	return t, true
}

// thresholdsOnly keeps the threshold alerts of the shared state: boards'
// banners, the API's alert list and digests speak of NPS levels.
func thresholdsOnly(as []Active) []Active {
	out := make([]Active, 0, len(as))
	for _, a := range as {
		if a.Theme == nil {
			out = append(out, a)
		}
	}
	return out
}

// ThemeAlerts lists the raised emerging themes.
func (s *Service) ThemeAlerts(ctx context.Context) ([]ThemeAlert, error) {
	as, err := s.o.Engine.Active(ctx)
	return themeAlerts(as), err
}

func themeAlerts(as []Active) []ThemeAlert {
	out := []ThemeAlert{}
	for _, a := range as {
		if t, ok := themeAlertOf(a); ok {
			out = append(out, t)
		}
	}
	return out
}

// EvaluateThemes is the emerging themes' job (every evaluate_every): each
// theme of each group, its share of the detractors over the recent window
// against the baseline before it. A raised theme no longer found, or a
// detector turned off, resolves.
func (s *Service) EvaluateThemes(ctx context.Context, tick time.Time) error {
	e := s.o.Config.EmergingThemes
	active, err := s.o.Engine.Active(ctx)
	if err != nil {
		return err
	}
	raised := map[string]Active{}
	for _, a := range active {
		if a.Theme != nil {
			raised[a.ID] = a
		}
	}
	seen := map[string]bool{}
	changed := false
	if e.Enabled {
		cal := s.o.Calendar
		// As window.Calendar.Span: up to the end of the current minute.
		to := cal.Start(window.Minute, cal.Bucket(window.Minute, tick)+1)
		recentSpan := window.Span{From: to.Add(-e.Window), To: to}
		baseSpan := window.Span{From: recentSpan.From.Add(-e.Baseline), To: recentSpan.From}
		recent, err := s.themeCounts(ctx, recentSpan)
		if err != nil {
			return err
		}
		base, err := s.themeCounts(ctx, baseSpan)
		if err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(keysOf(recent.mentions, base.mentions))) {
			scopeKey, theme, _ := strings.Cut(k, "\x00")
			r := shareOf(recent.mentions[k], recent.detractors[scopeKey], recentZ)
			b := shareOf(base.mentions[k], base.detractors[scopeKey], baselineZ)
			r.From, r.To, b.From, b.To = recentSpan.From, recentSpan.To, baseSpan.From, baseSpan.To
			filters := recent.scopes[scopeKey]
			if filters == nil {
				filters = base.scopes[scopeKey]
			}
			a := s.themeActive(theme, filters, r, b, tick)
			seen[a.ID] = true
			old, was := raised[a.ID]
			switch v := e.judge(r, b); {
			case v == raise || (v == keep && was):
				// Refresh the numbers of a raised theme that is not
				// back inside the baseline yet.
				if v == keep {
					a.Since = old.Since
				}
				fresh, err := s.o.Engine.Raise(ctx, a)
				if err != nil {
					return err
				}
				changed = true
				if fresh {
					s.o.Logger.Warn("emerging theme raised", slog.String("alert", a.ID), slog.Float64("share", r.Share), slog.Int64("mentions", r.Mentions), slog.Float64("usual", b.Share))
					if err := s.themeEvent(ctx, EventThemeRaised, a); err != nil {
						return err
					}
				}
			case v == resolve && was:
				if err := s.clearTheme(ctx, old, a); err != nil {
					return err
				}
				changed = true
			}
		}
	}
	for id, a := range raised {
		if !seen[id] {
			if err := s.clearTheme(ctx, a, a); err != nil {
				return err
			}
			changed = true
		}
	}
	if changed {
		signal(s.refresh)
	}
	return nil
}

func keysOf(a, b map[string]int64) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// themeCounts are one span's detractors: by group (scope key), and by
// group and theme (scope key, NUL, theme).
type themeCounts struct {
	detractors map[string]int64
	mentions   map[string]int64
	scopes     map[string]map[store.Dimension]string
}

func (s *Service) themeCounts(ctx context.Context, span window.Span) (themeCounts, error) {
	e := s.o.Config.EmergingThemes
	c := themeCounts{detractors: map[string]int64{}, mentions: map[string]int64{}, scopes: map[string]map[store.Dimension]string{}}
	all, err := s.o.Querier.Query(ctx, e.query(span, false))
	if err != nil {
		return c, fmt.Errorf("emerging themes, detractors: %w", err)
	}
	for _, g := range all {
		k := scopeKey(g.Key)
		c.detractors[k] += g.Counts.Detractors()
		c.scopes[k] = g.Key
	}
	byTheme, err := s.o.Querier.Query(ctx, e.query(span, true))
	if err != nil {
		return c, fmt.Errorf("emerging themes, mentions: %w", err)
	}
	for _, g := range byTheme {
		theme := g.Key[store.Theme]
		if n := g.Counts.Detractors(); n > 0 && theme != "" {
			c.mentions[scopeKey(g.Key)+"\x00"+theme] += n
		}
	}
	return c, nil
}

// scopeKey is a group's key without the theme: "team=billing", "" for
// the whole center.
func scopeKey(key map[store.Dimension]string) string {
	var parts []string
	for d, v := range key {
		if d != store.Theme {
			parts = append(parts, string(d)+"="+v)
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// themeActive is the shared state's record of a theme's figures.
func (s *Service) themeActive(theme string, filters map[store.Dimension]string, recent, base ThemeShare, tick time.Time) Active {
	e := s.o.Config.EmergingThemes
	scope := map[store.Dimension]string{}
	for d, v := range filters {
		if d != store.Theme {
			scope[d] = v
		}
	}
	id := "theme:" + theme
	if k := scopeKey(scope); k != "" {
		id += "/" + k
	}
	label := theme
	if s.o.ThemeLabel != nil {
		if l := s.o.ThemeLabel(theme); l != "" {
			label = l
		}
	}
	title := label
	for _, d := range e.By {
		title += " · " + scope[d]
	}
	if len(scope) == 0 {
		scope = nil
	}
	w := window.FormatLength(e.Window)
	t := &ThemeAlert{Title: title, Theme: theme, Label: label, Filters: scope, Window: w,
		BaselineSpan: window.FormatLength(e.Baseline), Recent: recent, Baseline: base}
	return Active{ID: id, Rule: EmergingRule, Title: title, Filters: scope, Window: w,
		Responses: recent.Detractors, Since: tick.UTC(), Updated: tick.UTC(), Theme: t}
}

func (s *Service) clearTheme(ctx context.Context, old, now Active) error {
	ok, err := s.o.Engine.Clear(ctx, old.ID)
	if err != nil || !ok {
		return err
	}
	now.Since = old.Since
	s.o.Logger.Info("emerging theme resolved", slog.String("alert", old.ID))
	return s.themeEvent(ctx, EventThemeResolved, now)
}

func (s *Service) themeEvent(ctx context.Context, event string, a Active) error {
	t, _ := themeAlertOf(a)
	id := event + ":" + a.ID + ":" + a.Since.UTC().Format(time.RFC3339)
	return s.enqueue(ctx, id, event, ThemeEvent{Event: event, ID: id, Alert: t}, s.o.Config.Webhooks)
}

// spelled writes a duration of days for a message: "7d" is "7 days";
// others stay as they are ("36h").
func spelled(d string) string {
	if n, ok := strings.CutSuffix(d, "d"); ok {
		if n == "1" {
			return "1 day"
		}
		return n + " days"
	}
	return d
}

// Headline says what rose, as a chat message's title and a board's banner
// put it: "Billing errors: 38% of detractors, usually 12%".
func (t ThemeAlert) Headline() string {
	return fmt.Sprintf("%s: %s of detractors, usually %s", oneLine(t.Label), percent(t.Recent.Share), percent(t.Baseline.Share))
}

// percent is a share as a phone shows it: "38%".
func percent(share float64) string { return fmt.Sprintf("%.0f%%", math.Round(share*100)) }

func (env messageEnv) theme(ev ThemeEvent) message {
	a := ev.Alert
	where := ""
	if len(a.Filters) > 0 {
		where = " · " + scope(a.Filters)
	}
	m := message{Tone: "attention"}
	if ev.Event == EventThemeRaised {
		m.Title = a.Headline() + where
	} else {
		m.Tone = "good"
		m.Title = fmt.Sprintf("%s back to %s of detractors, usually %s%s", oneLine(a.Label), percent(a.Recent.Share), percent(a.Baseline.Share), where)
	}
	m.Summary = m.Title
	facts := []fact{
		{"Last " + a.Window, fmt.Sprintf("%s: %d of %d detractors", percent(a.Recent.Share), a.Recent.Mentions, a.Recent.Detractors)},
		{"The " + spelled(a.BaselineSpan) + " before", fmt.Sprintf("%s: %d of %d", percent(a.Baseline.Share), a.Baseline.Mentions, a.Baseline.Detractors)},
		{"Scope", scope(a.Filters)},
	}
	if ev.Event == EventThemeRaised {
		facts = append(facts, fact{"Since", a.Since.In(env.loc).Format("Mon 15:04")})
	} else {
		facts = append(facts, fact{"Lasted", FormatAge(env.now.Sub(a.Since))})
	}
	m.Sections = []section{{Facts: facts, Grid: true}}
	m.Note = "Share of all detractors (with a comment or not) whose comment mentions it"
	return m
}
