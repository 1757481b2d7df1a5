package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redisurl"
)

// clusterMasters is the smallest cluster that spreads slots over several
// servers: three masters, no replicas.
const clusterMasters = 3

// clusterReady bounds the wait for the cluster to agree on its slots.
const clusterReady = 20 * time.Second

// Cluster is a Redis Cluster of private redis-servers owned by a test
// binary: cluster mode on free loopback ports, no persistence, the node
// tables in temporary directories.
type Cluster struct {
	// URL is a redis+cluster:// URL naming every node as a seed.
	URL   string
	Addrs []string
	nodes []*Server
}

// StartCluster launches three redis-servers with --cluster-enabled yes,
// joins them with redis-cli --cluster create (no replicas), and waits until
// every node reports cluster_state:ok and knows all the others.
func StartCluster() (*Cluster, error) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		return nil, fmt.Errorf("redis-cli not found on PATH (install Debian's redis-tools, or set TEST_REDIS_CLUSTER_URL): %w", err)
	}
	c := &Cluster{}
	for range clusterMasters {
		// The cluster bus gets its own free port; the default (port+10000)
		// may be taken or out of range.
		bus, err := freePort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		s, err := Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-port", strconv.Itoa(bus), "--cluster-node-timeout", "5000")
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("cluster node: %w", err)
		}
		c.nodes = append(c.nodes, s)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("redis-cli --cluster create: %v\n%s", err, out)
	}
	if err := c.waitOK(clusterReady); err != nil {
		c.Stop()
		return nil, err
	}
	c.URL = redisurl.ClusterScheme + "://" + strings.Join(c.Addrs, ",") + "/"
	return c, nil
}

// waitOK polls CLUSTER INFO on every node until each one says the cluster
// is ok and sees all masters: only then do all of them route every slot.
func (c *Cluster) waitOK(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range c.Addrs {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
		var info string
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			info, _ = rdb.ClusterInfo(ctx).Result()
			cancel()
			if strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(clusterMasters)) &&
				strings.Contains(info, "cluster_slots_ok:16384") {
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
	return client(t, ClusterURL(t))
}
