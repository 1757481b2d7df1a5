// Package rediskeys spells every Redis key Pulseboard uses, for every
// package that keeps state in Redis: the storage engine (redisstore), its
// change log consumer group, alerting (alert), the job claimer (jobs) and
// the stream ingest (redisstream). No other code builds a key, so two
// packages can never disagree on one, and one table says what a tenant
// holds.
//
// Layout, for tenant "default":
//
//	pb:{default}:r:<response id>              string  redisstore: the response's record (see record.lua)
//	pb:{default}:b:<rollup>:<m|h|d>:<bucket>  hash    redisstore: "group:score" -> count
//	pb:{default}:log                          stream  redisstore: change log, one entry per batch
//	pb:{default}:buckets                      zset    redisstore: every bucket key, scored by its expiry
//	pb:{default}:alert:outbox                 zset    alert: delivery id -> due (unix ms)
//	pb:{default}:alert:deliveries             hash    alert: delivery id -> delivery JSON
//	pb:{default}:alert:dead                   list    alert: dead letters, newest first
//	pb:{default}:alert:active                 hash    alert: alert id -> active alert JSON
//	pb:{default}:alert:leases                 hash    alert: delivery id -> token of the claim that holds it
//	pb:{default}:followup:<id>                string  alert: follow-up JSON (EXPIRE keep after resolve)
//	pb:{default}:followups:unresolved         zset    alert: follow-up id -> opened (unix ms)
//	pb:{default}:followups:resolved           zset    alert: follow-up id -> resolved (unix ms)
//	pb:{default}:followups:version            string  alert: counts changes to follow-ups in place (claims)
//	pb:{default}:job:<name>:tick:<unix>       string  jobs: the run that claimed the tick (PX hold)
//	pb:{default}:job:<name>:lease             string  jobs: the running run's token (PX lease)
//	pb:{default}:job:<name>:ledger            hash    jobs: tick (unix) -> runs (EXPIRE 48h)
//	pb:{default}:job:last                     hash    jobs: job -> its last run (JSON)
//	<stream>:dead                             stream  redisstream: invalid entries with their reason
//
// The braces are a Redis Cluster hash tag: every key of a tenant hashes to
// one slot, so one script or MULTI can touch a batch's records, buckets and
// log together, and a follow-up with its indexes. The tag comes first, so a
// '{' or '}' in a response id never moves a key to another slot (the tag is
// the first {...} of a key). The producers' stream is named by the
// operator and lives outside the tenant's slot; its dead letters sit next
// to it.
package rediskeys

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pulseboard/pulseboard/internal/window"
)

// DefaultTenant is the tenant of an empty name.
const DefaultTenant = "default"

// Tenant builds the keys of one tenant.
type Tenant struct{ prefix string }

// For returns the keys of tenant ("" is DefaultTenant).
func For(tenant string) Tenant {
	if tenant == "" {
		tenant = DefaultTenant
	}
	return Tenant{prefix: "pb:{" + tenant + "}:"}
}

// Pattern matches every key of the tenant (tests' cleanup; nothing in the
// program scans).
func (t Tenant) Pattern() string { return t.prefix + "*" }

// The storage engine's keys.

// Response is the record of one response id.
func (t Tenant) Response(id string) string { return t.prefix + "r:" + id }

// Offer is the record of one offered survey's id: offers and responses may
// share ids, so they live apart.
func (t Tenant) Offer(id string) string { return t.prefix + "o:" + id }

// Bucket is one bucket of a rollup: its counters, "group:cell" -> count
// (store.Tally.AddCell names the cells).
func (t Tenant) Bucket(rollup string, g window.Gran, id int64) string {
	return t.prefix + "b:" + rollup + ":" + g.String() + ":" + strconv.FormatInt(id, 10)
}

// ParseBucket is the inverse of Bucket.
func (t Tenant) ParseBucket(key string) (rollup string, g window.Gran, id int64, err error) {
	rest, ok := strings.CutPrefix(key, t.prefix+"b:")
	parts := strings.Split(rest, ":")
	if !ok || len(parts) != 3 {
		return "", 0, 0, fmt.Errorf("not a bucket key: %q", key)
	}
	id, err = strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", 0, 0, fmt.Errorf("bucket key %q: %w", key, err)
	}
	for _, g := range window.Grans {
		if g.String() == parts[1] {
			return parts[0], g, id, nil
		}
	}
	return "", 0, 0, fmt.Errorf("bucket key %q: unknown granularity", key)
}

// ChangeLog is the change log stream, one entry per recorded batch.
func (t Tenant) ChangeLog() string { return t.prefix + "log" }

// BucketIndex lists every bucket key, scored by when it expires: the
// snapshot reads it instead of scanning the keyspace.
func (t Tenant) BucketIndex() string { return t.prefix + "buckets" }

// Alerting's keys.

// AlertOutbox orders the queued deliveries by when they are due.
func (t Tenant) AlertOutbox() string { return t.prefix + "alert:outbox" }

// AlertDeliveries holds the queued deliveries.
func (t Tenant) AlertDeliveries() string { return t.prefix + "alert:deliveries" }

// AlertDead lists the dead letters, newest first.
func (t Tenant) AlertDead() string { return t.prefix + "alert:dead" }

// AlertActive holds the raised threshold alerts.
func (t Tenant) AlertActive() string { return t.prefix + "alert:active" }

// AlertThemes holds the raised emerging themes: a hash of their own, so a
// node of a version before them (a rolling upgrade) neither shows them as
// threshold banners nor resolves them as rules it does not know.
func (t Tenant) AlertThemes() string { return t.prefix + "alert:themes" }

// AlertLeases holds the token of the claim that leases each delivery.
func (t Tenant) AlertLeases() string { return t.prefix + "alert:leases" }

// FollowUp is one follow-up. Follow-up ids are response ids, user data: a
// follow-up's key is "followup:" + id, and the indexes live under
// "followups:", which no id can reach ("followup:" + id always has ':'
// where "followups:" has 's').
func (t Tenant) FollowUp(id string) string { return t.prefix + "followup:" + id }

// FollowUpsUnresolved indexes open and claimed follow-ups by opening time.
func (t Tenant) FollowUpsUnresolved() string { return t.prefix + "followups:unresolved" }

// FollowUpsResolved indexes resolved follow-ups by resolution time.
func (t Tenant) FollowUpsResolved() string { return t.prefix + "followups:resolved" }

// FollowUpsVersion counts changes to follow-ups in place (claims), so
// readers know to read the queue again.
func (t Tenant) FollowUpsVersion() string { return t.prefix + "followups:version" }

// OldFollowUp is a follow-up's key in the layout before follow-ups had a
// namespace of their own: "fu:" + id, next to the indexes "fu:unresolved",
// "fu:resolved" and "fu:version", so a response id "unresolved" overwrote
// the queue's index. Only the migration reads it.
func (t Tenant) OldFollowUp(id string) string { return t.prefix + "fu:" + id }

// The job claimer's keys.

// JobTick is the claim of one tick of a job.
func (t Tenant) JobTick(job string, tickUnix int64) string {
	return t.prefix + "job:" + job + ":tick:" + strconv.FormatInt(tickUnix, 10)
}

// JobLease is the token of a job's running run.
func (t Tenant) JobLease(job string) string { return t.prefix + "job:" + job + ":lease" }

// JobLedger counts a job's runs per tick.
func (t Tenant) JobLedger(job string) string { return t.prefix + "job:" + job + ":ledger" }

// JobsLast holds every job's last run.
func (t Tenant) JobsLast() string { return t.prefix + "job:last" }

// The stream ingest's keys.

// StreamDeadLetters is where the stream ingest puts the invalid entries of
// stream, with their reason.
func StreamDeadLetters(stream string) string { return stream + ":dead" }
