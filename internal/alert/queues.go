package alert

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/pulseboard/pulseboard/internal/store"
)

// Queue is a named follow-up queue: the people who work one kind of
// detractor (the pharma specialists), with its own SLA and receivers.
type Queue struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// SLA is how long its follow-ups may stay open; zero means the same
	// day (due at the next local midnight after the answer).
	SLA time.Duration `json:"-"`
	// Webhooks receive its detractors' events, besides alerts.webhooks.
	Webhooks []string `json:"-"`
}

// Route sends the detractors whose dimensions all match to Queue. A
// dimension matches when the answer's value is one of the listed values.
type Route struct {
	Match map[store.Dimension][]string
	Queue string
}

// Matches reports whether an answer with dimensions d takes the route.
func (r Route) Matches(d store.Dims) bool {
	for dim, values := range r.Match {
		if !slices.Contains(values, d.Get(dim)) {
			return false
		}
	}
	return true
}

// DefaultQueueName is the queue of detractors no rule routes when the
// configuration names no default_queue; without a queue of that name
// configured, it is the built-in one: alerts.sla, no receivers of its own.
const DefaultQueueName = "default"

// builtinQueueLabel labels the built-in default queue.
const builtinQueueLabel = "Follow-ups"

// Routed reports whether queues or routing rules are configured. Without
// them follow-ups are stored without a queue, as before queues existed.
func (c Config) Routed() bool { return len(c.Queues) > 0 || len(c.Routing) > 0 }

// Queue returns the queue named name; "" names the default queue.
func (c Config) Queue(name string) (Queue, bool) {
	if name == "" {
		name = c.defaultQueue()
	}
	for _, q := range c.Queues {
		if q.Name == name {
			return q, true
		}
	}
	// The built-in queue exists only as the default: with default_queue
	// naming another queue, "default" is no queue.
	if name == DefaultQueueName && c.defaultQueue() == DefaultQueueName {
		return Queue{Name: DefaultQueueName, Label: builtinQueueLabel, SLA: c.SLA}, true
	}
	return Queue{}, false
}

func (c Config) defaultQueue() string {
	if c.DefaultQueue == "" {
		return DefaultQueueName
	}
	return c.DefaultQueue
}

// QueueList is every queue a follow-up can be in: the configured ones in
// their order, and the built-in default queue when it is used.
func (c Config) QueueList() []Queue {
	out := slices.Clone(c.Queues)
	if q, _ := c.Queue(""); !slices.ContainsFunc(out, func(o Queue) bool { return o.Name == q.Name }) {
		out = append(out, q)
	}
	return out
}

// MixedSLAs reports whether follow-ups can be in queues of different SLAs.
func (c Config) MixedSLAs() bool {
	qs := c.QueueList()
	return slices.ContainsFunc(qs, func(q Queue) bool { return q.SLA != qs[0].SLA })
}

// Route is the queue of a detractor with dimensions d: the first rule that
// matches, else the default queue.
func (c Config) Route(d store.Dims) Queue {
	for _, r := range c.Routing {
		if r.Matches(d) {
			q, _ := c.Queue(r.Queue)
			return q
		}
	}
	q, _ := c.Queue("")
	return q
}

// queueYAML and routeYAML are the YAML shapes of a queue and a rule.
type queueYAML struct {
	Name     string        `yaml:"name"`
	Label    string        `yaml:"label"`
	SLA      string        `yaml:"sla"`
	Webhooks receiversYAML `yaml:"webhooks"`
}

type routeYAML struct {
	Match map[string]values `yaml:"match"`
	Queue string            `yaml:"queue"`
}

// queuesYAML and routesYAML are the lists (named, so configYAML's columns
// stay as they were).
type (
	queuesYAML []queueYAML
	routesYAML []routeYAML
)

// values is one value or a list of them.
type values []string

func (v *values) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*v = values{n.Value}
		return nil
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return errors.New("want a value or a list of values")
	}
	*v = list
	return nil
}

// maxQueueLabel bounds a queue's label (it is shown in the inbox).
const maxQueueLabel = 64

// parseQueues reads queues, routing and default_queue into c, whose SLA is
// parsed already (a queue without sla takes it).
func parseQueues(c *Config, y configYAML, schema store.Schema, parseDuration func(string) (time.Duration, error)) error {
	seen := map[string]bool{}
	for i, qy := range y.Queues {
		where := fmt.Sprintf("queues[%d]", i)
		if !ruleNameRE.MatchString(qy.Name) {
			return fmt.Errorf("%s.name: %q: want 1 to 64 of a-z 0-9 _ -", where, qy.Name)
		}
		if seen[qy.Name] {
			return fmt.Errorf("%s.name: %q is used twice", where, qy.Name)
		}
		seen[qy.Name] = true
		q := Queue{Name: qy.Name, Label: strings.TrimSpace(qy.Label), SLA: c.SLA}
		if q.Label == "" {
			q.Label = q.Name
		}
		if utf8.RuneCountInString(q.Label) > maxQueueLabel {
			return fmt.Errorf("%s.label: at most %d characters", where, maxQueueLabel)
		}
		if qy.SLA != "" {
			sla, err := parseSLA(qy.SLA, parseDuration)
			if err != nil {
				return fmt.Errorf("%s.sla: %w", where, err)
			}
			q.SLA = sla
		}
		var err error
		if q.Webhooks, err = c.parseReceivers(where+".webhooks", qy.Webhooks); err != nil {
			return err
		}
		c.Queues = append(c.Queues, q)
	}
	known := func(name string) error {
		if name == "" {
			return errors.New("name the queue")
		}
		if _, ok := c.Queue(name); ok {
			return nil
		}
		if len(c.Queues) == 0 {
			return fmt.Errorf("no queue %q: no queues are configured", name)
		}
		return fmt.Errorf("no queue %q (queues: %s)", name, queueNames(c.Queues, ", "))
	}
	if y.DefaultQueue != "" {
		if err := known(y.DefaultQueue); err != nil {
			return fmt.Errorf("default_queue: %w", err)
		}
		c.DefaultQueue = y.DefaultQueue
	}
	for i, ry := range y.Routing {
		where := fmt.Sprintf("routing[%d]", i)
		if err := known(ry.Queue); err != nil {
			return fmt.Errorf("%s.queue: %w", where, err)
		}
		if len(ry.Match) == 0 {
			return fmt.Errorf("%s.match: name at least one dimension and its values, like {segment: enterprise}", where)
		}
		r := Route{Match: map[store.Dimension][]string{}, Queue: ry.Queue}
		for _, k := range slices.Sorted(maps.Keys(ry.Match)) {
			vs := ry.Match[k]
			d, err := schema.Parse(k)
			if err != nil {
				return fmt.Errorf("%s.match: %w", where, err)
			}
			if len(vs) == 0 || slices.Contains(vs, "") {
				return fmt.Errorf("%s.match.%s: want a value or a list of values, none empty", where, k)
			}
			r.Match[d] = slices.Clone(vs)
		}
		c.Routing = append(c.Routing, r)
	}
	return nil
}

// parseSLA reads an SLA: "same-day" (zero) or a duration of at least 1m.
func parseSLA(raw string, parseDuration func(string) (time.Duration, error)) (time.Duration, error) {
	switch raw {
	case "", "same-day", "same_day":
		return 0, nil
	}
	v, err := parseDuration(raw)
	if err != nil || v < time.Minute {
		return 0, errors.New(`must be "same-day" or a duration of at least 1m, like 4h`)
	}
	return v, nil
}

// queueNames lists the queues' names, joined by sep.
func queueNames(qs []Queue, sep string) string {
	names := make([]string, len(qs))
	for i, q := range qs {
		names[i] = q.Name
	}
	return strings.Join(names, sep)
}
