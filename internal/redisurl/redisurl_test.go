package redisurl

import (
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestClusterOptions(t *testing.T) {
	o, err := ClusterOptions("redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001,redis-3:7002/?dial_timeout=2s")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.0.1:7000", "10.0.0.2:7001", "redis-3:7002"}; !slices.Equal(o.Addrs, want) {
		t.Errorf("addrs %v, want %v", o.Addrs, want)
	}
	if o.Password != "secret" || o.DialTimeout != 2*time.Second || o.TLSConfig != nil {
		t.Errorf("options %+v", o)
	}
	o, err = ClusterOptions("rediss+cluster://a:1")
	if err != nil || o.TLSConfig == nil || !slices.Equal(o.Addrs, []string{"a:1"}) {
		t.Errorf("rediss+cluster: %+v, %v", o, err)
	}
	for raw, want := range map[string]string{
		"redis+cluster://a:1,b:2/3":       "no database number",
		"redis+cluster://a:1,,b:2/":       "needs host:port seeds",
		"redis+cluster://a:1/?colour=red": "colour",
	} {
		if _, err := ClusterOptions(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}

func TestNewClientPicksTheKind(t *testing.T) {
	for raw, cluster := range map[string]bool{
		"redis://localhost:6379/0":           false,
		"unix:///run/redis.sock":             false,
		"redis+cluster://a:1,b:2/":           true,
		"rediss+cluster://a:1?pool_size=100": true,
		"redis+sentinel://a:1,b:2/mymaster":  false,
	} {
		c, err := NewClient(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		_, isCluster := c.(*redis.ClusterClient)
		if isCluster != cluster || IsCluster(raw) != cluster {
			t.Errorf("%s: cluster client %v, want %v", raw, isCluster, cluster)
		}
		if IsSentinel(raw) != strings.Contains(raw, "sentinel") {
			t.Errorf("%s: IsSentinel %v", raw, IsSentinel(raw))
		}
		c.Close()
	}
}

// TestClientsAreBounded: every kind of client honours a context's deadline
// on the socket and times out a silent Redis after the configured timeout,
// unless the URL sets its own.
func TestClientsAreBounded(t *testing.T) {
	for raw, want := range map[string]time.Duration{
		"redis://localhost:6379/0":                     1500 * time.Millisecond,
		"redis://localhost:6379/0?read_timeout=7s":     7 * time.Second,
		"redis+cluster://a:1,b:2/":                     1500 * time.Millisecond,
		"redis+sentinel://a:1,b:2/mymaster":            1500 * time.Millisecond,
		"redis+sentinel://a:1/mymaster?read_timeout=9": 9 * time.Second,
	} {
		c, err := NewClient(raw, WithTimeout(1500*time.Millisecond))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		var ctxTimeout bool
		var read, write, pool time.Duration
		switch c := c.(type) {
		case *redis.Client:
			o := c.Options()
			ctxTimeout, read, write, pool = o.ContextTimeoutEnabled, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout
		case *redis.ClusterClient:
			o := c.Options()
			ctxTimeout, read, write, pool = o.ContextTimeoutEnabled, o.ReadTimeout, o.WriteTimeout, o.PoolTimeout
		}
		if !ctxTimeout || read != want || write != 1500*time.Millisecond || pool != 1500*time.Millisecond {
			t.Errorf("%s: context deadlines %v, read %v (want %v), write %v, pool wait %v", raw, ctxTimeout, read, want, write, pool)
		}
		c.Close()
	}
}

func TestSentinelOptions(t *testing.T) {
	o, err := SentinelOptions("redis+sentinel://:secret@10.0.0.1:26379,10.0.0.2:26379,s-3:26379/pulse-master?db=2&dial_timeout=2s&sentinel_password=sp")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.0.0.1:26379", "10.0.0.2:26379", "s-3:26379"}; !slices.Equal(o.SentinelAddrs, want) {
		t.Errorf("sentinels %v, want %v", o.SentinelAddrs, want)
	}
	if o.MasterName != "pulse-master" || o.Password != "secret" || o.SentinelPassword != "sp" || o.DB != 2 ||
		o.DialTimeout != 2*time.Second || o.TLSConfig != nil {
		t.Errorf("options %+v", o)
	}
	o, err = SentinelOptions("rediss+sentinel://a:1/m")
	if err != nil || o.TLSConfig == nil || o.MasterName != "m" || !slices.Equal(o.SentinelAddrs, []string{"a:1"}) {
		t.Errorf("rediss+sentinel: %+v, %v", o, err)
	}
	for raw, want := range map[string]string{
		"redis+sentinel://a:1,b:2/":           "must name the master set",
		"redis+sentinel://a:1,b:2/m/0":        "must name the master set",
		"redis+sentinel://a:1,,b:2/m":         "needs host:port sentinels",
		"redis+sentinel://a:1/m?colour=red":   "colour",
		"redis+sentinel://:pw@a:1/m?db=seven": "database number",
	} {
		if _, err := SentinelOptions(raw); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
		}
	}
}

// TestHeldConns: the pool of a client shared with blocking readers holds
// go-redis's default share for everyone else, plus one connection for each
// reader; a pool_size in the URL wins.
func TestHeldConns(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	for _, c := range []struct {
		raw  string
		opts []Option
		want int
	}{
		{"redis://localhost:6379/0", []Option{WithHeldConns(3)}, 10*procs + 3},
		{"redis://localhost:6379/0", nil, 10 * procs},
		{"redis://localhost:6379/0?pool_size=7", []Option{WithHeldConns(3)}, 7},
		{"redis+sentinel://a:1,b:2/mymaster", []Option{WithHeldConns(2)}, 10*procs + 2},
		{"redis+cluster://a:1,b:2/", []Option{WithHeldConns(3)}, 5*procs + 3},
		{"redis+cluster://a:1,b:2/?pool_size=40", []Option{WithHeldConns(3)}, 40},
	} {
		rdb, err := NewClient(c.raw, c.opts...)
		if err != nil {
			t.Fatalf("%s: %v", c.raw, err)
		}
		var got int
		switch r := rdb.(type) {
		case *redis.Client:
			got = r.Options().PoolSize
		case *redis.ClusterClient:
			got = r.Options().PoolSize
		}
		if got != c.want {
			t.Errorf("%s: pool size %d, want %d", c.raw, got, c.want)
		}
		rdb.Close()
	}
}

func TestDescribe(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://:secret@10.0.0.1:6380/2":                     "10.0.0.1:6380",
		"unix:///run/redis.sock":                              "/run/redis.sock",
		"redis+cluster://:secret@a:1,b:2/":                    "a:1,b:2",
		"redis+sentinel://:secret@s1:26379,s2:26379/mymaster": `master "mymaster" of sentinels s1:26379,s2:26379`,
		"redis+cluster://a:1,,b:2/":                           "?",
	} {
		if got := Describe(raw); got != want {
			t.Errorf("Describe(%s) = %q, want %q", raw, got, want)
		}
		if strings.Contains(Describe(raw), "secret") {
			t.Errorf("Describe(%s) shows the password", raw)
		}
	}
}
