package alert

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"
)

var _ Engine = (*Memory)(nil)

// Memory is the shared state of a single node (the memory engine): maps
// under one mutex.
type Memory struct {
	mu        sync.Mutex
	queue     map[string]queued
	dead      []Delivery
	followUps map[string]FollowUp
	active    map[string]Active
}

type queued struct {
	d   Delivery
	due time.Time
	// lease is the token of the last claim ("" before the first).
	lease string
}

// NewMemory makes empty in-process state.
func NewMemory() *Memory {
	return &Memory{queue: map[string]queued{}, followUps: map[string]FollowUp{}, active: map[string]Active{}}
}

// Enqueue implements Outbox.
func (m *Memory) Enqueue(_ context.Context, ds ...Delivery) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, d := range ds {
		if _, ok := m.queue[d.ID]; !ok {
			m.queue[d.ID] = queued{d: d, due: d.Created}
		}
	}
	return nil
}

// Claim implements Outbox.
func (m *Memory) Claim(_ context.Context, now time.Time, lease time.Duration, n int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var due []queued
	for _, q := range m.queue {
		if !q.due.After(now) {
			due = append(due, q)
		}
	}
	slices.SortFunc(due, func(a, b queued) int { return a.due.Compare(b.due) })
	out := make([]Delivery, 0, min(n, len(due)))
	token := leaseToken()
	for _, q := range due[:min(n, len(due))] {
		q.due, q.lease = now.Add(lease), token
		m.queue[q.d.ID] = q
		d := q.d
		d.Lease = token
		out = append(out, d)
	}
	return out, nil
}

// settle runs change under m.mu when d's lease is the one its queued
// delivery has now, else returns ErrLeaseLost: only the latest holder of a
// delivery settles it.
func (m *Memory) settle(d Delivery, change func()) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, ok := m.queue[d.ID]
	if !ok || d.Lease == "" || q.lease != d.Lease {
		return ErrLeaseLost
	}
	change()
	return nil
}

// Delivered implements Outbox.
func (m *Memory) Delivered(_ context.Context, d Delivery) error {
	return m.settle(d, func() { delete(m.queue, d.ID) })
}

// Retry implements Outbox.
func (m *Memory) Retry(_ context.Context, d Delivery, at time.Time) error {
	return m.settle(d, func() {
		d.Lease = ""
		m.queue[d.ID] = queued{d: d, due: at}
	})
}

// Bury implements Outbox.
func (m *Memory) Bury(_ context.Context, d Delivery) error {
	return m.settle(d, func() {
		delete(m.queue, d.ID)
		d.Lease = ""
		m.dead = append([]Delivery{d}, m.dead[:min(len(m.dead), maxDeadLetters-1)]...)
	})
}

// DeadLetters implements Outbox.
func (m *Memory) DeadLetters(_ context.Context, n int) ([]Delivery, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.dead[:min(n, len(m.dead))]), nil
}

// Redrive implements Outbox.
func (m *Memory) Redrive(_ context.Context, id string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, d := range m.dead {
		if d.ID != id {
			continue
		}
		m.dead = append(m.dead[:i], m.dead[i+1:]...)
		if _, inQueue := m.queue[id]; !inQueue {
			m.queue[id] = queued{d: redriven(d, at), due: at}
		}
		return nil
	}
	return ErrNotFound
}

// redriven is a dead letter made new again.
func redriven(d Delivery, at time.Time) Delivery {
	d.Attempts, d.LastError, d.Buried, d.Created = 0, "", nil, at
	return d
}

// Pending implements Outbox.
func (m *Memory) Pending(context.Context) (int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var oldest time.Time
	for _, q := range m.queue {
		if oldest.IsZero() || q.due.Before(oldest) {
			oldest = q.due
		}
	}
	return len(m.queue), oldest, nil
}

// Open implements FollowUps.
func (m *Memory) Open(_ context.Context, f FollowUp) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.followUps[f.ID]; ok {
		return false, nil
	}
	m.followUps[f.ID] = f
	return true, nil
}

// Update implements FollowUps.
func (m *Memory) Update(_ context.Context, id string, fn func(*FollowUp) error) (FollowUp, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, ok := m.followUps[id]
	if !ok {
		return FollowUp{}, ErrNotFound
	}
	if err := fn(&f); err != nil {
		return m.followUps[id], err
	}
	m.followUps[id] = f
	return f, nil
}

// Unresolved implements FollowUps. Every board refresh asks for it, and an
// open queue can hold many thousands: it orders small (opened, id) keys and
// copies only the follow-ups it returns.
func (m *Memory) Unresolved(_ context.Context, limit int) ([]FollowUp, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type key struct {
		opened time.Time
		id     string
	}
	keys := make([]key, 0, len(m.followUps))
	for id, f := range m.followUps {
		if f.Status != Resolved {
			keys = append(keys, key{f.Opened, id})
		}
	}
	slices.SortFunc(keys, func(a, b key) int { return compareFollowUps(a.opened, a.id, b.opened, b.id) })
	total := len(keys)
	if limit > 0 && total > limit {
		keys = keys[:limit]
	}
	out := make([]FollowUp, len(keys))
	for i, k := range keys {
		out[i] = m.followUps[k.id]
	}
	return out, total, nil
}

// ResolvedSince implements FollowUps.
func (m *Memory) ResolvedSince(_ context.Context, since time.Time) ([]FollowUp, error) {
	return m.followUpsWhere(func(f FollowUp) bool { return f.ResolvedAt != nil && !f.ResolvedAt.Before(since) }), nil
}

func (m *Memory) followUpsWhere(keep func(FollowUp) bool) []FollowUp {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []FollowUp
	for _, f := range m.followUps {
		if keep(f) {
			out = append(out, f)
		}
	}
	sortFollowUps(out)
	return out
}

// sortFollowUps orders follow-ups oldest first, ties by id.
// slices.SortFunc, not sort.Slice: follow-ups are large structs, and
// sort.Slice swaps them through reflection (a board refresh sorts the
// whole in-memory queue every 2 s).
func sortFollowUps(fs []FollowUp) {
	slices.SortFunc(fs, func(a, b FollowUp) int { return compareFollowUps(a.Opened, a.ID, b.Opened, b.ID) })
}

// compareFollowUps orders by opening time, then id.
func compareFollowUps(aOpened time.Time, aID string, bOpened time.Time, bID string) int {
	if c := aOpened.Compare(bOpened); c != 0 {
		return c
	}
	return strings.Compare(aID, bID)
}

// Raise implements Actives.
func (m *Memory) Raise(_ context.Context, a Active) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.active[a.ID]
	if ok {
		a.Since = old.Since
	}
	m.active[a.ID] = a
	return !ok, nil
}

// Clear implements Actives.
func (m *Memory) Clear(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.active[id]
	delete(m.active, id)
	return ok, nil
}

// Active implements Actives.
func (m *Memory) Active(context.Context) ([]Active, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Active, 0, len(m.active))
	for _, a := range m.active {
		out = append(out, a)
	}
	sortActives(out)
	return out, nil
}

func sortActives(as []Active) {
	slices.SortFunc(as, func(a, b Active) int { return strings.Compare(a.ID, b.ID) })
}

// Sweep implements Sweeper.
func (m *Memory) Sweep(_ context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for id, f := range m.followUps {
		if (f.ResolvedAt != nil && f.ResolvedAt.Before(before)) || (f.ResolvedAt == nil && f.Opened.Before(before)) {
			delete(m.followUps, id)
			n++
		}
	}
	keep := m.dead[:0]
	for _, d := range m.dead {
		if d.Buried == nil || d.Buried.Before(before) {
			n++
			continue
		}
		keep = append(keep, d)
	}
	m.dead = keep
	return n, nil
}
