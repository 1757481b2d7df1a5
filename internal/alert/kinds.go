package alert

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Kind is a receiver's message format.
type Kind string

// The receiver kinds.
const (
	// KindWebhook is the generic signed JSON event (the default).
	KindWebhook Kind = "webhook"
	// KindSlack is a Slack incoming webhook: a Block Kit message.
	KindSlack Kind = "slack"
	// KindTeams is a Microsoft Teams Workflows webhook: a message with an
	// Adaptive Card.
	KindTeams Kind = "teams"
)

// maxClaimLinkTTL bounds claim_link_ttl: a link in a chat history lives as
// long as the history, and a claim is worth making within days.
const maxClaimLinkTTL = 30 * 24 * time.Hour

// ParseKind reads a receiver's kind.
func ParseKind(s string) (Kind, error) {
	switch k := Kind(strings.ToLower(strings.TrimSpace(s))); k {
	case KindWebhook, KindSlack, KindTeams:
		return k, nil
	}
	return "", fmt.Errorf("%q: want webhook (signed JSON, the default), slack or teams", s)
}

// KindOf is the kind of the receiver at url.
func (c Config) KindOf(url string) Kind {
	if k, ok := c.Kinds[url]; ok {
		return k
	}
	return KindWebhook
}

// HasChat reports whether any receiver is a chat receiver (Slack, Teams):
// their messages carry claim links.
func (c Config) HasChat() bool {
	for _, k := range c.Kinds {
		if k != KindWebhook {
			return true
		}
	}
	return false
}

// receiverYAML is one receiver: a URL (a generic webhook, as every
// receiver was before kinds existed), or {url, kind}.
type receiverYAML struct {
	URL  string `yaml:"url"`
	Kind string `yaml:"kind"`
}

type receiversYAML []receiverYAML

func (r *receiverYAML) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.URL = n.Value
		return nil
	}
	if n.Kind == yaml.MappingNode {
		// Node.Decode does not refuse unknown keys as the section's
		// decoder does: a typo like "knd" must not make a Slack
		// receiver a generic one silently.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k != "url" && k != "kind" {
				return fmt.Errorf("line %d: field %s not found in a receiver (url, kind)", n.Content[i].Line, k)
			}
		}
	}
	type plain receiverYAML
	var p plain
	if err := n.Decode(&p); err != nil {
		return err
	}
	if p.URL == "" {
		return errors.New("a receiver is a URL, or {url: …, kind: slack|teams|webhook}")
	}
	*r = receiverYAML(p)
	return nil
}
