package alert

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

var (
	//go:embed migrate.lua
	migrateLua    string
	migrateScript = redis.NewScript(migrateLua)
)

// migrateBatch bounds the ids one migrate.lua call moves.
const migrateBatch = 200

// Migrate moves follow-ups of the old key layout (rediskeys'
// OldFollowUp: before follow-ups had a namespace of their own, a response
// id "unresolved" overwrote the queue's index) to the current one: every
// follow-up listed in an old index, and a follow-up that the old layout let
// overwrite an index or the version counter. Every node runs it at start,
// and the retention sweep runs it again, so what a node of the old version
// opens during a rolling upgrade moves too. It reports how many follow-ups
// it moved; with nothing of the old layout left it costs three reads.
func (r *Redis) Migrate(ctx context.Context) (int, error) {
	moved := 0
	for _, idx := range []struct{ old, new string }{
		{"unresolved", r.keys.FollowUpsUnresolved()},
		{"resolved", r.keys.FollowUpsResolved()},
	} {
		oldIdx := r.keys.OldFollowUp(idx.old)
		for {
			typ, err := r.rdb.Type(ctx, oldIdx).Result()
			if err != nil {
				return moved, wrap(err, "migrate follow-ups")
			}
			if typ != "zset" {
				break
			}
			zs, err := r.rdb.ZRangeWithScores(ctx, oldIdx, 0, migrateBatch-1).Result()
			if err != nil {
				return moved, wrap(err, "migrate follow-ups")
			}
			keys := []string{oldIdx, idx.new}
			args := make([]any, 0, 2*len(zs))
			for _, z := range zs {
				id, _ := z.Member.(string)
				keys = append(keys, r.keys.OldFollowUp(id), r.keys.FollowUp(id))
				args = append(args, id, strconv.FormatFloat(z.Score, 'f', -1, 64))
			}
			n, err := migrateScript.Run(ctx, r.rdb, keys, args...).Int()
			if err != nil {
				return moved, wrap(err, "migrate follow-ups")
			}
			moved += n
		}
	}
	// A follow-up whose id named an index or the version counter was
	// written over it; what is left at those names is either that
	// follow-up, or the old counter.
	for _, name := range []string{"unresolved", "resolved", "version"} {
		n, err := r.migrateOverwritten(ctx, name)
		if err != nil {
			return moved, err
		}
		moved += n
	}
	if moved > 0 {
		// Readers cache the queue by the version: make them read it again.
		if err := r.rdb.Incr(ctx, r.keys.FollowUpsVersion()).Err(); err != nil {
			return moved, wrap(err, "migrate follow-ups")
		}
	}
	return moved, nil
}

// migrateOverwritten moves the follow-up with id name if the old layout let
// it overwrite the key of the same name, and drops the old version counter.
func (r *Redis) migrateOverwritten(ctx context.Context, name string) (int, error) {
	old := r.keys.OldFollowUp(name)
	raw, err := r.rdb.Get(ctx, old).Bytes()
	switch {
	case errors.Is(err, redis.Nil), err != nil && isWrongType(err):
		return 0, nil // gone, or still an old index (migrated above)
	case err != nil:
		return 0, wrap(err, "migrate follow-ups")
	}
	var f FollowUp
	if json.Unmarshal(raw, &f) != nil || f.ID != name {
		return 0, wrap(r.rdb.Del(ctx, old).Err(), "drop the old follow-up version counter")
	}
	idx, score := r.keys.FollowUpsUnresolved(), f.Opened
	if f.Status == Resolved && f.ResolvedAt != nil {
		idx, score = r.keys.FollowUpsResolved(), *f.ResolvedAt
	}
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RenameNX(ctx, old, r.keys.FollowUp(name))
		p.ZAdd(ctx, idx, redis.Z{Score: float64(score.UnixMilli()), Member: name})
		return nil
	})
	if err != nil {
		return 0, wrap(err, "migrate a follow-up")
	}
	// RENAMENX did nothing if the follow-up was opened again under the new
	// layout meanwhile: the old copy goes.
	return 1, wrap(r.rdb.Del(ctx, old).Err(), "migrate a follow-up")
}

func isWrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}
