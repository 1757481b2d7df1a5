package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redisurl"
)

// clusterMasters is the smallest cluster that spreads slots over several
// servers: three masters.
const clusterMasters = 3

// clusterReady bounds the wait for the cluster to agree on its slots, and
// for replicas to catch up with their masters.
const clusterReady = 20 * time.Second

// ClusterConfig shapes a cluster. The zero value is what StartCluster
// starts: three masters, no replicas, cluster-node-timeout 5 s.
type ClusterConfig struct {
	// Replicas is the number of replicas of each master.
	Replicas int
	// NodeTimeout is cluster-node-timeout: how long a master may be
	// unreachable before its replica is promoted. Failover tests set it low
	// (1 s) to stay short.
	NodeTimeout time.Duration
}

// Cluster is a Redis Cluster of private redis-servers owned by a test
// binary: cluster mode on free loopback ports, no persistence, the node
// tables in temporary directories.
type Cluster struct {
	// URL is a redis+cluster:// URL naming every node as a seed.
	URL      string
	Addrs    []string
	nodes    []*Server
	replicas int
}

// StartCluster launches three redis-servers with --cluster-enabled yes,
// joins them with redis-cli --cluster create (no replicas), and waits until
// every node reports cluster_state:ok and knows all the others.
func StartCluster() (*Cluster, error) { return StartClusterWith(ClusterConfig{}) }

// StartClusterWith starts a cluster of three masters and cfg.Replicas
// replicas of each, and waits until the cluster is ok on every node and
// every replica has caught up with its master, so a test may fail a master
// over at once without losing what the harness saw written.
func StartClusterWith(cfg ClusterConfig) (*Cluster, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redis-cli not found on PATH (install Debian's redis-tools, or set TEST_REDIS_CLUSTER_URL): %w", err)
	}
	if cfg.NodeTimeout == 0 {
		cfg.NodeTimeout = 5 * time.Second
	}
	c := &Cluster{replicas: cfg.Replicas}
	for range clusterMasters * (1 + cfg.Replicas) {
		// The cluster bus gets its own free port; the default (port+10000)
		// may be taken or out of range.
		bus, err := freePort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		s, err := Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", strconv.FormatInt(cfg.NodeTimeout.Milliseconds(), 10),
			// A replica's first sync starts at once, not 5 s later.
			"--repl-diskless-sync-delay", "0")
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("cluster node: %w", err)
		}
		c.nodes = append(c.nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(cfg.Replicas), "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(clusterReady, cfg.Replicas); err != nil {
		c.Stop()
		return nil, err
	}
	if err := c.WaitSynced(clusterReady); err != nil {
		c.Stop()
		return nil, err
	}
	c.URL = redisurl.ClusterScheme + "://" + strings.Join(c.Addrs, ",") + "/"
	return c, nil
}

// PrivateCluster starts a cluster for one test alone (one it may fail over
// and kill nodes of) and stops it when the test ends.
func PrivateCluster(t testing.TB, cfg ClusterConfig) *Cluster {
	t.Helper()
	c, err := StartClusterWith(cfg)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(c.Stop)
	return c
}

// waitOK polls CLUSTER INFO on every node until each one says the cluster
// is ok and sees all nodes: only then do all of them route every slot. With
// replicas it also waits until every node knows each master's replicas as
// such (a node learns roles by gossip, and only a master that knows a
// replica votes for it in a failover).
func (c *Cluster) waitOK(timeout time.Duration, replicas int) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range c.Addrs {
		rdb := nodeClient(addr)
		var info string
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			info, _ = rdb.ClusterInfo(ctx).Result()
			cancel()
			if strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(c.Addrs))+"\r") &&
				strings.Contains(info, "cluster_slots_ok:16384") && knowsReplicas(rdb, replicas) {
				break
			}
			if time.Now().After(deadline) {
				rdb.Close()
				return fmt.Errorf("redis cluster on %s not ok within %s:\n%s", addr, timeout, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
		rdb.Close()
	}
	return nil
}

// knowsReplicas reports whether the node sees every master with its
// replicas. A replica whose master has written nothing yet shows as
// "loading" (replication offset 0), which counts: it is known as a replica.
func knowsReplicas(rdb *redis.Client, replicas int) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		return false
	}
	masters := 0
	for _, sh := range shards {
		if len(sh.Slots) == 0 {
			continue
		}
		masters++
		known := 0
		for _, n := range sh.Nodes {
			if n.Role == "replica" && n.Health != "failed" {
				known++
			}
		}
		if known != replicas {
			return false
		}
	}
	return masters == clusterMasters
}

func nodeClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
}

// WaitReady waits until the cluster is as StartClusterWith left it once
// more: ok on every node, every master with its replicas known as such,
// every replica caught up. A test calls it after a graceful failover,
// before it kills a master, so that the old master, now a replica, can be
// promoted in turn.
func (c *Cluster) WaitReady(timeout time.Duration) error {
	if err := c.waitOK(timeout, c.replicas); err != nil {
		return err
	}
	return c.WaitSynced(timeout)
}

// WaitSynced waits until every live master's replicas acknowledge its
// writes (a replica that has just synced takes up to a second more before
// WAIT counts it), and every live replica's link to its master is up with
// everything its master had written applied.
func (c *Cluster) WaitSynced(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, s := range c.nodes {
		if !s.Alive() {
			continue
		}
		if err := acksWrites(s.Addr, deadline); err != nil {
			return fmt.Errorf("redis cluster master %s: replicas do not acknowledge within %s: %w", s.Addr, timeout, err)
		}
	}
	for _, s := range c.nodes {
		if !s.Alive() {
			continue
		}
		for {
			err := synced(s.Addr)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("redis cluster replica %s not in sync within %s: %w", s.Addr, timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

// acksWrites writes a probe key on the master at addr (nothing for a
// replica) until WAIT counts all its connected replicas, then deletes it.
func acksWrites(addr string, deadline time.Time) error {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, PoolSize: 1})
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	f := infoFields(info)
	want, _ := strconv.Atoi(f["connected_slaves"])
	if f["role"] != "master" || want == 0 {
		return nil
	}
	// A key this master serves: the others answer MOVED.
	key := ""
	for i := 0; key == ""; i++ {
		k := "redistest:probe:" + strconv.Itoa(i)
		if err := rdb.Set(ctx, k, 0, 0).Err(); err == nil {
			key = k
		}
	}
	defer rdb.Del(ctx, key)
	for {
		// PoolSize 1: WAIT follows the write on its connection.
		if err := rdb.Incr(ctx, key).Err(); err != nil {
			return err
		}
		acked, err := rdb.Do(ctx, "wait", want, 100).Int()
		if err == nil && acked >= want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d replicas acknowledged (%v)", acked, want, err)
		}
	}
}

// StartReplica starts a redis-server replicating master, for this test
// alone, and waits until it has caught up and acknowledges writes.
func StartReplica(t testing.TB, master *Server) *Server {
	t.Helper()
	host, port, _ := net.SplitHostPort(master.Addr)
	m := nodeClient(master.Addr)
	err := m.ConfigSet(context.Background(), "repl-diskless-sync-delay", "0").Err()
	m.Close()
	if err != nil {
		t.Fatalf("redistest: replica: %v", err)
	}
	s, err := Start("--replicaof", host, port)
	if err != nil {
		t.Fatalf("redistest: replica: %v", err)
	}
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(clusterReady)
	for err := synced(s.Addr); err != nil; err = synced(s.Addr) {
		if time.Now().After(deadline) {
			t.Fatalf("redistest: replica %s of %s not in sync within %s: %v", s.Addr, master.Addr, clusterReady, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := acksWrites(master.Addr, deadline); err != nil {
		t.Fatalf("redistest: replica %s of %s does not acknowledge: %v", s.Addr, master.Addr, err)
	}
	return s
}

// synced is nil for a master, and for a replica that has caught up with
// what its master had written when asked (within a second).
func synced(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	rdb := nodeClient(addr)
	defer rdb.Close()
	info, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		return err
	}
	f := infoFields(info)
	if f["role"] != "slave" {
		return nil
	}
	if f["master_link_status"] != "up" {
		return fmt.Errorf("master link %s", f["master_link_status"])
	}
	m := nodeClient(f["master_host"] + ":" + f["master_port"])
	defer m.Close()
	minfo, err := m.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("its master: %w", err)
	}
	// Writes may go on: the replica is in sync once it has what its master
	// had when asked.
	want, _ := strconv.ParseInt(infoFields(minfo)["master_repl_offset"], 10, 64)
	for {
		info, err := rdb.Info(ctx, "replication").Result()
		if err != nil {
			return err
		}
		have, _ := strconv.ParseInt(infoFields(info)["slave_repl_offset"], 10, 64)
		if have >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("offset %d, master at %d", have, want)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// infoFields splits an INFO reply into its key:value fields.
func infoFields(info string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(info, "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

// MasterOf asks a live node which master serves key's slot, and which
// replicas it has.
func (c *Cluster) MasterOf(ctx context.Context, key string) (master string, replicas []string, err error) {
	var lastErr error
	for _, s := range c.nodes {
		if !s.Alive() {
			continue
		}
		rdb := nodeClient(s.Addr)
		master, replicas, err = slotOwners(ctx, rdb, key)
		rdb.Close()
		if err == nil {
			return master, replicas, nil
		}
		lastErr = err
	}
	return "", nil, fmt.Errorf("no live node says who serves %q: %w", key, lastErr)
}

func slotOwners(ctx context.Context, rdb *redis.Client, key string) (string, []string, error) {
	slot, err := rdb.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", nil, err
	}
	shards, err := rdb.ClusterShards(ctx).Result()
	if err != nil {
		return "", nil, err
	}
	for _, sh := range shards {
		for _, r := range sh.Slots {
			if slot < r.Start || slot > r.End {
				continue
			}
			master, replicas := "", []string(nil)
			for _, n := range sh.Nodes {
				addr := net.JoinHostPort(n.IP, strconv.FormatInt(n.Port, 10))
				switch {
				case n.Role == "master" && n.Health == "online":
					master = addr
				case n.Role == "replica" && n.Health != "failed":
					// "loading" too: a replica whose offset the node has not
					// heard of yet.
					replicas = append(replicas, addr)
				}
			}
			if master != "" {
				return master, replicas, nil
			}
		}
	}
	return "", nil, fmt.Errorf("slot %d is not served", slot)
}

// Failover promotes replica with CLUSTER FAILOVER (the graceful kind: the
// master stops writes until the replica has caught up) and waits until the
// live nodes agree that it serves key's slot.
func (c *Cluster) Failover(ctx context.Context, replica, key string, timeout time.Duration) error {
	rdb := nodeClient(replica)
	defer rdb.Close()
	if err := rdb.ClusterFailover(ctx).Err(); err != nil {
		return fmt.Errorf("cluster failover on %s: %w", replica, err)
	}
	_, err := c.WaitMaster(ctx, key, func(addr string) bool { return addr == replica }, timeout)
	return err
}

// WaitMaster waits until every live node says that a master accepted by ok
// serves key's slot and that the cluster is ok, and returns that master.
func (c *Cluster) WaitMaster(ctx context.Context, key string, ok func(addr string) bool, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		master, err := c.agreedMaster(ctx, key)
		if err == nil && ok(master) {
			return master, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("slot of %q not served by a new master within %s (now %q: %v)", key, timeout, master, err)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *Cluster) agreedMaster(ctx context.Context, key string) (string, error) {
	agreed := ""
	for _, s := range c.nodes {
		if !s.Alive() {
			continue
		}
		rdb := nodeClient(s.Addr)
		master, _, err := slotOwners(ctx, rdb, key)
		info := ""
		if err == nil {
			info, err = rdb.ClusterInfo(ctx).Result()
		}
		rdb.Close()
		if err != nil {
			return "", err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return master, errors.New(s.Addr + " says the cluster is not ok")
		}
		if agreed != "" && master != agreed {
			return master, fmt.Errorf("nodes disagree: %s and %s", agreed, master)
		}
		agreed = master
	}
	return agreed, nil
}

// Kill stops the node at addr with SIGKILL, as a crash would.
func (c *Cluster) Kill(addr string) error {
	for _, s := range c.nodes {
		if s.Addr == addr {
			s.Kill()
			return nil
		}
	}
	return fmt.Errorf("no cluster node at %s", addr)
}

// Stop stops every node and removes their directories.
func (c *Cluster) Stop() {
	for _, s := range c.nodes {
		s.Stop()
	}
}

// ClusterURL returns the redis+cluster:// URL of the package's shared
// cluster, starting it on first use, or TEST_REDIS_CLUSTER_URL when set.
// Like URL, it fails the test when the cluster cannot be had.
func ClusterURL(t testing.TB) string {
	t.Helper()
	return sharedCluster.get(t, func() (string, func(), error) {
		c, err := StartCluster()
		if err != nil {
			return "", nil, err
		}
		return c.URL, c.Stop, nil
	})
}

// ClusterClient returns a cluster client for the shared cluster, closed
// when the test ends.
func ClusterClient(t testing.TB) redis.UniversalClient {
	t.Helper()
	return ClientAt(t, ClusterURL(t))
}
