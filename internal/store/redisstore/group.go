package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Group reads the change log in a Redis consumer group: every entry goes to
// one consumer of the group and stays pending until that consumer
// acknowledges it; entries another consumer left pending for minIdle (it
// died) are claimed again. Consumers of the log that must act once per
// change across nodes, at least once (detractor alerts), use it.
type Group struct {
	rdb      groupRediser
	stream   string
	name     string
	consumer string
	minIdle  time.Duration
}

type groupRediser interface {
	XGroupCreateMkStream(ctx context.Context, stream, group, start string) *redis.StatusCmd
	XReadGroup(ctx context.Context, a *redis.XReadGroupArgs) *redis.XStreamSliceCmd
	XAutoClaim(ctx context.Context, a *redis.XAutoClaimArgs) *redis.XAutoClaimCmd
	XAck(ctx context.Context, stream, group string, ids ...string) *redis.IntCmd
}

// NewGroup makes a reader of the tenant's change log in group name, as
// consumer (unique per node). Ensure creates the group at the log's end:
// changes recorded before it existed are not read.
func NewGroup(rdb groupRediser, tenant, name, consumer string, minIdle time.Duration) *Group {
	return &Group{rdb: rdb, stream: rediskeys.For(tenant).ChangeLog(), name: name, consumer: consumer, minIdle: minIdle}
}

// Ensure creates the group at the log's end if it does not exist yet. A
// node runs it before it serves, so every change acknowledged from then on
// is read; a group created only at the first Read would skip what was
// recorded in between.
func (g *Group) Ensure(ctx context.Context) error {
	if err := g.rdb.XGroupCreateMkStream(ctx, g.stream, g.name, "$").Err(); err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return classify(err, "create the change log consumer group")
	}
	return nil
}

// Read returns entries to handle: first those another consumer left pending
// for longer than minIdle, then new ones, waiting up to block for them.
func (g *Group) Read(ctx context.Context, block time.Duration) ([]store.LogEntry, error) {
	entries, err := g.read(ctx, block)
	if errors.Is(err, errNoGroup) {
		// The group is gone although Ensure made it: Redis lost its data
		// (a restart without persistence, a flush), the log with it. The
		// log holds only what was recorded since, none of it read yet:
		// re-create the group at its start, not its end, or every change
		// acknowledged between the loss and this read is skipped. (Where
		// Ensure failed at start, on a log no group ever read, this reads
		// the whole log once: its detractors without a follow-up get one,
		// late.)
		if err := g.rdb.XGroupCreateMkStream(ctx, g.stream, g.name, "0").Err(); err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
			return nil, classify(err, "create the change log consumer group")
		}
		entries, err = g.read(ctx, block)
	}
	if errors.Is(err, errNoGroup) {
		return nil, classify(err, "read the change log in a group")
	}
	return entries, err
}

var errNoGroup = errors.New("no consumer group")

// groupErr keeps NOGROUP recognisable and classifies everything else.
func groupErr(err error, doing string) error {
	if redis.HasErrorPrefix(err, "NOGROUP") {
		return fmt.Errorf("%s: %w: %w", doing, errNoGroup, err)
	}
	return classify(err, "%s", doing)
}

func (g *Group) read(ctx context.Context, block time.Duration) ([]store.LogEntry, error) {
	msgs, _, err := g.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: g.stream, Group: g.name, Consumer: g.consumer, MinIdle: g.minIdle, Start: "0-0", Count: tailCount,
	}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, groupErr(err, "claim pending change log entries")
	}
	if len(msgs) == 0 {
		streams, err := g.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: g.name, Consumer: g.consumer, Streams: []string{g.stream, ">"}, Count: tailCount, Block: block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil {
			return nil, groupErr(err, "read the change log in a group")
		}
		for _, st := range streams {
			msgs = append(msgs, st.Messages...)
		}
	}
	out := make([]store.LogEntry, 0, len(msgs))
	for _, msg := range msgs {
		e, _, err := decodeMessage(msg)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// Ack marks entries handled.
func (g *Group) Ack(ctx context.Context, pos ...store.Position) error {
	if len(pos) == 0 {
		return nil
	}
	ids := make([]string, len(pos))
	for i, p := range pos {
		ids[i] = p.String()
	}
	if err := g.rdb.XAck(ctx, g.stream, g.name, ids...).Err(); err != nil {
		return classify(err, "acknowledge change log entries")
	}
	return nil
}
