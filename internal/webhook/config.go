package webhook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/ingest"
)

// Config is the mapping file; see the package comment for its shape.
type Config struct {
	Delighted DelightedConfig `yaml:"delighted"`
	AskNicely AskNicelyConfig `yaml:"asknicely"`
	Generic   []GenericConfig `yaml:"generic"`
}

// Secret is an adapter's own secret. SecretEnv names the environment
// variable that holds it, so the file can be committed; Open reads it into
// Value. Without one the adapter uses the shared webhook secret.
type Secret struct {
	SecretEnv string `yaml:"secret_env"`
	Value     string `yaml:"-"`
}

// DelightedConfig adjusts the Delighted adapter.
type DelightedConfig struct {
	Secret         `yaml:",inline"`
	IDPrefix       *string    `yaml:"id_prefix"`
	DefaultChannel string     `yaml:"default_channel"`
	SurveyTypes    []string   `yaml:"survey_types"`
	Properties     Properties `yaml:"properties"`
}

// AskNicelyConfig adjusts the AskNicely adapter.
type AskNicelyConfig struct {
	Secret         `yaml:",inline"`
	IDPrefix       *string    `yaml:"id_prefix"`
	SecretHeader   string     `yaml:"secret_header"`
	DefaultChannel string     `yaml:"default_channel"`
	Properties     Properties `yaml:"properties"`
}

// Properties name the tool's properties (custom fields) that hold each
// dimension, first present wins. A nil list keeps the built-in names; an
// empty one turns the dimension off.
type Properties struct {
	Channel Names `yaml:"channel"`
	Segment Names `yaml:"segment"`
	Team    Names `yaml:"team"`
	Agent   Names `yaml:"agent"`
	Journey Names `yaml:"journey"`
	// Custom names the properties of configured dimensions, by dimension.
	Custom map[string]Names `yaml:",inline"`
}

// Names is a list of property names; YAML may give a single name.
type Names []string

// UnmarshalYAML accepts a name or a list of names.
func (n *Names) UnmarshalYAML(v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			*n = nil
			return nil
		}
		*n = Names{v.Value}
		return nil
	case yaml.SequenceNode:
		out := Names{}
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode || c.Tag == "!!null" {
				return fmt.Errorf("line %d: a property name must be a string", c.Line)
			}
			out = append(out, c.Value)
		}
		*n = out
		return nil
	}
	return fmt.Errorf("line %d: want a property name or a list of names", v.Line)
}

// GenericConfig defines one generic adapter.
type GenericConfig struct {
	Secret       `yaml:",inline"`
	Name         string        `yaml:"name"`
	SecretHeader string        `yaml:"secret_header"`
	IDPrefix     *string       `yaml:"id_prefix"`
	Fields       GenericFields `yaml:"fields"`
}

// GenericFields holds, per response field, a path into the body ("a.b.0.c",
// optionally "$.a.b") or a constant ("=phone"); "" leaves the field out.
type GenericFields struct {
	ID    string `yaml:"id"`
	Score string `yaml:"score"`
	// CSAT is the 1..5 satisfaction score; with it, score may be left
	// out (a tool that asks CSAT alone). OfferID names the offered
	// survey the answer belongs to (POST /api/v1/offers).
	CSAT    string `yaml:"csat"`
	OfferID string `yaml:"offer_id"`
	Channel string `yaml:"channel"`
	Segment string `yaml:"segment"`
	Team    string `yaml:"team"`
	Agent   string `yaml:"agent"`
	Journey string `yaml:"journey"`
	Comment string `yaml:"comment"`
	Tags    string `yaml:"tags"`
	At      string `yaml:"at"`
	// Version orders deliveries of one response (a counter or a Unix
	// time); an older one arriving late is stale, not applied.
	Version string `yaml:"version"`
	// Custom holds the specs of configured dimensions, by dimension.
	Custom map[string]string `yaml:",inline"`
}

// Parse reads a mapping file. Unknown keys are errors, so a misspelt
// setting is not silently ignored. Values are checked by New.
func Parse(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("parse: %w", err)
	}
	return c, nil
}

// orDefault returns the configured names, or the defaults when none are set,
// after checking them.
func (n Names) orDefault(field string, def ...string) ([]string, error) {
	if n == nil {
		return def, nil
	}
	for _, name := range n {
		if name == "" {
			return nil, fmt.Errorf("properties.%s: a property name must not be empty", field)
		}
	}
	return n, nil
}

// idPrefix returns the configured prefix or the default, after checking it.
func idPrefix(p *string, def string) (string, error) {
	if p == nil {
		return def, nil
	}
	if len(*p) > 32 || hasControl(*p) {
		return "", fmt.Errorf("id_prefix: must be at most 32 characters without control characters")
	}
	return *p, nil
}

// dimReason says why v cannot be a dimension value, with the API's own
// rule and words, or returns "".
func dimReason(v string) string {
	_, details := ingest.Validate(0, ingest.Item{ID: new("x"), Score: new("0"), Channel: &v}, time.Time{}, ingest.Options{})
	for _, d := range details {
		if d.Field == ingest.FieldChannel {
			return d.Reason
		}
	}
	return ""
}

// tagReason says why v cannot be a tag, or returns "".
func tagReason(v string) string {
	_, details := ingest.Validate(0, ingest.Item{ID: new("x"), Score: new("0"), Channel: new("x"), Tags: []string{v}}, time.Time{}, ingest.Options{})
	for _, d := range details {
		if d.Field == ingest.FieldTags {
			return d.Reason
		}
	}
	return ""
}

// defaultChannel checks a configured default channel, or returns the
// built-in one.
func defaultChannel(v, def string) (string, error) {
	if v == "" {
		return def, nil
	}
	if r := dimReason(v); r != "" {
		return "", fmt.Errorf("default_channel %q: %s", v, r)
	}
	return v, nil
}

// checkHeader accepts an HTTP header name (RFC 9110 token characters).
func checkHeader(h string) error {
	if h == "" {
		return nil
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		switch c {
		case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
			continue
		}
		return fmt.Errorf("secret_header %q is not a valid header name", h)
	}
	return nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) {
			return true
		}
	}
	return false
}
