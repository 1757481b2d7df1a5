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
// One secret (PULSEBOARD_WEBHOOK_SECRET) serves them all: it is the HMAC key
// of Delighted signatures and the shared secret the others present, in a
// header (X-Pulseboard-Secret unless configured) or as ?secret=.
//
// # Mapping file
//
// The file named by PULSEBOARD_WEBHOOKS is YAML. Every key is optional;
// unknown keys are errors. Without a file the built-in mappings shown here
// apply (testdata/webhooks.yaml is a complete example):
//
//	delighted:
//	  id_prefix: "delighted-"       # prepended to event_data.id; "" for none
//	  default_channel: delighted    # when no channel property is present
//	  survey_types: [nps, enps]     # other survey types are acknowledged and ignored
//	  properties:                   # event_data.person_properties names; first present wins
//	    channel: [Channel, channel]
//	    segment: [Segment, segment]
//	    team: [Team, team]
//	    agent: [Agent, agent]
//	asknicely:
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
	"net/http"
	"net/url"
	"os"
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
type Hooks struct {
	delighted *adapter
	asknicely *adapter
	generic   map[string]*adapter
}

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

// Open loads the mapping file (none: built-in mappings only) and builds the
// adapters. With no secret, webhooks are off and Open returns nil, after
// still checking the file so a mistake in it shows at start.
func Open(secret, file string, opts ingest.Options) (*Hooks, error) {
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
	if secret == "" && file == "" {
		return nil, nil
	}
	check := secret
	if check == "" {
		check = "unused-secret-for-checking" // any secret does to check the mappings
	}
	h, err := New(check, cfg, opts)
	switch {
	case err != nil && file != "":
		return nil, fmt.Errorf("webhooks file %s: %w", file, err)
	case err != nil:
		return nil, err
	case secret == "":
		return nil, nil
	}
	return h, nil
}

// New builds the adapters from a parsed mapping. Zero options take the
// ingest defaults; pass the server's MaxSkew and id retention as MaxAge.
func New(secret string, cfg Config, opts ingest.Options) (*Hooks, error) {
	if secret == "" {
		return nil, errors.New("a webhook secret is required")
	}
	h := &Hooks{generic: make(map[string]*adapter)}
	var err error
	if h.delighted, err = newDelighted(secret, cfg.Delighted, opts); err != nil {
		return nil, fmt.Errorf("delighted: %w", err)
	}
	if h.asknicely, err = newAskNicely(secret, cfg.AskNicely, opts); err != nil {
		return nil, fmt.Errorf("asknicely: %w", err)
	}
	for i, g := range cfg.Generic {
		a, err := newGeneric(secret, g, opts)
		if err != nil {
			return nil, fmt.Errorf("generic[%d]: %w", i, err)
		}
		if _, dup := h.generic[g.Name]; dup {
			return nil, fmt.Errorf("generic[%d]: name %q is used twice", i, g.Name)
		}
		h.generic[g.Name] = a
	}
	return h, nil
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
		a = h.delighted
	case AskNicely:
		a = h.asknicely
	case Generic:
		a = h.generic[name]
		if a == nil {
			return Outcome{}, fault.New(fault.NotFound, "no generic webhook adapter named %q (define it in the webhooks file)", name)
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
