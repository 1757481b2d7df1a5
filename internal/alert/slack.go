package alert

import (
	"strings"
)

// A Slack incoming webhook takes a message: "text", the fallback that
// notifications show, and "blocks", the Block Kit layout
// (https://docs.slack.dev/reference/block-kit/blocks). Slack answers 200
// "ok", or 4xx with the reason in the body (invalid_payload, no_service),
// and 429 with Retry-After past its rate limit.

// slackEscape escapes the three characters Slack's mrkdwn reserves, as
// Slack's formatting guide asks of any text it did not write: "<" opens a
// link or a mention ("<!channel>", "<@U123>", "<https://x|click>"), so a
// comment cannot ping a channel or hide a link behind words. Nothing else is
// entity-encoded: Slack decodes only these three.
func slackEscape(s string) string {
	return slackEscaper.Replace(noControls(s))
}

var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackEmphasis neutralises mrkdwn's emphasis markers (* _ ~ `) in user
// text by following each with a zero-width space, so a comment cannot make
// text bold, strike it out or open a code block that runs over our own
// lines; the characters stay visible and copy as they were, but for the
// invisible space.
func slackEmphasis(s string) string {
	return strings.NewReplacer("*", "*\u200b", "_", "_\u200b", "~", "~\u200b", "`", "`\u200b").Replace(s)
}

// slackText is user or our text made safe for mrkdwn.
func slackText(s string) string { return slackEmphasis(slackEscape(s)) }

type slackMessage struct {
	Text        string       `json:"text"`
	Blocks      []slackBlock `json:"blocks"`
	UnfurlLinks bool         `json:"unfurl_links"`
	UnfurlMedia bool         `json:"unfurl_media"`
}

type slackBlock struct {
	Type     string         `json:"type"`
	Text     *slackTextObj  `json:"text,omitempty"`
	Fields   []slackTextObj `json:"fields,omitempty"`
	Elements []any          `json:"elements,omitempty"`
}

type slackTextObj struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Verbatim bool   `json:"verbatim,omitempty"`
	Emoji    *bool  `json:"emoji,omitempty"`
}

type slackButton struct {
	Type  string       `json:"type"`
	Text  slackTextObj `json:"text"`
	URL   string       `json:"url"`
	Style string       `json:"style,omitempty"`
}

// mrkdwn is a text object that Slack shows as written: verbatim, so a URL
// or a #channel name in a comment stays text instead of becoming a link.
func mrkdwn(s string) *slackTextObj { return &slackTextObj{Type: "mrkdwn", Text: s, Verbatim: true} }

// Block Kit limits: a section's text 3000 characters, a field 2000, ten
// fields a section, a button's text 75.
const (
	slackMaxText   = 3000
	slackMaxFields = 10
)

// slack encodes a message as a Slack incoming webhook body.
func slack(m message) ([]byte, error) {
	out := slackMessage{Text: slackEscape(m.Summary)}
	title := "*" + slackText(m.Title) + "*"
	if m.Tone == "attention" {
		title = ":red_circle: " + title
	} else if m.Tone == "good" {
		title = ":large_green_circle: " + title
	}
	out.Blocks = append(out.Blocks, slackBlock{Type: "section", Text: mrkdwn(title)})
	if m.Quote != "" {
		var b strings.Builder
		for i, line := range strings.Split(m.Quote, "\n") {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString("> " + slackText(line))
		}
		out.Blocks = append(out.Blocks, slackBlock{Type: "section", Text: mrkdwn(clip(b.String(), slackMaxText))})
	}
	for _, s := range m.Sections {
		if s.Grid && s.Heading == "" && len(s.Facts) <= slackMaxFields {
			blk := slackBlock{Type: "section"}
			for _, f := range s.Facts {
				blk.Fields = append(blk.Fields, *mrkdwn("*" + slackText(f.Label) + "*\n" + slackText(f.Value)))
			}
			out.Blocks = append(out.Blocks, blk)
			continue
		}
		var b strings.Builder
		if s.Heading != "" {
			b.WriteString("*" + slackText(s.Heading) + "*")
		}
		for _, f := range s.Facts {
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(slackText(f.Label) + ": *" + slackText(f.Value) + "*")
		}
		out.Blocks = append(out.Blocks, slackBlock{Type: "section", Text: mrkdwn(clip(b.String(), slackMaxText))})
	}
	if m.Link != nil {
		no := false
		out.Blocks = append(out.Blocks, slackBlock{Type: "actions", Elements: []any{slackButton{
			Type: "button", Text: slackTextObj{Type: "plain_text", Text: m.Link.Label, Emoji: &no}, URL: m.Link.URL, Style: "primary",
		}}})
	}
	if m.Note != "" {
		out.Blocks = append(out.Blocks, slackBlock{Type: "context", Elements: []any{mrkdwn(slackText(m.Note))}})
	}
	return marshalText(out)
}
