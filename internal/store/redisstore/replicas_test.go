package redisstore

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/redisurl"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestMinReplicas checks the replica acknowledgement: with MinReplicas set,
// a batch is acknowledged only once that many replicas have it (WAIT on
// the connection that ran the script, on the master of the tenant's
// slot); with fewer replicas it is refused as unavailable (503), and the
// resend that follows is safe: it comes back as duplicates.
func TestMinReplicas(t *testing.T) {
	c := newClock(storetest.Start)
	opts := storetest.Options(t, c)
	resp := func(id string) []store.Response {
		return []store.Response{{ID: id, Score: 9, Dims: store.Dims{Channel: "phone"}, At: c.Now(), AtGiven: true}}
	}
	open := func(t *testing.T, url string, minReplicas int) *Store {
		return New(redistest.ClientAt(t, url), opts, Config{Tenant: redistest.Namespace(t), MinReplicas: minReplicas, MinReplicasTimeout: 100 * time.Millisecond})
	}
	ctx := context.Background()
	refused := func(t *testing.T, err error, want string) {
		t.Helper()
		if fault.CodeOf(err) != fault.Unavailable || !strings.Contains(err.Error(), want) {
			t.Fatalf("record with too few replicas: %v (code %s), want unavailable with %q", err, fault.CodeOf(err), want)
		}
	}

	t.Run("server", func(t *testing.T) {
		srv := redistest.Private(t)
		s := open(t, srv.URL, 1)
		_, err := s.Record(ctx, resp("r1"))
		refused(t, err, "0 of 1 replicas")
		redistest.StartReplica(t, srv)
		res, err := s.Record(ctx, resp("r1"))
		if err != nil || res.Duplicates != 1 {
			t.Fatalf("resend once a replica runs: %+v, %v; want 1 duplicate (the refused batch was written)", res, err)
		}
		if res, err := s.Record(ctx, resp("r2")); err != nil || res.Accepted != 1 {
			t.Fatalf("record with a replica: %+v, %v", res, err)
		}
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.PrivateCluster(t, redistest.ClusterConfig{Replicas: 1})
		if res, err := open(t, cl.URL, 1).Record(ctx, resp("r1")); err != nil || res.Accepted != 1 {
			t.Fatalf("record with one replica acknowledging: %+v, %v", res, err)
		}
		_, err := open(t, cl.URL, 2).Record(ctx, resp("r2"))
		refused(t, err, "1 of 2 replicas")

		// The pipeline to the slot's master must answer exactly as the plain
		// script call does.
		storetest.Run(t, func(t testing.TB, opts store.Options) store.Store {
			return New(redistest.ClientAt(t, cl.URL), opts, Config{Tenant: redistest.Namespace(t), MinReplicas: 1})
		})
	})
}

// TestFailoverRepliesAreUnavailable: the replies a failover produces, from
// a real server, are 503 (retry), not 500: UNBLOCKED (what a blocked XREAD
// or WAIT gets when its master turns replica; here CLIENT UNBLOCK ... ERROR
// sends the same error class) and a MOVED that outlived the redirects.
func TestFailoverRepliesAreUnavailable(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Private(t)
	blocked := redis.NewClient(&redis.Options{Addr: srv.Addr, PoolSize: 1})
	defer blocked.Close()
	id, err := blocked.ClientID(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		read <- blocked.XRead(ctx, &redis.XReadArgs{Streams: []string{"s", "$"}, Block: 10 * time.Second}).Err()
	}()
	other := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer other.Close()
	for n := int64(0); n == 0; {
		time.Sleep(20 * time.Millisecond)
		n, _ = other.ClientUnblockWithError(ctx, id).Result()
	}
	if err := classify(<-read, "read"); fault.CodeOf(err) != fault.Unavailable || !strings.Contains(err.Error(), "UNBLOCKED") {
		t.Errorf("an unblocked XREAD: %v (code %s), want unavailable", err, fault.CodeOf(err))
	}

	// A plain client on one cluster node, asked for a key another master
	// serves, gets MOVED.
	cl, err := redisurl.ClusterOptions(redistest.ClusterURL(t))
	if err != nil {
		t.Fatal(err)
	}
	var moved error
	for _, addr := range cl.Addrs {
		node := redis.NewClient(&redis.Options{Addr: addr})
		err := node.Get(ctx, "{moved}:k").Err()
		node.Close()
		if redis.HasErrorPrefix(err, "MOVED") {
			moved = err
		}
	}
	if err := classify(moved, "record"); fault.CodeOf(err) != fault.Unavailable {
		t.Errorf("MOVED: %v (code %s), want unavailable", err, fault.CodeOf(err))
	}
}
