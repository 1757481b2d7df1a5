// Package webhook receives survey tools' webhooks. An adapter turns one
// tool's payload into an ingest.Item, which ingest.Validate then checks with
// the rules of the HTTP API, so a response that arrives by webhook is
// recorded, and upserted by its id, exactly like one posted to
// /api/v1/responses: a repeat is a duplicate, a changed score retracts the
// old one.
//
// There are three kinds of adapter:
//   - Delighted (delighted.go): survey_response.created and .updated
//     events, authenticated by their HMAC-SHA256 signature.
//   - AskNicely (asknicely.go): response webhooks, authenticated by a shared
//     secret in a custom header.
//   - Generic (generic.go): named adapters defined in the mapping file, each
//     field a dotted path into the JSON body or a constant.
//
// Each adapter has its own secret: secret_env in its section of the mapping
// file names the environment variable that holds it. It is the HMAC key of
// Delighted signatures, and the secret the others present in a header
// (X-Pulseboard-Secret unless configured) or as ?secret=. An adapter without
// one uses the shared secret, PULSEBOARD_WEBHOOK_SECRET, as before per-adapter
// secrets existed; when Delighted's HMAC key is that shared secret and other
// adapters send it in the clear, a warning says so at start (anyone who sees
// one of those requests could sign Delighted deliveries). An adapter with no
// secret at all is off (404).
//
// # Mapping file
//
// The file named by PULSEBOARD_WEBHOOKS is YAML. Every key is optional;
// unknown keys are errors. Without a file the built-in mappings shown here
// apply (testdata/webhooks.yaml is a complete example):
//
//	delighted:
//	  secret_env: PULSEBOARD_DELIGHTED_SECRET # env var holding the HMAC key; default: the shared secret
//	  id_prefix: "delighted-"       # prepended to event_data.id; "" for none
//	  default_channel: delighted    # when no channel property is present
//	  survey_types: [nps, enps]     # other survey types are acknowledged and ignored
//	  properties:                   # event_data.person_properties names; first present wins
//	    channel: [Channel, channel]
//	    segment: [Segment, segment]
//	    team: [Team, team]
//	    agent: [Agent, agent]
//	asknicely:
//	  secret_env: PULSEBOARD_ASKNICELY_SECRET
//	  id_prefix: "asknicely-"       # prepended to question.id
//	  secret_header: X-Pulseboard-Secret
//	  default_channel: asknicely    # when no channel field is present
//	  properties:                   # looked up in question, then in person
//	    channel: [deliverymethod]
//	    segment: [segment]
//	    team: [team_c]
//	    agent: [agent_c]
//	generic:                        # POST /api/v1/webhooks/generic/<name>
//	- name: qualtrics
//	  secret_env: PULSEBOARD_QUALTRICS_SECRET
//	  secret_header: X-Token        # default X-Pulseboard-Secret (or ?secret=)
//	  id_prefix: "qualtrics-"       # default "<name>-"
//	  fields:
//	    id: $.responseId            # required
//	    score: values.nps           # required
//	    channel: "=phone"           # required: a path or a constant
//	    segment: embedded.segment
//	    team: embedded.team
//	    agent: embedded.agents.0.name
//	    comment: values.feedback
//	    tags: embedded.tags         # a list of strings, or one string
//	    at: recordedDate            # RFC 3339, or Unix seconds
//	    version: meta.revision      # integer 1..2^53-1, higher is newer: an older delivery is stale
//
// A property list may be a single name; an empty list ([]) turns the
// dimension off. A path is dot-separated object keys and array indexes
// ("a.0.b"), with an optional leading "$."; keys containing dots cannot be
// reached. A value starting with "=" is a constant (allowed for channel,
// segment, team, agent and tags). An empty string property counts as
// absent, so the next name, or the default channel, applies.
//
// Ids get a per-source prefix by default so that, say, Delighted response
// 5435 and AskNicely response 5435 stay two responses; set id_prefix to ""
// when a tool's ids are the ids your other producers send.
package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/store"
)

// MaxBodyBytes bounds a webhook body: one response is a few KiB at most.
const MaxBodyBytes = 1 << 20

// Kind names an adapter kind, as in the route /api/v1/webhooks/<kind>.
type Kind string

// The adapter kinds.
const (
	Delighted Kind = "delighted"
	AskNicely Kind = "asknicely"
	Generic   Kind = "generic"
)

// Delivery is one webhook request as received.
type Delivery struct {
	Header http.Header
	Query  url.Values
	Body   []byte
}

// Outcome is what one delivery amounts to: a response to record, or nothing
// (Ignored says why), which a tool must still see acknowledged so it does not
// retry forever.
type Outcome struct {
	Response store.Response // meaningful only when Ignored is ""
	Ignored  string
}

// Hooks holds the adapters. It is immutable and safe for concurrent use.
// An adapter left nil has no secret and is off.
type Hooks struct {
	delighted *adapter
	asknicely *adapter
	generic   map[string]*adapter
	warnings  []string
}

// MinSecretLen is the shortest secret an adapter accepts, as for the shared
// PULSEBOARD_WEBHOOK_SECRET.
const MinSecretLen = 16

// adapter is one tool's way in: how it authenticates, which events it
// records, and where each field comes from.
type adapter struct {
	auth authenticator
	// accept, when set, decides from the payload whether it carries a
	// response at all; it returns why not, or an error for a payload that is
	// not the tool's.
	accept  func(doc map[string]any) (ignored string, err error)
	mapping mapping
	opts    ingest.Options
}

// Open loads the mapping file (none: built-in mappings only), reads each
// adapter's secret_env with getenv, and builds the adapters. With no secret
// at all, webhooks are off and Open returns nil, after still checking the
// file so a mistake in it shows at start.
func Open(shared, file string, getenv func(string) string, opts ingest.Options) (*Hooks, error) {
	var cfg Config
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read webhooks file: %w", err)
		}
		if cfg, err = Parse(data); err != nil {
			return nil, fmt.Errorf("webhooks file %s: %w", file, err)
		}
	}
	if shared == "" && file == "" {
		return nil, nil
	}
	secrets := cfg.secrets()
	for _, name := range slices.Sorted(maps.Keys(secrets)) { // the same error first, every start
		s := secrets[name]
		if s.SecretEnv == "" {
			continue
		}
		s.Value = getenv(s.SecretEnv)
		if err := checkSecret(s.Value); err != nil {
			return nil, fmt.Errorf("webhooks file %s: %s.secret_env: %s %w", file, name, s.SecretEnv, err)
		}
	}
	h, err := New(shared, cfg, opts)
	if errors.Is(err, errNoSecret) {
		return nil, nil // off; New still checked every mapping
	}
	if err != nil && file != "" {
		return nil, fmt.Errorf("webhooks file %s: %w", file, err)
	}
	return h, err
}

// checkSecret applies PULSEBOARD_WEBHOOK_SECRET's rule to an adapter's own
// secret.
func checkSecret(s string) error {
	if s == "" {
		return errors.New("is not set (or empty)")
	}
	if len(s) < MinSecretLen || strings.IndexFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
		return fmt.Errorf("must hold at least %d characters without spaces", MinSecretLen)
	}
	return nil
}

// errNoSecret is New's error when no adapter has a secret.
var errNoSecret = errors.New("a webhook secret is required")

// checking stands in for a missing secret while an adapter's mapping is
// checked; the adapter is then left off.
const checking = "unused-secret-for-checking"

// New builds the adapters from a parsed mapping: each with its own secret
// (Secret.Value) or else the shared one; an adapter with neither is off,
// but its mapping is checked all the same. Zero options take the ingest
// defaults; pass the server's MaxSkew and id retention as MaxAge.
func New(shared string, cfg Config, opts ingest.Options) (*Hooks, error) {
	h := &Hooks{generic: make(map[string]*adapter)}
	secrets := cfg.secrets()
	// secretOf is the secret an adapter uses, "" for none.
	secretOf := func(name string) string {
		if own := secrets[name].Value; own != "" {
			return own
		}
		return shared
	}
	on := 0
	build := func(name string, mk func(secret string) (*adapter, error)) (*adapter, error) {
		s := secretOf(name)
		a, err := mk(cmp(s, checking))
		if err != nil || s == "" {
			return nil, err
		}
		on++
		return a, nil
	}
	var err error
	if h.delighted, err = build("delighted", func(s string) (*adapter, error) { return newDelighted(s, cfg.Delighted, opts) }); err != nil {
		return nil, fmt.Errorf("delighted: %w", err)
	}
	if h.asknicely, err = build("asknicely", func(s string) (*adapter, error) { return newAskNicely(s, cfg.AskNicely, opts) }); err != nil {
		return nil, fmt.Errorf("asknicely: %w", err)
	}
	for i, g := range cfg.Generic {
		if _, dup := h.generic[g.Name]; dup {
			return nil, fmt.Errorf("generic[%d]: name %q is used twice", i, g.Name)
		}
		a, err := build(genericName(g.Name), func(s string) (*adapter, error) { return newGeneric(s, g, opts) })
		if err != nil {
			return nil, fmt.Errorf("generic[%d]: %w", i, err)
		}
		h.generic[g.Name] = a
	}
	if on == 0 {
		return nil, errNoSecret
	}
	// Delighted's secret is an HMAC key and never travels; the other
	// adapters' secrets are in every request they get. An own Delighted
	// secret that another adapter also uses is a mistake; the shared one
	// used by all (how every deployment began) is worth a warning.
	d := secretOf("delighted")
	var clear []string // adapters that send Delighted's key in the clear
	for name := range secrets {
		if name != "delighted" && d != "" && secretOf(name) == d {
			clear = append(clear, name)
		}
	}
	slices.Sort(clear)
	switch {
	case len(clear) > 0 && secrets["delighted"].Value != "":
		return nil, fmt.Errorf("delighted: its secret, the HMAC key, must not be the secret %s sends in the clear", strings.Join(clear, ", "))
	case len(clear) > 0:
		h.warnings = append(h.warnings, fmt.Sprintf("webhooks: Delighted's HMAC key is the shared webhook secret, which %s send in the clear: "+
			"anyone who sees one of their requests can sign Delighted deliveries; give each adapter its own secret (secret_env in the webhooks file)",
			strings.Join(clear, ", ")))
	}
	return h, nil
}

// Warnings lists what is insecure about the configuration but still works,
// for the program to log at start.
func (h *Hooks) Warnings() []string { return slices.Clone(h.warnings) }

// secrets returns every adapter's secret settings by adapter name
// ("delighted", "asknicely", "generic/<name>"), for Open to fill in.
func (c *Config) secrets() map[string]*Secret {
	m := map[string]*Secret{"delighted": &c.Delighted.Secret, "asknicely": &c.AskNicely.Secret}
	for i := range c.Generic {
		m[genericName(c.Generic[i].Name)] = &c.Generic[i].Secret
	}
	return m
}

func genericName(name string) string { return "generic/" + name }

// cmp returns s, or def when s is empty.
func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// off is the error of an adapter without a secret.
func off(name string) error {
	return fault.New(fault.NotFound, "the %s webhook adapter has no secret: set secret_env in its section of the webhooks file, or PULSEBOARD_WEBHOOK_SECRET", name)
}

// Receive authenticates one delivery to an adapter and maps its payload.
// name is the generic adapter's name (ignored for the other kinds).
//
// Errors are *fault.Error: NotFound for an unknown adapter, Unauthorized for
// a missing or wrong secret or signature, BadRequest for a body that is not
// valid JSON, Invalid (with details named by the tool's own field paths) for
// a payload that does not make a valid response.
func (h *Hooks) Receive(kind Kind, name string, d Delivery, now time.Time) (Outcome, error) {
	var a *adapter
	switch kind {
	case Delighted:
		if a = h.delighted; a == nil {
			return Outcome{}, off("delighted")
		}
	case AskNicely:
		if a = h.asknicely; a == nil {
			return Outcome{}, off("asknicely")
		}
	case Generic:
		var defined bool
		a, defined = h.generic[name]
		if !defined {
			return Outcome{}, fault.New(fault.NotFound, "no generic webhook adapter named %q (define it in the webhooks file)", name)
		}
		if a == nil {
			return Outcome{}, off(genericName(name))
		}
	default:
		return Outcome{}, fault.New(fault.NotFound, "no webhook adapter %q", kind)
	}
	if err := a.auth.authenticate(d); err != nil {
		return Outcome{}, err
	}
	doc, err := decodeObject(d.Body)
	if err != nil {
		return Outcome{}, err
	}
	if a.accept != nil {
		ignored, err := a.accept(doc)
		if err != nil || ignored != "" {
			return Outcome{Ignored: ignored}, err
		}
	}
	r, err := a.mapping.response(doc, now, a.opts)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Response: r}, nil
}

// decodeObject parses a body that must be one JSON object. Numbers keep
// their literal text, so a score of 7.0 is told from 7 as in the API.
func decodeObject(body []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	if err != nil {
		// 400: the syntax is wrong; 422 is for JSON that does not mean a
		// valid response.
		return nil, &fault.Error{Code: fault.BadRequest, Message: "the body is not valid JSON; nothing was recorded",
			Details: []fault.Detail{{Reason: jsonReason(err)}}}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &fault.Error{Code: fault.Invalid, Message: "the body must be a JSON object; nothing was recorded",
			Details: []fault.Detail{{Reason: "must be a JSON object"}}}
	}
	return obj, nil
}

func jsonReason(err error) string {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d: %v", se.Offset, se)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	return err.Error()
}
