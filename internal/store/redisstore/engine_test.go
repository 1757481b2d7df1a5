package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

// TestKeysExpireAndLog checks what the script leaves in Redis: bucket TTLs
// that follow each bucket's own age, record TTLs that follow the response's
// time, and one change log entry per batch with what changed.
func TestKeysExpireAndLog(t *testing.T) {
	c := newClock(storetest.Start)
	opts := storetest.Options(t, c)
	s := newTestStore(t, opts)
	rdb := redistest.Client(t)
	ctx := context.Background()

	at := storetest.Start.Add(-2 * time.Hour)
	r := store.Response{ID: "k1", Score: 4, Dims: store.Dims{Channel: "phone", Team: "alpha"}, At: at, AtGiven: true}
	if _, err := s.Record(ctx, []store.Response{r}); err != nil {
		t.Fatal(err)
	}
	cal := opts.Calendar
	for _, g := range window.Grans {
		id := cal.Bucket(g, at)
		key := s.keys.Bucket("team", g, id)
		ttl, err := rdb.TTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := cal.End(g, id).Add(opts.Retention.Of(g)).Sub(c.Now())
		if d := ttl - want; d < -2*time.Second || d > 2*time.Second {
			t.Errorf("%s bucket TTL %s, want about %s", g, ttl, want)
		}
		if v, _ := rdb.HGet(ctx, key, "alpha:4").Int(); v != 1 {
			t.Errorf("%s bucket alpha:4 = %d", g, v)
		}
	}
	ttl, _ := rdb.TTL(ctx, s.keys.Response("k1")).Result()
	if want := opts.Retention.Dedupe - 2*time.Hour; ttl < want-2*time.Second || ttl > want+2*time.Second {
		t.Errorf("record TTL %s, want about %s", ttl, want)
	}

	// A changed score: one more log entry carrying new and old records.
	r.Score = 10
	r.Comment = "much better"
	if _, err := s.Record(ctx, []store.Response{r, r}); err != nil {
		t.Fatal(err)
	}
	entries, err := rdb.XRange(ctx, s.keys.ChangeLog(), "-", "+").Result()
	if err != nil || len(entries) != 2 {
		t.Fatalf("change log has %d entries (%v), want 2", len(entries), err)
	}
	last := entries[1].Values
	if last["n"] != "1" {
		t.Errorf("second entry n = %v, want 1 (the duplicate is not logged)", last["n"])
	}
	parts := strings.Split(last["c"].(string), "\t")
	if len(parts) != 3 {
		t.Fatalf("change %q: want new, old, payload", last["c"])
	}
	newE, err1 := store.DecodeEntry(parts[0])
	oldE, err2 := store.DecodeEntry(parts[1])
	if err1 != nil || err2 != nil || newE.Score != 10 || oldE.Score != 4 || !strings.Contains(parts[2], "much better") {
		t.Errorf("change = %q (%v, %v)", last["c"], err1, err2)
	}
}

// TestRecordWrittenBeforeVersions: a record in the format written before
// versions existed ("fp;at;score;rollup=group;...") is read as unversioned:
// a versioned update applies over it, and an older version after that is
// stale. The record's format is checked byte for byte.
func TestRecordWrittenBeforeVersions(t *testing.T) {
	c := newClock(storetest.Start)
	opts := storetest.Options(t, c)
	s := newTestStore(t, opts)
	rdb := redistest.Client(t)
	ctx := context.Background()
	at := storetest.Start.Add(-time.Hour)
	r := store.Response{ID: "old1", Score: 3, Dims: store.Dims{Channel: "phone", Team: "alpha"}, At: at, AtGiven: true}
	if _, err := s.Record(ctx, []store.Response{r}); err != nil {
		t.Fatal(err)
	}
	// The old code's record, spelt out: no version part.
	e := store.EntryOf(r, opts.Rollups)
	old := fmt.Sprintf("%s;%d;3", store.Fingerprint(r), at.Unix())
	for _, g := range e.Groups {
		old += ";" + g.Rollup + "=" + g.Group
	}
	if got, _ := rdb.Get(ctx, s.keys.Response("old1")).Result(); got != old {
		t.Fatalf("an unversioned record must keep the old format: %q, want %q", got, old)
	}
	r.Score, r.Version = 9, 7
	if res, err := s.Record(ctx, []store.Response{r}); err != nil || res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("versioned update over an old record: %+v, %v", res, err)
	}
	if got, _ := rdb.Get(ctx, s.keys.Response("old1")).Result(); !strings.Contains(got, ";9;v7;") {
		t.Fatalf("record after a versioned update: %q", got)
	}
	r.Score, r.Version = 3, 6
	if res, err := s.Record(ctx, []store.Response{r}); err != nil || res != (store.RecordResult{Stale: 1}) {
		t.Fatalf("older version: %+v, %v", res, err)
	}
	groups, err := s.Query(ctx, store.Query{Span: opts.Calendar.Span(window.Rolling8h, c.Now())})
	if err != nil || groups[0].Counts != nps.Of(9) {
		t.Fatalf("groups %+v, %v", groups, err)
	}
}

// TestNeedRound sends a repeat without a time in a later minute: the script
// must ask for the stored minute and count the change there.
func TestNeedRound(t *testing.T) {
	c := newClock(storetest.Start)
	opts := storetest.Options(t, c)
	s := newTestStore(t, opts)
	ctx := context.Background()
	r := store.Response{ID: "n1", Score: 2, Dims: store.Dims{Channel: "chat"}, At: c.Now()}
	if _, err := s.Record(ctx, []store.Response{r}); err != nil {
		t.Fatal(err)
	}
	c.Advance(10 * time.Minute)
	r.Score, r.At = 9, c.Now()
	res, err := s.Record(ctx, []store.Response{r})
	if err != nil || res.Updated != 1 {
		t.Fatalf("update: %+v, %v", res, err)
	}
	span := window.Span{From: opts.Calendar.Start(window.Minute, opts.Calendar.Bucket(window.Minute, storetest.Start)), To: c.Now()}
	groups, err := s.Query(ctx, store.Query{Span: span})
	if err != nil || groups[0].Counts[9] != 1 || groups[0].Counts.Responses() != 1 {
		t.Fatalf("groups %+v, %v", groups, err)
	}
}

// TestUnavailable points the engine at a closed port: ingest must say
// "unavailable" (HTTP 503), never "internal".
func TestUnavailable(t *testing.T) {
	c := newClock(storetest.Start)
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	s := New(rdb, storetest.Options(t, c), Config{Tenant: "none"})
	_, err := s.Record(context.Background(), []store.Response{{ID: "x", Score: 1, Dims: store.Dims{Channel: "sms"}, At: c.Now(), AtGiven: true}})
	if fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("record against a dead Redis: %v (code %s)", err, fault.CodeOf(err))
	}
	if err := s.Ping(context.Background()); fault.CodeOf(err) != fault.Unavailable {
		t.Fatalf("ping: %v", err)
	}
}

func newClock(at time.Time) *storetest.Clock {
	c := &storetest.Clock{}
	c.Set(at)
	return c
}

// TestTrimmedLogIsAGap: a change log trimmed past a reader's position (its
// MAXLEN) is a gap, as the memory engine's bound is (memstore's
// TestLogBoundedByChanges); a reader at a kept position goes on.
func TestTrimmedLogIsAGap(t *testing.T) {
	c := newClock(storetest.Start)
	opts := storetest.Options(t, c)
	rdb := redistest.Client(t)
	// MAXLEN ~ trims whole stream nodes (100 entries each by default), so a
	// few hundred entries are needed to see one go.
	s := New(rdb, opts, Config{Tenant: redistest.Tenant(t, rdb), ChangeLogMaxLen: 10})
	ctx := context.Background()
	for i := range 300 {
		r := store.Response{ID: fmt.Sprintf("t%d", i), Score: 7, Dims: store.Dims{Channel: "sms"}, At: c.Now(), AtGiven: true}
		if _, err := s.Record(ctx, []store.Response{r}); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.History(ctx, 1000)
	if err != nil || len(hist) == 0 || len(hist) >= 300 {
		t.Fatalf("history after trimming: %d entries, %v", len(hist), err)
	}
	if _, err := s.Tail(ctx, store.Position{}, time.Millisecond); !errors.Is(err, store.ErrLogGap) {
		t.Fatalf("tail from the start after trimming: %v, want ErrLogGap", err)
	}
	if entries, err := s.Tail(ctx, hist[len(hist)-2].Pos, time.Millisecond); err != nil || len(entries) != 1 {
		t.Fatalf("tail from a kept position: %d entries, %v", len(entries), err)
	}
}

// TestUpgradeToJourney: a record the code before journey wrote (its
// fingerprint and rollup names are pinned in package store, so it is
// spelt out here byte for byte) is a duplicate of the same response sent
// after the upgrade, and sending it with a journey is an update that
// retracts the old counts and fills the new journey rollups.
func TestUpgradeToJourney(t *testing.T) {
	c := newClock(storetest.Start)
	before := storetest.Options(t, c)
	before.Rollups = store.DefaultRollups()[:7] // all … team+agent: the old defaults
	s := newTestStore(t, before)
	rdb := redistest.Client(t)
	ctx := context.Background()
	at := storetest.Start.Add(-time.Hour)
	r := store.Response{ID: "u1", Score: 0, Dims: store.Dims{Channel: "phone"}, At: at, AtGiven: true}
	if _, err := s.Record(ctx, []store.Response{r}); err != nil {
		t.Fatal(err)
	}
	old := fmt.Sprintf("130h723ng8c5x;%d;0;all=*;channel=phone", at.Unix())
	if got, _ := rdb.Get(ctx, s.keys.Response("u1")).Result(); got != old {
		t.Fatalf("record %q, want the old code's %q", got, old)
	}
	after := storetest.Options(t, c) // the new defaults, with journey
	up := New(s.rdb, after, s.cfg)
	if res, err := up.Record(ctx, []store.Response{r}); err != nil || res != (store.RecordResult{Duplicates: 1}) {
		t.Fatalf("resend after the upgrade: %+v, %v", res, err)
	}
	r.Dims.Journey = "pharma"
	if res, err := up.Record(ctx, []store.Response{r}); err != nil || res != (store.RecordResult{Updated: 1}) {
		t.Fatalf("resend with a journey: %+v, %v", res, err)
	}
	span := after.Calendar.Span(window.Rolling8h, c.Now())
	for _, by := range [][]store.Dimension{{store.Channel}, {store.Journey}, {store.Channel, store.Journey}} {
		groups, err := up.Query(ctx, store.Query{By: by, Span: span})
		if err != nil || len(groups) != 1 || groups[0].Counts != nps.Of(0) {
			t.Fatalf("by %v: %+v, %v", by, groups, err)
		}
	}
}
