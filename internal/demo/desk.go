package demo

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/pulseboard/pulseboard/internal/alert"
)

// FollowUps is the follow-up queue as the demo desk works it.
type FollowUps interface {
	FollowUpList(ctx context.Context, status string) ([]alert.FollowUp, error)
	Claim(ctx context.Context, id, by string) (alert.FollowUp, error)
	Resolve(ctx context.Context, id, by, note string) (alert.FollowUp, error)
}

// deskEvery is how often the demo desk looks at the queue.
const deskEvery = 5 * time.Second

var (
	deskStaff = []string{"Dana", "Lee", "Priya", "Tom"}
	deskNotes = []string{
		"Called back, refunded the double charge.",
		"Apologised for the hold time; fixed the account on the call.",
		"Left a voicemail and sent an e-mail with the fix.",
		"Escalated to tech support; customer happy with the plan.",
	}
)

// RunDesk plays a supervisor desk until ctx ends: a detractor is claimed 2
// to 11 minutes after the answer and resolved 3 to 27 minutes later; one in
// eight is left alone, so the board also shows what waits. The choice is a
// hash of the id, so it is the same on every look.
func RunDesk(ctx context.Context, q FollowUps, now func() time.Time, onErr func(error)) {
	t := time.NewTicker(deskEvery)
	defer t.Stop()
	for {
		open, err := q.FollowUpList(ctx, "open")
		if err != nil && ctx.Err() == nil {
			onErr(err)
		}
		for _, f := range open {
			h := fnv.New64a()
			h.Write([]byte(f.ID))
			k := h.Sum64()
			if k%8 == 0 {
				continue
			}
			claimAfter := time.Duration(2+k%10) * time.Minute
			resolveAfter := claimAfter + time.Duration(3+(k>>8)%25)*time.Minute
			who := deskStaff[(k>>16)%uint64(len(deskStaff))]
			age := now().Sub(f.At)
			switch {
			case age >= resolveAfter:
				_, err = q.Resolve(ctx, f.ID, who, deskNotes[(k>>24)%uint64(len(deskNotes))])
			case age >= claimAfter && f.Status == alert.Open:
				_, err = q.Claim(ctx, f.ID, who)
			default:
				continue
			}
			if err != nil && ctx.Err() == nil && !errors.Is(err, alert.ErrConflict) {
				onErr(err) // a conflict is another node's desk that was quicker
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
