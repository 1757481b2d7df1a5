package memstore_test

import (
	"testing"

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
