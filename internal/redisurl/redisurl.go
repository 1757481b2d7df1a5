// Package redisurl turns a Redis URL into a go-redis client: one server
// (redis://, rediss://, unix://) or a Redis Cluster (redis+cluster://,
// rediss+cluster://, with a comma-separated list of seed nodes). Everything
// that connects to the deployment's Redis goes through NewClient, so the
// store, the stream ingest and the tests agree on what a URL means.
package redisurl

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Cluster URL schemes. Query parameters are go-redis's cluster options
// (dial_timeout, pool_size, ...), as for redis.ParseClusterURL.
const (
	ClusterScheme    = "redis+cluster"
	ClusterTLSScheme = "rediss+cluster"
)

// IsCluster reports whether raw names a Redis Cluster.
func IsCluster(raw string) bool {
	scheme, _, _ := strings.Cut(raw, "://")
	return scheme == ClusterScheme || scheme == ClusterTLSScheme
}

// NewClient makes a client for raw; it does not connect yet.
func NewClient(raw string) (redis.UniversalClient, error) {
	if !IsCluster(raw) {
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("parse redis url: %w", err)
		}
		return redis.NewClient(o), nil
	}
	o, err := ClusterOptions(raw)
	if err != nil {
		return nil, err
	}
	c := redis.NewClusterClient(o)
	followFailovers(c)
	return c, nil
}

// ClusterOptions parses redis+cluster://[user:password@]host:port,host:port/[?options]
// into go-redis's cluster options. The hosts are seeds: the client learns
// the cluster's topology from whichever answers first.
func ClusterOptions(raw string) (*redis.ClusterOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the URL, password included.
		return nil, errors.New("parse redis cluster url: not a valid URL")
	}
	if u.Path != "" && u.Path != "/" {
		return nil, errors.New("parse redis cluster url: a cluster has no database number; leave the path empty")
	}
	hosts := strings.Split(u.Host, ",")
	for _, h := range hosts {
		if h == "" {
			return nil, errors.New("parse redis cluster url: needs host:port seeds, like redis+cluster://10.0.0.1:6379,10.0.0.2:6379/")
		}
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	u.Scheme = strings.TrimSuffix(u.Scheme, "+cluster")
	u.Host = hosts[0]
	u.Path = ""
	u.RawQuery = q.Encode()
	o, err := redis.ParseClusterURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("parse redis cluster url: %w", err)
	}
	return o, nil
}
