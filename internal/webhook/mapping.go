package webhook

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// path locates a value in a JSON document: object keys and array indexes.
type path []string

func (p path) String() string { return strings.Join(p, ".") }

// parsePath reads "a.b.0.c", with an optional leading "$." (or a lone "$"
// for the document itself, which no field can use).
func parsePath(s string) (path, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "$"), ".")
	if s == "" {
		return nil, fmt.Errorf("empty path")
	}
	p := path(strings.Split(s, "."))
	for _, seg := range p {
		if seg == "" {
			return nil, fmt.Errorf("path %q has an empty part", s)
		}
	}
	return p, nil
}

// lookup returns the value at p and whether it is there and not null.
func lookup(doc any, p path) (any, bool) {
	cur := doc
	for _, seg := range p {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[seg]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(v) || strconv.Itoa(i) != seg {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, cur != nil
}

// source is where one response field comes from: the first of paths present
// in the payload, else the constant, if any.
type source struct {
	paths    []path
	constant *string
	// constName names the constant in details: the setting it came from.
	constName string
}

func from(p ...string) source { return source{paths: []path{p}} }

// mapping says where every field of a response comes from in one tool's
// payload.
type mapping struct {
	tool     string // for messages
	idPrefix string
	id       source
	score    source
	csat     source
	offerID  source
	channel  source
	segment  source
	team     source
	agent    source
	journey  source
	// custom are the configured dimensions' sources, in schema order.
	custom  []customSource
	comment source
	tags    source
	at      source
	// version orders deliveries of one response, so an older one arriving
	// late is stale instead of putting an old answer back.
	version source
}

// customSource is where a configured dimension comes from.
type customSource struct {
	field string
	src   source
}

// propertyNames are a tool's built-in property names per dimension, for
// the dimensions Properties leaves unset; custom gives them for a
// configured dimension's name.
type propertyNames struct {
	channel, segment, team, agent, journey []string
	custom                                 func(dim string) []string
}

// dimensions sets channel, segment, team, agent, journey and the schema's
// own dimensions from the configured property names, else the tool's
// built-in ones, each name looked up at the paths at gives (first present
// wins); channel falls back to the constant channel, named by the setting
// channelSetting. The dimensions are checked in that order, so the first
// bad one is the error. Properties of a dimension the schema does not hold
// are an error.
func (m *mapping) dimensions(p Properties, builtIn propertyNames, at func(name string) []path, channel, channelSetting string, schema store.Schema) error {
	type dimSpec struct {
		field string
		names Names
		def   []string
		dst   *source
	}
	specs := []dimSpec{
		{"channel", p.Channel, builtIn.channel, &m.channel},
		{"segment", p.Segment, builtIn.segment, &m.segment},
		{"team", p.Team, builtIn.team, &m.team},
		{"agent", p.Agent, builtIn.agent, &m.agent},
		{"journey", p.Journey, builtIn.journey, &m.journey},
	}
	if err := checkCustom("properties", p.Custom, schema); err != nil {
		return err
	}
	custom := schema.Custom()
	m.custom = make([]customSource, len(custom))
	for i, d := range custom {
		m.custom[i].field = string(d)
		specs = append(specs, dimSpec{string(d), p.Custom[string(d)], builtIn.custom(string(d)), &m.custom[i].src})
	}
	for _, d := range specs {
		names, err := d.names.orDefault(d.field, d.def...)
		if err != nil {
			return err
		}
		var s source
		for _, name := range names {
			s.paths = append(s.paths, at(name)...)
		}
		*d.dst = s
	}
	m.channel.constant, m.channel.constName = &channel, channelSetting
	return nil
}

// checkCustom refuses settings (under section) for dimensions the schema
// does not hold, naming the configured ones.
func checkCustom[V any](section string, m map[string]V, schema store.Schema) error {
	var names []string
	for name := range m {
		if !schema.IsCustom(store.Dimension(name)) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	return fmt.Errorf("%s.%s: neither a field nor a configured dimension (dimensions: %s)", section, names[0], schema)
}

// response maps a payload and validates the result with the API's rules.
// Details name the tool's fields, e.g. event_data.score, not score.
func (m *mapping) response(doc map[string]any, now time.Time, opts ingest.Options) (store.Response, error) {
	b := builder{names: make(map[string]string), failed: make(map[string]bool)}
	it := ingest.Item{
		ID:      b.text(ingest.FieldID, m.id, doc, false),
		Score:   b.text(ingest.FieldScore, m.score, doc, false),
		CSAT:    b.text(ingest.FieldCSAT, m.csat, doc, false),
		OfferID: b.text(ingest.FieldOfferID, m.offerID, doc, false),
		Channel: b.text(ingest.FieldChannel, m.channel, doc, true),
		Segment: b.text(ingest.FieldSegment, m.segment, doc, true),
		Team:    b.text(ingest.FieldTeam, m.team, doc, true),
		Agent:   b.text(ingest.FieldAgent, m.agent, doc, true),
		Journey: b.text(ingest.FieldJourney, m.journey, doc, true),
		Comment: b.text(ingest.FieldComment, m.comment, doc, false),
		Tags:    b.list(ingest.FieldTags, m.tags, doc),
		At:      b.time(ingest.FieldAt, m.at, doc),
		Version: b.text(ingest.FieldVersion, m.version, doc, false),
	}
	for _, c := range m.custom {
		if v := b.text(c.field, c.src, doc, true); v != nil {
			if it.Custom == nil {
				it.Custom = make(map[string]string, len(m.custom))
			}
			it.Custom[c.field] = *v
		}
	}
	if it.ID != nil && *it.ID != "" {
		// An empty id stays empty, for Validate to refuse: with the prefix
		// it would pass, and every such payload would be one response.
		it.ID = new(m.idPrefix + *it.ID)
	}
	r, details := ingest.Validate(0, it, now, opts)
	for _, d := range details {
		if b.failed[d.Field] {
			continue // already reported, with a better reason
		}
		if name, ok := b.names[d.Field]; ok {
			d.Field = name
		}
		b.details = append(b.details, d)
	}
	if len(b.details) > 0 {
		return store.Response{}, &fault.Error{
			Code:    fault.Invalid,
			Message: fmt.Sprintf("the %s payload does not make a valid response; nothing was recorded", m.tool),
			Details: b.details,
		}
	}
	return r, nil
}

// builder reads the fields of one payload, remembering which tool field
// each came from and the values it could not read.
type builder struct {
	names   map[string]string // ingest field → the tool's field name
	failed  map[string]bool   // ingest fields already reported
	details []fault.Detail
}

func (b *builder) fail(field string, p path, reason string) {
	b.failed[field] = true
	b.details = append(b.details, fault.Detail{Field: p.String(), Reason: reason})
}

// find returns the first value present and its path; for a field whose
// absence is fine, an empty string counts as absent. Without one, it falls
// back to the constant and names the field after it (or after the first
// path, so "is required" points at where the value was expected).
func (b *builder) find(field string, src source, doc any, emptyIsAbsent bool) (any, path, bool) {
	for _, p := range src.paths {
		v, ok := lookup(doc, p)
		if !ok || emptyIsAbsent && v == "" {
			continue
		}
		b.names[field] = p.String()
		return v, p, true
	}
	if src.constant != nil {
		b.names[field] = src.constName
		return *src.constant, path{src.constName}, true
	}
	if len(src.paths) > 0 {
		b.names[field] = src.paths[0].String()
	}
	return nil, nil, false
}

// text reads a string or a number (as its literal text).
func (b *builder) text(field string, src source, doc any, emptyIsAbsent bool) *string {
	v, p, ok := b.find(field, src, doc, emptyIsAbsent)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return &v
	case json.Number:
		return new(v.String())
	}
	b.fail(field, p, "must be a string or a number")
	return nil
}

// list reads a list of strings, or one string as a list of one.
func (b *builder) list(field string, src source, doc any) []string {
	v, p, ok := b.find(field, src, doc, false)
	if !ok {
		return nil
	}
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				b.fail(field, p, "must be a list of strings")
				return nil
			}
			out = append(out, s)
		}
		return out
	}
	b.fail(field, p, "must be a list of strings")
	return nil
}

// time reads Unix seconds (a number or a string of digits, as Delighted and
// AskNicely send) into RFC 3339; any other string passes as is, for
// ingest.Validate to parse as RFC 3339.
func (b *builder) time(field string, src source, doc any) *string {
	v, p, ok := b.find(field, src, doc, false)
	if !ok {
		return nil
	}
	var digits string
	switch v := v.(type) {
	case json.Number:
		digits = v.String()
	case string:
		if !isDigits(v) {
			return &v
		}
		digits = v
	default:
		b.fail(field, p, "must be Unix seconds or an RFC 3339 time")
		return nil
	}
	sec, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || !isDigits(digits) || sec > 1e11 {
		b.fail(field, p, "must be Unix seconds or an RFC 3339 time")
		return nil
	}
	return new(time.Unix(sec, 0).UTC().Format(time.RFC3339))
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
