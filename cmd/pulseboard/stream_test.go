package main

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/redistest"
)

// TestStreamIngest: with --stream set, an entry a producer XADDs shows in
// the API's numbers, and a bad one lands in the dead-letter stream.
func TestStreamIngest(t *testing.T) {
	ns := redistest.Namespace(t)
	stream := ns + ":responses"
	rdb := redistest.Client(t)
	redistest.CleanupKeys(t, rdb, ns+"*")
	_, c := startNow(t, "--redis-url", redistest.URL(t), "--tenant", ns, "--stream", stream)
	ctx := context.Background()
	for _, v := range []map[string]any{
		{"id": "ivr-1", "score": "9", "channel": "phone", "team": "billing"},
		{"id": "ivr-2", "score": "ten", "channel": "phone"},
	} {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, _ := c.overall("window=15m&channel=phone"); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the streamed response did not arrive within 5 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		if n, _ := rdb.XLen(ctx, stream+":dead").Result(); n == 1 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the invalid entry was not dead-lettered")
}
