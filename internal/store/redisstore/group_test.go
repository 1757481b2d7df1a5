package redisstore

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/rediskeys"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

// TestGroupMissesNothingAcknowledged: a change recorded (so acknowledged)
// before the group's first read is read, once the group was made ready
// (Ensure, which a node runs before it serves); and after Redis lost its
// data (the log and the group with it), a change recorded before the next
// read is read too, not skipped by a group re-created at the log's end.
func TestGroupMissesNothingAcknowledged(t *testing.T) {
	c := newClock(storetest.Start)
	rdb := redistest.Client(t)
	tenant := redistest.Tenant(t, rdb)
	s := New(rdb, storetest.Options(t, c), Config{Tenant: tenant})
	ctx := context.Background()
	record := func(id string) {
		t.Helper()
		r := store.Response{ID: id, Score: 2, Dims: store.Dims{Channel: "phone"}, At: c.Now(), AtGiven: true}
		if _, err := s.Record(ctx, []store.Response{r}); err != nil {
			t.Fatal(err)
		}
	}
	read := func(g *Group) []string {
		t.Helper()
		entries, err := g.Read(ctx, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, e := range entries {
			for _, ch := range e.Changes {
				var p store.Payload
				if err := json.Unmarshal(ch.Payload, &p); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, p.ID)
			}
		}
		return ids
	}
	g := NewGroup(rdb, tenant, "alerts", "n1", time.Minute)
	if err := g.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	record("before-first-read")
	if ids := read(g); len(ids) != 1 || ids[0] != "before-first-read" {
		t.Fatalf("first read after Ensure: %v", ids)
	}
	// Redis loses its data: the log goes, and the group with it.
	if err := rdb.Del(ctx, rediskeys.For(tenant).ChangeLog()).Err(); err != nil {
		t.Fatal(err)
	}
	record("after-the-loss")
	if ids := read(g); len(ids) != 1 || ids[0] != "after-the-loss" {
		t.Fatalf("first read after the loss: %v", ids)
	}
}
