package alert

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/")

// fixedLinks makes claim links that name their follow-up and time, so the
// golden files show where a link goes.
type fixedLinks struct{}

func (fixedLinks) Claim(id string, now time.Time) string {
	return "https://pulse.example.com/links/claim/" + id + "?exp=" + now.Add(72*time.Hour).Format("20060102T1504") + "&sig=SIG"
}

var chatNow = time.Date(2026, 12, 2, 14, 20, 0, 0, time.UTC)

func chatService(t *testing.T, links ClaimLinks) *Service {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Lisbon")
	must(t, err)
	cfg := DefaultConfig()
	cfg.Queues = []Queue{{Name: "enterprise-desk", Label: "Enterprise desk", SLA: 2 * time.Hour}}
	return New(Options{Config: cfg, Calendar: window.MustCalendar(loc), Links: links, Now: func() time.Time { return chatNow }})
}

func detractorEvent(comment, agent, team string) DetractorEvent {
	at := chatNow.Add(-12 * time.Minute)
	f := FollowUp{ID: "r-1", Score: 3, Channel: "phone", Journey: "billing question", Team: team, Agent: agent, Comment: comment,
		At: at, Opened: at, Due: time.Date(2026, 12, 2, 23, 59, 59, 0, time.UTC), Status: Open, Queue: "enterprise-desk"}
	return DetractorEvent{Event: EventDetractor, ID: "detractor:r-1", Response: Response{Payload: store.Payload{ID: "r-1"}, At: at}, FollowUp: f}
}

func thresholdEvent(event string) ThresholdEvent {
	a := Active{ID: "teams-1h/team=billing", Rule: "teams-1h", Title: "Team NPS · billing",
		Filters: map[store.Dimension]string{store.Team: "billing"}, Window: "1h", Level: 10, NPS: -4.35, Responses: 46,
		Since: chatNow.Add(-75 * time.Minute), Updated: chatNow}
	if event == EventThresholdResolved {
		a.NPS = 18.2
	}
	return ThresholdEvent{Event: event, ID: event + ":" + a.ID, Alert: a}
}

// metricThresholdEvent is a response_rate or csat rule's alert.
func metricThresholdEvent(event string, metric Metric) ThresholdEvent {
	a := Active{ID: "phone-rate/channel=phone", Rule: "phone-rate", Title: "Phone response rate", Metric: metric,
		Filters: map[store.Dimension]string{store.Channel: "phone"}, Window: "2h", Level: 15, Value: 12, Part: 48, Whole: 400, Responses: 48,
		Since: chatNow.Add(-75 * time.Minute), Updated: chatNow}
	if metric == MetricCSAT {
		a.ID, a.Rule, a.Title, a.Filters = "csat-teams/team=billing", "csat-teams", "Team CSAT · billing", map[store.Dimension]string{store.Team: "billing"}
		a.Level, a.Value, a.Part, a.Whole, a.Responses = 80, 79.59, 39, 49, 49
	}
	if event == EventThresholdResolved {
		a.Value, a.Part, a.Whole, a.Responses = 15.21, 73, 480, 73
		if metric == MetricCSAT {
			a.Value, a.Part, a.Whole, a.Responses = 81.13, 43, 53, 53
		}
	}
	return ThresholdEvent{Event: event, ID: event + ":" + a.ID, Alert: a}
}

func themeEventOf(event string) ThemeEvent {
	a := ThemeAlert{ID: "theme:billing/team=billing", Title: "Billing errors · billing", Theme: "billing", Label: "Billing errors",
		Filters: map[store.Dimension]string{store.Team: "billing"}, Window: "2h", BaselineSpan: "7d",
		Recent:   shareOf(19, 50, recentZ),
		Baseline: shareOf(310, 2580, baselineZ),
		Since:    chatNow.Add(-40 * time.Minute), Updated: chatNow}
	if event == EventThemeResolved {
		a.Recent = shareOf(7, 52, recentZ)
	}
	return ThemeEvent{Event: event, ID: event + ":" + a.ID, Alert: a}
}

func group(key map[store.Dimension]string, promoters, passives, detractors int64, minSample int64) DigestGroup {
	var c nps.Distribution
	c[10], c[8], c[2] = promoters, passives, detractors
	g := DigestGroup{Key: key, Summary: nps.Summarize(c, minSample)}
	return g
}

func digestEvent() DigestEvent {
	share := 10.0 / 12
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	return DigestEvent{
		Event: EventDigestDaily, ID: "digest.daily:2026-12-01", From: day, To: day.Add(24 * time.Hour),
		Overall: group(nil, 210, 120, 82, 30),
		Teams: []DigestGroup{
			group(map[store.Dimension]string{store.Team: "sales"}, 60, 30, 10, 30),
			group(map[store.Dimension]string{store.Team: "billing"}, 40, 30, 40, 30),
			group(map[store.Dimension]string{store.Team: "onboarding"}, 8, 4, 3, 30),
		},
		Channels: []DigestGroup{
			group(map[store.Dimension]string{store.Channel: "phone"}, 100, 60, 50, 30),
			group(map[store.Dimension]string{store.Channel: "email"}, 110, 60, 32, 30),
		},
		FollowUps: DigestFollowUp{Opened: 14, Resolved: 12, InSLA: 10, SLAShare: &share, OpenNow: 5, OverdueNow: 2},
		Alerts:    []Active{thresholdEvent(EventThresholdRaised).Alert},
	}
}

// golden compares got with testdata/<name>, indented; -update rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: not JSON: %v\n%s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to write it)", err, t.Name())
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("%s differs from the golden file (go test -update rewrites it after a deliberate change):\n%s", path, buf.String())
	}
}

// TestChatMessagesGolden: every event a chat receiver gets, in Slack's and
// Teams' format, as committed under testdata/.
func TestChatMessagesGolden(t *testing.T) {
	svc := chatService(t, fixedLinks{})
	events := map[string]any{
		"detractor":                        detractorEvent("Waited 25 minutes, then the line dropped. Call me on +44 20 7946 0958.", "Ana Lima", "billing"),
		"threshold-raised":                 thresholdEvent(EventThresholdRaised),
		"threshold-resolved":               thresholdEvent(EventThresholdResolved),
		"threshold-response-rate-raised":   metricThresholdEvent(EventThresholdRaised, MetricResponseRate),
		"threshold-response-rate-resolved": metricThresholdEvent(EventThresholdResolved, MetricResponseRate),
		"threshold-csat-raised":            metricThresholdEvent(EventThresholdRaised, MetricCSAT),
		"threshold-csat-resolved":          metricThresholdEvent(EventThresholdResolved, MetricCSAT),
		"theme-raised":                     themeEventOf(EventThemeRaised),
		"theme-resolved":                   themeEventOf(EventThemeResolved),
		"digest-daily":                     digestEvent(),
		"followup-reassigned": func() ReassignedEvent {
			f := detractorEvent("Wants a refund", "Ana Lima", "billing").FollowUp
			f.Status, f.ClaimedBy = Claimed, "lee"
			return ReassignedEvent{Event: EventReassigned, ID: "followup.reassigned:r-1@1", FollowUp: f}
		}(),
	}
	for name, ev := range events {
		for _, k := range []Kind{KindSlack, KindTeams} {
			b, err := svc.encode(k, ev, chatNow)
			if err != nil {
				t.Fatalf("%s %s: %v", name, k, err)
			}
			golden(t, name+"."+string(k)+".json", b)
		}
	}
}

// TestDetractorMessageCarriesTheFacts: a detractor's message names score,
// comment (redacted), channel, journey, team, agent and age, and a claim
// link; without public_url it names no link.
func TestDetractorMessageCarriesTheFacts(t *testing.T) {
	ev := detractorEvent("Mail me at jo@example.com", "Ana Lima", "billing")
	for _, k := range []Kind{KindSlack, KindTeams} {
		b, err := chatService(t, fixedLinks{}).encode(k, ev, chatNow)
		must(t, err)
		s := string(b)
		for _, want := range []string{"3/10", "[email]", "phone", "billing question", "billing", "Ana Lima", "12 min ago", "https://pulse.example.com/links/claim/r-1?"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s message lacks %q: %s", k, want, s)
			}
		}
		if strings.Contains(s, "jo@example.com") {
			t.Errorf("%s message shows the e-mail address: %s", k, s)
		}
		b, err = chatService(t, nil).encode(k, ev, chatNow)
		must(t, err)
		if strings.Contains(string(b), "/links/") {
			t.Errorf("%s message without links configured has one: %s", k, b)
		}
	}
}

// hostile is user text that tries every trick of both formats: Slack's
// mentions and links, Markdown links, images and emphasis, HTML, code
// fences, control characters.
const hostile = "<!channel> <@U024BE7LH> <https://evil.example|click here> & [urgent](https://evil.example) " +
	"![x](https://evil.example/p.png) **bold** *star* _it_ ~strike~ `code` ```fence <b>html</b> &amp; \x07bell\n> fake quote"

// TestSlackEscapesUserText: in every mrkdwn text of a Slack message, user
// text has &, < and > escaped (no mention, no link can be made), emphasis
// markers are neutralised, and texts are verbatim (no automatic links).
func TestSlackEscapesUserText(t *testing.T) {
	ev := detractorEvent(hostile, "Ana <!here>", "billing & <sales>")
	b, err := chatService(t, fixedLinks{}).encode(KindSlack, ev, chatNow)
	must(t, err)
	var msg struct {
		Text   string `json:"text"`
		Blocks []struct {
			Type     string            `json:"type"`
			Text     *slackTextObj     `json:"text"`
			Fields   []slackTextObj    `json:"fields"`
			Elements []json.RawMessage `json:"elements"`
		} `json:"blocks"`
		UnfurlLinks *bool `json:"unfurl_links"`
	}
	must(t, json.Unmarshal(b, &msg))
	var texts []slackTextObj
	for _, blk := range msg.Blocks {
		if blk.Text != nil {
			texts = append(texts, *blk.Text)
		}
		texts = append(texts, blk.Fields...)
		if blk.Type == "context" {
			for _, e := range blk.Elements {
				var o slackTextObj
				must(t, json.Unmarshal(e, &o))
				texts = append(texts, o)
			}
		}
	}
	all := msg.Text
	for _, x := range texts {
		if x.Type == "mrkdwn" && !x.Verbatim {
			t.Errorf("mrkdwn text not verbatim: %q", x.Text)
		}
		all += "\n" + x.Text
	}
	// Our own quote marker starts the comment's lines; nothing else may.
	if strings.ContainsAny(regexp.MustCompile(`(?m)^> `).ReplaceAllString(all, ""), "<>") {
		t.Errorf("a raw < or > reached Slack (a mention or link): %s", all)
	}
	for _, bad := range []string{"**bold**", "*star*", "_it_", "~strike~", "`code`", "\x07"} {
		if strings.Contains(all, bad) {
			t.Errorf("Slack text holds %q unneutralised:\n%s", bad, all)
		}
	}
	for _, want := range []string{"&lt;!channel&gt;", "&lt;https://evil.example|click here&gt;", "&amp; [urgent]", "Ana &lt;!here&gt;", "billing &amp; &lt;sales&gt;", "&gt; fake quote", "&amp;amp;"} {
		if !strings.Contains(all, want) {
			t.Errorf("Slack text lacks the escaped %q:\n%s", want, all)
		}
	}
	if msg.UnfurlLinks == nil || *msg.UnfurlLinks {
		t.Errorf("unfurl_links must be false: a link in a comment must not be fetched and previewed")
	}
}

// TestTeamsKeepsUserTextOutOfMarkdown: an Adaptive Card holds user text
// only in TextRuns (never Markdown), no TextBlock or FactSet at all, no
// control characters; the card has the fields Teams requires.
func TestTeamsKeepsUserTextOutOfMarkdown(t *testing.T) {
	ev := detractorEvent(hostile, "Ana [x](https://evil.example)", "**billing**")
	b, err := chatService(t, fixedLinks{}).encode(KindTeams, ev, chatNow)
	must(t, err)
	checkTeamsMessage(t, b)
	var doc any
	must(t, json.Unmarshal(b, &doc))
	found := map[string]bool{}
	var walk func(v any, parent string)
	walk = func(v any, parent string) {
		switch x := v.(type) {
		case map[string]any:
			typ, _ := x["type"].(string)
			if typ == "TextBlock" || typ == "FactSet" {
				t.Errorf("a %s (Markdown) in the card: %v", typ, x)
			}
			if txt, ok := x["text"].(string); ok {
				if typ != "TextRun" {
					t.Errorf("text outside a TextRun (in a %q): %q", typ, txt)
				}
				if strings.ContainsAny(txt, "\x07\r") {
					t.Errorf("control character in %q", txt)
				}
				for _, s := range []string{"[urgent](https://evil.example)", "Ana [x](https://evil.example)", "**billing**", "<!channel>"} {
					if strings.Contains(txt, s) {
						found[s] = true
					}
				}
			}
			for _, c := range x {
				walk(c, typ)
			}
		case []any:
			for _, c := range x {
				walk(c, parent)
			}
		}
	}
	walk(doc, "")
	// Shown as written: the text is not altered, only kept out of Markdown.
	for _, s := range []string{"[urgent](https://evil.example)", "Ana [x](https://evil.example)", "**billing**", "<!channel>"} {
		if !found[s] {
			t.Errorf("user text %q not shown as written", s)
		}
	}
}

// checkTeamsMessage checks a Teams Workflows body against what Microsoft
// documents as required: type "message", one attachment of content type
// application/vnd.microsoft.card.adaptive whose content is an AdaptiveCard
// of version 1.4 or 1.5 with a body; every element has a type the schema
// knows, TextRuns and OpenUrl actions their required fields.
func checkTeamsMessage(t *testing.T, b []byte) {
	t.Helper()
	var msg struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	must(t, json.Unmarshal(b, &msg))
	if msg.Type != "message" || len(msg.Attachments) != 1 || msg.Attachments[0].ContentType != ContentTypeAdaptiveCard {
		t.Fatalf("not a Workflows message with one Adaptive Card: %s", b)
	}
	var card map[string]any
	must(t, json.Unmarshal(msg.Attachments[0].Content, &card))
	if card["type"] != "AdaptiveCard" || (card["version"] != "1.4" && card["version"] != "1.5") {
		t.Errorf("card type %v version %v", card["type"], card["version"])
	}
	body, ok := card["body"].([]any)
	if !ok || len(body) == 0 {
		t.Fatalf("card without a body")
	}
	known := map[string][]string{
		"RichTextBlock": {"inlines"}, "TextRun": {"text"}, "Container": {"items"}, "Action.OpenUrl": {"url"},
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if typ, ok := x["type"].(string); ok && typ != "AdaptiveCard" {
				req, ok := known[typ]
				if !ok {
					t.Errorf("element type %q is not one this card should use", typ)
				}
				for _, f := range req {
					if _, ok := x[f]; !ok {
						t.Errorf("%s without its required %s", typ, f)
					}
				}
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(card["body"])
	walk(card["actions"])
}

// TestTeamsMessagesWellFormed: every Teams golden is a Workflows message
// with a well-formed card.
func TestTeamsMessagesWellFormed(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.teams.json"))
	if len(files) < 5 {
		t.Fatalf("want the 5 Teams goldens, have %v", files)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		must(t, err)
		checkTeamsMessage(t, b)
	}
}

// TestReceiverKindsConfig: a receiver is a URL (a generic webhook, as
// before kinds) or {url, kind}, in webhooks, digest.webhooks and a queue's
// webhooks; one URL has one kind; typos are refused with where they are;
// only generic receivers need the alert secret.
func TestReceiverKindsConfig(t *testing.T) {
	parse := func(text string) (Config, error) {
		return ParseConfig(text, store.DefaultSchema(), store.DefaultRollups(), time.ParseDuration)
	}
	c, err := parse(`
webhooks:
  - https://crm.example.com/hook
  - {url: "https://hooks.slack.com/services/T/B/X", kind: slack}
claim_link_ttl: 24h
queues:
  - {name: desk, webhooks: [{url: "https://example.webhook.office.com/w?sig=1", kind: Teams}, "https://hooks.slack.com/services/T/B/X"]}
digest:
  webhooks: [{url: "https://hooks.slack.com/services/T/B/D", kind: slack}]
`)
	must(t, err)
	if c.KindOf("https://crm.example.com/hook") != KindWebhook || c.KindOf("https://hooks.slack.com/services/T/B/X") != KindSlack ||
		c.KindOf("https://example.webhook.office.com/w?sig=1") != KindTeams || c.KindOf(c.Digest.Webhooks[0]) != KindSlack {
		t.Errorf("kinds %v", c.Kinds)
	}
	if len(c.Webhooks) != 2 || len(c.Queues[0].Webhooks) != 2 || c.ClaimLinkTTL != 24*time.Hour || !c.HasChat() || !c.HasReceivers() {
		t.Errorf("config %+v", c)
	}
	c, err = parse(`webhooks: [{url: "https://hooks.slack.com/services/T/B/X", kind: slack}]`)
	must(t, err)
	if c.HasReceivers() {
		t.Error("a Slack receiver alone asks for the alert secret")
	}
	if d := DefaultConfig(); d.ClaimLinkTTL != 72*time.Hour || d.HasChat() {
		t.Errorf("defaults %v %v", d.ClaimLinkTTL, d.HasChat())
	}
	for text, want := range map[string]string{
		`webhooks: [{url: "https://x.example/h", kind: discord}]`: `webhooks[0].kind: "discord": want webhook`,
		`webhooks: [{url: "https://x.example/h", knd: slack}]`:    `field knd not found in a receiver`,
		`webhooks: [{kind: slack}]`:                               `a receiver is a URL`,
		"webhooks: [{url: \"https://x.example/h\", kind: slack}]\ndigest: {webhooks: [{url: \"https://x.example/h\", kind: teams}]}": `digest.webhooks[0].kind: "https://x.example/h" is a slack receiver elsewhere`,
		`webhooks: [{url: "ftp://x.example/h", kind: slack}]`:                                                                        `webhooks[0]: "ftp://x.example/h" must be an http:// or https:// URL`,
		`claim_link_ttl: 1m`:   `claim_link_ttl: must be at least 5m`,
		`claim_link_ttl: 900h`: `claim_link_ttl: must be at most 720h`,
	} {
		if _, err := parse(text); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
}
