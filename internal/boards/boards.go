// Package boards is the node's board registry: the one current set of board
// definitions, replaced whole when the boards file is reloaded, listed and
// looked up by name, and the views computed from them against this node's
// aggregator. The JSON API, the pages' first paint, the index overview and
// the live fan-out all read definitions and views here; nothing else keeps
// a set of its own. The live package subscribes to replacements and
// applies each to its screens (reload, or close with 4003/4004).
package boards

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/store"
)

// Source is the node's aggregator as views are computed from it.
type Source interface {
	board.Source
	Status() aggregate.Status
}

// ErrNoBoard means no board has the requested name.
var ErrNoBoard = errors.New("no such board")

// Registry holds the current board definitions and computes their views.
// A definition with for_each is a template: the registry serves one board
// per value of its dimension (board.Board.Instance), for its listed values
// or for those Refresh found in the last board.DiscoveryWindow. Every
// instance is a board like any other for its readers (Boards, Board,
// View), so pages, sockets and the fan-out need nothing of their own.
// It is safe for concurrent use.
type Registry struct {
	src  Source
	comp board.Computer

	mu   sync.RWMutex
	defs []board.Board // as defined: boards and templates, in the file's order
	// found holds the values Refresh found, by templateKey, sorted.
	found map[string][]string
	// boards is what is served: the plain boards and every instance, in
	// the file's order, instances by value; byName indexes it.
	boards []board.Board
	byName map[string]int
	// gen counts Sets, so a Refresh that raced one does not apply values
	// found for the old definitions.
	gen uint64
	// discovered is set by the first Refresh that succeeds.
	discovered bool
	subs       []chan struct{}
}

// New makes a registry holding defs, whose views comp computes from src.
func New(src Source, comp board.Computer, defs []board.Board) *Registry {
	r := &Registry{src: src, comp: comp, defs: slices.Clone(defs), found: map[string][]string{}}
	r.expand()
	return r
}

// templateKey keeps a template's found values across a reload only while
// its name and dimension stay the same.
func templateKey(def board.Board) string {
	return def.Name + "\x00" + string(def.ForEach.Dimension)
}

// values are the instances' values of a template: listed, or found.
func (r *Registry) values(def board.Board) []string {
	if def.ForEach.Values != nil {
		return def.ForEach.Values
	}
	return r.found[templateKey(def)]
}

// expand rebuilds the served boards from defs and found; r.mu is held.
func (r *Registry) expand() {
	r.boards = r.boards[:0:0]
	for _, d := range r.defs {
		if d.ForEach == nil {
			r.boards = append(r.boards, d)
			continue
		}
		for _, v := range r.values(d) {
			r.boards = append(r.boards, d.Instance(v))
		}
	}
	r.byName = make(map[string]int, len(r.boards))
	for i, b := range r.boards {
		r.byName[b.Name] = i
	}
}

// Boards returns the boards served now: the plain boards and every
// template's instances, in the file's order. Templates themselves are not
// boards (Index lists them). The slice is the caller's: a later Set or
// Refresh does not change it.
func (r *Registry) Boards() []board.Board {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.boards)
}

// Board returns one board served now: a plain board, or an instance by its
// name "template/value".
func (r *Registry) Board(name string) (board.Board, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if i, ok := r.byName[name]; ok {
		return r.boards[i], true
	}
	return board.Board{}, false
}

// Entry is one definition as the index lists it: a plain board, or a
// template (ForEach set) with its current instances, sorted by value.
type Entry struct {
	board.Board
	Instances []board.Board
}

// Index lists the definitions in the file's order, each template with its
// instances.
func (r *Registry) Index() []Entry {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Entry, 0, len(r.defs))
	for _, d := range r.defs {
		e := Entry{Board: d}
		if d.ForEach != nil {
			for _, v := range r.values(d) {
				e.Instances = append(e.Instances, r.boards[r.byName[d.Name+"/"+v]])
			}
		}
		out = append(out, e)
	}
	return out
}

// Set replaces every definition (a reload) and then signals each
// subscriber. Templates that keep their name and dimension keep the values
// found so far; a new one has its instances from the next Refresh.
func (r *Registry) Set(defs []board.Board) {
	r.mu.Lock()
	r.defs = slices.Clone(defs)
	found := map[string][]string{}
	for _, d := range r.defs {
		if d.ForEach != nil && d.ForEach.Values == nil {
			if v, ok := r.found[templateKey(d)]; ok {
				found[templateKey(d)] = v
			}
		}
	}
	r.found = found
	r.gen++
	r.expand()
	r.mu.Unlock()
	r.signal()
}

func (r *Registry) signal() {
	r.mu.RLock()
	subs := r.subs
	r.mu.RUnlock()
	for _, c := range subs {
		select {
		case c <- struct{}{}:
		default: // a signal is already waiting; the reader reads the newest set
		}
	}
}

// Discovered reports whether a Refresh has found the templates' values
// since start: until then (the node is warming up) a template's board that
// is not there yet may only not have been found yet.
func (r *Registry) Discovered() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.discovered
}

// Change is what a Refresh changed: the instances it added and removed.
type Change struct {
	Added, Removed []string
}

// Refresh finds, at now, the values each template without listed values
// has seen in the last board.DiscoveryWindow, from the node's aggregator
// (the replica every board is computed from: no round trip to the
// engine). Values that arrived since the last Refresh get their boards; a
// value no longer seen in the window loses its board, unless watched says
// a screen still shows it: then it stays until nobody does, so data
// ageing out never cuts a TV off mid-shift. When the instances changed,
// subscribers are signalled as after a Set. On an error (the aggregator
// still warming up) nothing changes.
func (r *Registry) Refresh(now time.Time, watched func(name string) bool) (Change, error) {
	r.mu.RLock()
	defs, old, gen := r.defs, r.found, r.gen
	r.mu.RUnlock()
	found := make(map[string][]string, len(old))
	span := r.comp.Calendar.Span(board.DiscoveryWindow, now)
	var ch Change
	for _, d := range defs {
		if d.ForEach == nil || d.ForEach.Values != nil {
			continue
		}
		dim := d.ForEach.Dimension
		groups, err := r.src.Query(store.Query{By: []store.Dimension{dim}, Span: span})
		if err != nil {
			return Change{}, fmt.Errorf("find the values of board template %s: %w", d.Name, err)
		}
		seen := map[string]bool{}
		for _, g := range groups {
			// "" is the group of answers without the dimension; the
			// validity check is defence in depth (ingest enforces it).
			if v := g.Key[dim]; v != "" && g.Counts.Responses() > 0 && board.ValidValue(v) {
				seen[v] = true
			}
		}
		key := templateKey(d)
		for _, v := range old[key] {
			if !seen[v] {
				if watched != nil && watched(d.Name+"/"+v) {
					seen[v] = true
				} else {
					ch.Removed = append(ch.Removed, d.Name+"/"+v)
				}
			}
		}
		vals := slices.Sorted(maps.Keys(seen))
		for _, v := range vals {
			if !slices.Contains(old[key], v) {
				ch.Added = append(ch.Added, d.Name+"/"+v)
			}
		}
		found[key] = vals
	}
	r.mu.Lock()
	r.discovered = true
	if len(ch.Added) == 0 && len(ch.Removed) == 0 {
		r.mu.Unlock()
		return ch, nil
	}
	if r.gen != gen {
		r.mu.Unlock()
		return Change{}, nil // a reload landed meanwhile: the next Refresh looks at its templates
	}
	r.found = found
	r.expand()
	r.mu.Unlock()
	r.signal()
	return ch, nil
}

// Subscribe returns a channel that receives a signal after every Set.
// Signals coalesce: a slow reader sees one for several replacements, and
// reads the newest definitions with Boards.
func (r *Registry) Subscribe() <-chan struct{} {
	c := make(chan struct{}, 1)
	r.mu.Lock()
	r.subs = append(r.subs, c)
	r.mu.Unlock()
	return c
}

// Compute computes any board definition at now from this node's
// aggregator: a current one, or one of the caller's own, like the index
// page's overview. The status is read first, so a view is never newer
// than the status that says whether it can be trusted.
func (r *Registry) Compute(def board.Board, now time.Time) (board.View, aggregate.Status, error) {
	st := r.src.Status()
	v, err := r.comp.Compute(def, r.src, now)
	return v, st, err
}

// View computes a current board's view at now (ErrNoBoard for a name the
// registry does not hold).
func (r *Registry) View(name string, now time.Time) (board.View, aggregate.Status, error) {
	def, ok := r.Board(name)
	if !ok {
		return board.View{}, aggregate.Status{}, ErrNoBoard
	}
	return r.Compute(def, now)
}

// FollowValues runs Refresh at once and then every `every` (a poll cadence
// of real time; now is the clock the values are found at) until ctx ends,
// so a team that appears after start gets its board without a restart or a
// reload. Instances added and removed are logged; values are user data,
// and reach the log only as attribute values, which the handler quotes.
func (r *Registry) FollowValues(ctx context.Context, every time.Duration, now func() time.Time, watched func(name string) bool, logger *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ch, err := r.Refresh(now(), watched)
		switch {
		case errors.Is(err, aggregate.ErrNotReady):
			// Warming up: the next tick finds the values.
		case err != nil:
			logger.Warn("board templates: keeping the current boards", slog.Any("err", err))
		case len(ch.Added) > 0 || len(ch.Removed) > 0:
			logger.Info("board templates: boards changed", slog.Any("added", ch.Added), slog.Any("removed", ch.Removed))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
