package webhook

// AskNicely, as documented in "Triggering Webhooks in AskNicely",
// https://asknicely.zendesk.com/hc/en-us/articles/47782734299540-Triggering-Webhooks-in-AskNicely:
//   - a webhook fires when a contact submits a score and again whenever they
//     change their score or comment; the JSON body's count grows by one per
//     webhook of the same response (count > 1: an update);
//   - the body holds count, person (id, name, firstname, lastname, email,
//     created, segment and the account's custom fields) and question, the
//     response (id, score as a string, comment, sent, opened and responded
//     as Unix seconds in strings, segment, deliverymethod, survey_template,
//     and custom and AI-generated fields);
//   - there is no signature: custom HTTP headers configured in the Webhooks
//     app are the documented way to pass an authentication token, under any
//     header name, so the header is configurable here.
//
// AskNicely's API documentation (https://asknicely.asknice.ly/help/apidocs/auth)
// names custom contact fields in snake_case with a "_c" suffix, hence the
// team_c and agent_c defaults.
//
// Mapping: id ← "asknicely-" + question.id (never the count, so every
// update upserts the same response); score ← question.score;
// comment ← question.comment; at ← question.responded; version ← count,
// so a webhook retried after a later one is stale; channel ←
// deliverymethod, segment ← segment, team ← team_c, agent ← agent_c, each
// looked up in question, then in person, channel falling back to
// default_channel. The documentation does not say that question.id is the
// response's id (rather than the survey question's) or whether responded
// changes on an update; both readings are the natural ones for its example,
// and a generic adapter can map the payload differently if they prove
// wrong.

import (
	"github.com/pulseboard/pulseboard/internal/ingest"
)

func newAskNicely(secret string, c AskNicelyConfig, opts ingest.Options) (*adapter, error) {
	prefix, err := idPrefix(c.IDPrefix, "asknicely-")
	if err != nil {
		return nil, err
	}
	channel, err := defaultChannel(c.DefaultChannel, "asknicely")
	if err != nil {
		return nil, err
	}
	if err := checkHeader(c.SecretHeader); err != nil {
		return nil, err
	}
	m := mapping{
		tool:     "AskNicely",
		idPrefix: prefix,
		id:       from("question", "id"),
		score:    from("question", "score"),
		comment:  from("question", "comment"),
		at:       from("question", "responded"),
		version:  from("count"),
	}
	// Contact fields are on the question, else on the person.
	inQuestionOrPerson := func(name string) []path { return []path{{"question", name}, {"person", name}} }
	// AskNicely's custom contact fields end in _c.
	builtIn := propertyNames{channel: []string{"deliverymethod"}, segment: []string{"segment"}, team: []string{"team_c"}, agent: []string{"agent_c"},
		journey: []string{"journey_c"}, custom: func(d string) []string { return []string{d + "_c"} }}
	if err := m.dimensions(c.Properties, builtIn, inQuestionOrPerson, channel, "asknicely.default_channel", opts.Schema); err != nil {
		return nil, err
	}
	return &adapter{auth: newSharedSecret(c.SecretHeader, secret), mapping: m, opts: opts}, nil
}
