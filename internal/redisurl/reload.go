package redisurl

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// reloadEvery bounds how often a cluster client whose commands fail on the
// network asks the cluster for its slot map again. A reload is one CLUSTER
// SLOTS to one node, and every failing command asks for one, so without a
// bound a dead master would trigger thousands a second.
const reloadEvery = 250 * time.Millisecond

// followFailovers makes a cluster client reload its slot map when a
// command fails on the network. go-redis (v9.23) reloads it on MOVED, ASK
// and READONLY replies, and otherwise only every 60 s; a master that died
// (SIGKILL, a lost host) sends no reply at all, so without this the client
// keeps dialing the dead address for up to a minute after the cluster has
// promoted its replica (redis/go-redis#3979). The hook sits on every node
// client, so it sees each attempt of go-redis's own retries: a reload that
// lands between two attempts routes the next one to the new master, and
// the command succeeds without the caller seeing the failover.
func followFailovers(c *redis.ClusterClient) {
	r := &slotMapReloader{reload: func() { c.ReloadState(context.Background()) }, every: reloadEvery}
	c.OnNewNode(func(node *redis.Client) { node.AddHook(r) })
}

// slotMapReloader is the go-redis hook of followFailovers.
type slotMapReloader struct {
	reload func()
	every  time.Duration
	// last is when the last reload was asked for, in Unix nanoseconds.
	last atomic.Int64
}

func (r *slotMapReloader) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *slotMapReloader) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		// CLUSTER SLOTS is the reload itself: a dead seed it asked must not
		// ask for another.
		if cmd.Name() != "cluster" {
			r.observe(err)
		}
		return err
	}
}

func (r *slotMapReloader) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		r.observe(err)
		return err
	}
}

// observe asks for a reload after a network failure, at most once per
// r.every. The reload itself is asynchronous (ReloadState is go-redis's
// lazy reload), so a failing command never waits for it.
func (r *slotMapReloader) observe(err error) {
	if !NetworkError(err) {
		return
	}
	now := time.Now().UnixNano()
	last := r.last.Load()
	if now-last < int64(r.every) || !r.last.CompareAndSwap(last, now) {
		return
	}
	r.reload()
}

// NetworkError reports whether err means the server did not answer: a
// refused or reset connection, a connection closed mid-reply, a timeout.
// An error reply from a server that answered is not one, nor is a caller's
// cancellation. After a network error the outcome of a write is unknown:
// it may have been applied.
func NetworkError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, redis.ErrClosed) {
		return false
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return false // a reply from the server
	}
	var nerr net.Error
	return errors.As(err, &nerr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.DeadlineExceeded)
}
