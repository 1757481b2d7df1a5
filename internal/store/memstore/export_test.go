package memstore

import (
	"maps"

	"github.com/pulseboard/pulseboard/internal/store"
)

// reopen is a memory engine with other options over old's data, as if the
// memory engine outlived a configuration change (it does not: it forgets
// everything on restart). It carries the ids, with the groups their entries
// remember, and the buckets of the rollups opts keeps; updates then take the
// same path as in any engine.
func reopen(old *Store, opts store.Options) *Store {
	n := New(opts)
	old.mu.Lock()
	defer old.mu.Unlock()
	keep := map[string]bool{}
	for _, r := range opts.Rollups {
		keep[r.Name()] = true
	}
	old.buckets.Each(old.opts.Now(), keep, func(k store.BucketKey, groups map[string]store.Tally) {
		n.buckets.Put(k, maps.Clone(groups))
	})
	maps.Copy(n.ids, old.ids)
	return n
}

// Reopen is reopen for the external tests.
var Reopen = reopen
