package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/fault"
)

// DefaultMinReplicasTimeout is how long a chunk waits for its replicas by
// default. Keep it below Config.Timeout: a WAIT that outlives it fails the
// chunk as a timeout, which is still a 503, but a slower one.
const DefaultMinReplicasTimeout = time.Second

// movedRetries bounds how often a chunk is sent again after the master it
// was sent to answered MOVED (its slot map was stale: a failover).
const movedRetries = 3

// runRecord runs record.lua on one chunk. Without MinReplicas it goes
// through the client like any command. With it, the script and a WAIT go
// in one pipeline to the master of the tenant's slot.
//
// Why one pipeline on that master's client: WAIT counts the replicas that
// have every write made on *its own connection*, so it must follow the
// script on the same connection. A cluster client would route a keyless
// WAIT to any master (or to all of them), and on a fresh connection WAIT
// has nothing to wait for and answers at once. A *redis.Client runs a
// pipeline on one connection; MasterForKey gives the cluster's master of
// the slot as one. WAIT cannot run inside the script or a MULTI (there it
// does not block).
func (s *Store) runRecord(ctx context.Context, keys []string, args []any) ([]any, error) {
	n := len(keys)
	if s.cfg.MinReplicas <= 0 {
		reply, err := recordScript.Run(ctx, s.rdb, keys, args...).Slice()
		if err != nil {
			return nil, classify(err, "record a chunk of %d keys", n)
		}
		return reply, nil
	}
	var err error
	for range movedRetries {
		var reply []any
		reply, err = s.runReplicated(ctx, keys, args)
		if !isRedirect(err) {
			return reply, err
		}
		// The slot moved: ask the cluster client to read the slot map again
		// (it does on MOVED itself, but this pipeline bypassed it), give the
		// asynchronous reload a moment, and send again. Nothing ran: a MOVED
		// reply means the script was not run.
		if c, ok := s.rdb.(*redis.ClusterClient); ok {
			c.ReloadState(ctx)
		}
		select {
		case <-ctx.Done():
			return nil, classify(ctx.Err(), "record a chunk")
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, classify(err, "record a chunk of %d keys", n)
}

// runReplicated sends the script and WAIT in one pipeline on the master of
// the tenant's slot, and refuses the chunk unless enough replicas took it.
// A refused chunk was written on the master, and may stay there: the
// client is answered 503 and resends it, and the resend comes back as
// duplicates, because ids are idempotency keys.
func (s *Store) runReplicated(ctx context.Context, keys []string, args []any) ([]any, error) {
	master, err := s.master(ctx, keys[0])
	if err != nil {
		return nil, classify(err, "find the master of the tenant's slot")
	}
	timeout := s.cfg.MinReplicasTimeout.Milliseconds()
	run := func(eval func(p redis.Pipeliner) *redis.Cmd) (*redis.Cmd, *redis.IntCmd) {
		pipe := master.Pipeline()
		script := eval(pipe)
		wait := redis.NewIntCmd(ctx, "wait", s.cfg.MinReplicas, timeout)
		_ = pipe.Process(ctx, wait)
		_, _ = pipe.Exec(ctx)
		return script, wait
	}
	script, wait := run(func(p redis.Pipeliner) *redis.Cmd { return p.EvalSha(ctx, recordScript.Hash(), keys, args...) })
	if redis.HasErrorPrefix(script.Err(), "NOSCRIPT") {
		script, wait = run(func(p redis.Pipeliner) *redis.Cmd { return p.Eval(ctx, recordLua, keys, args...) })
	}
	reply, err := script.Slice()
	if err != nil {
		if isRedirect(err) {
			return nil, err
		}
		return nil, classify(err, "record a chunk of %d keys", len(keys))
	}
	acked, err := wait.Result()
	if err != nil {
		return nil, classify(err, "wait for %d replicas", s.cfg.MinReplicas)
	}
	if acked < int64(s.cfg.MinReplicas) {
		return nil, fault.New(fault.Unavailable, "the store is unavailable: %d of %d replicas acknowledged the batch within %s; resend it",
			acked, s.cfg.MinReplicas, s.cfg.MinReplicasTimeout)
	}
	return reply, nil
}

// master returns a client whose pipelines run on one connection to the
// master that serves key: the cluster's master of the slot, or the client
// itself on one server.
func (s *Store) master(ctx context.Context, key string) (redis.Cmdable, error) {
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		return c.MasterForKey(ctx, key)
	case redis.Cmdable:
		return c, nil
	}
	return nil, errors.New("the Redis client cannot pipeline to one server")
}

func isRedirect(err error) bool {
	return redis.HasErrorPrefix(err, "MOVED") || redis.HasErrorPrefix(err, "ASK")
}
