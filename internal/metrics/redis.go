package metrics

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
)

// redisErrors counts failed Redis commands; it is a go-redis hook, added
// once to the process's one client, so every Redis user (the store,
// alerting, the job claimer, the stream ingest) reports through one series.
type redisErrors struct {
	counter *prometheus.CounterVec
}

// RedisHook returns a go-redis hook that counts failed commands in
// pulseboard_redis_errors_total{command}. A nil reply (redis.Nil) is an
// answer, not an error, and is not counted.
func (m *Metrics) RedisHook() redis.Hook { return redisErrors{counter: m.redisErrors} }

func (h redisErrors) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err != nil {
			h.counter.WithLabelValues("dial").Inc()
		}
		return conn, err
	}
}

func (h redisErrors) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		h.observe(cmd, err)
		return err
	}
}

func (h redisErrors) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			h.observe(cmd, cmd.Err())
		}
		return err
	}
}

func (h redisErrors) observe(cmd redis.Cmder, err error) {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return
	}
	h.counter.WithLabelValues(strings.ToLower(cmd.Name())).Inc()
}
