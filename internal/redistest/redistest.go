// Package redistest gives tests a real Redis without touching anybody's
// data: it starts a private redis-server on a free loopback port with no
// persistence (or uses TEST_REDIS_URL when set), or a three-master Redis
// Cluster on free ports (or TEST_REDIS_CLUSTER_URL), and hands each test a
// unique key namespace instead of ever flushing a database.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/redisurl"
)

// Server is a redis-server process owned by a test binary.
type Server struct {
	URL  string
	Addr string
	cmd  *exec.Cmd
	dir  string
	bin  string
	args []string
}

// Start launches redis-server on a free port and waits until it answers.
// extraArgs are passed through (e.g. "--appendonly", "yes").
func Start(extraArgs ...string) (*Server, error) {
	bin, err := lookRedisServer()
	if err != nil {
		return nil, err
	}
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		dir, err := os.MkdirTemp("", "pulseboard-redis-")
		if err != nil {
			return nil, fmt.Errorf("make redis dir: %w", err)
		}
		args := append([]string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", dir,
			"--daemonize", "no", "--loglevel", "warning",
		}, extraArgs...)
		s := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", port), dir: dir, bin: bin, args: args}
		s.URL = "redis://" + s.Addr + "/0"
		if lastErr = s.launch(); lastErr == nil {
			return s, nil
		}
		s.Stop()
	}
	return nil, fmt.Errorf("redis-server did not come up: %w", lastErr)
}

// lookRedisServer finds redis-server, which also runs the sentinels
// (--sentinel).
func lookRedisServer() (string, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return "", fmt.Errorf("redis-server not found on PATH (install Debian's redis-server, or set TEST_REDIS_URL): %w", err)
	}
	return bin, nil
}

// Private starts a redis-server for one test alone (one it may kill and
// restart) and stops it when the test ends.
func Private(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) launch() error {
	s.cmd = exec.Command(s.bin, s.args...)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	return s.waitReady(5 * time.Second)
}

// Kill stops the server abruptly (SIGKILL), as a crash would, keeping its
// port and directory for Restart.
func (s *Server) Kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// Alive reports whether the server runs (it was not killed or stopped).
func (s *Server) Alive() bool { return s.cmd != nil }

// Pause stops the server with SIGSTOP: it keeps its port and its
// connections but answers nothing, as in a VM pause or a network partition
// (silence, not refusals). Resume undoes it.
func (s *Server) Pause() error {
	return s.signal(syscall.SIGSTOP)
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() error {
	return s.signal(syscall.SIGCONT)
}

func (s *Server) signal(sig syscall.Signal) error {
	if s.cmd == nil || s.cmd.Process == nil {
		return fmt.Errorf("redis-server on %s is not running", s.Addr)
	}
	if err := syscall.Kill(s.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal %v to redis-server on %s: %w", sig, s.Addr, err)
	}
	return nil
}

// Restart starts a killed server again on the same port.
func (s *Server) Restart() error {
	s.Kill()
	return s.launch()
}

// loadingWait bounds the wait for a server that answers LOADING: a large
// AOF on a busy machine takes longer to load than a server takes to start.
const loadingWait = 60 * time.Second

func (s *Server) waitReady(timeout time.Duration) error {
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1})
	defer rdb.Close()
	began := time.Now()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := rdb.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		limit := timeout
		if redis.HasErrorPrefix(err, "LOADING") {
			limit = loadingWait // it runs, and is reading its data
		}
		if time.Since(began) > limit {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the server and removes its directory.
func (s *Server) Stop() {
	s.Kill()
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// sharedBackend is a server or cluster that a test binary starts on first
// use and stops in Main, unless an environment variable names one.
type sharedBackend struct {
	env  string
	once sync.Once
	url  string
	err  error
	stop func()
}

func (b *sharedBackend) get(t testing.TB, start func() (url string, stop func(), err error)) string {
	t.Helper()
	b.once.Do(func() {
		if u := os.Getenv(b.env); u != "" {
			b.url = u
			return
		}
		b.url, b.stop, b.err = start()
	})
	if b.err != nil {
		t.Fatalf("redistest: %v", b.err)
	}
	return b.url
}

var (
	sharedServer  = &sharedBackend{env: "TEST_REDIS_URL"}
	sharedCluster = &sharedBackend{env: "TEST_REDIS_CLUSTER_URL"}
)

// Main wraps a package's TestMain: it stops the shared server and cluster
// after the tests ran. Use it as `func TestMain(m *testing.M) { redistest.Main(m) }`.
func Main(m *testing.M) {
	os.Exit(Run(m))
}

// Run is Main without the exit, for a TestMain that wraps the run (with
// openapitest.Main, say): it runs the tests, stops the shared servers and
// returns the exit code.
func Run(m *testing.M) int {
	code := m.Run()
	for _, b := range []*sharedBackend{sharedServer, sharedCluster} {
		if b.stop != nil {
			b.stop()
		}
	}
	return code
}

// URL returns the address of the package's shared Redis, starting it on
// first use, or TEST_REDIS_URL when set. A missing redis-server fails the
// test: the suite must run on real Redis, never silently skip.
func URL(t testing.TB) string {
	t.Helper()
	return sharedServer.get(t, func() (string, func(), error) {
		s, err := Start()
		if err != nil {
			return "", nil, err
		}
		return s.URL, s.Stop, nil
	})
}

// Namespace returns a key namespace unique to this test, so tests share one
// server without sharing data.
func Namespace(t testing.TB) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random namespace: %v", err)
	}
	return "t" + hex.EncodeToString(b[:])
}

// Tenant returns a tenant unique to this test, like Namespace, whose keys
// (the program's layout, rediskeys) are deleted from each of rdbs when the
// test ends.
func Tenant(t testing.TB, rdbs ...redis.UniversalClient) string {
	t.Helper()
	ns := Namespace(t)
	for _, rdb := range rdbs {
		CleanupKeys(t, rdb, rediskeys.For(ns).Pattern())
	}
	return ns
}

// Client returns a client for the shared Redis, closed when the test ends.
func Client(t testing.TB) redis.UniversalClient {
	t.Helper()
	return ClientAt(t, URL(t))
}

// ClientAt returns a client for the Redis at url (a server, a cluster or a
// Sentinel master, as redisurl reads it), closed when the test ends, after
// the cleanups registered later, which may still use it.
func ClientAt(t testing.TB, url string, opts ...redisurl.Option) redis.UniversalClient {
	t.Helper()
	rdb, err := redisurl.NewClient(url, opts...)
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// CleanupKeys deletes every key in a namespace at the end of the test, and
// fails the test if deleting them fails. On a cluster it scans every master.
func CleanupKeys(t testing.TB, rdb redis.UniversalClient, pattern string) {
	t.Cleanup(func() {
		ctx := context.Background()
		var err error
		if c, ok := rdb.(*redis.ClusterClient); ok {
			err = c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
				return deleteKeys(ctx, node, pattern)
			})
		} else {
			err = deleteKeys(ctx, rdb, pattern)
		}
		if err != nil {
			t.Errorf("delete test keys: %v", err)
		}
	})
}

// deleteKeys deletes the keys of one server that match pattern, one DEL per
// key in a pipeline (a multi-key DEL would be cross-slot on a cluster node).
func deleteKeys(ctx context.Context, rdb redis.Cmdable, pattern string) error {
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan: %w", err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		pipe := rdb.Pipeline()
		for _, k := range keys[:n] {
			pipe.Del(ctx, k)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}
