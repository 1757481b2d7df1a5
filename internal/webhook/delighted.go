package webhook

// Delighted, as documented in "API documentation: Webhooks",
// https://app.delighted.com/docs/api/webhooks (same page under
// delighted.com/docs/api/webhooks):
//   - an HTTP POST with a JSON body holding event_type
//     (survey_response.created, survey_response.updated,
//     unsubscribe.created), event_id (for de-duplicating redeliveries) and
//     event_data, the survey response: id (a string), person, survey_type,
//     score, comment (null until written), permalink, created_at and
//     updated_at (Unix seconds), person_properties (null or an object),
//     notes, tags, additional_answers;
//   - deliveries carry an X-Delighted-Webhook-Signature header: the
//     HMAC-SHA256 of the request body keyed with the account's private API
//     key, sent as "sha256=<hex>". The search found the header and the key
//     described in summaries of that page rather than on the page text
//     itself, and the "sha256=" form in a production Go integration; the
//     prefix is therefore optional here.
//
// Mapping: id ← "delighted-" + event_data.id (the same on created and
// updated, so an update upserts); score, comment, tags ← event_data's;
// at ← event_data.created_at, so an update keeps the answer's time;
// version ← event_data.updated_at, so a created event retried after the
// updated one, or a replayed older body, is stale and changes nothing (two
// versions within one second are equal, and the later delivery wins);
// channel, segment, team, agent ← event_data.person_properties, by the
// configured names, channel falling back to default_channel. Events other
// than survey responses, and survey types other than survey_types (CSAT,
// CES and the like are not 0–10 NPS answers), are acknowledged and ignored.
// event_id is not used: the response id already makes redeliveries
// duplicates.

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
)

// SignatureHeader is the header of Delighted's webhook signature.
const SignatureHeader = "X-Delighted-Webhook-Signature"

// The Delighted events that carry a survey response.
const (
	delightedCreated = "survey_response.created"
	delightedUpdated = "survey_response.updated"
)

func newDelighted(secret string, c DelightedConfig, opts ingest.Options) (*adapter, error) {
	prefix, err := idPrefix(c.IDPrefix, "delighted-")
	if err != nil {
		return nil, err
	}
	channel, err := defaultChannel(c.DefaultChannel, "delighted")
	if err != nil {
		return nil, err
	}
	types := c.SurveyTypes
	if types == nil {
		types = []string{"nps", "enps"}
	}
	if slices.Contains(types, "") {
		return nil, fmt.Errorf("survey_types: a survey type must not be empty")
	}
	m := mapping{
		tool:     "Delighted",
		idPrefix: prefix,
		id:       from("event_data", "id"),
		score:    from("event_data", "score"),
		comment:  from("event_data", "comment"),
		tags:     from("event_data", "tags"),
		at:       from("event_data", "created_at"),
		version:  from("event_data", "updated_at"),
	}
	inPersonProperties := func(name string) []path { return []path{{"event_data", "person_properties", name}} }
	builtIn := propertyNames{
		channel: []string{"Channel", "channel"}, segment: []string{"Segment", "segment"},
		team: []string{"Team", "team"}, agent: []string{"Agent", "agent"},
		journey: []string{"Journey", "journey", "Journey Type"},
		// Delighted's person properties are usually capitalised: Region.
		custom: func(d string) []string { return []string{strings.ToUpper(d[:1]) + d[1:], d} },
	}
	if err := m.dimensions(c.Properties, builtIn, inPersonProperties, channel, "delighted.default_channel", opts.Schema); err != nil {
		return nil, err
	}
	return &adapter{
		auth:    signature{header: SignatureHeader, key: []byte(secret)},
		accept:  func(doc map[string]any) (string, error) { return acceptDelighted(doc, types) },
		mapping: m,
		opts:    opts,
	}, nil
}

// acceptDelighted records survey response events of the NPS survey types,
// and acknowledges the rest without recording them.
func acceptDelighted(doc map[string]any, types []string) (string, error) {
	et, ok := doc["event_type"].(string)
	if !ok {
		return "", &fault.Error{Code: fault.Invalid, Message: "the Delighted payload has no event_type; nothing was recorded",
			Details: []fault.Detail{{Field: "event_type", Reason: "is required, e.g. " + delightedCreated}}}
	}
	if et != delightedCreated && et != delightedUpdated {
		return fmt.Sprintf("event type %q carries no survey response", et), nil
	}
	if st, ok := lookup(doc, path{"event_data", "survey_type"}); ok {
		if s, _ := st.(string); !slices.Contains(types, s) {
			return fmt.Sprintf("survey type %v is not one of the NPS survey types (%s)", st, strings.Join(types, ", ")), nil
		}
	}
	return "", nil
}
