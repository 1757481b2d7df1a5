package redistest

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestMain(m *testing.M) { Main(m) }

// TestCluster checks that the harness's cluster is a real one: slots spread
// over three masters, cross-slot commands refused, hash-tagged keys
// accepted together.
func TestCluster(t *testing.T) {
	rdb := ClusterClient(t).(*redis.ClusterClient)
	ctx := context.Background()
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	masters := map[string]bool{}
	for _, s := range shards {
		if len(s.Slots) > 0 {
			masters[s.Nodes[0].ID] = true
		}
	}
	if len(masters) != clusterMasters {
		t.Errorf("slots on %d masters, want %d", len(masters), clusterMasters)
	}
	ns := Namespace(t)
	CleanupKeys(t, rdb, ns+"*")
	err = rdb.MSet(ctx, ns+"{a}:x", 1, ns+"{b}:y", 2).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Errorf("cross-slot MSET: %v, want CROSSSLOT", err)
	}
	if err := rdb.MSet(ctx, ns+"{a}:x", 1, ns+"{a}:y", 2).Err(); err != nil {
		t.Errorf("same-slot MSET: %v", err)
	}
}
