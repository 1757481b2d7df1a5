package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redisurl"
)

// SentinelMaster is the master set the sentinels of StartSentinel watch.
const SentinelMaster = "pbmaster"

// Sentinel timing: a master that does not answer for a second is down for
// one sentinel, and two agreeing start the failover. Short, so a test's
// failover takes seconds; production runs use larger values.
const (
	sentinelDownAfter = 1000 * time.Millisecond
	sentinelQuorum    = 2
	sentinelCount     = 3
	sentinelReady     = 20 * time.Second
)

// Sentinel is a master, one replica and three sentinels, all private
// redis-servers on free loopback ports (a sentinel is redis-server
// --sentinel with its own config file, which it rewrites).
type Sentinel struct {
	// URL is a redis+sentinel:// URL naming every sentinel and the master
	// set.
	URL       string
	Master    *Server
	Replica   *Server
	Sentinels []*Server
}

// StartSentinel launches the master, its replica and three sentinels
// (quorum 2, down after 1 s), and waits until the replica is in sync and
// every sentinel knows the replica and the other sentinels, so that a
// failover can happen.
func StartSentinel() (*Sentinel, error) {
	s := &Sentinel{}
	var err error
	if s.Master, err = Start(); err != nil {
		return nil, fmt.Errorf("sentinel's master: %w", err)
	}
	host, port, _ := net.SplitHostPort(s.Master.Addr)
	if s.Replica, err = Start("--replicaof", host, port); err != nil {
		s.Stop()
		return nil, fmt.Errorf("sentinel's replica: %w", err)
	}
	addrs := make([]string, 0, sentinelCount)
	for range sentinelCount {
		sen, err := startSentinelProcess(s.Master.Addr)
		if err != nil {
			s.Stop()
			return nil, err
		}
		s.Sentinels = append(s.Sentinels, sen)
		addrs = append(addrs, sen.Addr)
	}
	if err := s.waitReady(sentinelReady); err != nil {
		s.Stop()
		return nil, err
	}
	s.URL = redisurl.SentinelScheme + "://" + strings.Join(addrs, ",") + "/" + SentinelMaster
	return s, nil
}

// startSentinelProcess runs one sentinel on a free port.
func startSentinelProcess(masterAddr string) (*Server, error) {
	bin, err := lookRedisServer()
	if err != nil {
		return nil, err
	}
	host, port, _ := net.SplitHostPort(masterAddr)
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "pulseboard-sentinel-")
		if err != nil {
			return nil, fmt.Errorf("make sentinel dir: %w", err)
		}
		conf := filepath.Join(dir, "sentinel.conf")
		text := fmt.Sprintf(`port %d
bind 127.0.0.1
daemonize no
loglevel warning
dir %s
sentinel monitor %s %s %s %d
sentinel down-after-milliseconds %s %d
sentinel failover-timeout %s 10000
sentinel parallel-syncs %s 1
`, p, dir, SentinelMaster, host, port, sentinelQuorum,
			SentinelMaster, sentinelDownAfter.Milliseconds(), SentinelMaster, SentinelMaster)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("write sentinel config: %w", err)
		}
		s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", p), dir: dir, bin: bin, args: []string{conf, "--sentinel"}}
		s.URL = "redis://" + s.Addr
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, fmt.Errorf("redis sentinel did not come up: %w", lastErr)
}

// waitReady waits until the replica's link to the master is up and every
// sentinel sees one replica and the two other sentinels.
func (s *Sentinel) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	rep := redis.NewClient(&redis.Options{Addr: s.Replica.Addr, MaxRetries: -1})
	defer rep.Close()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		info, _ := rep.Info(ctx, "replication").Result()
		cancel()
		if strings.Contains(info, "master_link_status:up") {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("replica %s not in sync within %s:\n%s", s.Replica.Addr, timeout, info)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, sen := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr, MaxRetries: -1})
		var state map[string]string
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			state, _ = c.Master(ctx, SentinelMaster).Result()
			cancel()
			if state["num-slaves"] == "1" && state["num-other-sentinels"] == strconv.Itoa(sentinelCount-1) {
				break
			}
			if time.Now().After(deadline) {
				c.Close()
				return fmt.Errorf("sentinel %s does not see the replica and the other sentinels within %s: %v", sen.Addr, timeout, state)
			}
			time.Sleep(50 * time.Millisecond)
		}
		c.Close()
	}
	return nil
}

// MasterAddr asks the first sentinel that answers which server is the
// master now.
func (s *Sentinel) MasterAddr(ctx context.Context) (string, error) {
	var lastErr error
	for _, sen := range s.Sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sen.Addr, MaxRetries: -1})
		addr, err := c.GetMasterAddrByName(ctx, SentinelMaster).Result()
		c.Close()
		if err == nil && len(addr) == 2 {
			return net.JoinHostPort(addr[0], addr[1]), nil
		}
		lastErr = err
	}
	return "", fmt.Errorf("no sentinel names the master: %w", lastErr)
}

// Stop stops every process and removes their directories.
func (s *Sentinel) Stop() {
	for _, sen := range s.Sentinels {
		sen.Stop()
	}
	for _, srv := range []*Server{s.Replica, s.Master} {
		if srv != nil {
			srv.Stop()
		}
	}
}
