package redisstore

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// keys builds every Redis key the engine uses; no other code spells one.
//
// Layout, for tenant "default":
//
//	pb:{default}:r:<response id>             string  the response's record (see record.lua)
//	pb:{default}:b:<rollup>:<m|h|d>:<bucket> hash    "group:score" -> count
//	pb:{default}:log                         stream  change log, one entry per batch
//	pb:{default}:buckets                     zset    every bucket key, scored by its expiry
//
// The braces are a Redis Cluster hash tag: all of a tenant's keys hash to one
// slot, so one script can touch a batch's records and buckets together.
type keys struct {
	prefix string
}

func newKeys(tenant string) keys {
	return keys{prefix: KeyPrefix(tenant)}
}

// KeyPrefix starts every key of a tenant, hash tag included. Packages that
// keep more of a tenant's state in Redis (alerts, job locks) build their
// keys on it, so all of a tenant's keys stay in one Redis Cluster slot.
func KeyPrefix(tenant string) string { return "pb:{" + tenant + "}:" }

func (k keys) response(id string) string { return k.prefix + "r:" + id }

func (k keys) bucket(rollup string, g window.Gran, id int64) string {
	return k.prefix + "b:" + rollup + ":" + g.String() + ":" + strconv.FormatInt(id, 10)
}

// parseBucket is the inverse of bucket.
func (k keys) parseBucket(key string) (store.BucketKey, error) {
	rest, ok := strings.CutPrefix(key, k.prefix+"b:")
	parts := strings.Split(rest, ":")
	if !ok || len(parts) != 3 {
		return store.BucketKey{}, fmt.Errorf("not a bucket key: %q", key)
	}
	id, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return store.BucketKey{}, fmt.Errorf("bucket key %q: %w", key, err)
	}
	for _, g := range window.Grans {
		if g.String() == parts[1] {
			return store.BucketKey{Rollup: parts[0], Gran: g, ID: id}, nil
		}
	}
	return store.BucketKey{}, fmt.Errorf("bucket key %q: unknown granularity", key)
}

func (k keys) changeLog() string { return k.prefix + "log" }

func (k keys) bucketIndex() string { return k.prefix + "buckets" }

// pattern matches every key of the tenant (for tests' cleanup).
func (k keys) pattern() string { return k.prefix + "*" }
