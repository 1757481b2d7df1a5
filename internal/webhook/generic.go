package webhook

// Generic adapters are for tools without a built-in one (Qualtrics,
// Typeform, an in-house survey...): the mapping file names each field's path
// in the tool's JSON body, or a constant. No tool's documentation stands
// behind them; the operator's mapping does.

import (
	"fmt"
	"strings"

	"github.com/pulseboard/pulseboard/internal/ingest"
)

func newGeneric(secret string, c GenericConfig, opts ingest.Options) (*adapter, error) {
	if err := checkName(c.Name); err != nil {
		return nil, err
	}
	if err := checkHeader(c.SecretHeader); err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	prefix, err := idPrefix(c.IDPrefix, c.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.Name, err)
	}
	m := mapping{tool: c.Name, idPrefix: prefix}
	f := c.Fields
	if err := checkCustom(c.Name+": fields", f.Custom, opts.Schema); err != nil {
		return nil, err
	}
	type fieldSpec struct {
		name     string
		spec     string
		to       *source
		required bool
		constant func(string) string // nil: no constant allowed
	}
	custom := opts.Schema.Custom()
	m.custom = make([]customSource, len(custom))
	var customSpecs []fieldSpec
	for i, d := range custom {
		m.custom[i].field = string(d)
		customSpecs = append(customSpecs, fieldSpec{string(d), f.Custom[string(d)], &m.custom[i].src, false, dimReason})
	}
	for _, s := range append([]fieldSpec{
		{ingest.FieldID, f.ID, &m.id, true, nil},
		{ingest.FieldScore, f.Score, &m.score, f.CSAT == "", nil},
		{ingest.FieldCSAT, f.CSAT, &m.csat, false, nil},
		{ingest.FieldOfferID, f.OfferID, &m.offerID, false, nil},
		{ingest.FieldChannel, f.Channel, &m.channel, true, dimReason},
		{ingest.FieldSegment, f.Segment, &m.segment, false, dimReason},
		{ingest.FieldTeam, f.Team, &m.team, false, dimReason},
		{ingest.FieldAgent, f.Agent, &m.agent, false, dimReason},
		{ingest.FieldJourney, f.Journey, &m.journey, false, dimReason},
		{ingest.FieldComment, f.Comment, &m.comment, false, nil},
		{ingest.FieldTags, f.Tags, &m.tags, false, tagReason},
		{ingest.FieldAt, f.At, &m.at, false, nil},
		{ingest.FieldVersion, f.Version, &m.version, false, nil},
	}, customSpecs...) {
		src, err := parseSpec(s.spec, s.constant)
		switch {
		case err != nil:
			return nil, fmt.Errorf("%s: fields.%s: %w", c.Name, s.name, err)
		case s.required && src.paths == nil && src.constant == nil && s.name == ingest.FieldScore:
			return nil, fmt.Errorf("%s: fields.%s is required (or fields.csat, for a tool that asks CSAT alone)", c.Name, s.name)
		case s.required && src.paths == nil && src.constant == nil:
			return nil, fmt.Errorf("%s: fields.%s is required", c.Name, s.name)
		}
		if src.constant != nil {
			src.constName = "fields." + s.name
		}
		*s.to = src
	}
	return &adapter{auth: newSharedSecret(c.SecretHeader, secret), mapping: m, opts: opts}, nil
}

// parseSpec reads one field's spec: "" (absent), "=constant" or a path.
func parseSpec(spec string, check func(string) string) (source, error) {
	switch {
	case spec == "":
		return source{}, nil
	case strings.HasPrefix(spec, "="):
		if check == nil {
			return source{}, fmt.Errorf("must be a path: a constant makes no sense here")
		}
		v := spec[1:]
		if r := check(v); r != "" {
			return source{}, fmt.Errorf("constant %q: %s", v, r)
		}
		return source{constant: &v}, nil
	}
	p, err := parsePath(spec)
	if err != nil {
		return source{}, err
	}
	return source{paths: []path{p}}, nil
}

// checkName accepts a name that reads well in a URL path.
func checkName(n string) error {
	if n == "" || len(n) > 64 {
		return fmt.Errorf("name %q: must be 1 to 64 characters", n)
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || i > 0 && (c == '-' || c == '_')) {
			return fmt.Errorf("name %q: may hold only lowercase letters, digits, - and _, starting with a letter or digit", n)
		}
	}
	return nil
}
