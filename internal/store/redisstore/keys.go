package redisstore

import (
	"strconv"

	"github.com/pulseboard/pulseboard/internal/window"
)

// keys builds every Redis key the engine uses; no other code spells one.
//
// Layout, for tenant "default":
//
//	pb:{default}:r:<response id>             string  the response's record (see record.lua)
//	pb:{default}:b:<rollup>:<m|h|d>:<bucket> hash    "group:score" -> count
//	pb:{default}:log                         stream  change log, one entry per batch
//
// The braces are a Redis Cluster hash tag: all of a tenant's keys hash to one
// slot, so one script can touch a batch's records and buckets together.
type keys struct {
	prefix string
}

func newKeys(tenant string) keys {
	return keys{prefix: "pb:{" + tenant + "}:"}
}

func (k keys) response(id string) string { return k.prefix + "r:" + id }

func (k keys) bucket(rollup string, g window.Gran, id int64) string {
	return k.prefix + "b:" + rollup + ":" + g.String() + ":" + strconv.FormatInt(id, 10)
}

func (k keys) changeLog() string { return k.prefix + "log" }

// pattern matches every key of the tenant (for tests' cleanup).
func (k keys) pattern() string { return k.prefix + "*" }
