package alert

import (
	"strings"
)

// A Microsoft Teams Workflows webhook ("Post to a channel when a webhook
// request is received") takes a message whose attachments hold an Adaptive
// Card (https://adaptivecards.io/explorer/), and answers 202 Accepted; 4xx
// and 429 with Retry-After otherwise.
//
// Teams reads Markdown in a TextBlock's text and in a FactSet's titles and
// values, so user text there could make links ("[click](https://…)") or
// formatting. No user text goes there: every string of the message, ours
// and theirs, is a TextRun of a RichTextBlock, whose text Adaptive Cards
// never treat as Markdown (schema: "Markdown is not supported"). That is
// the escaping: shown as written, not altered.

// teamsCardVersion is the Adaptive Card schema version used: 1.4, which
// Teams renders on desktop, web and mobile; RichTextBlock is 1.2.
const teamsCardVersion = "1.4"

// ContentTypeAdaptiveCard is the attachment's content type.
const ContentTypeAdaptiveCard = "application/vnd.microsoft.card.adaptive"

type teamsMessage struct {
	Type        string            `json:"type"`
	Attachments []teamsAttachment `json:"attachments"`
}

type teamsAttachment struct {
	ContentType string    `json:"contentType"`
	ContentURL  *string   `json:"contentUrl"`
	Content     teamsCard `json:"content"`
}

type teamsCard struct {
	Schema       string `json:"$schema"`
	Type         string `json:"type"`
	Version      string `json:"version"`
	FallbackText string `json:"fallbackText,omitempty"`
	Body         []any  `json:"body"`
	Actions      []any  `json:"actions,omitempty"`
}

type teamsRichText struct {
	Type      string     `json:"type"`
	Inlines   []teamsRun `json:"inlines"`
	Spacing   string     `json:"spacing,omitempty"`
	Separator bool       `json:"separator,omitempty"`
}

type teamsRun struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Weight   string `json:"weight,omitempty"`
	Size     string `json:"size,omitempty"`
	Color    string `json:"color,omitempty"`
	IsSubtle bool   `json:"isSubtle,omitempty"`
	Italic   bool   `json:"italic,omitempty"`
}

type teamsContainer struct {
	Type  string `json:"type"`
	Style string `json:"style,omitempty"`
	Items []any  `json:"items"`
}

type teamsOpenURL struct {
	Type  string `json:"type"`
	Title string `json:"title"`
	URL   string `json:"url"`
	Style string `json:"style,omitempty"`
}

func run(text string) teamsRun { return teamsRun{Type: "TextRun", Text: text} }

func richText(runs ...teamsRun) teamsRichText {
	return teamsRichText{Type: "RichTextBlock", Inlines: runs}
}

// teams encodes a message as a Teams Workflows webhook body.
func teams(m message) ([]byte, error) {
	card := teamsCard{
		Schema: "http://adaptivecards.io/schemas/adaptive-card.json", Type: "AdaptiveCard", Version: teamsCardVersion,
		FallbackText: noControls(m.Summary),
	}
	title := run(noControls(m.Title))
	title.Weight, title.Size = "Bolder", "Medium"
	switch m.Tone {
	case "attention":
		title.Color = "Attention"
	case "good":
		title.Color = "Good"
	}
	card.Body = append(card.Body, richText(title))
	if m.Quote != "" {
		q := teamsContainer{Type: "Container", Style: "emphasis"}
		for _, line := range strings.Split(noControls(m.Quote), "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			r := run(line)
			r.Italic = true
			q.Items = append(q.Items, richText(r))
		}
		if len(q.Items) > 0 {
			card.Body = append(card.Body, q)
		}
	}
	for _, s := range m.Sections {
		if s.Heading != "" {
			h := run(noControls(s.Heading))
			h.Weight = "Bolder"
			blk := richText(h)
			blk.Spacing, blk.Separator = "Medium", true
			card.Body = append(card.Body, blk)
		}
		for i, f := range s.Facts {
			label := run(noControls(f.Label) + ": ")
			label.Weight = "Bolder"
			line := richText(label, run(noControls(f.Value)))
			if i > 0 || s.Heading != "" {
				// One fact a line, close together: a list, read on a phone.
				line.Spacing = "None"
			}
			card.Body = append(card.Body, line)
		}
	}
	if m.Note != "" {
		n := run(noControls(m.Note))
		n.IsSubtle, n.Size = true, "Small"
		card.Body = append(card.Body, richText(n))
	}
	if m.Link != nil {
		card.Actions = []any{teamsOpenURL{Type: "Action.OpenUrl", Title: m.Link.Label, URL: m.Link.URL, Style: "positive"}}
	}
	return marshalText(teamsMessage{Type: "message", Attachments: []teamsAttachment{{ContentType: ContentTypeAdaptiveCard, Content: card}}})
}
