// Package redisstream ingests survey responses that producers (an IVR, a CRM
// job) add to a Redis stream with XADD, using the fields of the HTTP API;
// an entry with the field kind=offer is an offered survey, with the fields
// of POST /api/v1/offers.
// Every node runs a consumer in one consumer group, so each entry is
// processed by one node; entries are validated by the same rules as the
// API, recorded through the same upsert path, and acknowledged only after
// the store recorded them. Invalid entries go to a dead-letter stream with
// the reason. Entries left pending by a consumer that died are claimed by
// another (XAUTOCLAIM) after a while; recording them again is harmless,
// because the response id is an idempotency key.
//
// Order: each entry is applied when it is processed. Two versions of one
// response id in the stream are applied in stream order while one consumer
// has them, but an entry reclaimed from a dead consumer is applied after
// entries read since. Producers that change a response (not just retry it)
// should send a "version" field, as in the API, so the older entry is stale
// whenever it is applied; without one, they should leave more than the claim
// delay (30 s) between versions.
package redisstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Recorder stores validated responses (the store).
type Recorder interface {
	Record(ctx context.Context, batch []store.Response) (store.RecordResult, error)
}

// Config tunes a consumer. Zero values take the defaults.
type Config struct {
	Stream string
	Group  string
	// Consumer names this node in the group; default host-pid.
	Consumer string
	// DeadLetter receives invalid entries; default
	// rediskeys.StreamDeadLetters(Stream), Stream + ":dead".
	DeadLetter string
	// Batch is the most entries read at once.
	Batch int64
	// Block is how long one read waits for new entries.
	Block time.Duration
	// ClaimIdle is how long an entry may stay pending on another consumer
	// before this one takes it over; ClaimEvery is how often it looks.
	ClaimIdle  time.Duration
	ClaimEvery time.Duration
	Ingest     ingest.Options
	Now        func() time.Time
	Logger     *slog.Logger
	// crashAfterRead, in tests, makes the consumer stop dead after its n-th
	// read, before recording or acknowledging: a killed node.
	crashAfterRead int
}

// Defaults.
const (
	defaultBatch      = 500
	defaultBlock      = 2 * time.Second
	defaultClaimIdle  = 30 * time.Second
	defaultClaimEvery = 5 * time.Second
	retryMin          = 200 * time.Millisecond
	retryMax          = 5 * time.Second
)

// Consumer reads one stream in one group.
type Consumer struct {
	rdb redis.UniversalClient
	rec Recorder
	cfg Config
}

// New makes a consumer; Run starts it.
func New(rdb redis.UniversalClient, rec Recorder, cfg Config) *Consumer {
	if cfg.Consumer == "" {
		host, _ := os.Hostname()
		cfg.Consumer = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	if cfg.DeadLetter == "" {
		cfg.DeadLetter = rediskeys.StreamDeadLetters(cfg.Stream)
	}
	if cfg.Batch <= 0 {
		cfg.Batch = defaultBatch
	}
	if cfg.Block <= 0 {
		cfg.Block = defaultBlock
	}
	if cfg.ClaimIdle <= 0 {
		cfg.ClaimIdle = defaultClaimIdle
	}
	if cfg.ClaimEvery <= 0 {
		cfg.ClaimEvery = defaultClaimEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Consumer{rdb: rdb, rec: rec, cfg: cfg}
}

// errCrashed ends Run in tests that simulate a killed node.
var errCrashed = errors.New("redisstream: simulated crash")

// Run consumes until ctx ends. A batch being recorded when ctx ends is
// finished and acknowledged first, so a graceful stop leaves nothing
// pending. Redis failures are logged and retried with backoff.
func (c *Consumer) Run(ctx context.Context) error {
	log := c.cfg.Logger.With(slog.String("stream", c.cfg.Stream), slog.String("consumer", c.cfg.Consumer))
	backoff := retryMin
	lastClaim := time.Time{}
	reads := 0
	for ctx.Err() == nil {
		err := c.ensureGroup(ctx)
		if err == nil && time.Since(lastClaim) >= c.cfg.ClaimEvery {
			err = c.claim(ctx)
			lastClaim = time.Now()
		}
		if err == nil {
			var msgs []redis.XMessage
			msgs, err = c.read(ctx)
			if err == nil && len(msgs) > 0 {
				reads++
				if c.cfg.crashAfterRead > 0 && reads >= c.cfg.crashAfterRead {
					return errCrashed
				}
				err = c.process(ctx, msgs)
			}
		}
		if err == nil {
			backoff = retryMin
			continue
		}
		if ctx.Err() != nil {
			break
		}
		log.Warn("stream ingest: retrying", slog.Any("err", err), slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, retryMax)
	}
	return nil
}

// ensureGroup creates the group at the start of the stream (so entries
// added before the first node started are not lost), and the stream if
// needed. An existing group is fine.
func (c *Consumer) ensureGroup(ctx context.Context) error {
	err := c.rdb.XGroupCreateMkStream(ctx, c.cfg.Stream, c.cfg.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create consumer group: %w", err)
	}
	return nil
}

func (c *Consumer) read(ctx context.Context) ([]redis.XMessage, error) {
	streams, err := c.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: c.cfg.Group, Consumer: c.cfg.Consumer,
		Streams: []string{c.cfg.Stream, ">"}, Count: c.cfg.Batch, Block: c.cfg.Block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the stream: %w", err)
	}
	var out []redis.XMessage
	for _, s := range streams {
		out = append(out, s.Messages...)
	}
	return out, nil
}

// claim takes over entries another consumer left pending for too long and
// processes them.
func (c *Consumer) claim(ctx context.Context) error {
	start := "0-0"
	for {
		msgs, next, err := c.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
			Stream: c.cfg.Stream, Group: c.cfg.Group, Consumer: c.cfg.Consumer,
			MinIdle: c.cfg.ClaimIdle, Start: start, Count: c.cfg.Batch,
		}).Result()
		if err != nil {
			return fmt.Errorf("claim pending entries: %w", err)
		}
		if len(msgs) > 0 {
			c.cfg.Logger.Info("stream ingest: claimed entries of a silent consumer", slog.Int("entries", len(msgs)))
			if err := c.process(ctx, msgs); err != nil {
				return err
			}
		}
		if next == "0-0" || next == "" {
			return nil
		}
		start = next
	}
}

// process validates a batch of entries, records the valid ones, then in one
// transaction dead-letters the invalid ones and acknowledges all. It keeps
// going when ctx ends, so a batch that was read is not left half done.
func (c *Consumer) process(ctx context.Context, msgs []redis.XMessage) error {
	ctx = context.WithoutCancel(ctx)
	now := c.cfg.Now()
	var valid []store.Response
	type dead struct {
		msg    redis.XMessage
		reason string
	}
	var invalid []dead
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
		item, kind, problems := itemOf(m.Values)
		if len(problems) == 0 {
			var details []fault.Detail
			var r store.Response
			r, details = ingest.ValidateKind(kind, i, item, now, c.cfg.Ingest)
			if len(details) == 0 {
				valid = append(valid, r)
				continue
			}
			for _, d := range details {
				problems = append(problems, d.Field+": "+d.Reason)
			}
		}
		invalid = append(invalid, dead{msg: m, reason: strings.Join(problems, "; ")})
	}
	if len(valid) > 0 {
		if _, err := c.rec.Record(ctx, valid); err != nil {
			return fmt.Errorf("record %d responses: %w", len(valid), err)
		}
	}
	deadLetter := func(p redis.Pipeliner) {
		for _, d := range invalid {
			values := map[string]any{"error": d.reason, "source_id": d.msg.ID}
			for k, v := range d.msg.Values {
				values["field_"+k] = v
			}
			p.XAdd(ctx, &redis.XAddArgs{Stream: c.cfg.DeadLetter, Values: values})
		}
	}
	tx := c.rdb.TxPipeline()
	deadLetter(tx)
	tx.XAck(ctx, c.cfg.Stream, c.cfg.Group, ids...)
	_, err := tx.Exec(ctx)
	if errors.Is(err, redis.ErrCrossSlot) {
		// On a Redis Cluster the stream and its dead-letter stream hash to
		// different slots unless their names share a hash tag: then write
		// the dead letters first and acknowledge after. A failure in between
		// dead-letters those entries twice, never loses one.
		p := c.rdb.Pipeline()
		deadLetter(p)
		if _, err = p.Exec(ctx); err == nil {
			err = c.rdb.XAck(ctx, c.cfg.Stream, c.cfg.Group, ids...).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("acknowledge %d entries: %w", len(ids), err)
	}
	if len(invalid) > 0 {
		c.cfg.Logger.Warn("stream ingest: invalid entries dead-lettered", slog.Int("entries", len(invalid)),
			slog.String("dead_letter", c.cfg.DeadLetter), slog.String("first", invalid[0].reason))
	}
	return nil
}

// itemOf maps an entry's fields to an ingest item and its kind. Tags are a
// JSON array or comma-separated; fields that are neither built in nor
// configured dimensions are rejected by Validate, as the API does. A
// "kind" field says what the entry is: "response" (the default) or
// "offer", an offered survey, validated as POST /api/v1/offers does.
func itemOf(values map[string]any) (ingest.Item, store.Kind, []string) {
	var it ingest.Item
	var problems []string
	kind := store.KindResponse
	for k, raw := range values {
		v, ok := raw.(string)
		if !ok {
			problems = append(problems, k+": must be a string")
			continue
		}
		switch k {
		case fieldKind:
			switch v {
			case kindResponse:
			case kindOffer:
				kind = store.KindOffer
			default:
				problems = append(problems, fmt.Sprintf("kind: must be %s or %s", kindResponse, kindOffer))
			}
		case "id":
			it.ID = &v
		case "score":
			it.Score = &v
		case "csat":
			it.CSAT = &v
		case "offer_id":
			it.OfferID = &v
		case "channel":
			it.Channel = &v
		case "segment":
			it.Segment = &v
		case "team":
			it.Team = &v
		case "agent":
			it.Agent = &v
		case "journey":
			it.Journey = &v
		case "comment":
			it.Comment = &v
		case "at":
			it.At = &v
		case "version":
			it.Version = &v
		case "tags":
			if strings.HasPrefix(strings.TrimSpace(v), "[") {
				if err := json.Unmarshal([]byte(v), &it.Tags); err != nil {
					problems = append(problems, "tags: must be a JSON array of strings or comma-separated")
				}
			} else if v != "" {
				for _, t := range strings.Split(v, ",") {
					it.Tags = append(it.Tags, strings.TrimSpace(t))
				}
			}
		default:
			// A configured dimension, or else an unknown field: Validate
			// tells them apart by the schema in the ingest options.
			if it.Custom == nil {
				it.Custom = map[string]string{}
			}
			it.Custom[k] = v
		}
	}
	return it, kind, problems
}

// The entry field that tells an offer from a response, and its values.
const (
	fieldKind    = "kind"
	kindResponse = "response"
	kindOffer    = "offer"
)
