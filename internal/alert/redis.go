package alert

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/rediskeys"
)

var _ Engine = (*Redis)(nil)

var (
	//go:embed claim.lua
	claimLua    string
	claimScript = redis.NewScript(claimLua)
	//go:embed enqueue.lua
	enqueueLua    string
	enqueueScript = redis.NewScript(enqueueLua)
	//go:embed settle.lua
	settleLua    string
	settleScript = redis.NewScript(settleLua)
	//go:embed open.lua
	openLua    string
	openScript = redis.NewScript(openLua)
)

// Redis is the shared state of every node on one Redis. Its keys (the
// outbox, deliveries, leases, dead letters, raised alerts, follow-ups and
// their indexes) are spelt by internal/rediskeys, in the tenant's hash tag
// (one Cluster slot), with the table of what each holds.
//
// Follow-up ids are response ids, user data: a follow-up's key is
// "followup:" + id, and the indexes live under "followups:", which no id
// can reach ("followup:" + id always has ':' where "followups:" has 's').
// The tenant's hash tag comes first, so a '{' or '}' in an id never changes
// the key's Cluster slot (the tag is the first {...} of a key).
type Redis struct {
	rdb  redis.UniversalClient
	keys rediskeys.Tenant
	keep time.Duration

	// unresolved caches the last Unresolved answer per limit: every node
	// asks every refresh, and the oldest open follow-ups rarely change, so
	// it is decoded again only when their ids or the version differ.
	mu         sync.Mutex
	unresolved map[int]unresolvedRead
}

type unresolvedRead struct {
	version string
	ids     []string
	list    []FollowUp
}

// NewRedis keeps the tenant's alert state in rdb, which it shares with the
// rest of the process and does not close; resolved follow-ups expire keep
// after they were resolved.
func NewRedis(rdb redis.UniversalClient, tenant string, keep time.Duration) *Redis {
	return &Redis{rdb: rdb, keys: rediskeys.For(tenant), keep: keep, unresolved: map[int]unresolvedRead{}}
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// Enqueue implements Outbox.
func (r *Redis) Enqueue(ctx context.Context, ds ...Delivery) error {
	if len(ds) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(ds))
	for _, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		args = append(args, d.ID, b, ms(d.Created))
	}
	return wrap(enqueueScript.Run(ctx, r.rdb, []string{r.keys.AlertOutbox(), r.keys.AlertDeliveries()}, args...).Err(), "enqueue deliveries")
}

// Claim implements Outbox.
func (r *Redis) Claim(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Delivery, error) {
	token := leaseToken()
	raw, err := claimScript.Run(ctx, r.rdb, []string{r.keys.AlertOutbox(), r.keys.AlertDeliveries(), r.keys.AlertLeases()},
		ms(now), ms(now.Add(lease)), n, token).StringSlice()
	if err != nil {
		return nil, wrap(err, "claim deliveries")
	}
	ds, err := decodeAll[Delivery](raw)
	for i := range ds {
		ds[i].Lease = token
	}
	return ds, err
}

// settle runs settle.lua: op is "done", "retry" (due again at due) or
// "bury".
func (r *Redis) settle(ctx context.Context, op string, d Delivery, due time.Time, doing string) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	n, err := settleScript.Run(ctx, r.rdb, []string{r.keys.AlertOutbox(), r.keys.AlertDeliveries(), r.keys.AlertLeases(), r.keys.AlertDead()},
		op, d.ID, d.Lease, b, ms(due), maxDeadLetters).Int()
	if err != nil {
		return wrap(err, doing)
	}
	if n == 0 {
		return ErrLeaseLost
	}
	return nil
}

// Delivered implements Outbox.
func (r *Redis) Delivered(ctx context.Context, d Delivery) error {
	return r.settle(ctx, "done", d, time.Time{}, "forget a delivery")
}

// Retry implements Outbox.
func (r *Redis) Retry(ctx context.Context, d Delivery, at time.Time) error {
	return r.settle(ctx, "retry", d, at, "schedule a retry")
}

// Bury implements Outbox.
func (r *Redis) Bury(ctx context.Context, d Delivery) error {
	return r.settle(ctx, "bury", d, time.Time{}, "bury a delivery")
}

// DeadLetters implements Outbox.
func (r *Redis) DeadLetters(ctx context.Context, n int) ([]Delivery, error) {
	raw, err := r.rdb.LRange(ctx, r.keys.AlertDead(), 0, int64(n)-1).Result()
	if err != nil {
		return nil, wrap(err, "read dead letters")
	}
	return decodeAll[Delivery](raw)
}

// Redrive implements Outbox: queue first, then drop the dead letter, so a
// crash in between leaves it listed and queued rather than lost.
func (r *Redis) Redrive(ctx context.Context, id string, at time.Time) error {
	dead, err := r.rdb.LRange(ctx, r.keys.AlertDead(), 0, -1).Result()
	if err != nil {
		return wrap(err, "read dead letters")
	}
	for _, raw := range dead {
		var d Delivery
		if json.Unmarshal([]byte(raw), &d) != nil || d.ID != id {
			continue
		}
		if err := r.Enqueue(ctx, redriven(d, at)); err != nil {
			return err
		}
		return wrap(r.rdb.LRem(ctx, r.keys.AlertDead(), 1, raw).Err(), "drop a redriven dead letter")
	}
	return ErrNotFound
}

// Pending implements Outbox.
func (r *Redis) Pending(ctx context.Context) (int, time.Time, error) {
	var card *redis.IntCmd
	var first *redis.ZSliceCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		card = p.ZCard(ctx, r.keys.AlertOutbox())
		first = p.ZRangeWithScores(ctx, r.keys.AlertOutbox(), 0, 0)
		return nil
	})
	if err != nil {
		return 0, time.Time{}, wrap(err, "count deliveries")
	}
	var oldest time.Time
	if z := first.Val(); len(z) > 0 {
		oldest = time.UnixMilli(int64(z[0].Score))
	}
	return int(card.Val()), oldest, nil
}

// Open implements FollowUps.
func (r *Redis) Open(ctx context.Context, f FollowUp) (bool, error) {
	b, err := json.Marshal(f)
	if err != nil {
		return false, err
	}
	n, err := openScript.Run(ctx, r.rdb, []string{r.keys.FollowUp(f.ID), r.keys.FollowUpsUnresolved()}, f.ID, b, ms(f.Opened)).Int()
	return n == 1, wrap(err, "open a follow-up")
}

// maxTxRetries bounds optimistic retries of a follow-up change that raced
// another one on the same follow-up.
const maxTxRetries = 16

// Update implements FollowUps: WATCH the follow-up, apply fn in Go, write
// it back in MULTI with its indexes; a concurrent change retries.
func (r *Redis) Update(ctx context.Context, id string, fn func(*FollowUp) error) (FollowUp, error) {
	key := r.keys.FollowUp(id)
	var out FollowUp
	var fnErr error
	txf := func(tx *redis.Tx) error {
		raw, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		var f FollowUp
		if err := json.Unmarshal(raw, &f); err != nil {
			return fmt.Errorf("follow-up %s: %w", id, err)
		}
		out = f
		if fnErr = fn(&f); fnErr != nil {
			return nil
		}
		b, err := json.Marshal(f)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			switch {
			case f.Status == Resolved:
				p.Set(ctx, key, b, r.keep)
				p.ZRem(ctx, r.keys.FollowUpsUnresolved(), id)
				p.ZAdd(ctx, r.keys.FollowUpsResolved(), redis.Z{Score: float64(f.ResolvedAt.UnixMilli()), Member: id})
			case out.Status == Resolved:
				// Opened again (an answer back among the detractors): kept
				// until resolved, like a new one (open.lua).
				p.Set(ctx, key, b, 0)
				p.ZRem(ctx, r.keys.FollowUpsResolved(), id)
				p.ZAdd(ctx, r.keys.FollowUpsUnresolved(), redis.Z{Score: float64(f.Opened.UnixMilli()), Member: id})
			default:
				p.Set(ctx, key, b, redis.KeepTTL)
			}
			// Resolving and reopening change the indexes too; a claim
			// changes only the follow-up, which readers notice by the
			// version.
			p.Incr(ctx, r.keys.FollowUpsVersion())
			return nil
		})
		if err == nil {
			out = f
		}
		return err
	}
	for range maxTxRetries {
		err := r.rdb.Watch(ctx, txf, key)
		switch {
		case errors.Is(err, redis.TxFailedErr):
			continue
		case errors.Is(err, ErrNotFound):
			return FollowUp{}, ErrNotFound
		case err != nil:
			return FollowUp{}, wrap(err, "update a follow-up")
		}
		return out, fnErr
	}
	return FollowUp{}, wrap(redis.TxFailedErr, "update a follow-up")
}

// Unresolved implements FollowUps.
func (r *Redis) Unresolved(ctx context.Context, limit int) ([]FollowUp, int, error) {
	var ids *redis.StringSliceCmd
	var total *redis.IntCmd
	var version *redis.StringCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		total = p.ZCard(ctx, r.keys.FollowUpsUnresolved())
		ids = p.ZRange(ctx, r.keys.FollowUpsUnresolved(), 0, int64(limit)-1)
		version = p.Get(ctx, r.keys.FollowUpsVersion())
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, wrap(err, "list follow-ups")
	}
	r.mu.Lock()
	last, ok := r.unresolved[limit]
	r.mu.Unlock()
	if ok && last.version == version.Val() && slices.Equal(last.ids, ids.Val()) {
		return slices.Clone(last.list), int(total.Val()), nil
	}
	fus, err := r.followUps(ctx, ids.Val())
	if err != nil {
		return nil, 0, err
	}
	r.mu.Lock()
	r.unresolved[limit] = unresolvedRead{version: version.Val(), ids: ids.Val(), list: slices.Clone(fus)}
	r.mu.Unlock()
	return fus, int(total.Val()), nil
}

// ResolvedSince implements FollowUps.
func (r *Redis) ResolvedSince(ctx context.Context, since time.Time) ([]FollowUp, error) {
	ids, err := r.rdb.ZRangeByScore(ctx, r.keys.FollowUpsResolved(), &redis.ZRangeBy{Min: ms(since), Max: "+inf"}).Result()
	if err != nil {
		return nil, wrap(err, "list resolved follow-ups")
	}
	return r.followUps(ctx, ids)
}

// followUpsBatch bounds one MGET.
const followUpsBatch = 500

func (r *Redis) followUps(ctx context.Context, ids []string) ([]FollowUp, error) {
	out := make([]FollowUp, 0, len(ids))
	for len(ids) > 0 {
		n := min(len(ids), followUpsBatch)
		keys := make([]string, n)
		for i, id := range ids[:n] {
			keys[i] = r.keys.FollowUp(id)
		}
		ids = ids[n:]
		vals, err := r.rdb.MGet(ctx, keys...).Result()
		if err != nil {
			return nil, wrap(err, "read follow-ups")
		}
		for _, v := range vals {
			s, ok := v.(string)
			if !ok {
				continue // expired since the index was read; the sweep drops it
			}
			var f FollowUp
			if err := json.Unmarshal([]byte(s), &f); err != nil {
				return nil, fmt.Errorf("follow-up: %w", err)
			}
			out = append(out, f)
		}
	}
	sortFollowUps(out)
	return out, nil
}

// activeKey is the hash of an alert: emerging themes ("theme:…" ids; no
// threshold rule's name holds a colon) have their own (AlertThemes).
func (r *Redis) activeKey(id string) string {
	if strings.HasPrefix(id, "theme:") {
		return r.keys.AlertThemes()
	}
	return r.keys.AlertActive()
}

// Raise implements Actives. Only the threshold and emerging-theme jobs
// (each once per cluster, each with its own alerts) write alerts, so a
// read-then-write needs no lock.
func (r *Redis) Raise(ctx context.Context, a Active) (bool, error) {
	key := r.activeKey(a.ID)
	raw, err := r.rdb.HGet(ctx, key, a.ID).Bytes()
	fresh := errors.Is(err, redis.Nil)
	if err != nil && !fresh {
		return false, wrap(err, "read an alert")
	}
	if !fresh {
		var old Active
		if json.Unmarshal(raw, &old) == nil {
			a.Since = old.Since
		}
	}
	b, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	return fresh, wrap(r.rdb.HSet(ctx, key, a.ID, b).Err(), "raise an alert")
}

// Clear implements Actives.
func (r *Redis) Clear(ctx context.Context, id string) (bool, error) {
	n, err := r.rdb.HDel(ctx, r.activeKey(id), id).Result()
	return n == 1, wrap(err, "clear an alert")
}

// Active implements Actives: the threshold alerts and the emerging themes.
func (r *Redis) Active(ctx context.Context) ([]Active, error) {
	var raw []string
	for _, key := range []string{r.keys.AlertActive(), r.keys.AlertThemes()} {
		m, err := r.rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return nil, wrap(err, "list alerts")
		}
		for _, v := range m {
			raw = append(raw, v)
		}
	}
	out, err := decodeAll[Active](raw)
	sortActives(out)
	return out, err
}

// Sweep implements Sweeper: index entries of follow-ups resolved before
// (their keys expire by themselves), follow-ups open since before, and dead
// letters buried before. TTLs cannot do this: members of a sorted set and
// items of a list do not expire.
//
// It first moves what is left of the old key layout (Migrate): a node of
// the old version may have opened follow-ups during a rolling upgrade.
func (r *Redis) Sweep(ctx context.Context, before time.Time) (int, error) {
	if _, err := r.Migrate(ctx); err != nil {
		return 0, err
	}
	n, err := r.rdb.ZRemRangeByScore(ctx, r.keys.FollowUpsResolved(), "-inf", "("+ms(before)).Result()
	if err != nil {
		return 0, wrap(err, "sweep resolved follow-ups")
	}
	stale, err := r.rdb.ZRangeByScore(ctx, r.keys.FollowUpsUnresolved(), &redis.ZRangeBy{Min: "-inf", Max: "(" + ms(before)}).Result()
	if err != nil {
		return 0, wrap(err, "sweep follow-ups")
	}
	for _, id := range stale {
		if _, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, r.keys.FollowUpsUnresolved(), id)
			p.Del(ctx, r.keys.FollowUp(id))
			return nil
		}); err != nil {
			return 0, wrap(err, "sweep a follow-up")
		}
	}
	total := int(n) + len(stale)
	// The list holds at most maxDeadLetters: read it whole.
	dead, err := r.rdb.LRange(ctx, r.keys.AlertDead(), 0, -1).Result()
	if err != nil {
		return total, wrap(err, "sweep dead letters")
	}
	for _, raw := range dead {
		var d Delivery
		if json.Unmarshal([]byte(raw), &d) == nil && d.Buried != nil && !d.Buried.Before(before) {
			continue
		}
		if err := r.rdb.LRem(ctx, r.keys.AlertDead(), 1, raw).Err(); err != nil {
			return total, wrap(err, "sweep dead letters")
		}
		total++
	}
	return total, nil
}

func decodeAll[T any](raw []string) ([]T, error) {
	out := make([]T, 0, len(raw))
	for _, s := range raw {
		var v T
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("alert state: %w", err)
		}
		out = append(out, v)
	}
	return out, nil
}

func wrap(err error, doing string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", doing, err)
}
