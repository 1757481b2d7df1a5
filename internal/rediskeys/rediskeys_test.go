package rediskeys

import (
	"strings"
	"testing"

	"github.com/pulseboard/pulseboard/internal/window"
)

// TestLayout pins every key byte for byte: a key that changes is data a
// running deployment can no longer find (its counters, its follow-ups, its
// job ledger), so a change here needs a migration, not a test update.
func TestLayout(t *testing.T) {
	k := For("acme")
	for got, want := range map[string]string{
		k.Response("r1"):                  "pb:{acme}:r:r1",
		k.Offer("r1"):                     "pb:{acme}:o:r1",
		k.Bucket("team", window.Hour, 42): "pb:{acme}:b:team:h:42",
		k.ChangeLog():                     "pb:{acme}:log",
		k.BucketIndex():                   "pb:{acme}:buckets",
		k.AlertOutbox():                   "pb:{acme}:alert:outbox",
		k.AlertDeliveries():               "pb:{acme}:alert:deliveries",
		k.AlertDead():                     "pb:{acme}:alert:dead",
		k.AlertActive():                   "pb:{acme}:alert:active",
		k.AlertThemes():                   "pb:{acme}:alert:themes",
		k.AlertLeases():                   "pb:{acme}:alert:leases",
		k.FollowUp("r1"):                  "pb:{acme}:followup:r1",
		k.FollowUpsUnresolved():           "pb:{acme}:followups:unresolved",
		k.FollowUpsResolved():             "pb:{acme}:followups:resolved",
		k.FollowUpsVersion():              "pb:{acme}:followups:version",
		k.OldFollowUp("r1"):               "pb:{acme}:fu:r1",
		k.JobTick("digest", 1700000000):   "pb:{acme}:job:digest:tick:1700000000",
		k.JobLease("digest"):              "pb:{acme}:job:digest:lease",
		k.JobLedger("digest"):             "pb:{acme}:job:digest:ledger",
		k.JobsLast():                      "pb:{acme}:job:last",
		k.Pattern():                       "pb:{acme}:*",
		StreamDeadLetters("surveys"):      "surveys:dead",
		For("").ChangeLog():               "pb:{default}:log",
	} {
		if got != want {
			t.Errorf("key %q, want %q", got, want)
		}
	}
}

// TestIDsStayInTheirPlace: a response id, user data, can neither name an
// index nor move a key out of the tenant's Cluster slot.
func TestIDsStayInTheirPlace(t *testing.T) {
	k := For("acme")
	for _, id := range []string{"unresolved", "s:unresolved", "}{", "{x}", ":version", ""} {
		for _, key := range []string{k.FollowUp(id), k.Response(id), k.Offer(id)} {
			if !strings.HasPrefix(key, "pb:{acme}:") {
				t.Errorf("%q does not start with the tenant's hash tag", key)
			}
			for _, index := range []string{k.FollowUpsUnresolved(), k.FollowUpsResolved(), k.FollowUpsVersion()} {
				if key == index {
					t.Errorf("id %q names the index %q", id, index)
				}
			}
		}
	}
}

func TestParseBucket(t *testing.T) {
	k := For("acme")
	for _, g := range window.Grans {
		rollup, gran, id, err := k.ParseBucket(k.Bucket("team_agent", g, -7))
		if err != nil || rollup != "team_agent" || gran != g || id != -7 {
			t.Errorf("%s: %q %v %d %v", g, rollup, gran, id, err)
		}
	}
	for _, bad := range []string{"pb:{acme}:r:x", "pb:{other}:b:team:h:1", "pb:{acme}:b:team:x:1", "pb:{acme}:b:team:h:one", "pb:{acme}:b:team:h"} {
		if _, _, _, err := k.ParseBucket(bad); err == nil {
			t.Errorf("%q parsed as a bucket key", bad)
		}
	}
}
