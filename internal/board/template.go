package board

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Board templates: a definition with `for_each: team` is not a board but a
// template for one board per team, each with every tile filtered to its
// team. Instances are named "<template>/<value>" (team/billing): a plain
// board name never holds "/", so the two never collide, and the URL is
// /boards/team/billing.

// ForEach makes a definition a template over one dimension.
type ForEach struct {
	Dimension store.Dimension
	// Values is the listed set, sorted; nil means every value seen in the
	// last DiscoveryWindow.
	Values []string
	// Only holds, by value, the screens paired with that value's board
	// alone (`value:` on a screen); the template's Screens open them all.
	Only map[string][]auth.Screen
}

// DiscoveryWindow is how far back a template without listed values looks
// for the values it has boards for.
var DiscoveryWindow = window.Rolling30d

// ValuePlaceholder in a template's title is replaced by each instance's
// value ("Team {value}" → "Team billing"); a title without it gets the
// value appended.
const ValuePlaceholder = "{value}"

// forEachYAML is `for_each: team` or `for_each: {dimension: team, values: [billing, sales]}`.
type forEachYAML struct {
	Dimension string   `yaml:"dimension"`
	Values    []string `yaml:"values"`
}

func (f *forEachYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&f.Dimension)
	}
	// node.Decode does not inherit the file decoder's KnownFields: check
	// the keys here, so a typo is an error as everywhere else.
	if n.Kind == yaml.MappingNode {
		for i := 0; i < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "dimension" && k != "values" {
				return fmt.Errorf("line %d: field %s not found in for_each (want dimension, values)", n.Content[i].Line, k)
			}
		}
	}
	type plain forEachYAML // without this method, so Decode does not recurse
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	*f = forEachYAML(p)
	return nil
}

func (f *forEachYAML) compile(schema store.Schema) (*ForEach, error) {
	if f == nil {
		return nil, nil
	}
	// The one place board templates parse a dimension name.
	d, err := schema.Parse(f.Dimension)
	if err != nil {
		return nil, fmt.Errorf("for_each: %w", err)
	}
	fe := &ForEach{Dimension: d}
	if f.Values == nil {
		return fe, nil
	}
	if len(f.Values) == 0 {
		return nil, errors.New("for_each: values is empty (leave it out for every value seen in the last 30 days)")
	}
	for _, v := range f.Values {
		if p := ingest.ValueProblem(v); p != "" {
			return nil, fmt.Errorf("for_each: value %q %s", v, p)
		}
		if slices.Contains(fe.Values, v) {
			return nil, fmt.Errorf("for_each: value %q is listed twice", v)
		}
		fe.Values = append(fe.Values, v)
	}
	slices.Sort(fe.Values)
	return fe, nil
}

// checkTemplate checks what only a template can get wrong: its dimension
// set by hand somewhere (every instance would show the same number, or
// nothing), agent names in URLs of a board that may not show them, and
// queries the rollups cannot answer once the instance's filter is added.
func (b Board) checkTemplate(rollups []store.Rollup) error {
	d := b.ForEach.Dimension
	if _, ok := b.Filters[d]; ok {
		return fmt.Errorf("filters %s, which for_each sets to each board's own value", d)
	}
	for _, t := range b.Tiles {
		if v, ok := t.Filters[d]; ok {
			return fmt.Errorf("tile %s filters %s=%s, which for_each sets to each board's own value: remove the filter", t.ID, d, v)
		}
		if t.View == Themes && d == store.Theme {
			return fmt.Errorf("tile %s shows every theme, but for_each %s gives each board one theme: it would show one row", t.ID, d)
		}
		if t.View == ResponseRate && d == store.Theme {
			return fmt.Errorf("tile %s shows a response rate, but for_each %s gives each board one theme, and a survey offer has none", t.ID, d)
		}
		if t.By == d {
			return fmt.Errorf("tile %s breaks down by %s, which for_each fixes to one value per board: it would show one row", t.ID, d)
		}
		if d == store.Agent && !t.ShowAgents {
			return errors.New("for_each: agent puts agent names in addresses and titles, but the board's privacy does not allow agent names (privacy: {show_agents: true})")
		}
	}
	for v, screens := range b.ForEach.Only {
		if b.ForEach.Values != nil && !slices.Contains(b.ForEach.Values, v) {
			return fmt.Errorf("access: screen %s: value %q is not one of for_each's values", screens[0].Name, v)
		}
	}
	if b.ForEach.Values == nil {
		if _, err := store.PlanQuery(rollups, store.Query{By: []store.Dimension{d}}); err != nil {
			return fmt.Errorf("for_each %s: finding its values: %w", d, err)
		}
	}
	// Any valid value plans the same way: the planner looks at which
	// dimensions are filtered, not at their values.
	for _, t := range b.Instance("x").Tiles {
		if err := t.plan(rollups); err != nil {
			return fmt.Errorf("tile %s, filtered by %s for each board: %w", t.ID, d, err)
		}
	}
	return nil
}

// Instance is the board of a template for one value: every tile, and the
// board's own filters (which place threshold banners), filtered to it. It
// keeps the template's access: public, and the screens paired with the
// template open every one of its boards; a screen with `value:` opens only
// its value's. value must be valid
// (ValidValue); b must be a template.
func (b Board) Instance(value string) Board {
	d := b.ForEach.Dimension
	in := b
	in.ForEach = nil
	in.Template, in.Value = b.Name, value
	in.Name = b.Name + "/" + value
	if strings.Contains(b.Title, ValuePlaceholder) {
		in.Title = strings.ReplaceAll(b.Title, ValuePlaceholder, value)
	} else {
		in.Title = b.Title + " · " + value
	}
	in.Filters = withFilter(b.Filters, d, value)
	in.Tiles = make([]Tile, len(b.Tiles))
	for i, t := range b.Tiles {
		t.Filters = withFilter(t.Filters, d, value)
		in.Tiles[i] = t
	}
	in.Screens = append(slices.Clone(b.Screens), b.ForEach.Only[value]...)
	return in
}

func withFilter(m map[store.Dimension]string, d store.Dimension, v string) map[store.Dimension]string {
	out := make(map[store.Dimension]string, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out[d] = v
	return out
}

// ValidValue reports whether s can be a template's value: the same rule as
// a response's dimension values (letters, digits, space, -_.@).
func ValidValue(s string) bool { return ingest.ValueProblem(s) == "" }

// SplitName splits an instance's name into its template and value; ok is
// false for a plain board's name.
func SplitName(name string) (template, value string, ok bool) {
	return strings.Cut(name, "/")
}

// URLPath is a board's page address: /boards/floor, or for an instance
// /boards/team/first%20line, its value escaped as one path segment. Every
// link and redirect to a board is built here.
func URLPath(name string) string {
	if tpl, v, ok := SplitName(name); ok {
		return "/boards/" + tpl + "/" + url.PathEscape(v)
	}
	return "/boards/" + name
}

// LivePath is a board's socket address.
func LivePath(name string) string { return URLPath(name) + "/live" }
