package redisstream

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

func TestMain(m *testing.M) { redistest.Main(m) }

// TestTwoConsumersOneKilled has producers add 1,200 entries (retried
// duplicates and invalid ones among them) while two consumers read the
// group; one dies mid-way with entries pending. The other claims them, and
// in the end the store holds every valid response exactly once, the
// dead-letter stream holds every invalid entry with its reason, and nothing
// is pending. (Versions of one id are applied in processing order, which a
// reclaim can change; see the package comment.)
//
// On the Redis Cluster the stream and its dead-letter stream hash to
// different slots, so the consumer cannot dead-letter and acknowledge in one
// MULTI and takes the two-step path.
func TestTwoConsumersOneKilled(t *testing.T) {
	t.Run("redis", func(t *testing.T) { twoConsumersOneKilled(t, redistest.Client, true) })
	t.Run("cluster", func(t *testing.T) { twoConsumersOneKilled(t, redistest.ClusterClient, false) })
}

// fixture is a stream in a namespace of its own and a Redis store beside it.
type fixture struct {
	rdb    redis.UniversalClient
	stream string
	clock  *storetest.Clock
	opts   store.Options
	st     *redisstore.Store
}

func newFixture(t *testing.T, client func(testing.TB) redis.UniversalClient) fixture {
	f := fixture{rdb: client(t), clock: &storetest.Clock{}}
	ns := redistest.Namespace(t)
	f.stream = ns + ":responses"
	redistest.CleanupKeys(t, f.rdb, ns+"*")
	f.clock.Set(time.Now())
	f.opts = storetest.Options(t, f.clock)
	f.st = redisstore.New(client(t), f.opts, redisstore.Config{Tenant: ns})
	t.Cleanup(func() { f.st.Close() })
	return f
}

// oneMulti says whether the consumer dead-letters and acknowledges in one
// MULTI; without it (two slots), an entry reclaimed between the two steps,
// as when a loaded consumer takes longer than ClaimIdle over a batch, is
// dead-lettered again: at least once, never lost (docs/OPERATIONS.md).
func twoConsumersOneKilled(t *testing.T, client func(testing.TB) redis.UniversalClient, oneMulti bool) {
	ctx := context.Background()
	f := newFixture(t, client)
	rdb, stream, clock, opts, st := f.rdb, f.stream, f.clock, f.opts, f.st

	// Producers: the expected final state is the latest valid version per id.
	rng := rand.New(rand.NewPCG(3, 8))
	latest := map[string]int{}
	invalid := 0
	for i := range 1200 {
		n := rng.IntN(900)
		id := fmt.Sprintf("ivr-%d", n)
		score := n % 11 // a retry repeats the same answer
		values := map[string]any{"id": id, "score": fmt.Sprint(score), "channel": "phone", "team": "billing", "tags": "ivr,after-call"}
		switch {
		case i%40 == 7:
			values["score"] = "11"
		case i%40 == 19:
			delete(values, "channel")
		case i%40 == 33:
			values["colour"] = "red"
		}
		if i%40 == 7 || i%40 == 19 || i%40 == 33 {
			invalid++
		} else {
			latest[id] = score
		}
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: values}).Err(); err != nil {
			t.Fatal(err)
		}
	}

	cfg := Config{Stream: stream, Group: "pulseboard", Batch: 100, Block: 50 * time.Millisecond,
		ClaimIdle: 300 * time.Millisecond, ClaimEvery: 100 * time.Millisecond, Now: clock.Now}
	killed := cfg
	killed.Consumer, killed.crashAfterRead = "node-a", 3
	survivor := cfg
	survivor.Consumer = "node-b"

	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	var crashErr error
	go func() { defer wg.Done(); crashErr = New(rdb, st, killed).Run(runCtx) }()
	go func() { defer wg.Done(); _ = New(rdb, st, survivor).Run(runCtx) }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		pending, err := rdb.XPending(ctx, stream, "pulseboard").Result()
		groups, gerr := rdb.XInfoGroups(ctx, stream).Result()
		if err == nil && gerr == nil && len(groups) == 1 && pending.Count == 0 && groups[0].Lag == 0 && groups[0].EntriesRead == 1200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the stream was not fully processed: pending %+v, groups %+v (%v %v)", pending, groups, err, gerr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	wg.Wait()
	if crashErr != errCrashed {
		t.Fatalf("consumer a did not crash as planned: %v", crashErr)
	}

	// The store holds every valid response once, in its latest version.
	var want nps.Distribution
	for _, s := range latest {
		want[s]++
	}
	groups, err := st.Query(ctx, store.Query{Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	if groups[0].Counts != want {
		t.Fatalf("store holds %v, want %v (%d distinct valid responses)", groups[0].Counts, want, len(latest))
	}
	// Every invalid entry is dead-lettered with its reason.
	dead, err := rdb.XRange(ctx, stream+":dead", "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	if oneMulti && len(dead) != invalid {
		t.Fatalf("dead-letter stream has %d entries, want %d", len(dead), invalid)
	}
	reasons := map[string]int{}
	seen := map[any]bool{}
	for _, d := range dead {
		if seen[d.Values["source_id"]] {
			continue // dead-lettered again after a reclaim (two-step path only)
		}
		seen[d.Values["source_id"]] = true
		r := d.Values["error"].(string)
		switch {
		case strings.Contains(r, "score: must be an integer from 0 to 10"):
			reasons["score"]++
		case strings.Contains(r, "channel: is required"):
			reasons["channel"]++
		case strings.Contains(r, "colour: unknown field"):
			reasons["unknown"]++
		default:
			t.Errorf("unexpected reason %q", r)
		}
		if d.Values["source_id"] == "" || d.Values["field_id"] == nil {
			t.Errorf("dead letter lacks its source: %v", d.Values)
		}
	}
	if reasons["score"] != 30 || reasons["channel"] != 30 || reasons["unknown"] != 30 {
		t.Errorf("reasons %v", reasons)
	}
}

// TestVersionedEntries: an entry may carry the response's version, as in
// the API. An older version processed after a newer one (a producer's late
// retry, or an entry reclaimed from a dead consumer) is stale and changes
// nothing; an invalid version is dead-lettered.
func TestVersionedEntries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, redistest.Client)
	rdb, stream, clock, opts, st := f.rdb, f.stream, f.clock, f.opts, f.st
	for _, v := range []map[string]any{
		{"id": "v1", "score": "9", "channel": "phone", "version": "2"},
		{"id": "v1", "score": "0", "channel": "phone", "version": "1"},
		{"id": "v2", "score": "5", "channel": "phone", "version": "0"},
	} {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- New(rdb, st, Config{Stream: stream, Group: "pulseboard", Consumer: "a", Block: 50 * time.Millisecond, Now: clock.Now}).Run(runCtx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		pending, perr := rdb.XPending(ctx, stream, "pulseboard").Result()
		if err == nil && perr == nil && len(groups) == 1 && groups[0].EntriesRead == 3 && pending.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not processed: %+v %v", groups, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	groups, err := st.Query(ctx, store.Query{Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
	if err != nil || groups[0].Counts != nps.Of(9) {
		t.Fatalf("store holds %+v (%v), want only the 9 of version 2", groups, err)
	}
	dead, err := rdb.XRange(ctx, stream+":dead", "-", "+").Result()
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].Values["error"].(string), "version: must be an integer from 1 to") {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
}

// TestStopFinishesBatch: a consumer stopped while reading leaves nothing
// pending.
func TestItemOfTags(t *testing.T) {
	it, _, problems := itemOf(map[string]any{"tags": `["vip", "after-call"]`, "id": "x"})
	if len(problems) != 0 || len(it.Tags) != 2 || it.Tags[1] != "after-call" {
		t.Errorf("JSON tags: %v %v", it.Tags, problems)
	}
	it, _, problems = itemOf(map[string]any{"tags": "vip, after-call"})
	if len(problems) != 0 || len(it.Tags) != 2 || it.Tags[1] != "after-call" {
		t.Errorf("comma tags: %v %v", it.Tags, problems)
	}
	if _, _, problems = itemOf(map[string]any{"tags": "[broken"}); len(problems) != 1 {
		t.Errorf("broken JSON tags accepted")
	}
}

// TestJourneyAndCustomDimensions: the stream takes journey and the
// configured dimensions as fields, and dead-letters a field that is
// neither.
func TestJourneyAndCustomDimensions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, redistest.Client)
	rdb, stream, clock, opts, st := f.rdb, f.stream, f.clock, f.opts, f.st
	schema, err := store.NewSchema("region")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []map[string]any{
		{"id": "j1", "score": "9", "channel": "phone", "journey": "pharma", "region": "north"},
		{"id": "j2", "score": "2", "channel": "phone", "journey": "pharma"},
		{"id": "j3", "score": "5", "channel": "phone", "queue": "vip"},
	} {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- New(rdb, st, Config{Stream: stream, Group: "pulseboard", Consumer: "a", Block: 50 * time.Millisecond,
			Now: clock.Now, Ingest: ingest.Options{Schema: schema}}).Run(runCtx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		pending, perr := rdb.XPending(ctx, stream, "pulseboard").Result()
		if err == nil && perr == nil && len(groups) == 1 && groups[0].EntriesRead == 3 && pending.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not processed: %+v %v", groups, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	groups, err := st.Query(ctx, store.Query{By: []store.Dimension{store.Journey}, Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
	if err != nil || len(groups) != 1 || groups[0].Key[store.Journey] != "pharma" || groups[0].Counts != nps.Of(9, 2) {
		t.Fatalf("by journey: %+v (%v)", groups, err)
	}
	hist, err := st.History(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var p store.Payload
	if err := json.Unmarshal(hist[len(hist)-1].Changes[0].Payload, &p); err != nil || p.Dims().Get("region") != "north" {
		t.Fatalf("payload %+v, %v", p, err)
	}
	dead, err := rdb.XRange(ctx, stream+":dead", "-", "+").Result()
	if err != nil || len(dead) != 1 || dead[0].Values["error"] != "queue: unknown field" {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
}

// TestOfferEntries: an entry with kind offer is an offered survey; answers
// on the stream name it (offer_id) or carry csat alone. The store counts
// them as POST /api/v1/offers and /responses would; an entry of another
// kind, or an offer with an answer's field, is dead-lettered with why.
func TestOfferEntries(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, redistest.Client)
	rdb, stream, clock, opts, st := f.rdb, f.stream, f.clock, f.opts, f.st
	entries := []map[string]any{
		{"kind": "offer", "id": "call-1", "channel": "phone"},
		{"kind": "offer", "id": "call-2", "channel": "phone"},
		{"kind": "offer", "id": "call-3", "channel": "email"},
		{"kind": "response", "id": "a1", "offer_id": "call-1", "score": "9", "csat": "5", "channel": "phone"},
		{"id": "a2", "offer_id": "call-3", "csat": "2", "channel": "email"},
		{"id": "a3", "score": "3", "channel": "phone"}, // unsolicited
		{"kind": "survey", "id": "x1", "channel": "phone"},
		{"kind": "offer", "id": "x2", "channel": "phone", "score": "9"},
	}
	for _, v := range entries {
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: v}).Err(); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		done <- New(rdb, st, Config{Stream: stream, Group: "pulseboard", Consumer: "a", Block: 50 * time.Millisecond, Now: clock.Now}).Run(runCtx)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		groups, err := rdb.XInfoGroups(ctx, stream).Result()
		pending, perr := rdb.XPending(ctx, stream, "pulseboard").Result()
		if err == nil && perr == nil && len(groups) == 1 && groups[0].EntriesRead == int64(len(entries)) && pending.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not processed: %+v %v", groups, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	<-done
	groups, err := st.Query(ctx, store.Query{By: []store.Dimension{store.Channel}, Span: opts.Calendar.Span(window.Rolling1h, clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	byChannel := map[string]store.Group{}
	for _, g := range groups {
		byChannel[g.Key[store.Channel]] = g
	}
	if g := byChannel["phone"]; g.Offered != 2 || g.Answered != 1 || g.Counts != nps.Of(9, 3) || g.CSAT.Answers() != 1 || g.CSAT[4] != 1 {
		t.Errorf("phone: %+v", g)
	}
	if g := byChannel["email"]; g.Offered != 1 || g.Answered != 1 || g.Counts.Responses() != 0 || g.CSAT.Answers() != 1 || g.CSAT[1] != 1 {
		t.Errorf("email: %+v", g)
	}
	dead, err := rdb.XRange(ctx, stream+":dead", "-", "+").Result()
	if err != nil || len(dead) != 2 {
		t.Fatalf("dead letters %+v, %v", dead, err)
	}
	if got := dead[0].Values["error"]; got != "kind: must be response or offer" {
		t.Errorf("unknown kind: %q", got)
	}
	if got, _ := dead[1].Values["error"].(string); !strings.HasPrefix(got, "score: is not a field of an offer") {
		t.Errorf("offer with a score: %q", got)
	}
}
