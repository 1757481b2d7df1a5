package jobs

import (
	"context"
	"sync"
	"time"
)

var _ Claimer = (*LocalClaimer)(nil)

// LocalClaimer grants ticks within one process: the memory engine's single
// node. It keeps the same rules as the Redis one, so both pass one suite.
type LocalClaimer struct {
	now    func() time.Time
	mu     sync.Mutex
	ticks  map[tickKey]time.Time // claim → when it expires
	leases map[string]leaseHold
	ledger map[string]map[int64]int
	last   map[string]Run
}

type tickKey struct {
	job  string
	tick int64
}

type leaseHold struct {
	token   *struct{}
	expires time.Time
}

// NewLocalClaimer makes an in-process claimer on the clock now (nil:
// time.Now).
func NewLocalClaimer(now func() time.Time) *LocalClaimer {
	if now == nil {
		now = time.Now
	}
	return &LocalClaimer{now: now, ticks: map[tickKey]time.Time{}, leases: map[string]leaseHold{},
		ledger: map[string]map[int64]int{}, last: map[string]Run{}}
}

// Claim implements Claimer.
func (c *LocalClaimer) Claim(_ context.Context, job string, tick time.Time, hold, lease time.Duration) (func(context.Context) error, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	for k, exp := range c.ticks {
		if !now.Before(exp) {
			delete(c.ticks, k)
		}
	}
	k := tickKey{job, tick.Unix()}
	if _, taken := c.ticks[k]; taken {
		return nil, ErrTaken
	}
	if l, held := c.leases[job]; held && now.Before(l.expires) {
		return nil, ErrTaken
	}
	token := &struct{}{}
	c.ticks[k] = now.Add(hold)
	c.leases[job] = leaseHold{token: token, expires: now.Add(lease)}
	return func(context.Context) error {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.leases[job].token == token {
			delete(c.leases, job)
		}
		return nil
	}, nil
}

// Ran implements Claimer.
func (c *LocalClaimer) Ran(_ context.Context, r Run) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ledger[r.Job] == nil {
		c.ledger[r.Job] = map[int64]int{}
	}
	c.ledger[r.Job][r.Tick.Unix()]++
	for tick := range c.ledger[r.Job] {
		if time.Unix(tick, 0).Before(r.Tick.Add(-ledgerKeep)) {
			delete(c.ledger[r.Job], tick)
		}
	}
	c.last[r.Job] = r
	return nil
}

// Runs implements Claimer.
func (c *LocalClaimer) Runs(_ context.Context, job string) (map[int64]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[int64]int, len(c.ledger[job]))
	for k, v := range c.ledger[job] {
		out[k] = v
	}
	return out, nil
}

// Last implements Claimer.
func (c *LocalClaimer) Last(context.Context) (map[string]Run, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Run, len(c.last))
	for k, v := range c.last {
		out[k] = v
	}
	return out, nil
}
