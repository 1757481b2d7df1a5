package alert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

const routedYAML = `
sla: 24h
queues:
  - {name: enterprise-desk, label: Enterprise desk, sla: 2h, webhooks: ["https://ent.example.com/hook"]}
  - {name: billing-desk, sla: same-day}
  - {name: floor}
routing:
  - {match: {segment: enterprise, channel: [phone, chat]}, queue: enterprise-desk}
  - {match: {team: billing}, queue: billing-desk}
default_queue: floor
`

// TestParseQueues: queues take their label, SLA (alerts.sla when they name
// none) and receivers; routing rules keep their order and values.
func TestParseQueues(t *testing.T) {
	c := parseTestConfig(t, routedYAML)
	if len(c.Queues) != 3 || c.DefaultQueue != "floor" || !c.Routed() {
		t.Fatalf("queues %+v, default %q", c.Queues, c.DefaultQueue)
	}
	want := []Queue{
		{Name: "enterprise-desk", Label: "Enterprise desk", SLA: 2 * time.Hour, Webhooks: []string{"https://ent.example.com/hook"}},
		{Name: "billing-desk", Label: "billing-desk", SLA: 0},
		{Name: "floor", Label: "floor", SLA: 24 * time.Hour},
	}
	for i, q := range want {
		got := c.Queues[i]
		if got.Name != q.Name || got.Label != q.Label || got.SLA != q.SLA || strings.Join(got.Webhooks, ",") != strings.Join(q.Webhooks, ",") {
			t.Errorf("queue %d: %+v, want %+v", i, got, q)
		}
	}
	if len(c.Routing) != 2 || c.Routing[0].Queue != "enterprise-desk" || strings.Join(c.Routing[0].Match[store.Channel], ",") != "phone,chat" ||
		strings.Join(c.Routing[0].Match[store.Segment], ",") != "enterprise" || c.Routing[1].Queue != "billing-desk" {
		t.Errorf("routing %+v", c.Routing)
	}
	if !c.MixedSLAs() || parseTestConfig(t, "sla: 2h\nqueues: [{name: a}, {name: b, sla: 2h}]").MixedSLAs() ||
		!parseTestConfig(t, "sla: 2h\nqueues: [{name: a, sla: 3h}]\nrouting: [{match: {team: x}, queue: a}]").MixedSLAs() {
		t.Error("MixedSLAs")
	}
	if names := queueNames(c.QueueList(), ","); names != "enterprise-desk,billing-desk,floor" {
		t.Errorf("queue list %s (the configured default is no extra queue)", names)
	}
	// Without default_queue the built-in one takes what no rule routes.
	c = parseTestConfig(t, "sla: 4h\nqueues: [{name: a}]\nrouting: [{match: {team: x}, queue: a}]")
	if names := queueNames(c.QueueList(), ","); names != "a,default" {
		t.Errorf("queue list %s, want a,default", names)
	}
	if q := c.Route(store.Dims{Team: "y"}); q.Name != DefaultQueueName || q.SLA != 4*time.Hour || q.Label != builtinQueueLabel {
		t.Errorf("unrouted: %+v", q)
	}
	// Nothing configured: one built-in queue, and follow-ups store none.
	c = parseTestConfig(t, "")
	if c.Routed() || queueNames(c.QueueList(), ",") != "default" {
		t.Errorf("no queues: routed %v, %+v", c.Routed(), c.QueueList())
	}

	long := strings.Repeat("x", maxQueueLabel+1)
	bad := map[string]string{
		"queues: [{name: a}, {name: a}]":           `queues[1].name: "a" is used twice`,
		"queues: [{name: Pharma!}]":                `queues[0].name: "Pharma!"`,
		"queues: [{name: a, sla: soon}]":           "queues[0].sla: must be",
		"queues: [{name: a, sla: 30s}]":            "queues[0].sla: must be",
		"queues: [{name: a, webhooks: [ftp://x]}]": "queues[0].webhooks[0]",
		"queues: [{name: a, label: " + long + "}]": "queues[0].label",
		"queues: [{name: a}]\nrouting: [{match: {team: x}, queue: a}, {match: {team: y}, queue: b}]": `routing[1].queue: no queue "b" (queues: a)`,
		"routing: [{match: {team: x}}]":                                               "routing[0].queue: name the queue",
		"routing: [{match: {team: x}, queue: pharma}]":                                `routing[0].queue: no queue "pharma": no queues are configured`,
		"routing: [{match: {zone: x}, queue: default}]":                               `routing[0].match: unknown dimension "zone"`,
		"routing: [{match: {}, queue: default}]":                                      "routing[0].match: name at least one dimension",
		"routing: [{match: {team: ''}, queue: default}]":                              "routing[0].match.team",
		"routing: [{match: {team: []}, queue: default}]":                              "routing[0].match.team",
		"routing: [{match: {team: {a: b}}, queue: default}]":                          "want a value or a list of values",
		"default_queue: nope":                                                         `default_queue: no queue "nope"`,
		"queues: [{name: a}]\ndefault_queue: b":                                       `default_queue: no queue "b" (queues: a)`,
		"queues: [{name: a, webhooks: ['http://10.0.0.1/x']}]\nsla: 1h":               "", // checked by CheckReceivers below
		"queues: [{name: a, sla: 1h, unknown: 1}]":                                    "unknown",
		"routing: [{match: {team: x}, queue: default, when: always}]":                 "when",
		"queues: [{name: a}]\nrouting: [{match: {channel: phone}, queue: a}]\nsla: x": "sla: must be",
	}
	for text, want := range bad {
		_, err := ParseConfig(text, store.DefaultSchema(), store.DefaultRollups(), time.ParseDuration)
		if want == "" {
			if err != nil {
				t.Errorf("%q: %v", text, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error with %q", text, err, want)
		}
	}
	// A queue's receivers are receivers: private addresses are refused,
	// and they need the signing secret (HasReceivers).
	c, err := ParseConfig("queues: [{name: a, webhooks: ['http://10.0.0.1/x']}]", store.DefaultSchema(), store.DefaultRollups(), time.ParseDuration)
	must(t, err)
	if err := c.CheckReceivers(); err == nil || !strings.Contains(err.Error(), "queues[0].webhooks[0]") {
		t.Errorf("private queue receiver: %v", err)
	}
	if !c.HasReceivers() || parseTestConfig(t, "queues: [{name: a}]").HasReceivers() {
		t.Error("HasReceivers does not count queue receivers")
	}
}

// TestRouteFirstMatch: every dimension of a rule must match, any of a
// rule's values matches, the first matching rule wins, and what no rule
// matches goes to the default queue.
func TestRouteFirstMatch(t *testing.T) {
	c := parseTestConfig(t, routedYAML)
	cases := []struct {
		d    store.Dims
		want string
	}{
		{store.Dims{Segment: "enterprise", Channel: "phone", Team: "billing"}, "enterprise-desk"}, // both rules match: the first wins
		{store.Dims{Segment: "enterprise", Channel: "chat"}, "enterprise-desk"},
		{store.Dims{Segment: "enterprise", Channel: "email", Team: "billing"}, "billing-desk"}, // email is not listed
		{store.Dims{Segment: "enterprise", Channel: "email"}, "floor"},
		{store.Dims{Segment: "smb", Channel: "phone"}, "floor"},
		{store.Dims{Channel: "phone"}, "floor"},                     // no segment: no match
		{store.Dims{Team: "billing", Agent: "ana"}, "billing-desk"}, // other dimensions do not matter
		{store.Dims{}, "floor"},
	}
	for _, tc := range cases {
		if got := c.Route(tc.d); got.Name != tc.want {
			t.Errorf("%+v: %s, want %s", tc.d, got.Name, tc.want)
		}
	}
}

// TestReassignOnEngines: FollowUp.Reassign through Engine.Update, on both
// engines: a move to another queue takes its due time and clears the
// claim, a move to a person claims it for them, "" clears the claim, a
// repeat changes nothing, a resolved follow-up refuses (ErrResolved, a
// conflict), and concurrent reassignments each land (no lost update: every
// one is in the history).
func TestReassignOnEngines(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			_, err := e.Open(ctx, FollowUp{ID: "r1", Score: 2, At: t0, Opened: t0, Due: t0.Add(24 * time.Hour), Status: Open})
			must(t, err)
			_, err = e.Open(ctx, FollowUp{ID: "r2", Score: 1, Queue: "floor", At: t0, Opened: t0.Add(time.Second), Due: t0.Add(24 * time.Hour), Status: Open})
			must(t, err)
			at := t0.Add(time.Minute)
			reassign := func(id string, m Move) (FollowUp, bool, error) {
				var changed bool
				f, err := e.Update(ctx, id, func(f *FollowUp) error {
					var err error
					changed, err = f.Reassign(m, at)
					return err
				})
				return f, changed, err
			}
			_, err = e.Update(ctx, "r1", func(f *FollowUp) error { return f.Claim("dana", at) })
			must(t, err)
			f, changed, err := reassign("r1", Move{By: "sup", From: "default", Queue: "pharma", Due: t0.Add(2 * time.Hour)})
			must(t, err)
			if !changed || f.Queue != "pharma" || !f.Due.Equal(t0.Add(2*time.Hour)) || f.Status != Open || f.ClaimedBy != "" || f.ClaimedAt != nil {
				t.Fatalf("moved: %+v", f)
			}
			lee, nobody := "lee", ""
			f, _, err = reassign("r1", Move{By: "sup", From: "pharma", Person: &lee})
			must(t, err)
			if f.Status != Claimed || f.ClaimedBy != "lee" || f.ClaimedAt == nil || f.Queue != "pharma" {
				t.Fatalf("given to lee: %+v", f)
			}
			if _, changed, err := reassign("r1", Move{By: "sup", From: "pharma", Queue: "pharma", Person: &lee}); err != nil || changed {
				t.Fatalf("a repeat: changed %v, %v", changed, err)
			}
			// A move with a person keeps them.
			f, _, err = reassign("r1", Move{By: "sup", From: "pharma", Queue: "devices", Due: t0.Add(3 * time.Hour), Person: &lee})
			must(t, err)
			if f.Queue != "devices" || f.ClaimedBy != "lee" || f.Status != Claimed {
				t.Fatalf("moved with lee: %+v", f)
			}
			f, _, err = reassign("r1", Move{By: "sup", From: "devices", Person: &nobody})
			must(t, err)
			if f.Status != Open || f.ClaimedBy != "" {
				t.Fatalf("unclaimed: %+v", f)
			}
			list, _, err := e.Unresolved(ctx, 0)
			must(t, err)
			if len(list) != 2 || list[0].ID != "r1" {
				t.Fatalf("unresolved %+v", list)
			}
			got := list[0]
			steps := []string{}
			for _, s := range got.History {
				steps = append(steps, fmt.Sprintf("%s %s %s>%s to=%q unclaimed=%v", s.By, s.Action, s.From, s.Queue, s.To, s.Unclaimed))
			}
			wantSteps := `dana claimed > to="" unclaimed=false|sup reassigned default>pharma to="" unclaimed=true|sup reassigned > to="lee" unclaimed=false|` +
				`sup reassigned pharma>devices to="" unclaimed=false|sup reassigned > to="" unclaimed=true`
			if strings.Join(steps, "|") != wantSteps || got.Queue != "devices" || !got.Due.Equal(t0.Add(3*time.Hour)) {
				t.Errorf("stored: queue %s due %s history\n%s\nwant\n%s", got.Queue, got.Due, strings.Join(steps, "|"), wantSteps)
			}
			_, err = e.Update(ctx, "r1", func(f *FollowUp) error { return f.Resolve("kim", "called back", at) })
			must(t, err)
			if _, _, err := reassign("r1", Move{By: "sup", From: "devices", Queue: "floor"}); !errors.Is(err, ErrResolved) || !errors.Is(err, ErrConflict) {
				t.Fatalf("reassign a resolved one: %v, want ErrResolved", err)
			}
			done, err := e.ResolvedSince(ctx, t0)
			must(t, err)
			if len(done) != 1 || done[0].Queue != "devices" || done[0].Note != "called back" || done[0].History[len(done[0].History)-1].Action != ActionResolved {
				t.Fatalf("resolved %+v", done)
			}
			// Concurrent reassignments of one follow-up are serialised:
			// each lands, none is lost.
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := fmt.Sprint("agent", i)
					if _, _, err := reassign("r2", Move{By: "sup", From: "floor", Person: &p}); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			list, _, err = e.Unresolved(ctx, 0)
			must(t, err)
			if len(list) != 1 || len(list[0].History) != 8 || list[0].Status != Claimed || list[0].ClaimedBy != list[0].History[7].To {
				t.Fatalf("after 8 concurrent reassignments: %+v", list)
			}
		})
	}
}

// oldFollowUp is a follow-up as stored before queues existed: no queue, no
// history.
const oldFollowUp = `{"id":"old-1","score":2,"channel":"phone","team":"billing","at":"2026-12-01T14:00:00Z",` +
	`"opened":"2026-12-01T14:00:01Z","due":"2026-12-02T00:00:00Z","status":"claimed","claimed_by":"dana",` +
	`"claimed_at":"2026-12-01T14:05:00Z"}`

// TestOldFollowUpReadsAsDefaultQueue: a follow-up stored in the format from
// before queues (written as raw JSON on Redis) lists in the default queue,
// filters by it, and moves to another queue like any other.
func TestOldFollowUpReadsAsDefaultQueue(t *testing.T) {
	for name, e := range engines(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if r, ok := e.(*Redis); ok {
				must(t, r.rdb.Set(ctx, r.keys.FollowUp("old-1"), oldFollowUp, 0).Err())
				must(t, r.rdb.ZAdd(ctx, r.keys.FollowUpsUnresolved(), redis.Z{Score: float64(t0.Add(time.Second).UnixMilli()), Member: "old-1"}).Err())
			} else {
				var f FollowUp
				must(t, json.Unmarshal([]byte(oldFollowUp), &f))
				_, err := e.Open(ctx, f)
				must(t, err)
			}
			now := t0.Add(time.Hour)
			svc := New(Options{Config: parseTestConfig(t, routedYAML), Engine: e, Calendar: window.MustCalendar(time.UTC), Now: func() time.Time { return now }})
			items, err := svc.Inbox(ctx, InboxFilter{Queue: "floor"})
			must(t, err)
			if len(items) != 1 || items[0].ID != "old-1" || items[0].Queue != "floor" || items[0].QueueLabel != "floor" ||
				items[0].ClaimedBy != "dana" || items[0].AgeSeconds != 3600 || items[0].Overdue {
				t.Fatalf("old follow-up in the default queue: %+v", items)
			}
			if items, err := svc.Inbox(ctx, InboxFilter{Queue: "billing-desk"}); err != nil || len(items) != 0 {
				t.Fatalf("billing-desk: %+v, %v", items, err)
			}
			it, err := svc.Reassign(ctx, "old-1", Reassignment{By: "sup", Queue: "enterprise-desk"})
			must(t, err)
			if it.Queue != "enterprise-desk" || !it.Due.Equal(t0.Add(2*time.Hour)) || it.Status != Open || len(it.History) != 1 || it.History[0].From != "floor" {
				t.Fatalf("moved: %+v", it)
			}
		})
	}
}

// routedConfig is routedYAML with the given receivers, timing fit for
// tests, and answers up to 4h old still news.
func routedConfig(t *testing.T, center, ent, floor string) Config {
	c := parseTestConfig(t, fmt.Sprintf(`
max_age: 4h
sla: same-day
webhooks: [%q]
queues:
  - {name: enterprise-desk, label: Enterprise desk, sla: 2h, webhooks: [%q]}
  - {name: billing-desk, sla: 4h}
  - {name: floor, label: Floor supervisors, sla: 24h, webhooks: [%q, %q]}
routing:
  - {match: {segment: enterprise, channel: [phone, chat]}, queue: enterprise-desk}
  - {match: {team: billing}, queue: billing-desk}
default_queue: floor
`, center, ent, floor, center))
	c.Backoff, c.MaxBackoff, c.Timeout = 50*time.Millisecond, 200*time.Millisecond, 2*time.Second
	return c
}

// receivedBy lists the follow-up ids of the events a receiver took, by
// event.
func receivedBy(t *testing.T, r *receiver) map[string][]string {
	out := map[string][]string{}
	for _, body := range r.delivered() {
		var ev struct {
			Event    string   `json:"event"`
			FollowUp FollowUp `json:"follow_up"`
		}
		must(t, json.Unmarshal(body, &ev))
		out[ev.Event] = append(out[ev.Event], ev.FollowUp.ID+"@"+ev.FollowUp.Queue)
	}
	for _, ids := range out {
		slices.Sort(ids)
	}
	return out
}

// TestRoutingQueues: on both engines, detractors are routed to their
// queues (first match wins, the rest to the default queue), each due by its
// queue's SLA, and delivered to the center's receivers and their queue's
// (a receiver in both gets one delivery); the inbox filters by queue and
// status; a reassignment moves a follow-up with the new queue's SLA and
// tells that queue's receivers; every change is visible to a second node.
func TestRoutingQueues(t *testing.T) {
	for name, start := range map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness} {
		t.Run(name, func(t *testing.T) {
			center, ent, floor := newReceiver(t, 0), newReceiver(t, 0), newReceiver(t, 0)
			cfg := routedConfig(t, center.srv.URL, ent.srv.URL, floor.srv.URL)
			h := start(t, cfg)
			other := h.second(cfg)
			ctx := context.Background()
			now := time.Now().UTC().Truncate(time.Second)
			old := now.Add(-3 * time.Hour)
			record(t, h.store,
				store.Response{ID: "e1", Score: 1, Dims: store.Dims{Segment: "enterprise", Channel: "phone", Team: "billing"}, At: now},
				store.Response{ID: "e2", Score: 2, Dims: store.Dims{Segment: "enterprise", Channel: "email", Team: "billing"}, At: now},
				store.Response{ID: "e3", Score: 3, Dims: store.Dims{Segment: "consumer", Channel: "chat", Team: "support"}, At: now},
				store.Response{ID: "e4", Score: 4, Dims: store.Dims{Segment: "enterprise", Channel: "chat"}, At: old},
				store.Response{ID: "e5", Score: 0, Dims: store.Dims{Segment: "smb", Channel: "phone"}, At: old},
				store.Response{ID: "p1", Score: 10, Dims: store.Dims{Segment: "enterprise", Channel: "phone"}, At: now},
			)
			eventually(t, "every detractor delivered", 10*time.Second, func() bool {
				return center.received() == 5 && ent.received() == 2 && floor.received() == 2
			})
			time.Sleep(300 * time.Millisecond)
			if got := fmt.Sprint(receivedBy(t, center)); got != "map[detractor:[e1@enterprise-desk e2@billing-desk e3@floor e4@enterprise-desk e5@floor]]" {
				t.Errorf("center receiver: %s", got)
			}
			if got := fmt.Sprint(receivedBy(t, ent)); got != "map[detractor:[e1@enterprise-desk e4@enterprise-desk]]" {
				t.Errorf("enterprise-desk receiver: %s", got)
			}
			if got := fmt.Sprint(receivedBy(t, floor)); got != "map[detractor:[e3@floor e5@floor]]" {
				t.Errorf("floor receiver: %s", got)
			}
			if n := center.received(); n != 5 {
				t.Errorf("the center's receiver, also the floor's, took %d deliveries, want 5 (one per detractor)", n)
			}
			due := map[string]time.Time{"e1": now.Add(2 * time.Hour), "e2": now.Add(4 * time.Hour), "e3": now.Add(24 * time.Hour),
				"e4": old.Add(2 * time.Hour), "e5": old.Add(24 * time.Hour)}
			all, err := other.Inbox(ctx, InboxFilter{})
			must(t, err)
			if len(all) != 5 {
				t.Fatalf("inbox %+v", all)
			}
			for _, it := range all {
				if !it.Due.Equal(due[it.ID]) {
					t.Errorf("%s in %s: due %s, want %s", it.ID, it.Queue, it.Due, due[it.ID])
				}
			}
			ids := func(f InboxFilter) string {
				t.Helper()
				items, err := other.Inbox(ctx, f)
				must(t, err)
				var out []string
				for _, it := range items {
					out = append(out, it.ID)
				}
				slices.Sort(out)
				return strings.Join(out, ",")
			}
			if got := ids(InboxFilter{Queue: "enterprise-desk"}); got != "e1,e4" {
				t.Errorf("enterprise-desk: %s", got)
			}
			if got := ids(InboxFilter{Queue: "floor"}); got != "e3,e5" {
				t.Errorf("floor: %s", got)
			}
			if got := ids(InboxFilter{Status: "overdue"}); got != "e4" {
				t.Errorf("overdue: %s (e4 is 3h old in a 2h queue; e5 as old in a 24h one)", got)
			}

			// Claimed by dana, then moved to the enterprise desk: the
			// claim goes, the due time is the new queue's from the answer.
			_, err = h.svc.Claim(ctx, "e3", "dana")
			must(t, err)
			if got := ids(InboxFilter{Status: "claimed"}); got != "e3" {
				t.Errorf("claimed: %s", got)
			}
			it, err := h.svc.Reassign(ctx, "e3", Reassignment{By: "sup", Queue: "enterprise-desk"})
			must(t, err)
			if it.Queue != "enterprise-desk" || it.QueueLabel != "Enterprise desk" || it.Status != Open || it.ClaimedBy != "" || !it.Due.Equal(now.Add(2*time.Hour)) {
				t.Fatalf("reassigned: %+v", it)
			}
			if got := ids(InboxFilter{Queue: "enterprise-desk", Status: "unclaimed"}); got != "e1,e3,e4" {
				t.Errorf("enterprise-desk unclaimed on the other node: %s", got)
			}
			eventually(t, "the enterprise desk told of the move", 5*time.Second, func() bool { return ent.received() == 3 })
			if got := receivedBy(t, ent)[EventReassigned]; strings.Join(got, ",") != "e3@enterprise-desk" {
				t.Errorf("reassigned events: %v", got)
			}
			lee := "lee"
			if _, err := h.svc.Reassign(ctx, "e1", Reassignment{By: "sup", Person: &lee}); err != nil {
				t.Fatal(err)
			}
			claimed, err := other.Inbox(ctx, InboxFilter{Status: "claimed"})
			must(t, err)
			if len(claimed) != 1 || claimed[0].ID != "e1" || claimed[0].ClaimedBy != "lee" || claimed[0].History[0].By != "sup" {
				t.Errorf("claimed on the other node: %+v", claimed)
			}
			if _, err := h.svc.Resolve(ctx, "e1", "lee", "called back, refund issued"); err != nil {
				t.Fatal(err)
			}
			if _, err := other.Reassign(ctx, "e1", Reassignment{By: "sup", Queue: "floor"}); !errors.Is(err, ErrResolved) {
				t.Errorf("reassign a resolved one on the other node: %v", err)
			}
			resolved, err := other.Inbox(ctx, InboxFilter{Status: "resolved", Queue: "enterprise-desk"})
			must(t, err)
			if len(resolved) != 1 || resolved[0].Note != "called back, refund issued" || resolved[0].ResolvedBy != "lee" {
				t.Errorf("resolved: %+v", resolved)
			}
			if _, err := h.svc.Reassign(ctx, "e2", Reassignment{By: "sup", Queue: "nope"}); !errors.Is(err, ErrUnknownQueue) {
				t.Errorf("unknown queue: %v", err)
			}
			if _, err := other.Inbox(ctx, InboxFilter{Queue: "nope"}); !errors.Is(err, ErrUnknownQueue) {
				t.Errorf("list an unknown queue: %v", err)
			}
			if _, err := other.Inbox(ctx, InboxFilter{Status: "later"}); !errors.Is(err, ErrBadStatus) {
				t.Errorf("bad status: %v", err)
			}
			if _, err := h.svc.Reassign(ctx, "nope", Reassignment{By: "sup", Queue: "floor"}); !errors.Is(err, ErrNotFound) {
				t.Errorf("reassign unknown: %v", err)
			}
		})
	}
}

// TestNoQueuesStoresAsBefore: on both engines, without queues or routing
// rules a follow-up is stored without a queue (the JSON has no "queue" key
// on Redis, as before queues existed), due by alerts.sla, and the inbox
// lists it in the built-in default queue.
func TestNoQueuesStoresAsBefore(t *testing.T) {
	for name, start := range map[string]func(*testing.T, Config) harness{"memory": memHarness, "redis": redisHarness} {
		t.Run(name, func(t *testing.T) {
			cfg := fastConfig()
			cfg.SLA = 3 * time.Hour
			h := start(t, cfg)
			ctx := context.Background()
			at := time.Now().UTC().Truncate(time.Second)
			record(t, h.store, store.Response{ID: "n1", Score: 2, Dims: store.Dims{Segment: "enterprise", Channel: "phone"}, At: at})
			var items []Item
			eventually(t, "the follow-up", 5*time.Second, func() bool {
				var err error
				items, err = h.svc.Inbox(ctx, InboxFilter{Queue: DefaultQueueName})
				return err == nil && len(items) == 1
			})
			if it := items[0]; it.Queue != DefaultQueueName || it.QueueLabel != builtinQueueLabel || !it.Due.Equal(at.Add(3*time.Hour)) || len(it.History) != 0 {
				t.Errorf("listed %+v", it)
			}
			fus, _, err := h.eng.Unresolved(ctx, 0)
			must(t, err)
			if len(fus) != 1 || fus[0].Queue != "" {
				t.Errorf("stored %+v", fus)
			}
			if r, ok := h.eng.(*Redis); ok {
				raw, err := r.rdb.Get(ctx, r.keys.FollowUp("n1")).Result()
				must(t, err)
				if strings.Contains(raw, `"queue"`) || strings.Contains(raw, `"history"`) {
					t.Errorf("stored JSON %s", raw)
				}
			}
		})
	}
}

// TestRouteByJourneyAndCustomDimension: rules may name journey and a
// dimension of the operator's own, which a follow-up keeps (FollowUp.Dims),
// and a dimension the schema lacks is refused.
func TestRouteByJourneyAndCustomDimension(t *testing.T) {
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	const text = `
queues: [{name: pharma}, {name: north}, {name: floor}]
routing:
  - {match: {journey: pharma}, queue: pharma}
  - {match: {region: north}, queue: north}
default_queue: floor
`
	c, err := ParseConfig(text, schema, store.DefaultRollups(), time.ParseDuration)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    FollowUp
		want string
	}{
		{FollowUp{Journey: "pharma", Custom: map[string]string{"region": "north"}}, "pharma"},
		{FollowUp{Journey: "new order", Custom: map[string]string{"region": "north"}}, "north"},
		{FollowUp{Journey: "new order", Custom: map[string]string{"region": "south"}}, "floor"},
		{FollowUp{}, "floor"},
	} {
		if got := c.Route(tc.f.Dims()); got.Name != tc.want {
			t.Errorf("%+v: %s, want %s", tc.f, got.Name, tc.want)
		}
	}
	if _, err := ParseConfig(text, store.DefaultSchema(), store.DefaultRollups(), time.ParseDuration); err == nil ||
		!strings.Contains(err.Error(), `routing[1].match`) || !strings.Contains(err.Error(), `"region"`) {
		t.Errorf("region without the dimension configured: %v", err)
	}
}
