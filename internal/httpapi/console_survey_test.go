package httpapi_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/board"
	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// TestConsoleSurveys: the console's tables show CSAT (percent, answers)
// and the response rate (rate, offered) only when the view's data has
// them, each row as counted by hand over the raw offers and answers (an
// offer in the window it was made in, a CSAT answer in its own), and sort
// by them; on both engines.
func TestConsoleSurveys(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		t.Run(engine, func(t *testing.T) {
			s := newConsoleServer(t, engine, nil)
			s.fill(600)
			doc := s.page("window=24h&by=channel")
			if len(rows(doc)) == 0 {
				t.Fatal("no rows before the surveys")
			}
			for _, id := range []string{"sort-csat", "sort-rate", "csat", "rate"} {
				if len(byTestID(doc, id)) > 0 {
					t.Errorf("without offers or CSAT the table has %s", id)
				}
			}

			// Offers over the last 30 hours, answered at channel-dependent
			// rates, some late (answered in the last hour); CSAT on most
			// answers; a few unsolicited CSAT answers.
			now := s.clock.Now()
			rng := rand.New(rand.NewPCG(3, 9))
			rate := map[string]int{"phone": 45, "chat": 25, "email": 8}
			var offers, answers []store.Response
			for i := range 1500 {
				ch := consoleChannels[rng.IntN(len(consoleChannels))]
				o := store.Response{Kind: store.KindOffer, ID: fmt.Sprintf("so-%d", i), Version: 1, AtGiven: true,
					At:   now.Add(-time.Duration(1+rng.IntN(30*3600)) * time.Second),
					Dims: store.Dims{Channel: ch, Team: consoleTeams[rng.IntN(len(consoleTeams))]}}
				offers = append(offers, o)
				if rng.IntN(100) >= rate[ch] {
					continue
				}
				a := store.Response{ID: fmt.Sprintf("sa-%d", i), OfferID: o.ID, Version: 1, AtGiven: true, At: o.At.Add(2 * time.Minute),
					Score: store.NoScore, CSAT: 1 + rng.IntN(5), Dims: o.Dims}
				if rng.IntN(5) == 0 {
					a.At = now.Add(-time.Duration(rng.IntN(3600)) * time.Second)
				}
				if rng.IntN(4) == 0 {
					a.Score, a.CSAT = rng.IntN(11), 0
				}
				answers = append(answers, a)
			}
			for i := range 30 {
				answers = append(answers, store.Response{ID: fmt.Sprintf("su-%d", i), Version: 1, AtGiven: true, Score: store.NoScore,
					CSAT: 1 + rng.IntN(5), At: now.Add(-time.Duration(rng.IntN(20*3600)) * time.Second),
					Dims: store.Dims{Channel: "chat", Team: "sales"}})
			}
			if _, err := s.eng.Record(context.Background(), append(slices.Clone(offers), answers...)); err != nil {
				t.Fatal(err)
			}

			span := s.cal.Span(window.Rolling24h, now)
			answered := map[string]bool{}
			for _, a := range answers {
				answered[a.OfferID] = true
			}
			type counts struct {
				offered, answered int64
				d                 csat.Distribution
			}
			want := map[string]*counts{}
			for _, ch := range consoleChannels {
				want[ch] = &counts{}
			}
			for _, o := range offers {
				if span.Contains(o.At) {
					want[o.Dims.Channel].offered++
					if answered[o.ID] {
						want[o.Dims.Channel].answered++
					}
				}
			}
			for _, a := range answers {
				if a.CSAT != 0 && span.Contains(a.At) {
					want[a.Dims.Channel].d[a.CSAT-1]++
				}
			}
			doc = s.page("window=24h&by=channel")
			for _, id := range []string{"sort-csat", "sort-rate"} {
				if len(byTestID(doc, id)) != 1 {
					t.Errorf("with offers and CSAT the table has no %s header", id)
				}
			}
			pct := func(part, whole int64) string {
				return strconv.FormatFloat(math.Round(10000*float64(part)/float64(whole))/100, 'f', -1, 64)
			}
			seen := 0
			for _, tr := range findAll(byTestID(doc, "groups")[0], "data-testid", func(v string) bool { return len(v) > 4 && v[:4] == "row-" }) {
				ch := attr(tr, "data-testid")[4:]
				w, ok := want[ch]
				if !ok {
					t.Fatalf("row %s", ch)
				}
				seen++
				if w.offered < 100 || w.d.Answers() < 20 {
					t.Fatalf("%s: %d offers, %d CSAT answers: the fixture should have more", ch, w.offered, w.d.Answers())
				}
				if got := [...]string{attr(tr, "data-offered"), attr(tr, "data-answered"), attr(tr, "data-rate"), attr(tr, "data-csat-n"), attr(tr, "data-csat")}; got !=
					[...]string{fmt.Sprint(w.offered), fmt.Sprint(w.answered), pct(w.answered, w.offered), fmt.Sprint(w.d.Answers()), pct(w.d.Satisfied(), w.d.Answers())} {
					t.Errorf("%s: offered, answered, rate, CSAT answers, CSAT %v; counted %d, %d, %s, %d, %s", ch, got,
						w.offered, w.answered, pct(w.answered, w.offered), w.d.Answers(), pct(w.d.Satisfied(), w.d.Answers()))
				}
				r, c := board.ShareOf("", w.answered, w.offered, 30), board.ShareOf("", w.d.Satisfied(), w.d.Answers(), 30)
				cell := func(f board.ShareFigure, whole int64) string {
					out := f.Percent + " (" + f.Interval + ")"
					if whole < 30 { // the server's minimum sample
						out += " low n"
					}
					return out
				}
				if got, want := text(byTestID(tr, "rate")[0]), cell(r, w.offered)+fmt.Sprintf(" %d of %s offered", w.answered, fmtCount(w.offered)); got != want {
					t.Errorf("%s: rate cell %q, want %q", ch, got, want)
				}
				if got, want := text(byTestID(tr, "csat")[0]), cell(c, w.d.Answers())+fmt.Sprintf(" %d answers", w.d.Answers()); got != want {
					t.Errorf("%s: CSAT cell %q, want %q", ch, got, want)
				}
			}
			if seen != len(consoleChannels) {
				t.Errorf("%d rows, want %d", seen, len(consoleChannels))
			}
			// Sorted by the rate, highest first: phone, chat, email; by
			// the surveys offered, as counted.
			var order []string
			for _, r := range rows(s.page("window=24h&by=channel&sort=-rate")) {
				order = append(order, r.key)
			}
			if !slices.Equal(order, []string{"phone", "chat", "email"}) {
				t.Errorf("sort=-rate: %v", order)
			}
			order = order[:0]
			for _, r := range rows(s.page("window=24h&by=channel&sort=offered")) {
				order = append(order, r.key)
			}
			if !slices.IsSortedFunc(order, func(a, b string) int { return int(want[a].offered - want[b].offered) }) {
				t.Errorf("sort=offered: %v", order)
			}
		})
	}
}

func fmtCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
