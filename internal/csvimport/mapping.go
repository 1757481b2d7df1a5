package csvimport

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// aliases are the header names recognized for each field besides the
// field's own name, as spelled by common survey tools and exports. They are
// compared after normalizeHeader.
var aliases = map[string][]string{
	ingest.FieldID:      {"response_id", "survey_id"},
	ingest.FieldScore:   {"nps", "rating", "nps_score"},
	ingest.FieldCSAT:    {"csat_score"},
	ingest.FieldAt:      {"created_at", "answered_at", "timestamp", "date"},
	ingest.FieldComment: {"feedback", "verbatim"},
	ingest.FieldAgent:   {"agent_name"},
	ingest.FieldTeam:    {"team_name"},
	ingest.FieldChannel: {"source"},
	ingest.FieldJourney: {"journey_type", "customer_journey", "journey_name"},
}

// requiredFields must have a column: a response cannot be made without
// them. The id is required too, but it can be derived from the row. A
// response needs a score column unless it has a csat one.
var requiredFields = []string{ingest.FieldScore, ingest.FieldChannel}

// requiredOfferFields are an offer's.
var requiredOfferFields = []string{ingest.FieldChannel}

// Aliases returns the header names a field is recognized by, its own name
// first.
func Aliases(field string) []string {
	return append([]string{field}, aliases[field]...)
}

// Mapping names the column of a field explicitly: field name → header name.
// It overrides the aliases for the fields it names.
type Mapping map[string]string

// ParseMapping parses "score=How likely,channel=Source": comma-separated
// field=column pairs. Field names are the response fields (id, score,
// channel, segment, team, agent, journey, comment, tags, at, version) or a
// configured dimension, in any case; Check (and NewReader) tell a
// configured dimension from an unknown field. Column names are matched like
// header names, so case and surrounding spaces do not matter. A column name
// cannot contain a comma.
func ParseMapping(s string) (Mapping, error) {
	m := Mapping{}
	return m, m.Add(s)
}

// Add parses more field=column pairs into m (a flag may be repeated).
func (m Mapping) Add(s string) error {
	for pair := range strings.SplitSeq(s, ",") {
		if strings.TrimSpace(pair) == "" {
			continue
		}
		field, column, ok := strings.Cut(pair, "=")
		field = strings.ToLower(strings.TrimSpace(field))
		column = strings.TrimSpace(column)
		switch {
		case !ok:
			return fmt.Errorf("mapping %q: want field=column", strings.TrimSpace(pair))
		case !slices.Contains(ingest.FieldNames(), field) && !identifier(field):
			return fmt.Errorf("mapping %q: unknown field %q (fields: %s)", strings.TrimSpace(pair), field,
				strings.Join(ingest.FieldNames(), ", "))
		case column == "":
			return fmt.Errorf("mapping %q: empty column name", strings.TrimSpace(pair))
		}
		if prev, dup := m[field]; dup && normalizeHeader(prev) != normalizeHeader(column) {
			return fmt.Errorf("mapping: field %s is mapped to both %q and %q", field, prev, column)
		}
		m[field] = column
	}
	return nil
}

// identifier reports whether a field name could be a configured
// dimension's: a lower-case letter, then lower-case letters, digits or _.
func identifier(s string) bool {
	ok := s != "" && 'a' <= s[0] && s[0] <= 'z'
	for i := 0; ok && i < len(s); i++ {
		c := s[i]
		ok = 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_'
	}
	return ok
}

// Check says whether every field m maps is a field of a response under the
// schema: a built-in one or a configured dimension.
func (m Mapping) Check(schema store.Schema) error { return m.CheckKind(store.KindResponse, schema) }

// CheckKind is Check for items of kind: an offer's mapping may name only
// an offer's fields.
func (m Mapping) CheckKind(kind store.Kind, schema store.Schema) error {
	fields := ingest.FieldNamesOfKind(kind, schema)
	var unknown []string
	for f := range m {
		if !slices.Contains(fields, f) {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fmt.Errorf("mapping %s=%s: unknown field %q (fields: %s)", unknown[0], m[unknown[0]], unknown[0], strings.Join(fields, ", "))
}

// String renders m as ParseMapping reads it, fields in their usual order
// (configured dimensions last, by name).
func (m Mapping) String() string {
	var parts []string
	for _, f := range ingest.FieldNames() {
		if c, ok := m[f]; ok {
			parts = append(parts, f+"="+c)
		}
	}
	var custom []string
	for f := range m {
		if !slices.Contains(ingest.FieldNames(), f) {
			custom = append(custom, f)
		}
	}
	slices.Sort(custom)
	for _, f := range custom {
		parts = append(parts, f+"="+m[f])
	}
	return strings.Join(parts, ",")
}

// normalizeHeader makes header names comparable: case-insensitive, without
// surrounding spaces, and with inner runs of spaces or hyphens read as one
// underscore, so "NPS Score" and "nps-score" find nps_score.
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	var b strings.Builder
	sep := false
	for _, r := range h {
		if r == ' ' || r == '-' || r == '_' || r == '\t' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// MissingFieldError says a required field has no column in the header.
type MissingFieldError struct {
	Field string
	Tried []string // the header names looked for
}

func (e *MissingFieldError) Error() string {
	return fmt.Sprintf("the header has no %s column (looked for %s)", e.Field, strings.Join(e.Tried, ", "))
}

// columns maps each field, by its position in the reader's fields
// (ingest.FieldNamesOf its schema), to the index of its column; -1 when the
// field has none.
type columns []int

// fieldSet is the fields a reader maps, in order, and each one's position.
type fieldSet struct {
	names []string
	index map[string]int
}

func fieldsOf(kind store.Kind, schema store.Schema) fieldSet {
	fs := fieldSet{names: ingest.FieldNamesOfKind(kind, schema), index: map[string]int{}}
	for i, f := range fs.names {
		fs.index[f] = i
	}
	return fs
}

// mapHeader finds the column of every field: explicit mappings first, then
// the field's own name, then its aliases. Columns nobody claims are ignored.
func mapHeader(header []string, m Mapping, fs fieldSet, kind store.Kind) (columns, error) {
	fieldIndex := fs.index
	cols := make(columns, len(fieldIndex))
	for i := range cols {
		cols[i] = -1
	}
	byName := map[string][]int{}
	for i, h := range header {
		n := normalizeHeader(h)
		if n != "" {
			byName[n] = append(byName[n], i)
		}
	}
	claimed := map[int]string{}
	claim := func(field string, col int) error {
		if other, ok := claimed[col]; ok {
			return fmt.Errorf("column %q is mapped to both %s and %s", header[col], other, field)
		}
		claimed[col] = field
		cols[fieldIndex[field]] = col
		return nil
	}
	fields := fs.names
	for _, f := range fields {
		name, ok := m[f]
		if !ok {
			continue
		}
		idx := byName[normalizeHeader(name)]
		switch len(idx) {
		case 0:
			return cols, fmt.Errorf("mapping %s=%s: the header has no column %q (columns: %s)", f, name, name, quoteList(header))
		case 1:
			if err := claim(f, idx[0]); err != nil {
				return cols, err
			}
		default:
			return cols, fmt.Errorf("mapping %s=%s: the header has %d columns named %q", f, name, len(idx), name)
		}
	}
	for _, f := range fields {
		if _, ok := m[f]; ok {
			continue
		}
		var found []int
		for _, name := range Aliases(f) {
			for _, i := range byName[name] {
				if _, taken := claimed[i]; !taken {
					found = append(found, i)
				}
			}
			if name == f && len(found) > 0 {
				break // the field's own name beats its aliases
			}
		}
		switch len(found) {
		case 0:
		case 1:
			if err := claim(f, found[0]); err != nil {
				return cols, err
			}
		default:
			names := make([]string, len(found))
			for i, c := range found {
				names[i] = header[c]
			}
			return cols, fmt.Errorf("columns %s could all be %s; choose one with a mapping such as %s=%s",
				quoteList(names), f, f, strings.TrimSpace(names[0]))
		}
	}
	required := requiredFields
	if kind == store.KindOffer {
		required = requiredOfferFields
	}
	for _, f := range required {
		if f == ingest.FieldScore && cols[fieldIndex[ingest.FieldCSAT]] >= 0 {
			continue // answers with CSAT, and with a score where the cell has one
		}
		if cols[fieldIndex[f]] < 0 {
			return cols, &MissingFieldError{Field: f, Tried: Aliases(f)}
		}
	}
	return cols, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", strings.TrimSpace(n))
	}
	return strings.Join(q, ", ")
}
