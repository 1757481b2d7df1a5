package board

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Kind names what a tile shows (its "view" in boards.yaml).
type Kind string

// The tile kinds.
const (
	Headline     Kind = "headline"
	Breakdown    Kind = "breakdown"
	Leaderboard  Kind = "leaderboard"
	Trend        Kind = "trend"
	Distribution Kind = "distribution"
	Comments     Kind = "comments"
	Count        Kind = "count"
	Funnel       Kind = "funnel"
	// FollowUps is the detractor follow-up queue: open and overdue with
	// their age, and the share closed within the SLA today.
	FollowUps Kind = "followups"
	// Themes lists what the comments are about, each theme with the NPS
	// points its detractors cost (themes.go).
	Themes Kind = "themes"
	// ResponseRate is the share of offered surveys that were answered,
	// counted in the window the offer was made in (share.go).
	ResponseRate Kind = "response_rate"
	// CSAT is the satisfied share (4 and 5) of the 1..5 CSAT answers, with
	// their distribution (share.go).
	CSAT Kind = "csat"
	// Banners is not configured: every board gets one banner tile (id
	// BannerID) with the active threshold alerts that concern it.
	Banners Kind = "banners"
)

var kinds = []Kind{Headline, Breakdown, Leaderboard, Trend, Distribution, Comments, Count, FollowUps, Funnel, Themes, ResponseRate, CSAT}

// BannerID is the id of every board's alert banner tile; no configured tile
// may use it.
const BannerID = "alert-banner"

// Board is a validated board definition.
type Board struct {
	Name  string
	Title string
	// Filters are the board's own filters (every tile has them too):
	// threshold alerts that contradict them do not concern the board.
	Filters map[store.Dimension]string
	Tiles   []Tile
	// Public opens the board without a token; Screens are the displays
	// paired with it. Removing a screen revokes it at the next reload.
	Public  bool
	Screens []auth.Screen
	// ForEach makes the definition a template (template.go): not a board
	// itself, but one board per value of a dimension.
	ForEach *ForEach
	// Template and Value name an instance's template and the value its
	// tiles are filtered to; both are "" for a plain board.
	Template string
	Value    string
}

// Tile is a validated tile: everything Compute needs, with the board's
// filters, thresholds and privacy already merged in.
type Tile struct {
	ID     string
	View   Kind
	Title  string
	Window window.Window
	// Range, set instead of Window, is a fixed span from the definition's
	// from and to; a zero To means "until now" (a campaign since its
	// launch).
	Range *window.Span
	// By is the breakdown dimension of breakdown, leaderboard and funnel
	// tiles, and the optional one of response_rate and csat tiles.
	By      store.Dimension
	Filters map[store.Dimension]string
	// Top rows of a leaderboard; Worst ranks from the bottom.
	Top   int
	Worst bool
	// Step of a trend: window.Hour or window.Day.
	Step window.Gran
	// Limit and DetractorsOnly shape a comments feed.
	Limit          int
	DetractorsOnly bool
	Thresholds     Thresholds
	ShowAgents     bool
	Redact         bool
	// Cols and Rows are the tile's size in the board's grid cells.
	Cols, Rows int
}

// The YAML shapes.
type fileYAML struct {
	Boards []boardYAML `yaml:"boards"`
}

type boardYAML struct {
	Name       string            `yaml:"name"`
	Title      string            `yaml:"title"`
	Filters    map[string]string `yaml:"filters"`
	Thresholds *thresholdsYAML   `yaml:"thresholds"`
	Privacy    privacyYAML       `yaml:"privacy"`
	Access     accessYAML        `yaml:"access"`
	ForEach    *forEachYAML      `yaml:"for_each"`
	Tiles      []tileYAML        `yaml:"tiles"`
}

// accessYAML says who may open a board: anyone (public), or the paired
// screens, each by the hash of its display token.
type accessYAML struct {
	Public  bool         `yaml:"public"`
	Screens []screenYAML `yaml:"screens"`
}

type screenYAML struct {
	Name        string `yaml:"name"`
	TokenSHA256 string `yaml:"token_sha256"`
	// Value pairs a template's screen with the board of one value only.
	Value string `yaml:"value"`
}

type thresholdsYAML struct {
	Good *float64 `yaml:"good"`
	Poor *float64 `yaml:"poor"`
}

type privacyYAML struct {
	ShowAgents     bool  `yaml:"show_agents"`
	RedactComments *bool `yaml:"redact_comments"`
}

type tileYAML struct {
	ID             string            `yaml:"id"`
	View           string            `yaml:"view"`
	Title          string            `yaml:"title"`
	Window         string            `yaml:"window"`
	From           string            `yaml:"from"`
	To             string            `yaml:"to"`
	By             string            `yaml:"by"`
	Filters        map[string]string `yaml:"filters"`
	Top            int               `yaml:"top"`
	Order          string            `yaml:"order"`
	Step           string            `yaml:"step"`
	Limit          int               `yaml:"limit"`
	DetractorsOnly bool              `yaml:"detractors_only"`
	Thresholds     *thresholdsYAML   `yaml:"thresholds"`
	Size           string            `yaml:"size"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidName reports whether s can name a board, a tile or a screen.
func ValidName(s string) bool { return nameRE.MatchString(s) }

// Defaults of optional tile settings.
const (
	defaultTop   = 10
	defaultLimit = 6
	maxTop       = 50
	maxLimit     = 50
)

// Parse reads and validates board definitions. Every tile's query must be
// answerable by the configured rollups, and name dimensions of the schema,
// so a typo fails at load, not on a wall.
func Parse(data []byte, schema store.Schema, rollups []store.Rollup) ([]Board, error) {
	var f fileYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse boards: %w", err)
	}
	if len(f.Boards) == 0 {
		return nil, errors.New("no boards defined")
	}
	var out []Board
	seen := map[string]bool{}
	for i, by := range f.Boards {
		b, err := by.compile(schema, rollups)
		if err != nil {
			return nil, fmt.Errorf("board %d (%s): %w", i+1, by.Name, err)
		}
		if seen[b.Name] {
			return nil, fmt.Errorf("board %q is defined twice", b.Name)
		}
		seen[b.Name] = true
		out = append(out, b)
	}
	return out, nil
}

func (by boardYAML) compile(schema store.Schema, rollups []store.Rollup) (Board, error) {
	if !nameRE.MatchString(by.Name) {
		return Board{}, fmt.Errorf("name %q: want 1 to 64 of a-z 0-9 _ - (it is part of the URL)", by.Name)
	}
	b := Board{Name: by.Name, Title: by.Title}
	if b.Title == "" {
		b.Title = by.Name
	}
	filters, err := parseFilters(schema, by.Filters)
	if err != nil {
		return Board{}, err
	}
	var only map[string][]auth.Screen
	if b.Public, b.Screens, only, err = by.Access.compile(); err != nil {
		return Board{}, err
	}
	b.Filters = filters
	th := by.Thresholds.merge(DefaultThresholds)
	if len(by.Tiles) == 0 {
		return Board{}, errors.New("has no tiles")
	}
	ids := map[string]bool{}
	for i, ty := range by.Tiles {
		t, err := ty.compile(schema, filters, th, by.Privacy, rollups)
		if err != nil {
			return Board{}, fmt.Errorf("tile %d (%s): %w", i+1, ty.ID, err)
		}
		if ids[t.ID] {
			return Board{}, fmt.Errorf("tile id %q is used twice", t.ID)
		}
		if t.ID == BannerID {
			return Board{}, fmt.Errorf("tile id %q is reserved for the alert banner", t.ID)
		}
		ids[t.ID] = true
		b.Tiles = append(b.Tiles, t)
	}
	if b.ForEach, err = by.ForEach.compile(schema); err != nil {
		return Board{}, err
	}
	if b.ForEach != nil {
		b.ForEach.Only = only
		if err := b.checkTemplate(rollups); err != nil {
			return Board{}, err
		}
	} else if len(only) > 0 {
		return Board{}, errors.New("access: a screen's value is only for a template's screens (with for_each)")
	}
	return b, nil
}

// compile returns the board's screens, and apart, by value, the screens of
// a template paired with one of its boards only.
func (a accessYAML) compile() (bool, []auth.Screen, map[string][]auth.Screen, error) {
	var out []auth.Screen
	var only map[string][]auth.Screen
	names, hashes := map[string]bool{}, map[auth.Hash]bool{}
	for i, sy := range a.Screens {
		if !nameRE.MatchString(sy.Name) {
			return false, nil, nil, fmt.Errorf("access: screen %d: name %q: want 1 to 64 of a-z 0-9 _ -", i+1, sy.Name)
		}
		h, err := auth.ParseHash(sy.TokenSHA256)
		if err != nil {
			return false, nil, nil, fmt.Errorf("access: screen %s: token_sha256: %w", sy.Name, err)
		}
		if names[sy.Name] || hashes[h] {
			return false, nil, nil, fmt.Errorf("access: screen %s: its name or token is used twice on this board", sy.Name)
		}
		names[sy.Name], hashes[h] = true, true
		sc := auth.Screen{Name: sy.Name, Hash: h}
		switch {
		case sy.Value == "":
			out = append(out, sc)
		case !ValidValue(sy.Value):
			return false, nil, nil, fmt.Errorf("access: screen %s: value %q: %s", sy.Name, sy.Value, ingest.ValueProblem(sy.Value))
		default:
			if only == nil {
				only = map[string][]auth.Screen{}
			}
			only[sy.Value] = append(only[sy.Value], sc)
		}
	}
	return a.Public, out, only, nil
}

func parseFilters(schema store.Schema, m map[string]string) (map[store.Dimension]string, error) {
	out := make(map[store.Dimension]string, len(m))
	for k, v := range m {
		d, err := schema.Parse(k)
		if err != nil {
			return nil, fmt.Errorf("filters: %w", err)
		}
		if v == "" {
			return nil, fmt.Errorf("filters: %s is empty", k)
		}
		out[d] = v
	}
	return out, nil
}

func (t *thresholdsYAML) merge(base Thresholds) Thresholds {
	if t == nil {
		return base
	}
	if t.Good != nil {
		base.Good = *t.Good
	}
	if t.Poor != nil {
		base.Poor = *t.Poor
	}
	return base
}

func (ty tileYAML) compile(schema store.Schema, boardFilters map[store.Dimension]string, th Thresholds, p privacyYAML, rollups []store.Rollup) (Tile, error) {
	if !nameRE.MatchString(ty.ID) {
		return Tile{}, fmt.Errorf("id %q: want 1 to 64 of a-z 0-9 _ -", ty.ID)
	}
	t := Tile{ID: ty.ID, View: Kind(ty.View), Title: ty.Title, Top: ty.Top, Limit: ty.Limit,
		DetractorsOnly: ty.DetractorsOnly, ShowAgents: p.ShowAgents, Redact: p.RedactComments == nil || *p.RedactComments}
	if !slices.Contains(kinds, t.View) {
		return Tile{}, fmt.Errorf("view %q: want one of %v", ty.View, kinds)
	}
	t.Thresholds = ty.Thresholds.merge(th)
	var err error
	if t.Cols, t.Rows, err = parseSize(ty.Size, t.View); err != nil {
		return Tile{}, err
	}
	if t.Thresholds.Poor > t.Thresholds.Good {
		return Tile{}, fmt.Errorf("thresholds: poor (%v) is above good (%v)", t.Thresholds.Poor, t.Thresholds.Good)
	}
	tileFilters, err := parseFilters(schema, ty.Filters)
	if err != nil {
		return Tile{}, err
	}
	t.Filters = make(map[store.Dimension]string, len(boardFilters)+len(tileFilters))
	for d, v := range boardFilters {
		t.Filters[d] = v
	}
	for d, v := range tileFilters {
		t.Filters[d] = v
	}
	if _, ok := t.Filters[store.Agent]; ok && !t.ShowAgents {
		return Tile{}, errors.New("filters by agent, but the board's privacy does not allow agent names (privacy: {show_agents: true})")
	}
	if t.View == Comments || t.View == FollowUps {
		return t.compileComments()
	}
	if err := t.compileSpan(ty); err != nil {
		return Tile{}, err
	}
	if t.View == Breakdown || t.View == Leaderboard || t.View == Funnel {
		if t.By, err = schema.Parse(ty.By); err != nil {
			return Tile{}, fmt.Errorf("by: %w", err)
		}
		if t.By == store.Agent && !t.ShowAgents {
			return Tile{}, errors.New("breaks down by agent, but the board's privacy does not allow agent names (privacy: {show_agents: true})")
		}
	} else if ty.By != "" && (t.View == ResponseRate || t.View == CSAT) {
		if t.By, err = schema.Parse(ty.By); err != nil {
			return Tile{}, fmt.Errorf("by: %w", err)
		}
		if t.By == store.Agent && !t.ShowAgents {
			return Tile{}, errors.New("breaks down by agent, but the board's privacy does not allow agent names (privacy: {show_agents: true})")
		}
		if ty.Size == "" {
			t.Rows = 2 // a row per group under the figure
		}
	} else if ty.By != "" {
		return Tile{}, fmt.Errorf("by is only for breakdown, leaderboard, funnel, response_rate and csat tiles")
	}
	if t.View == Leaderboard {
		if t.Top == 0 {
			t.Top = defaultTop
		}
		if t.Top < 1 || t.Top > maxTop {
			return Tile{}, fmt.Errorf("top %d: want 1 to %d", t.Top, maxTop)
		}
		switch ty.Order {
		case "", "best":
		case "worst":
			t.Worst = true
		default:
			return Tile{}, fmt.Errorf("order %q: want best or worst", ty.Order)
		}
	}
	if t.View == Trend {
		if err := t.compileStep(ty.Step); err != nil {
			return Tile{}, err
		}
	}
	if _, ok := t.Filters[store.Theme]; ok && t.View == Themes {
		return Tile{}, errors.New("filters by theme, but a themes tile shows every theme: remove the filter (from the tile or the board)")
	}
	if _, ok := t.Filters[store.Theme]; (ok || t.By == store.Theme) && t.View == ResponseRate {
		return Tile{}, errors.New("names theme, but a survey offer has no comment and so no theme: a response rate cannot be broken down or filtered by theme")
	}
	if err := t.plan(rollups); err != nil {
		return Tile{}, err
	}
	return t, nil
}

// queries are the queries a tile asks at every tick, but for their span.
// Comments and follow-ups ask none: they read recent answers and alerts.
func (t Tile) queries() []store.Query {
	switch t.View {
	case Comments, FollowUps:
		return nil
	case Themes:
		// Every answer in the scope (N, the impact's denominator), and the
		// same broken down by theme.
		return []store.Query{{Filters: t.Filters}, {By: []store.Dimension{store.Theme}, Filters: t.Filters}}
	case ResponseRate, CSAT:
		// The scope's figure, and with by its rows.
		qs := []store.Query{{Filters: t.Filters}}
		if t.By != "" {
			qs = append(qs, store.Query{By: []store.Dimension{t.By}, Filters: t.Filters})
		}
		return qs
	}
	q := store.Query{Filters: t.Filters}
	if t.By != "" {
		q.By = []store.Dimension{t.By}
	}
	return []store.Query{q}
}

// plan checks that the configured rollups answer every query of the tile.
func (t Tile) plan(rollups []store.Rollup) error {
	for _, q := range t.queries() {
		if _, err := store.PlanQuery(rollups, q); err != nil {
			if t.View == Themes && len(q.By) > 0 {
				return fmt.Errorf("counting the themes of its answers needs a rollup over theme and its filters' dimensions (add one to rollups): %w", err)
			}
			if t.View == Themes {
				return fmt.Errorf("counting all its answers (the impact's denominator) needs a rollup over its filters' dimensions: %w", err)
			}
			return err
		}
	}
	return nil
}

// openEnd stands for "until now" while a range without to is parsed.
var openEnd = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// compileSpan reads the tile's window, or its fixed from and to. Trends
// need a window: their points follow a window's step.
func (t *Tile) compileSpan(ty tileYAML) error {
	if ty.From == "" && ty.To == "" {
		if ty.Window == "" {
			return errors.New("window is required (or from, and optionally to, for a fixed range)")
		}
		var err error
		t.Window, err = window.Parse(ty.Window)
		return err
	}
	if ty.Window != "" {
		return errors.New("window: cannot be combined with from/to (a tile shows a named window or a fixed range)")
	}
	if t.View == Trend {
		return errors.New("from/to: a trend needs a window (its points follow the window's step)")
	}
	span, err := window.ParseRange(ty.From, ty.To, openEnd)
	if err != nil {
		return err
	}
	if ty.To == "" {
		span.To = time.Time{}
	}
	t.Range = &span
	return nil
}

func (t Tile) compileComments() (Tile, error) {
	if t.Limit == 0 {
		t.Limit = defaultLimit
	}
	if t.Limit < 1 || t.Limit > maxLimit {
		return Tile{}, fmt.Errorf("limit %d: want 1 to %d", t.Limit, maxLimit)
	}
	return t, nil
}

// compileStep checks a trend's step against its window: hourly points for
// windows up to a day, daily points for longer ones.
func (t *Tile) compileStep(step string) error {
	switch step {
	case "hour", "":
		t.Step = window.Hour
		if t.Window.Length == 0 || t.Window.Length > window.Rolling24h.Length {
			return fmt.Errorf("step hour needs a rolling window of at most 24h, not %s", t.Window.Name)
		}
	case "day":
		t.Step = window.Day
		if t.Window.Length < window.Rolling7d.Length {
			return fmt.Errorf("step day needs a window of 7d, 30d or 90d, not %s", t.Window.Name)
		}
	default:
		return fmt.Errorf("step %q: want hour or day", step)
	}
	return nil
}

// gridColumns is the width of a board's grid; a tile spans 1 to 4 columns
// and 1 to 4 rows.
const gridColumns = 4

// parseSize reads "COLSxROWS"; "" takes the view's natural size: numbers
// one cell, lists two rows, series and feeds two columns.
func parseSize(size string, k Kind) (cols, rows int, err error) {
	if size == "" {
		switch k {
		case Breakdown, Leaderboard:
			return 1, 2, nil
		case Trend, Comments, FollowUps:
			return 2, 1, nil
		case Funnel:
			return 2, 2, nil
		case Themes:
			return 1, 2, nil
		default:
			return 1, 1, nil
		}
	}
	if _, err := fmt.Sscanf(size, "%dx%d", &cols, &rows); err != nil || cols < 1 || rows < 1 || cols > gridColumns || rows > gridColumns ||
		fmt.Sprintf("%dx%d", cols, rows) != size {
		return 0, 0, fmt.Errorf("size %q: want COLSxROWS, each 1 to %d, like 2x1", size, gridColumns)
	}
	return cols, rows, nil
}

// Names lists board names, sorted.
func Names(boards []Board) []string {
	out := make([]string, len(boards))
	for i, b := range boards {
		out[i] = b.Name
	}
	sort.Strings(out)
	return out
}
