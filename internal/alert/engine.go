package alert

import (
	"context"
	"time"
)

// Outbox holds deliveries until a receiver took them or they are given up.
// A claimed delivery is invisible to other claims until its lease ends, so
// a node that dies mid-delivery leaves it to another one. Each claim hands
// out a new lease token (Delivery.Lease), and Delivered, Retry and Bury
// apply only while the delivery's lease is still that token: a node whose
// lease ended cannot settle, or bring back, a delivery another node took
// over or completed (ErrLeaseLost).
type Outbox interface {
	// Enqueue adds deliveries due now; one already queued is left alone.
	Enqueue(ctx context.Context, ds ...Delivery) error
	// Claim leases up to n deliveries due by now until now+lease.
	Claim(ctx context.Context, now time.Time, lease time.Duration, n int) ([]Delivery, error)
	// Delivered forgets a delivery a receiver took.
	Delivered(ctx context.Context, d Delivery) error
	// Retry stores a failed attempt and makes the delivery due at at.
	Retry(ctx context.Context, d Delivery, at time.Time) error
	// Bury moves a delivery to the dead letters, newest first, keeping the
	// newest maxDeadLetters.
	Bury(ctx context.Context, d Delivery) error
	// DeadLetters lists up to n dead letters, newest first.
	DeadLetters(ctx context.Context, n int) ([]Delivery, error)
	// Redrive queues a dead letter again, due at, with its attempts reset;
	// ErrNotFound when no dead letter has the id.
	Redrive(ctx context.Context, id string, at time.Time) error
	// Pending counts queued deliveries and says when the oldest was due.
	Pending(ctx context.Context) (int, time.Time, error)
}

// FollowUps is the follow-up queue.
type FollowUps interface {
	// Open adds a follow-up unless one with its id exists; it reports
	// whether it added it.
	Open(ctx context.Context, f FollowUp) (bool, error)
	// Update applies fn to a follow-up atomically; an error from fn aborts
	// the change and is returned. ErrNotFound when there is none.
	Update(ctx context.Context, id string, fn func(*FollowUp) error) (FollowUp, error)
	// Unresolved lists open and claimed follow-ups, oldest first: at most
	// limit of them (0: all), and how many there are in all. A queue nobody
	// works can grow for weeks; the limit keeps what a node reads and holds
	// bounded.
	Unresolved(ctx context.Context, limit int) ([]FollowUp, int, error)
	// ResolvedSince lists follow-ups resolved at or after since.
	ResolvedSince(ctx context.Context, since time.Time) ([]FollowUp, error)
}

// Actives holds the raised threshold alerts and emerging themes (Active.Theme
// set; ids "theme:…").
type Actives interface {
	// Raise stores an alert; it reports whether it was not raised before
	// (an alert raised before keeps its Since and gets the new numbers).
	Raise(ctx context.Context, a Active) (bool, error)
	// Clear resolves an alert; it reports whether it was raised.
	Clear(ctx context.Context, id string) (bool, error)
	// Active lists the raised alerts, by id.
	Active(ctx context.Context) ([]Active, error)
}

// Sweeper drops what TTLs cannot: resolved follow-ups and dead letters
// older than before, and follow-ups left unresolved since before.
type Sweeper interface {
	Sweep(ctx context.Context, before time.Time) (int, error)
}

// Engine is all of the shared state; Memory and Redis implement it.
type Engine interface {
	Outbox
	FollowUps
	Actives
	Sweeper
}

// maxDeadLetters bounds the dead letter list: enough for a day of a dead
// receiver at a busy center, small enough to list.
const maxDeadLetters = 1000
