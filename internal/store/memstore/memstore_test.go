package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB, opts store.Options) store.Store {
		return memstore.New(opts)
	})
}

func BenchmarkRecord(b *testing.B) { storetest.BenchRecordSizes(b, newBenchStore) }

func BenchmarkQuery(b *testing.B) { storetest.BenchQueries(b, newBenchStore) }

func newBenchStore(t testing.TB, opts store.Options) store.Store { return memstore.New(opts) }

// TestLogBoundedByChanges: big batches do not make the in-process change
// log hold millions of changes; a reader that fell behind is told to warm
// up again.
func TestLogBoundedByChanges(t *testing.T) {
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	s := memstore.New(storetest.Options(t, clock))
	defer s.Close()
	ctx := context.Background()
	for b := range 100 {
		batch := make([]store.Response, 1000)
		for i := range batch {
			batch[i] = store.Response{ID: fmt.Sprintf("r%d-%d", b, i), Score: 5, Dims: store.Dims{Channel: "sms"}, At: clock.Now(), AtGiven: true}
		}
		if _, err := s.Record(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	hist, err := s.History(ctx, 1000)
	if err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, e := range hist {
		held += len(e.Changes)
	}
	if held > 70_000 {
		t.Fatalf("the log holds %d changes", held)
	}
	if _, err := s.Tail(ctx, store.Position{}, time.Millisecond); !errors.Is(err, store.ErrLogGap) {
		t.Fatalf("tail from the start after trimming: %v, want ErrLogGap", err)
	}
	if entries, err := s.Tail(ctx, hist[len(hist)-2].Pos, time.Millisecond); err != nil || len(entries) != 1 {
		t.Fatalf("tail from a kept position: %d entries, %v", len(entries), err)
	}
}

func TestRollupChange(t *testing.T) {
	storetest.RunRollupChange(t, func(t testing.TB, opts store.Options) store.Store { return memstore.New(opts) },
		func(t testing.TB, s store.Store, opts store.Options) store.Store {
			return memstore.Reopen(s.(*memstore.Store), opts)
		})
}
