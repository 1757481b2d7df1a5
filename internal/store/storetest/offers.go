package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// testOffers walks through what issue 16 promises of offers and CSAT, one
// step at a time, against the brute force: an answer counts its offer as
// answered in the window the offer was made in, however late; an answer
// may come before its offer; an offer's update keeps it answered; a
// resent offer is a duplicate; CSAT alone does not count in NPS, nor NPS
// alone in CSAT; an update of csat moves the count.
func testOffers(t *testing.T, newStore Factory) {
	for _, shared := range []bool{false, true} {
		name := "OfferIDNamed"
		if shared {
			name = "IDsShared"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, newStore)
			if shared {
				h = newHarnessWith(t, newStore, func(o *store.Options) { o.OfferIDsShared = true })
			}
			phone := store.Dims{Channel: "phone", Team: "alpha", Agent: "ann"}
			email := store.Dims{Channel: "email", Team: "alpha", Agent: "ali"}
			offer := func(id string, at time.Time, d store.Dims) store.Response {
				return store.Response{Kind: store.KindOffer, ID: id, Dims: d, At: at, AtGiven: true}
			}
			answer := func(id, offer string, score, sat int, at time.Time, d store.Dims) store.Response {
				r := store.Response{ID: id, Score: score, CSAT: sat, Dims: d, At: at, AtGiven: true}
				if !shared {
					r.OfferID = offer
				}
				return r
			}
			ctx := context.Background()
			now := h.clock.Now()
			twoHours := now.Add(-2*time.Hour - 10*time.Minute)
			// Offers made over two hours ago, and now.
			h.record([]store.Response{offer("x1", twoHours, phone), offer("x2", twoHours, phone), offer("x3", now.Add(-time.Minute), email)})
			h.checkAll()
			// The answer to x1 comes now: x1 is answered in its own
			// window (2h ago), not in the last hour's.
			h.record([]store.Response{answer("x1", "x1", 9, 5, now, phone)})
			h.checkAll()
			last1h := overallTally(t, h, window.Rolling1h)
			if last1h.Offered != 1 || last1h.Answered != 0 || last1h.NPS.Responses() != 1 || last1h.CSAT.Answers() != 1 {
				t.Fatalf("last hour: %+v, want the offer x3 unanswered and the one answer", last1h)
			}
			if today := overallTally(t, h, window.Rolling24h); today.Offered != 3 || today.Answered != 1 {
				t.Fatalf("last 24h: %d of %d offers answered, want 1 of 3", today.Answered, today.Offered)
			}
			// A second answer naming x1 (or x1 again) answers it once.
			h.record([]store.Response{answer("x1", "x1", 9, 5, now, phone)})
			if !shared {
				h.record([]store.Response{answer("y1", "x1", 3, 0, now, phone)})
			}
			// An answer before its offer: the offer comes answered.
			h.record([]store.Response{answer("x4", "x4", store.NoScore, 2, now, email)})
			h.checkAll()
			h.record([]store.Response{offer("x4", now.Add(-3*time.Minute), email)})
			h.checkAll()
			if d := overallTally(t, h, window.Rolling1h); d.Offered != 2 || d.Answered != 1 {
				t.Fatalf("last hour after x4: %d of %d answered, want 1 of 2", d.Answered, d.Offered)
			}
			// Resent, the offer is a duplicate; changed, it stays answered.
			if res := h.record([]store.Response{offer("x4", now.Add(-3*time.Minute), email)}); res.Duplicates != 1 {
				t.Fatalf("resent offer: %+v", res)
			}
			moved := offer("x4", now.Add(-3*time.Minute), phone)
			if res := h.record([]store.Response{moved}); res.Updated != 1 {
				t.Fatalf("changed offer: %+v", res)
			}
			h.checkAll()
			byChannel, err := h.s.Query(ctx, store.Query{By: []store.Dimension{store.Channel}, Span: h.opts.Calendar.Span(window.Rolling1h, h.clock.Now())})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range byChannel {
				if g.Key[store.Channel] == "phone" && (g.Offered != 1 || g.Answered != 1) {
					t.Fatalf("phone in the last hour: %d of %d, want x4 answered there", g.Answered, g.Offered)
				}
			}
			// CSAT alone is not NPS; an update of csat moves the count.
			d := overallTally(t, h, window.Rolling1h)
			want := nps.Of(9)
			if !shared {
				want = nps.Of(9, 3) // y1 too
			}
			if d.NPS != want || d.CSAT != csat.Of(5, 2) {
				t.Fatalf("NPS %v, CSAT %v: want NPS %v, CSAT 5 and 2 (x4 has CSAT alone)", d.NPS, d.CSAT, want)
			}
			if res := h.record([]store.Response{answer("x4", "x4", store.NoScore, 4, now, email)}); res.Updated != 1 {
				t.Fatalf("csat update: %+v", res)
			}
			if d := overallTally(t, h, window.Rolling1h); d.CSAT != csat.Of(5, 4) {
				t.Fatalf("CSAT after the update %v, want 5 and 4", d.CSAT)
			}
			h.checkAll()
		})
	}
}

// checkAll compares every window and query with the brute force.
func (h *harness) checkAll() {
	h.t.Helper()
	for _, w := range window.All {
		for _, q := range []struct {
			by []store.Dimension
		}{{nil}, {[]store.Dimension{store.Channel}}, {[]store.Dimension{store.Team, store.Agent}}, {[]store.Dimension{store.Theme}}} {
			h.check(w, q.by, nil)
		}
	}
}

func overallTally(t *testing.T, h *harness, w window.Window) store.Tally {
	t.Helper()
	groups, err := h.s.Query(context.Background(), store.Query{Span: h.opts.Calendar.Span(w, h.clock.Now())})
	if err != nil || len(groups) != 1 {
		t.Fatalf("query %s: %d groups, %v", w.Name, len(groups), err)
	}
	return groups[0].Tally()
}
