package main

import (
	"context"
	"fmt"
	"testing"

	pbclient "github.com/pulseboard/pulseboard/pkg/client"
)

// TestOffersSharedIDsSetting: offers.shared_ids reaches the store. With it
// on, an answer that names no offer answers the offer of its own id; off,
// it is unsolicited. On both engines, through the program's own wiring.
func TestOffersSharedIDsSetting(t *testing.T) {
	for name := range engines(t) {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/shared=%v", name, shared), func(t *testing.T) {
				a := engines(t)[name] // a namespace of its own
				if shared {
					a = append(a, "--offers-shared-ids")
				}
				_, c := startNow(t, a...)
				ctx := context.Background()
				api := c.api(token)
				if rec, err := api.SendOffers(ctx, pbclient.JSON, []pbclient.Offer{
					{ID: "call-1", Channel: "phone"}, {ID: "call-2", Channel: "phone"},
				}); err != nil || rec.Accepted != 2 {
					t.Fatalf("offers: %+v, %v", rec, err)
				}
				c.record(pbclient.Response{ID: "call-1", Score: pbclient.NoScore, CSAT: 4, Channel: "phone"},
					pbclient.Response{ID: "case-9", OfferID: "call-2", Score: 10, Channel: "phone"})
				got := c.nps("window=1h")
				if len(got.Groups) != 1 {
					t.Fatalf("groups %+v", got.Groups)
				}
				g := got.Groups[0]
				want := int64(1) // call-2, named
				if shared {
					want = 2 // and call-1, by its id
				}
				if g.ResponseRate == nil || g.ResponseRate.Offered != 2 || g.ResponseRate.Answered != want {
					t.Errorf("response rate %+v, want 2 offered, %d answered", g.ResponseRate, want)
				}
				if g.Responses != 1 || g.CSAT == nil || g.CSAT.Answers != 1 || g.CSAT.Satisfied != 1 {
					t.Errorf("NPS answers %d, csat %+v; want one of each", g.Responses, g.CSAT)
				}
			})
		}
	}
}
