package httpapi_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/csat"
	"github.com/pulseboard/pulseboard/internal/fault"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/metrics"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/proportion"
	"github.com/pulseboard/pulseboard/internal/redistest"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/redisstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/pkg/client"
)

const offersToken = "offers-ingest-token-0123"

// offersServer is the real API over a real engine, whose Record can be
// made to fail as a store that cannot be reached.
type offersServer struct {
	url   string
	clock *storetest.Clock
	down  *atomic.Bool
}

// metricsText is the server's /metrics page.
func (s offersServer) metricsText(t *testing.T) string {
	t.Helper()
	res, body := call(t, "GET", s.url+"/metrics", testAdminToken, "")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	return string(body)
}

// failingRecorder is the engine's Record, or the store's outage.
type failingRecorder struct {
	store.Store
	down *atomic.Bool
}

func (r failingRecorder) Record(ctx context.Context, batch []store.Response) (store.RecordResult, error) {
	if r.down.Load() {
		return store.RecordResult{}, fault.Wrap(errors.New("dial tcp: connection refused"), fault.Unavailable, "the store is unavailable")
	}
	return r.Store.Record(ctx, batch)
}

func newOffersServer(t *testing.T, engine string, shared bool, maxBody int64) offersServer {
	t.Helper()
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	opts.OfferIDsShared = shared
	var eng store.Store
	switch engine {
	case "memory":
		eng = memstore.New(opts)
	case "redis":
		srv, err := redistest.Start()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		rdb := redistest.ClientAt(t, srv.URL)
		eng = redisstore.New(rdb, opts, redisstore.Config{Tenant: redistest.Tenant(t, rdb)})
	default:
		t.Fatalf("engine %q", engine)
	}
	t.Cleanup(func() { eng.Close() })
	down := &atomic.Bool{}
	rec := failingRecorder{Store: eng, down: down}
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Recorder: rec, Querier: eng, Pinger: eng, PublicBoards: true, MinSample: 30,
		Decoder:      ingest.NewDecoder(ingest.Options{MaxBytes: maxBody, MaxItems: 50}),
		IngestTokens: auth.NewTokens(offersToken), AdminTokens: auth.NewTokens(testAdminToken),
		Calendar: opts.Calendar, Rollups: opts.Rollups,
		MaxBodyBytes: maxBody, IngestRate: 100000, IngestBurst: 100000,
		Now: clock.Now, Metrics: metrics.New(),
	}))
	t.Cleanup(srv.Close)
	return offersServer{url: srv.URL, clock: clock, down: down}
}

// post sends a body to an ingest path with a token and content type.
func (s offersServer) post(t *testing.T, path, token, contentType, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var p map[string]any
	_ = json.NewDecoder(res.Body).Decode(&p)
	return res, p
}

// TestOffersIngestLikeResponses: POST /api/v1/offers answers every case
// as POST /api/v1/responses does — the token, the formats, the limits, a
// batch judged whole with each problem located, idempotency, and 503 with
// Retry-After while the store is down — with messages that name offers.
func TestOffersIngestLikeResponses(t *testing.T) {
	s := newOffersServer(t, "memory", false, 4096)
	for _, k := range []struct {
		path, noun string
		item       func(id string) string
		bad        string // an item with a bad channel and, for offers, a field only answers have
		badFields  []string
	}{
		{"/api/v1/responses", "responses",
			func(id string) string { return `{"id":"` + id + `","score":9,"channel":"phone"}` },
			`{"id":"x","channel":"a/b"}`, []string{"score", "channel"}},
		{"/api/v1/offers", "offers",
			func(id string) string { return `{"id":"` + id + `","channel":"phone"}` },
			`{"id":"x","channel":"a/b","score":9}`, []string{"score", "channel"}},
	} {
		t.Run(k.noun, func(t *testing.T) {
			batch := "[" + k.item("a") + "," + k.item("b") + "]"
			for _, c := range []struct {
				name, token, ct, body string
				status                int
				detail                string
			}{
				{"no token", "", "application/json", batch, 401, "ingest token"},
				{"viewer's token", testAdminToken, "application/json", batch, 401, "ingest token"},
				{"unsupported type", offersToken, "text/plain", batch, 415, "is not supported"},
				{"too large", offersToken, "application/json", "[" + strings.Repeat(k.item(strings.Repeat("z", 120))+",", 40) + k.item("z") + "]", 413, "body exceeds 4 KiB"},
				{"not JSON", offersToken, "application/json", `[{"id":`, 400, "not valid JSON"},
				{"empty", offersToken, "application/json", `[]`, 422, "the body holds no " + k.noun},
				{"invalid item", offersToken, "application/json", "[" + k.item("a") + "," + k.bad + "]", 422, "1 of 2 " + k.noun + " are invalid; nothing was recorded"},
			} {
				res, p := s.post(t, k.path, c.token, c.ct, c.body)
				if res.StatusCode != c.status || !strings.Contains(fmt.Sprint(p["detail"]), c.detail) {
					t.Errorf("%s: %d %v, want %d with %q", c.name, res.StatusCode, p, c.status, c.detail)
				}
				if c.name == "invalid item" {
					errs, _ := p["errors"].([]any)
					var fields []string
					for _, e := range errs {
						m := e.(map[string]any)
						if m["index"] != 1.0 {
							t.Errorf("%s: error %v, want index 1", c.name, m)
						}
						fields = append(fields, m["field"].(string))
					}
					if !slices.Equal(fields, k.badFields) {
						t.Errorf("%s: fields %q, want %q", c.name, fields, k.badFields)
					}
				}
			}
			// Nothing of a refused batch was recorded: the batch is new.
			for _, ct := range []string{"application/json", "application/x-ndjson"} {
				body := batch
				if ct == "application/x-ndjson" {
					body = k.item("a") + "\n" + k.item("b") + "\n"
				}
				res, p := s.post(t, k.path, offersToken, ct, body)
				want := map[string]any{"accepted": 2.0, "updated": 0.0, "duplicates": 0.0}
				if ct == "application/x-ndjson" {
					want = map[string]any{"accepted": 0.0, "updated": 0.0, "duplicates": 2.0}
				}
				if res.StatusCode != 202 || fmt.Sprint(p) != fmt.Sprint(want) {
					t.Errorf("%s: %d %v, want 202 %v", ct, res.StatusCode, p, want)
				}
			}
			// Each kind is counted in its own series.
			m := s.metricsText(t)
			for _, line := range []string{`pulseboard_` + k.noun + `_total{result="accepted"} 2`, `pulseboard_` + k.noun + `_total{result="duplicate"} 2`} {
				if !strings.Contains(m, line+"\n") {
					t.Errorf("metrics lack %s:\n%s", line, m)
				}
			}
			s.down.Store(true)
			res, p := s.post(t, k.path, offersToken, "application/json", "["+k.item("c")+"]")
			s.down.Store(false)
			if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" || p["type"] != "urn:pulseboard:problem:unavailable" {
				t.Errorf("store down: %d %v (Retry-After %q), want 503 with Retry-After", res.StatusCode, p, res.Header.Get("Retry-After"))
			}
		})
	}
}

// rateOffer and rateAnswer are what the scenario sends, kept for the
// brute force.
type rateOffer struct {
	id, channel string
	at          time.Time
}

type rateAnswer struct {
	id, offerID, channel string
	score, csat          int // store.NoScore, 0: none
	at                   time.Time
}

// TestResponseRateAndCSATAgainstBruteForce sends offers and answers in a
// shuffled order — answers that arrive before their offer, answers hours
// after it (late: the offer's window counts them), answers with CSAT
// alone, with a score alone or both, unsolicited answers, answers to
// offers that never come, an offer answered twice, resent batches — and
// checks GET /api/v1/nps (JSON and CSV) against a count over the raw
// items, on both engines, with ids shared with offers or not.
func TestResponseRateAndCSATAgainstBruteForce(t *testing.T) {
	for _, engine := range []string{"memory", "redis"} {
		for _, shared := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/shared=%v", engine, shared), func(t *testing.T) {
				responseRateScenario(t, engine, shared)
			})
		}
	}
}

func responseRateScenario(t *testing.T, engine string, shared bool) {
	s := newOffersServer(t, engine, shared, 1<<20)
	c, err := client.New(s.url, client.WithToken(offersToken))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := s.clock.Now()
	rng := rand.New(rand.NewPCG(16, 2026))
	channels := []string{"phone", "email", "chat"}
	ago := func(max time.Duration) time.Time {
		return now.Add(-time.Duration(rng.Int64N(int64(max/time.Second))+1) * time.Second)
	}

	var offers []rateOffer
	var answers []rateAnswer
	for i := range 150 {
		// Most offers in the last day, some in the last hour.
		span := 23 * time.Hour
		if i%3 == 0 {
			span = 50 * time.Minute
		}
		offers = append(offers, rateOffer{id: fmt.Sprintf("call-%d", i), channel: channels[rng.IntN(3)], at: ago(span)})
	}
	answerOf := func(id, offerID, channel string, at time.Time) rateAnswer {
		a := rateAnswer{id: id, offerID: offerID, channel: channel, score: store.NoScore, at: at}
		switch rng.IntN(3) {
		case 0: // NPS only
			a.score = rng.IntN(11)
		case 1: // CSAT only
			a.csat = 1 + rng.IntN(5)
		default:
			a.score, a.csat = rng.IntN(11), 1+rng.IntN(5)
		}
		return a
	}
	for i, o := range offers {
		if rng.IntN(10) >= 6 {
			continue // not answered
		}
		// The answer comes 1 minute to 6 hours after the offer, never in
		// the future; it may come in on another channel.
		at := o.at.Add(time.Duration(60+rng.Int64N(6*3600)) * time.Second)
		if at.After(now) {
			at = now.Add(-time.Second)
		}
		ch := o.channel
		if rng.IntN(10) == 0 {
			ch = channels[rng.IntN(3)]
		}
		answers = append(answers, answerOf(fmt.Sprintf("ans-%d", i), o.id, ch, at))
	}
	// A late answer whose offer is well outside the last hour.
	offers = append(offers, rateOffer{id: "call-late", channel: "phone", at: now.Add(-20 * time.Hour)})
	answers = append(answers, rateAnswer{id: "ans-late", offerID: "call-late", channel: "phone", score: 10, csat: 5, at: now.Add(-10 * time.Minute)})
	// An offer answered twice: it is answered once.
	answers = append(answers, answerOf("ans-twice", "call-0", offers[0].channel, now.Add(-2*time.Minute)))
	for i := range 20 { // unsolicited
		answers = append(answers, answerOf(fmt.Sprintf("walk-in-%d", i), "", channels[rng.IntN(3)], ago(23*time.Hour)))
	}
	for i := range 5 { // naming offers that never come
		answers = append(answers, answerOf(fmt.Sprintf("ghost-ans-%d", i), fmt.Sprintf("ghost-%d", i), "email", ago(time.Hour)))
	}
	// With shared ids an answer naming no offer answers the offer of its
	// own id: two of those, and one that names no offer and has no offer.
	if shared {
		offers = append(offers, rateOffer{id: "shared-1", channel: "chat", at: now.Add(-30 * time.Minute)},
			rateOffer{id: "shared-2", channel: "email", at: now.Add(-5 * time.Hour)})
		answers = append(answers, rateAnswer{id: "shared-1", channel: "chat", score: store.NoScore, csat: 2, at: now.Add(-25 * time.Minute)},
			rateAnswer{id: "shared-2", channel: "email", score: 3, at: now.Add(-4 * time.Hour)})
	}

	// The order: the answers to the first five offers first (answers
	// before their offer), then everything shuffled, in batches of one
	// kind.
	type item struct {
		offer  *rateOffer
		answer *rateAnswer
	}
	var first, rest []item
	for i := range answers {
		a := &answers[i]
		if slices.Contains([]string{"call-1", "call-2", "call-3", "call-4", "call-5"}, a.offerID) {
			first = append(first, item{answer: a})
		} else {
			rest = append(rest, item{answer: a})
		}
	}
	for i := range offers {
		rest = append(rest, item{offer: &offers[i]})
	}
	rng.Shuffle(len(rest), func(i, j int) { rest[i], rest[j] = rest[j], rest[i] })
	order := append(first, rest...)
	var sentOffers, sentAnswers int
	flush := func(ob []client.Offer, rs []client.Response) {
		if len(ob) > 0 {
			rec, err := c.SendOffers(ctx, client.NDJSON, ob)
			if err != nil || rec.Accepted != len(ob) {
				t.Fatalf("offers: %+v, %v", rec, err)
			}
			sentOffers += len(ob)
			// A resent batch is duplicates, and changes nothing.
			if rec, err := c.SendOffers(ctx, client.JSON, ob); err != nil || rec.Duplicates != len(ob) {
				t.Fatalf("offers resent: %+v, %v", rec, err)
			}
		}
		if len(rs) > 0 {
			rec, err := c.SendResponses(ctx, client.JSON, rs)
			if err != nil || rec.Accepted != len(rs) {
				t.Fatalf("answers: %+v, %v", rec, err)
			}
			sentAnswers += len(rs)
		}
	}
	var ob []client.Offer
	var rs []client.Response
	for i, it := range order {
		if it.offer != nil {
			ob = append(ob, client.Offer{ID: it.offer.id, Channel: it.offer.channel, At: it.offer.at.Format(time.RFC3339)})
		} else {
			a := it.answer
			rs = append(rs, client.Response{ID: a.id, OfferID: a.offerID, Score: client.Score(a.score), CSAT: a.csat,
				Channel: a.channel, At: a.at.Format(time.RFC3339)})
		}
		if i%17 == 16 || i == len(order)-1 || (i < len(first) && i == len(first)-1) {
			flush(ob, rs)
			ob, rs = nil, nil
		}
	}
	if sentOffers != len(offers) || sentAnswers != len(answers) {
		t.Fatalf("sent %d offers and %d answers of %d and %d", sentOffers, sentAnswers, len(offers), len(answers))
	}

	// The brute force: which offers were answered, by any answer at any
	// time.
	answered := map[string]bool{}
	for _, a := range answers {
		switch {
		case a.offerID != "":
			answered[a.offerID] = true
		case shared:
			answered[a.id] = true
		}
	}
	type want struct {
		counts            nps.Distribution
		csat              csat.Distribution
		offered, answered int64
	}
	expect := func(from, to time.Time, by bool) map[string]*want {
		out := map[string]*want{}
		get := func(ch string) *want {
			if !by {
				ch = ""
			}
			if out[ch] == nil {
				out[ch] = &want{}
			}
			return out[ch]
		}
		in := func(at time.Time) bool { return !at.Before(from) && at.Before(to) }
		for _, o := range offers {
			if in(o.at) {
				w := get(o.channel)
				w.offered++
				if answered[o.id] {
					w.answered++
				}
			}
		}
		for _, a := range answers {
			if !in(a.at) {
				continue
			}
			w := get(a.channel)
			if a.score >= 0 {
				w.counts[a.score]++
			}
			if a.csat > 0 {
				w.csat[a.csat-1]++
			}
		}
		return out
	}

	checked := 0
	for _, q := range []client.NPSQuery{
		{Window: "1h"}, {Window: "1h", By: []string{"channel"}},
		{Window: "24h"}, {Window: "24h", By: []string{"channel"}},
		{Window: "4h", By: []string{"channel"}},
	} {
		ans, err := c.NPS(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		by := len(q.By) > 0
		exp := expect(ans.From, ans.To, by)
		got := map[string]client.Group{}
		for _, g := range ans.Groups {
			got[g.Key["channel"]] = g
		}
		if len(got) != len(exp) {
			t.Errorf("%+v: groups %v, want %d", q, ans.Groups, len(exp))
		}
		for key, w := range exp {
			g, ok := got[key]
			what := fmt.Sprintf("window %s, group %q", q.Window, key)
			if !ok {
				t.Errorf("%s: missing", what)
				continue
			}
			checked++
			if g.Distribution != w.counts || g.Responses != w.counts.Responses() {
				t.Errorf("%s: NPS answers %v (%d), want %v", what, g.Distribution, g.Responses, w.counts)
			}
			if w.csat.Answers() == 0 {
				if g.CSAT != nil {
					t.Errorf("%s: csat %+v, want none", what, g.CSAT)
				}
			} else {
				sh := proportion.Of(w.csat.Satisfied(), w.csat.Answers())
				wantCSAT := client.CSAT{Answers: w.csat.Answers(), Satisfied: w.csat.Satisfied(), Distribution: w.csat,
					CSAT: nps.Round(100 * sh.Value), Low: nps.Round(100 * sh.Low), High: nps.Round(100 * sh.High)}
				if g.CSAT == nil || *g.CSAT != wantCSAT {
					t.Errorf("%s: csat %+v, want %+v", what, g.CSAT, wantCSAT)
				}
			}
			if w.offered == 0 {
				if g.ResponseRate != nil {
					t.Errorf("%s: response rate %+v, want none", what, g.ResponseRate)
				}
			} else {
				sh := proportion.Of(w.answered, w.offered)
				wantRate := client.ResponseRate{Offered: w.offered, Answered: w.answered,
					Rate: nps.Round(100 * sh.Value), Low: nps.Round(100 * sh.Low), High: nps.Round(100 * sh.High)}
				if g.ResponseRate == nil || *g.ResponseRate != wantRate {
					t.Errorf("%s: response rate %+v, want %+v", what, g.ResponseRate, wantRate)
				}
			}
		}
		checkRateCSV(t, c, q, ans)
	}
	if checked < 10 {
		t.Fatalf("only %d groups checked", checked)
	}

	// The late answer counts in the last hour's NPS and CSAT, and in the
	// response rate of the day its offer was made in, not of the last hour.
	one, err := c.NPS(ctx, client.NPSQuery{Window: "1h", Filters: map[string]string{"channel": "phone"}})
	if err != nil || len(one.Groups) != 1 {
		t.Fatalf("phone, 1h: %+v, %v", one, err)
	}
	exp := expect(one.From, one.To, true)["phone"]
	g := one.Groups[0]
	if g.ResponseRate == nil || g.ResponseRate.Offered != exp.offered || g.ResponseRate.Answered != exp.answered || g.Distribution[10] == 0 {
		t.Errorf("phone, 1h: rate %+v and answers %v, want %d offers, %d answered, and the late 10", g.ResponseRate, g.Distribution, exp.offered, exp.answered)
	}
}

// checkRateCSV: the CSV export's CSAT and response-rate columns hold the
// JSON's figures, row for row; empty cells and zero counts for a group
// without them.
func checkRateCSV(t *testing.T, c *client.Client, q client.NPSQuery, ans client.NPS) {
	t.Helper()
	var b strings.Builder
	if err := c.NPSCSV(context.Background(), q, &b); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(rows) != len(ans.Groups)+1 {
		t.Fatalf("csv %q: %v", b.String(), err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for i, g := range ans.Groups {
		row := rows[i+1]
		cell := func(name string) string { return row[col[name]] }
		want := map[string]string{"csat": "", "csat_low": "", "csat_high": "", "csat_answers": "0", "csat_satisfied": "0",
			"response_rate": "", "response_rate_low": "", "response_rate_high": "", "offered": "0", "answered": "0"}
		if g.CSAT != nil {
			want["csat"], want["csat_low"], want["csat_high"] = num(g.CSAT.CSAT), num(g.CSAT.Low), num(g.CSAT.High)
			want["csat_answers"], want["csat_satisfied"] = fmt.Sprint(g.CSAT.Answers), fmt.Sprint(g.CSAT.Satisfied)
		}
		if r := g.ResponseRate; r != nil {
			want["response_rate"], want["response_rate_low"], want["response_rate_high"] = num(r.Rate), num(r.Low), num(r.High)
			want["offered"], want["answered"] = fmt.Sprint(r.Offered), fmt.Sprint(r.Answered)
		}
		for name, v := range want {
			if _, ok := col[name]; !ok {
				t.Fatalf("csv has no column %s: %v", name, rows[0])
			}
			if got := cell(name); got != v {
				t.Errorf("csv %v row %d: %s = %q, want %q", url.Values{"window": {q.Window}}, i, name, got, v)
			}
		}
		if len(q.By) > 0 && cell("channel") != g.Key["channel"] {
			t.Errorf("csv row %d: channel %q, want %q", i, cell("channel"), g.Key["channel"])
		}
	}
}
