// Package redisstore is the production storage engine: counters in Redis
// hashes, upserts by one Lua script per batch, a change log in a Redis
// stream. Every node of a deployment points at the same Redis and holds no
// state of its own.
package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/redisurl"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

var _ store.Store = (*Store)(nil)

//go:embed record.lua
var recordLua string

// recordScript is created once: go-redis sends EVALSHA and falls back to
// EVAL when the server does not know the script yet.
var recordScript = redis.NewScript(recordLua)

// chunkSize bounds the responses one script call handles, so that a 10,000
// item request does not hold Redis for tens of milliseconds. Chunks are
// independent upserts: if a later chunk fails the client retries the batch
// and the earlier ones come back as duplicates.
const chunkSize = 1000

// maxNeedRounds bounds how often a chunk is re-sent because stored responses
// live in minutes the first call did not include (see record.lua). One extra
// round suffices unless another node changes the same ids meanwhile.
const maxNeedRounds = 4

// rediser lists the commands this engine uses; *redis.Client and
// *redis.ClusterClient both have them.
type rediser interface {
	redis.Scripter
	Pipeline() redis.Pipeliner
	TxPipeline() redis.Pipeliner
	ZRangeByScore(ctx context.Context, key string, opt *redis.ZRangeBy) *redis.StringSliceCmd
	XRead(ctx context.Context, a *redis.XReadArgs) *redis.XStreamSliceCmd
	XRevRangeN(ctx context.Context, stream, start, stop string, count int64) *redis.XMessageSliceCmd
	Ping(ctx context.Context) *redis.StatusCmd
	policyReader
}

// Config holds the engine's own settings.
type Config struct {
	// Tenant namespaces every key (inside a Cluster hash tag; "" is
	// rediskeys.DefaultTenant).
	Tenant string
	// ChangeLogMaxLen trims the change log stream, approximately.
	ChangeLogMaxLen int64
	// MinReplicas, when positive, is how many replicas must have a batch
	// before it is acknowledged: every chunk is followed by WAIT, and a
	// chunk fewer replicas took within MinReplicasTimeout is refused as
	// unavailable (see replicas.go).
	MinReplicas        int
	MinReplicasTimeout time.Duration
	// Timeout bounds each call into Redis (a whole Record, a Query, one
	// round trip of a snapshot), so a silent Redis costs a request at most
	// this long: it then fails as unavailable (503 with Retry-After)
	// instead of hanging with it. Zero means redisurl.DefaultTimeout.
	Timeout time.Duration
	// AllowEviction accepts a Redis whose maxmemory-policy may evict keys;
	// otherwise Open and Ping fail on one (see eviction.go).
	AllowEviction bool
	// Logger hears about the maxmemory-policy found; nil is silent.
	Logger *slog.Logger
}

// Store is the Redis engine.
type Store struct {
	rdb      rediser
	keys     rediskeys.Tenant
	opts     store.Options
	cfg      Config
	rollups  []string
	eviction evictionGuard
}

// New makes the engine on rdb, a client redisurl made: one server, a
// Sentinel master or a Redis Cluster. Every key of a tenant shares one hash
// slot, so the engine runs unchanged on a cluster: each script and MULTI
// goes to that slot's master. The client is shared with the rest of the
// process (alerting, the job claimer, the stream ingest), so the Store does
// not own it: whoever made it closes it, after the Store's last use. Call
// Ping to check that Redis answers and will not evict keys.
func New(rdb rediser, opts store.Options, cfg Config) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if cfg.ChangeLogMaxLen <= 0 {
		cfg.ChangeLogMaxLen = 100_000
	}
	if cfg.MinReplicasTimeout <= 0 {
		cfg.MinReplicasTimeout = DefaultMinReplicasTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = redisurl.DefaultTimeout
	}
	names := make([]string, len(opts.Rollups))
	for i, r := range opts.Rollups {
		names[i] = r.Name()
	}
	return &Store{rdb: rdb, keys: rediskeys.For(cfg.Tenant), opts: opts, cfg: cfg, rollups: names}
}

// Open makes the engine on rdb (New) and checks that Redis answers and
// will not evict keys (Ping), so a program refuses to start on a Redis it
// cannot use.
func Open(ctx context.Context, rdb rediser, opts store.Options, cfg Config) (*Store, error) {
	s := New(rdb, opts, cfg)
	if err := s.Ping(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// bounded gives one call into Redis its deadline. The client honours it on
// the socket (redisurl sets ContextTimeoutEnabled), so a stalled Redis
// fails the call when it passes and leaves nothing waiting behind it.
func (s *Store) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.cfg.Timeout)
}

// Record upserts a batch, chunk by chunk, each chunk in one atomic script.
// The whole batch shares one deadline. A chunk whose script call times out
// may still run once Redis wakes up; its outcome is unknown, so the batch
// fails as unavailable and the client resends it: the ids make the resend
// harmless (duplicates, or the same update again).
func (s *Store) Record(ctx context.Context, batch []store.Response) (store.RecordResult, error) {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	var total store.RecordResult
	for start := 0; start < len(batch); start += chunkSize {
		chunk := batch[start:min(start+chunkSize, len(batch))]
		res, err := s.recordChunk(ctx, chunk)
		if err != nil {
			return total, err
		}
		total.Add(res)
	}
	return total, nil
}

func (s *Store) recordChunk(ctx context.Context, chunk []store.Response) (store.RecordResult, error) {
	now := s.opts.Now()
	entries := make([]string, len(chunk))
	var minutes []int64
	// A copy with the derived themes: the caller's batch stays as it was.
	chunk = slices.Clone(chunk)
	for i, r := range chunk {
		r = s.opts.Derive(r)
		chunk[i] = r
		e := store.EntryOf(r, s.opts.Rollups)
		entries[i] = e.Encode()
		minutes = append(minutes, e.Minute())
	}
	minutes = sortedUnique(minutes)
	for round := 0; round < maxNeedRounds; round++ {
		keys, args := s.scriptInput(chunk, entries, minutes, now)
		reply, err := s.runRecord(ctx, keys, args)
		if err != nil {
			return store.RecordResult{}, err
		}
		need, res, err := parseReply(reply)
		if err != nil {
			return store.RecordResult{}, fault.Wrap(err, fault.Internal, "record responses")
		}
		if need == nil {
			return res, nil
		}
		minutes = sortedUnique(append(minutes, need...))
	}
	return store.RecordResult{}, fault.New(fault.Unavailable, "record responses: stored times kept changing under concurrent updates; retry")
}

// scriptInput lays out KEYS and ARGV as record.lua documents.
func (s *Store) scriptInput(chunk []store.Response, entries []string, minutes []int64, now time.Time) ([]string, []any) {
	R := len(s.rollups)
	keys := make([]string, 0, 2+len(minutes)*R*3+len(chunk))
	args := make([]any, 0, 6+R+4*len(minutes)+3*len(chunk))
	keys = append(keys, s.keys.ChangeLog(), s.keys.BucketIndex())
	args = append(args, now.Unix(), int64(s.opts.Retention.Dedupe/time.Second), s.cfg.ChangeLogMaxLen, R)
	for _, name := range s.rollups {
		args = append(args, name)
	}
	args = append(args, len(minutes))
	cal := s.opts.Calendar
	for _, m := range minutes {
		at := cal.Start(window.Minute, m)
		args = append(args, m)
		ids := [3]int64{}
		for gi, g := range window.Grans {
			ids[gi] = cal.Bucket(g, at)
			ttl := cal.End(g, ids[gi]).Add(s.opts.Retention.Of(g)).Sub(now)
			args = append(args, int64(ttl/time.Second))
		}
		for _, name := range s.rollups {
			for gi, g := range window.Grans {
				keys = append(keys, s.keys.Bucket(name, g, ids[gi]))
			}
		}
	}
	// Each item's record key, then the offers that answers name, each
	// once (record.lua reads a key's record once).
	for _, r := range chunk {
		if r.Kind == store.KindOffer {
			keys = append(keys, s.keys.Offer(r.ID))
		} else {
			keys = append(keys, s.keys.Response(r.ID))
		}
	}
	args = append(args, len(chunk))
	linkOf := make(map[string]int)
	var linkPayloads []any
	for i, r := range chunk {
		flags := "0"
		if r.AtGiven {
			flags = "1"
		}
		if id := s.opts.OfferOf(r); id != "" {
			l := linkOf[id]
			if l == 0 {
				linkPayloads = append(linkPayloads, store.PayloadOf(store.Response{ID: id, Kind: store.KindOffer}))
				l = len(linkPayloads)
				linkOf[id] = l
				keys = append(keys, s.keys.Offer(id))
			}
			flags += ":" + strconv.Itoa(l)
		}
		args = append(args, entries[i], flags, store.PayloadOf(r))
	}
	return keys, append(args, linkPayloads...)
}

// parseReply reads the script's answer: either the minutes it needs or the
// batch's result.
func parseReply(reply []any) ([]int64, store.RecordResult, error) {
	var res store.RecordResult
	if len(reply) > 0 && reply[0] == "need" {
		need := make([]int64, 0, len(reply)-1)
		for _, v := range reply[1:] {
			m, ok := v.(int64)
			if !ok {
				return nil, res, fmt.Errorf("script asked for minute %v (%T)", v, v)
			}
			need = append(need, m)
		}
		return need, res, nil
	}
	if len(reply) != 5 {
		return nil, res, fmt.Errorf("script returned %d values, want 5", len(reply))
	}
	// reply[3] is the change log id, which Record does not need.
	counts := map[int]*int{0: &res.Accepted, 1: &res.Updated, 2: &res.Duplicates, 4: &res.Stale}
	for i, p := range counts {
		n, ok := reply[i].(int64)
		if !ok {
			return nil, res, fmt.Errorf("script value %d is %T", i, reply[i])
		}
		*p = int(n)
	}
	return nil, res, nil
}

// Query composes the window from buckets of the covering rollup that are
// still kept (store.Options.Cover), read in one pipelined round trip.
func (s *Store) Query(ctx context.Context, q store.Query) ([]store.Group, error) {
	plan, err := store.PlanQuery(s.opts.Rollups, q)
	if err != nil {
		return nil, err
	}
	refs := s.opts.Cover(q.Span, s.opts.Now()).Refs
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(refs))
	for i, ref := range refs {
		cmds[i] = pipe.HGetAll(ctx, s.keys.Bucket(plan.Rollup.Name(), ref.Gran, ref.ID))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, classify(err, "read %d buckets", len(refs))
	}
	sums := make(map[string]store.Tally)
	for _, cmd := range cmds {
		if err := addFields(sums, cmd.Val()); err != nil {
			return nil, fault.Wrap(err, fault.Internal, "read buckets")
		}
	}
	f := store.NewFolder(plan)
	for g, d := range sums {
		if err := f.Add(g, d); err != nil {
			return nil, fault.Wrap(err, fault.Internal, "read buckets")
		}
	}
	return f.Groups(), nil
}

// addFields adds a bucket hash's fields, "group:cell" (store.Tally.AddCell)
// and their counts, to the groups' tallies.
func addFields(groups map[string]store.Tally, fields map[string]string) error {
	for field, val := range fields {
		i := strings.LastIndexByte(field, ':')
		if i < 0 {
			return fmt.Errorf("bucket field %q has no counter", field)
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return fmt.Errorf("bucket field %q: count %q: %w", field, val, err)
		}
		t := groups[field[:i]]
		if err := t.AddCell(field[i+1:], n); err != nil {
			return fmt.Errorf("bucket field %q: %w", field, err)
		}
		groups[field[:i]] = t
	}
	return nil
}

// Ping checks that Redis answers, within the caller's deadline or the
// store's, whichever comes first, and that it will not evict keys (read
// again at most every evictionRecheck): Open refuses to start on an
// evicting Redis, and /readyz fails with the reason while one is.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bounded(ctx)
	defer cancel()
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return classify(err, "ping redis")
	}
	return s.checkEviction(ctx)
}

// Close releases nothing: the client is not the Store's (see New), and
// the data stays in Redis.
func (s *Store) Close() error { return nil }

// classify maps a Redis failure to a fault code: an error reply from a
// working server (a script bug, a wrong type) is internal; anything else
// (refused connection, timeout, a server still loading or read-only) means
// Redis is not available and the client should retry.
func classify(err error, format string, args ...any) error {
	if errors.Is(err, context.Canceled) {
		// The caller went away; nobody is waiting for a status.
		return fmt.Errorf(format+": %w", append(args, err)...)
	}
	var rerr redis.Error
	if errors.As(err, &rerr) && !transient(err) {
		return fault.Wrap(err, fault.Internal, format, args...)
	}
	return fault.Wrap(err, fault.Unavailable, "the store is unavailable")
}

// transient error replies: a server loading, read-only or busy, a cluster
// failing over or moving the slot (MOVED and ASK that outlived the client's
// redirects), and UNBLOCKED, which a blocked XREAD or WAIT gets when its
// master turns into a replica.
func transient(err error) bool {
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "UNBLOCKED", "MOVED", "ASK"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

func sortedUnique(xs []int64) []int64 {
	slices.Sort(xs)
	return slices.Compact(xs)
}
