// Package redisurl turns a Redis URL into a go-redis client: one server
// (redis://, rediss://, unix://), a Redis Cluster (redis+cluster://,
// rediss+cluster://, with a comma-separated list of seed nodes), or a master
// found through Redis Sentinel (redis+sentinel://, rediss+sentinel://).
// Everything that connects to the deployment's Redis goes through NewClient,
// so the program (one client per process, shared by the store, alerting,
// the job claimer and the stream ingest) and the tests agree on what a URL
// means, and every client gets the same bounded timeouts.
package redisurl

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultTimeout bounds one command's socket reads and writes, and the wait
// for a pooled connection, unless an Option or the URL says otherwise.
const DefaultTimeout = 3 * time.Second

// Option tunes the clients NewClient makes.
type Option func(*settings)

type settings struct {
	timeout time.Duration
	held    int
}

// WithTimeout sets how long one command may wait on the socket (reads,
// writes, a pooled connection, a dial) when the URL does not set those
// itself; d <= 0 keeps DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(s *settings) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// WithHeldConns sizes the pool for n callers that each hold a connection
// for long: a blocking read (XREAD or XREADGROUP with BLOCK) keeps its
// connection for the whole block, so n of them would otherwise take n
// connections from everyone else's share. The pool gets go-redis's default
// size (10 per GOMAXPROCS; 5 per GOMAXPROCS on each node of a cluster),
// what one client had to itself before the program shared one, plus n. A
// pool_size in the URL wins.
func WithHeldConns(n int) Option {
	return func(s *settings) { s.held = max(n, 0) }
}

// bound applies the timeouts and the pool size the URL left unset, and makes
// the client honour a context's deadline on the socket itself
// (ContextTimeoutEnabled): without it a silent Redis (stopped, partitioned)
// holds a command for go-redis's own read timeout and then its retries,
// whatever deadline the caller set. A blocking read is not cut short by the
// read timeout: go-redis gives a command with BLOCK its block plus 10 s,
// and callers bound it further with their context. poolPerProc is
// go-redis's default pool size per GOMAXPROCS for the kind of client.
func (s settings) bound(ctxTimeout *bool, poolSize *int, poolPerProc int, timeouts ...*time.Duration) {
	*ctxTimeout = true
	if *poolSize == 0 && s.held > 0 {
		*poolSize = poolPerProc*runtime.GOMAXPROCS(0) + s.held
	}
	for _, d := range timeouts {
		if *d == 0 {
			*d = s.timeout
		}
	}
}

// go-redis's default pool sizes per GOMAXPROCS: a client's, and a cluster
// client's for each node.
const (
	poolPerProc        = 10
	clusterPoolPerProc = 5
)

func newSettings(opts []Option) settings {
	s := settings{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&s)
	}
	return s
}

// Cluster URL schemes. Query parameters are go-redis's cluster options
// (dial_timeout, pool_size, ...), as for redis.ParseClusterURL.
const (
	ClusterScheme    = "redis+cluster"
	ClusterTLSScheme = "rediss+cluster"
)

// IsCluster reports whether raw names a Redis Cluster.
func IsCluster(raw string) bool { return hasScheme(raw, ClusterScheme, ClusterTLSScheme) }

// hasScheme reports whether raw's scheme is one of schemes.
func hasScheme(raw string, schemes ...string) bool {
	scheme, _, _ := strings.Cut(raw, "://")
	return slices.Contains(schemes, scheme)
}

// NewClient makes a client for raw; it does not connect yet.
func NewClient(raw string, opts ...Option) (redis.UniversalClient, error) {
	set := newSettings(opts)
	switch {
	case IsCluster(raw):
		o, err := ClusterOptions(raw)
		if err != nil {
			return nil, err
		}
		set.bound(&o.ContextTimeoutEnabled, &o.PoolSize, clusterPoolPerProc, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.DialTimeout)
		c := redis.NewClusterClient(o)
		followFailovers(c)
		return c, nil
	case IsSentinel(raw):
		o, err := SentinelOptions(raw)
		if err != nil {
			return nil, err
		}
		set.bound(&o.ContextTimeoutEnabled, &o.PoolSize, poolPerProc, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.DialTimeout)
		return redis.NewFailoverClient(o), nil
	}
	o, err := redis.ParseURL(raw)
	if err != nil {
		return nil, fmt.Errorf("parse redis url: %w", err)
	}
	set.bound(&o.ContextTimeoutEnabled, &o.PoolSize, poolPerProc, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.DialTimeout)
	return redis.NewClient(o), nil
}

// Describe names what raw points at, for messages, without credentials:
// the server (its address or socket), the cluster's seeds, or the master set
// and its sentinels.
func Describe(raw string) string {
	switch {
	case IsSentinel(raw):
		if o, err := SentinelOptions(raw); err == nil {
			return fmt.Sprintf("master %q of sentinels %s", o.MasterName, strings.Join(o.SentinelAddrs, ","))
		}
	case IsCluster(raw):
		if o, err := ClusterOptions(raw); err == nil {
			return strings.Join(o.Addrs, ",")
		}
	default:
		if o, err := redis.ParseURL(raw); err == nil {
			return o.Addr
		}
	}
	return "?"
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

// Sentinel URL schemes: the hosts are sentinels, the path names the master
// set, and query parameters are go-redis's failover options
// (?db=2&dial_timeout=3s&sentinel_password=...).
const (
	SentinelScheme    = "redis+sentinel"
	SentinelTLSScheme = "rediss+sentinel"
)

// IsSentinel reports whether raw names a master through Redis Sentinel.
func IsSentinel(raw string) bool { return hasScheme(raw, SentinelScheme, SentinelTLSScheme) }

// SentinelOptions parses
// redis+sentinel://[user:password@]host:port,host:port/<master>[?db=N&options]
// into go-redis's failover options. The hosts are sentinels; the password is
// the data nodes' (requirepass), and sentinel_password, when the sentinels
// have one of their own, is theirs. The client asks the sentinels for the
// master, and on a failover follows the one they promote.
func SentinelOptions(raw string) (*redis.FailoverOptions, error) {
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the URL, password included.
		return nil, errors.New("parse redis sentinel url: not a valid URL")
	}
	master := strings.Trim(u.Path, "/")
	if master == "" || strings.Contains(master, "/") {
		return nil, errors.New("parse redis sentinel url: the path must name the master set, like redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster")
	}
	hosts := strings.Split(u.Host, ",")
	for _, h := range hosts {
		if h == "" {
			return nil, errors.New("parse redis sentinel url: needs host:port sentinels, like redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster")
		}
	}
	q := u.Query()
	sentinelPassword := q.Get("sentinel_password")
	q.Del("sentinel_password")
	q.Set("master_name", master)
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	user := u.User
	u.Scheme = strings.TrimSuffix(u.Scheme, "+sentinel")
	u.Host, u.Path, u.User = hosts[0], "", nil
	u.RawQuery = q.Encode()
	o, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("parse redis sentinel url: %w", err)
	}
	if user != nil {
		o.Username = user.Username()
		o.Password, _ = user.Password()
	}
	o.SentinelPassword = sentinelPassword
	return o, nil
}
