package store

import (
	"fmt"
	"slices"
	"strings"
)

// Rollup is a tuple of dimensions that gets its own counters. The empty
// rollup counts every response once (the overall group).
type Rollup struct {
	dims []Dimension
	name string
}

// groupSep joins the values of a group. Dimension values are validated to
// letters, digits, space and -_.@, so it can never occur inside one.
const groupSep = "/"

// overallGroup is the single group of the empty rollup.
const overallGroup = "*"

// NewRollup builds a rollup of built-in dimensions in any order (the
// default schema's NewRollup); duplicates are an error.
func NewRollup(dims ...Dimension) (Rollup, error) { return DefaultSchema().NewRollup(dims...) }

// ParseRollup reads a rollup of built-in dimensions (the default schema's
// ParseRollup).
func ParseRollup(s string) (Rollup, error) { return DefaultSchema().ParseRollup(s) }

// NewRollup builds a rollup from dimensions of the schema in any order;
// duplicates and dimensions outside the schema are an error. Its
// dimensions, and so its name, follow the schema's order: built-ins first in
// their fixed order, so every rollup that existed before dimensions were
// configurable keeps its name (a part of Redis keys).
func (s Schema) NewRollup(dims ...Dimension) (Rollup, error) {
	sorted := make([]Dimension, 0, len(dims))
	for _, canon := range s.Queryable() {
		n := 0
		for _, d := range dims {
			if d == canon {
				n++
			}
		}
		if n > 1 {
			return Rollup{}, fmt.Errorf("dimension %q appears twice in a rollup", canon)
		}
		if n == 1 {
			sorted = append(sorted, canon)
		}
	}
	if len(sorted) != len(dims) {
		return Rollup{}, fmt.Errorf("rollup %v has a dimension that is not configured (configured: %s)", dims, s)
	}
	name := "all"
	if len(sorted) > 0 {
		parts := make([]string, len(sorted))
		for i, d := range sorted {
			parts[i] = string(d)
		}
		name = strings.Join(parts, "+")
	}
	return Rollup{dims: sorted, name: name}, nil
}

// ParseRollup reads a rollup written as "team+channel" or "team,channel";
// "" or "all" is the overall rollup.
func (sc Schema) ParseRollup(s string) (Rollup, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return sc.NewRollup()
	}
	var dims []Dimension
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '+' || r == ',' }) {
		d, err := sc.Parse(part)
		if err != nil {
			return Rollup{}, fmt.Errorf("rollup %q: %w", s, err)
		}
		dims = append(dims, d)
	}
	return sc.NewRollup(dims...)
}

// MustRollup is NewRollup for literals known to be valid.
func MustRollup(dims ...Dimension) Rollup {
	r, err := NewRollup(dims...)
	if err != nil {
		panic(err)
	}
	return r
}

// DefaultRollups are the dimension tuples counted when config names none.
func DefaultRollups() []Rollup {
	return []Rollup{
		MustRollup(),
		MustRollup(Channel),
		MustRollup(Segment),
		MustRollup(Team),
		MustRollup(Agent),
		MustRollup(Team, Channel),
		MustRollup(Team, Agent),
		MustRollup(Journey),
		MustRollup(Journey, Channel),
		MustRollup(Theme),
		MustRollup(Team, Theme),
	}
}

// Name is the rollup's stable identifier, used in storage keys.
func (r Rollup) Name() string {
	if r.name == "" {
		return "all"
	}
	return r.name
}

// Dims returns the rollup's dimensions in canonical order.
func (r Rollup) Dims() []Dimension { return slices.Clone(r.dims) }

// Has reports whether the rollup includes a dimension.
func (r Rollup) Has(d Dimension) bool { return slices.Contains(r.dims, d) }

// AppendGroups appends the groups a response with dimensions d and themes
// counts in for this rollup: one (GroupOf), or for a rollup holding theme
// one per theme, none when the response has no theme.
func (r Rollup) AppendGroups(dst []string, d Dims, themes []string) []string {
	if !r.Has(Theme) {
		if g, ok := r.GroupOf(d); ok {
			dst = append(dst, g)
		}
		return dst
	}
	if len(themes) == 0 {
		return dst
	}
	// Theme sorts last in a rollup and has no place in a Dims: the group is
	// the other dimensions' group, then the theme.
	prefix := ""
	if len(r.dims) > 1 {
		others, ok := Rollup{dims: r.dims[:len(r.dims)-1]}.GroupOf(d)
		if !ok {
			return dst
		}
		prefix = others + groupSep
	}
	for _, t := range themes {
		dst = append(dst, prefix+t)
	}
	return dst
}

// GroupOf returns the group a response belongs to in this rollup, and false
// when the response lacks one of the rollup's dimensions (it is then not
// counted in this rollup at all). A rollup holding theme has no single
// group: AppendGroups gives its groups.
func (r Rollup) GroupOf(d Dims) (string, bool) {
	if len(r.dims) == 0 {
		return overallGroup, true
	}
	if len(r.dims) == 1 {
		v := d.Get(r.dims[0])
		return v, v != ""
	}
	// Check every value before building, so a response without one (most
	// lack some dimension of some rollup) costs no allocation, and size the
	// group once.
	n := len(r.dims) - 1
	for _, dim := range r.dims {
		v := d.Get(dim)
		if v == "" {
			return "", false
		}
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for i, dim := range r.dims {
		if i > 0 {
			b.WriteString(groupSep)
		}
		b.WriteString(d.Get(dim))
	}
	return b.String(), true
}

// SplitGroup is the inverse of GroupOf: it maps a stored group back to the
// rollup's dimension values.
func (r Rollup) SplitGroup(group string) (map[Dimension]string, error) {
	out := make(map[Dimension]string, len(r.dims))
	if len(r.dims) == 0 {
		if group != overallGroup {
			return nil, fmt.Errorf("rollup all: unexpected group %q", group)
		}
		return out, nil
	}
	vals := strings.Split(group, groupSep)
	if len(vals) != len(r.dims) {
		return nil, fmt.Errorf("rollup %s: group %q has %d values, want %d", r.Name(), group, len(vals), len(r.dims))
	}
	for i, dim := range r.dims {
		out[dim] = vals[i]
	}
	return out, nil
}

// Covering picks, among rollups, the smallest one holding every dimension in
// need, so a query with a breakdown and filters reads the fewest groups. It
// returns false when no configured rollup covers them. A rollup holding
// theme is chosen only when need holds theme: it counts a response once per
// theme, so its groups would count responses with two themes twice and
// those with none not at all.
func Covering(rollups []Rollup, need []Dimension) (Rollup, bool) {
	best, found := Rollup{}, false
	themes := slices.Contains(need, Theme)
	for _, r := range rollups {
		ok := r.Has(Theme) == themes
		for _, d := range need {
			if !r.Has(d) {
				ok = false
				break
			}
		}
		if ok && (!found || len(r.dims) < len(best.dims)) {
			best, found = r, true
		}
	}
	return best, found
}

// Plan is how an engine answers a query: which rollup to read and how to
// fold its groups into the answer's groups. Both engines use it, so they
// agree on what a query means.
type Plan struct {
	Rollup  Rollup
	by      []Dimension
	filters map[Dimension]string
}

// PlanQuery chooses the rollup for q.
func PlanQuery(rollups []Rollup, q Query) (Plan, error) {
	need := slices.Clone(q.By)
	for d := range q.Filters {
		if !slices.Contains(need, d) {
			need = append(need, d)
		}
	}
	r, ok := Covering(rollups, need)
	if !ok {
		names := make([]string, len(rollups))
		for i, r := range rollups {
			names[i] = r.Name()
		}
		return Plan{}, fmt.Errorf("%w: no configured rollup covers the dimensions %v (configured: %s)",
			ErrNoRollup, need, strings.Join(names, ", "))
	}
	return Plan{Rollup: r, by: q.By, filters: q.Filters}, nil
}

// Fold maps a stored group of the plan's rollup to the answer group it adds
// to, as a canonical string key and its dimension values; false means the
// group fails a filter.
func (p Plan) Fold(group string) (string, map[Dimension]string, bool, error) {
	vals, err := p.Rollup.SplitGroup(group)
	if err != nil {
		return "", nil, false, err
	}
	for d, want := range p.filters {
		if vals[d] != want {
			return "", nil, false, nil
		}
	}
	key := make(map[Dimension]string, len(p.by))
	var b strings.Builder
	for _, d := range p.by {
		key[d] = vals[d]
		b.WriteString(vals[d])
		b.WriteString(groupSep)
	}
	return b.String(), key, true, nil
}
