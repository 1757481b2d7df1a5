// Package boards is the node's board registry: the one current set of board
// definitions, replaced whole when the boards file is reloaded, listed and
// looked up by name, and the views computed from them against this node's
// aggregator. The JSON API, the pages' first paint, the index overview and
// the live fan-out all read definitions and views here; nothing else keeps
// a set of its own. The live package subscribes to replacements and
// applies each to its screens (reload, or close with 4003/4004).
package boards

import (
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/aggregate"
	"github.com/pulseboard/pulseboard/internal/board"
)

// Source is the node's aggregator as views are computed from it.
type Source interface {
	board.Source
	Status() aggregate.Status
}

// ErrNoBoard means no board has the requested name.
var ErrNoBoard = errors.New("no such board")

// Registry holds the current board definitions and computes their views.
// It is safe for concurrent use.
type Registry struct {
	src  Source
	comp board.Computer

	mu   sync.RWMutex
	defs []board.Board
	subs []chan struct{}
}

// New makes a registry holding defs, whose views comp computes from src.
func New(src Source, comp board.Computer, defs []board.Board) *Registry {
	return &Registry{src: src, comp: comp, defs: slices.Clone(defs)}
}

// Boards returns the current definitions, in the file's order. The slice is
// the caller's: a later Set does not change it.
func (r *Registry) Boards() []board.Board {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.defs)
}

// Board returns one current definition.
func (r *Registry) Board(name string) (board.Board, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	// A linear scan: a boards file holds tens of boards, not thousands.
	for _, d := range r.defs {
		if d.Name == name {
			return d, true
		}
	}
	return board.Board{}, false
}

// Set replaces every definition (a reload) and then signals each
// subscriber.
func (r *Registry) Set(defs []board.Board) {
	r.mu.Lock()
	r.defs = slices.Clone(defs)
	subs := r.subs
	r.mu.Unlock()
	for _, c := range subs {
		select {
		case c <- struct{}{}:
		default: // a signal is already waiting; the reader reads the newest set
		}
	}
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
