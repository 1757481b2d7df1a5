package jobs

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/store/redisstore"
)

var _ Claimer = (*RedisClaimer)(nil)

var (
	//go:embed lock.lua
	lockLua    string
	lockScript = redis.NewScript(lockLua)
	//go:embed unlock.lua
	unlockLua    string
	unlockScript = redis.NewScript(unlockLua)
)

// RedisClaimer claims ticks in Redis, for every node of a tenant.
//
// Keys, for tenant "default" (the store's hash tag):
//
//	pb:{default}:job:<name>:tick:<unix>  string  the run that claimed the tick (PX hold)
//	pb:{default}:job:<name>:lease        string  the running run's token (PX lease)
//	pb:{default}:job:<name>:ledger       hash    tick (unix) -> runs (EXPIRE 48h)
//	pb:{default}:job:last                hash    job -> its last run (JSON)
type RedisClaimer struct {
	rdb    redis.UniversalClient
	prefix string
}

// NewRedisClaimer claims ticks of the tenant's jobs in rdb.
func NewRedisClaimer(rdb redis.UniversalClient, tenant string) *RedisClaimer {
	return &RedisClaimer{rdb: rdb, prefix: redisstore.KeyPrefix(tenant) + "job:"}
}

func (c *RedisClaimer) tickKey(job string, tick time.Time) string {
	return c.prefix + job + ":tick:" + strconv.FormatInt(tick.Unix(), 10)
}
func (c *RedisClaimer) leaseKey(job string) string  { return c.prefix + job + ":lease" }
func (c *RedisClaimer) ledgerKey(job string) string { return c.prefix + job + ":ledger" }
func (c *RedisClaimer) lastKey() string             { return c.prefix + "last" }

// Claim implements Claimer.
func (c *RedisClaimer) Claim(ctx context.Context, job string, tick time.Time, hold, lease time.Duration) (func(context.Context) error, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	lk := c.leaseKey(job)
	n, err := lockScript.Run(ctx, c.rdb, []string{c.tickKey(job, tick), lk}, token, hold.Milliseconds(), lease.Milliseconds()).Int()
	if err != nil {
		return nil, fmt.Errorf("claim %s tick: %w", job, err)
	}
	if n != 1 {
		return nil, ErrTaken
	}
	return func(ctx context.Context) error {
		return unlockScript.Run(ctx, c.rdb, []string{lk}, token).Err()
	}, nil
}

// Ran implements Claimer.
func (c *RedisClaimer) Ran(ctx context.Context, r Run) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HIncrBy(ctx, c.ledgerKey(r.Job), strconv.FormatInt(r.Tick.Unix(), 10), 1)
		p.Expire(ctx, c.ledgerKey(r.Job), ledgerKeep)
		p.HSet(ctx, c.lastKey(), r.Job, b)
		return nil
	})
	return err
}

// Runs implements Claimer.
func (c *RedisClaimer) Runs(ctx context.Context, job string) (map[int64]int, error) {
	m, err := c.rdb.HGetAll(ctx, c.ledgerKey(job)).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(m))
	for k, v := range m {
		tick, err1 := strconv.ParseInt(k, 10, 64)
		n, err2 := strconv.Atoi(v)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("job ledger %s: bad entry %q=%q", job, k, v)
		}
		out[tick] = n
	}
	return out, nil
}

// Last implements Claimer.
func (c *RedisClaimer) Last(ctx context.Context) (map[string]Run, error) {
	m, err := c.rdb.HGetAll(ctx, c.lastKey()).Result()
	if err != nil {
		return nil, err
	}
	out := make(map[string]Run, len(m))
	for job, v := range m {
		var r Run
		if err := json.Unmarshal([]byte(v), &r); err != nil {
			return nil, fmt.Errorf("job ledger %s: %w", job, err)
		}
		out[job] = r
	}
	return out, nil
}
