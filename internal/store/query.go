package store

import (
	"errors"
	"slices"
	"sort"
)

// ErrNoRollup means a query needs a combination of dimensions that no
// configured rollup counts.
var ErrNoRollup = errors.New("no rollup")

// Folder accumulates a plan's stored groups into answer groups. Engines feed
// it every (group, distribution) they read from the window's buckets.
type Folder struct {
	plan   Plan
	groups map[string]*Group
}

// NewFolder starts an empty answer for a plan.
func NewFolder(p Plan) *Folder {
	return &Folder{plan: p, groups: make(map[string]*Group)}
}

// Add folds one stored group's counts into the answer.
func (f *Folder) Add(group string, t Tally) error {
	key, vals, ok, err := f.plan.Fold(group)
	if err != nil || !ok {
		return err
	}
	g := f.groups[key]
	if g == nil {
		g = &Group{Key: vals}
		f.groups[key] = g
	}
	g.Counts = g.Counts.Add(t.NPS)
	g.CSAT = g.CSAT.Add(t.CSAT)
	g.Offered += t.Offered
	g.Answered += t.Answered
	return nil
}

// WithNPS keeps the groups that hold NPS answers: a breakdown of NPS (a
// leaderboard, a digest) has no row for a group that only had surveys
// offered or CSAT answers. It filters groups in place.
func WithNPS(groups []Group) []Group {
	return slices.DeleteFunc(groups, func(g Group) bool { return g.Counts.Responses() == 0 })
}

// Groups returns the answer: groups that count anything (an answer, an
// offer), sorted by key; a query without a breakdown always has its one overall group, even
// when it is empty.
func (f *Folder) Groups() []Group {
	out := make([]Group, 0, len(f.groups))
	keys := make([]string, 0, len(f.groups))
	for k, g := range f.groups {
		if !g.Tally().Empty() {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		out = append(out, *f.groups[k])
	}
	if len(f.plan.by) == 0 && len(out) == 0 {
		out = append(out, Group{Key: map[Dimension]string{}})
	}
	return out
}
