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

	"github.com/pulseboard/pulseboard/internal/rediskeys"
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

// RedisClaimer claims ticks in Redis, for every node of a tenant. Its keys
// (pb:{<tenant>}:job:..., in the tenant's hash tag) are spelt by
// internal/rediskeys: a tick's claim (PX hold), a job's run lease (PX
// lease), its ledger of runs per tick (EXPIRE 48h) and every job's last run.
type RedisClaimer struct {
	rdb  redis.UniversalClient
	keys rediskeys.Tenant
}

// NewRedisClaimer claims ticks of the tenant's jobs in rdb, which it shares
// with the rest of the process and does not close.
func NewRedisClaimer(rdb redis.UniversalClient, tenant string) *RedisClaimer {
	return &RedisClaimer{rdb: rdb, keys: rediskeys.For(tenant)}
}

// Claim implements Claimer.
func (c *RedisClaimer) Claim(ctx context.Context, job string, tick time.Time, hold, lease time.Duration) (func(context.Context) error, error) {
	var b [12]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	lk := c.keys.JobLease(job)
	n, err := lockScript.Run(ctx, c.rdb, []string{c.keys.JobTick(job, tick.Unix()), lk}, token, hold.Milliseconds(), lease.Milliseconds()).Int()
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
		p.HIncrBy(ctx, c.keys.JobLedger(r.Job), strconv.FormatInt(r.Tick.Unix(), 10), 1)
		p.Expire(ctx, c.keys.JobLedger(r.Job), ledgerKeep)
		p.HSet(ctx, c.keys.JobsLast(), r.Job, b)
		return nil
	})
	return err
}

// Runs implements Claimer.
func (c *RedisClaimer) Runs(ctx context.Context, job string) (map[int64]int, error) {
	m, err := c.rdb.HGetAll(ctx, c.keys.JobLedger(job)).Result()
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
	m, err := c.rdb.HGetAll(ctx, c.keys.JobsLast()).Result()
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
