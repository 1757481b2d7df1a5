package store

import (
	"fmt"
	"slices"
	"strings"
)

// Dimension names a property of a response that counters can be grouped by.
type Dimension string

// The built-in dimensions every deployment has. Their order here is the
// canonical order of a rollup's dimensions; journey sits between segment and
// team, which leaves the name of every rollup without journey as it was.
const (
	Channel Dimension = "channel"
	Segment Dimension = "segment"
	Journey Dimension = "journey"
	Team    Dimension = "team"
	Agent   Dimension = "agent"
	// Theme is derived, not sent: the themes the engine's dictionary finds
	// in a response's comment (Options.Themes). A response has any number of
	// them, so a rollup holding theme counts it once per theme, in as many
	// groups, and its groups do not add up to the responses (PlanQuery reads
	// such a rollup only when a query asks for themes). It sorts after every
	// other dimension in a rollup's name.
	Theme Dimension = "theme"
)

// builtins lists the built-in dimensions in canonical order.
var builtins = []Dimension{Channel, Segment, Journey, Team, Agent}

// MaxDimensions bounds the dimensions of a schema, built-ins included. Each
// one multiplies what a rollup over it may cost; eight keep a response's
// content, its fingerprint and its change log line small.
const MaxDimensions = 8

// maxCustom is how many dimensions an operator may add to the built-ins.
const maxCustom = MaxDimensions - 5

// reserved are the names of a response's other fields, and of the query
// API's and the console's own parameters: a custom dimension named like one
// would be ambiguous as a top-level field of a response, or as a filter
// (?window=, ?from=…) of GET /api/v1/nps and /console.
var reserved = []string{"theme", "id", "score", "comment", "tags", "at", "version", "all", "dims",
	"window", "from", "to", "by", "format", "sort", "answer"}

// Schema is the ordered set of dimensions a deployment counts: the
// built-ins in their fixed order, then the operator's own sorted by name, so
// the order (and every rollup name built from it) does not depend on the
// order they are listed in the config. A Schema is an immutable value,
// comparable with ==; the zero value is the default schema (built-ins only).
type Schema struct {
	custom [maxCustom]Dimension // sorted, "" after the last
	n      int
}

// DefaultSchema has the built-in dimensions only.
func DefaultSchema() Schema { return Schema{} }

// NewSchema adds the named custom dimensions to the built-ins. A name must
// be a lower-case identifier (a letter, then letters, digits or _, at most
// 32), not a built-in or another field of a response, and not repeated; at
// most MaxDimensions dimensions in all.
func NewSchema(custom ...string) (Schema, error) {
	if len(custom) == 0 {
		return Schema{}, nil
	}
	if len(builtins)+len(custom) > MaxDimensions {
		return Schema{}, fmt.Errorf("%d custom dimensions: at most %d besides the built-in %s (%d in all)",
			len(custom), maxCustom, joinDims(builtins), MaxDimensions)
	}
	var list []Dimension
	for _, name := range custom {
		if err := checkCustomName(name); err != nil {
			return Schema{}, err
		}
		d := Dimension(name)
		if slices.Contains(list, d) {
			return Schema{}, fmt.Errorf("dimension %q is listed twice", name)
		}
		list = append(list, d)
	}
	slices.Sort(list)
	s := Schema{n: len(list)}
	copy(s.custom[:], list)
	return s, nil
}

func checkCustomName(name string) error {
	if slices.Contains(builtins, Dimension(name)) {
		return fmt.Errorf("dimension %q is built in; list only your own", name)
	}
	if slices.Contains(reserved, name) {
		return fmt.Errorf("dimension %q would collide with the response field or query parameter of that name", name)
	}
	ok := len(name) >= 1 && len(name) <= 32 && 'a' <= name[0] && name[0] <= 'z'
	for i := 0; ok && i < len(name); i++ {
		c := name[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
	}
	if !ok {
		// Names are parts of rollup names, Redis keys and URLs.
		return fmt.Errorf("dimension name %q: want a lower-case letter, then lower-case letters, digits or _ (at most 32)", name)
	}
	return nil
}

// Dimensions lists the schema's dimensions in canonical order.
func (s Schema) Dimensions() []Dimension {
	return append(slices.Clone(builtins), s.custom[:s.n]...)
}

// Custom lists the operator's dimensions, sorted by name.
func (s Schema) Custom() []Dimension { return slices.Clone(s.custom[:s.n]) }

// Queryable lists what a query may break down or filter by: the
// dimensions, then the derived theme.
func (s Schema) Queryable() []Dimension { return append(s.Dimensions(), Theme) }

// Has reports whether the schema counts a dimension; theme, derived from
// comments, is one in every schema.
func (s Schema) Has(d Dimension) bool {
	return d == Theme || slices.Contains(builtins, d) || s.IsCustom(d)
}

// IsCustom reports whether d is one of the operator's dimensions.
func (s Schema) IsCustom(d Dimension) bool { return d != "" && slices.Contains(s.custom[:s.n], d) }

// Parse accepts a dimension name as it appears in URLs and config.
func (s Schema) Parse(name string) (Dimension, error) {
	d := Dimension(strings.TrimSpace(name))
	if s.Has(d) {
		return d, nil
	}
	return "", fmt.Errorf("unknown dimension %q (want one of %s)", name, joinDims(s.Queryable()))
}

// String lists the schema's dimensions, comma-separated.
func (s Schema) String() string { return joinDims(s.Dimensions()) }

func joinDims(dims []Dimension) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		parts[i] = string(d)
	}
	return strings.Join(parts, ", ")
}

// ParseDimension accepts the name of a built-in dimension. Code that knows
// the deployment's schema uses Schema.Parse, which also accepts the
// operator's own dimensions.
func ParseDimension(s string) (Dimension, error) { return DefaultSchema().Parse(s) }

// DimValue is one custom dimension's value.
type DimValue struct {
	Dim   Dimension
	Value string
}

// Dims holds a response's dimension values; "" means absent. The built-ins
// are fields; custom dimensions are held in a small fixed array kept sorted
// by name with no empty values, so Dims stays comparable with == and costs
// no allocation.
type Dims struct {
	Channel string
	Segment string
	Journey string
	Team    string
	Agent   string
	custom  [maxCustom]DimValue
}

// Get returns the value of one dimension.
func (d Dims) Get(dim Dimension) string {
	switch dim {
	case Channel:
		return d.Channel
	case Segment:
		return d.Segment
	case Journey:
		return d.Journey
	case Team:
		return d.Team
	case Agent:
		return d.Agent
	}
	for _, c := range d.custom {
		if c.Dim == dim {
			return c.Value
		}
	}
	return ""
}

// Set sets one dimension's value; "" removes it. A response holds at most
// MaxDimensions-5 custom values (a schema has no more); setting one more
// panics, since validation against the schema comes first.
func (d *Dims) Set(dim Dimension, v string) {
	switch dim {
	case Channel:
		d.Channel = v
		return
	case Segment:
		d.Segment = v
		return
	case Journey:
		d.Journey = v
		return
	case Team:
		d.Team = v
		return
	case Agent:
		d.Agent = v
		return
	}
	vals := make([]DimValue, 0, maxCustom+1)
	for _, c := range d.custom {
		if c.Dim != "" && c.Dim != dim {
			vals = append(vals, c)
		}
	}
	if v != "" {
		vals = append(vals, DimValue{Dim: dim, Value: v})
	}
	if len(vals) > maxCustom {
		panic(fmt.Sprintf("store: more than %d custom dimension values", maxCustom))
	}
	slices.SortFunc(vals, func(a, b DimValue) int { return strings.Compare(string(a.Dim), string(b.Dim)) })
	d.custom = [maxCustom]DimValue{}
	copy(d.custom[:], vals)
}

// Custom returns the custom dimensions' values, sorted by name.
func (d Dims) Custom() []DimValue {
	n := 0
	for n < maxCustom && d.custom[n].Dim != "" {
		n++
	}
	if n == 0 {
		return nil
	}
	return slices.Clone(d.custom[:n])
}
