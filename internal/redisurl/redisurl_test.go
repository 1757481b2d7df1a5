package redisurl

import (
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
	} {
		c, err := NewClient(raw)
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		_, isCluster := c.(*redis.ClusterClient)
		if isCluster != cluster || IsCluster(raw) != cluster {
			t.Errorf("%s: cluster client %v, want %v", raw, isCluster, cluster)
		}
		c.Close()
	}
}
