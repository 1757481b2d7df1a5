package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/httpapi"
	"github.com/pulseboard/pulseboard/internal/ingest"
	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/store/memstore"
	"github.com/pulseboard/pulseboard/internal/store/storetest"
	"github.com/pulseboard/pulseboard/internal/window"
)

// handlerTransport answers requests with a handler, in process: an import
// whose HTTPClient uses it opens no socket.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// fakeAPI answers /healthz, and acknowledges every posted row with
// ack(rows), counting the posts.
func fakeAPI(posts *atomic.Int32, ack func(rows int) string) *http.Client {
	return &http.Client{Transport: handlerTransport{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		posts.Add(1)
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		w.WriteHeader(http.StatusAccepted)
		fmt.Fprint(w, ack(bytes.Count(body.Bytes(), []byte("\n"))))
	})}}
}

func writeCSV(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.csv")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLimitsMatchTheServer: the importer's limits are the server's defaults.
func TestLimitsMatchTheServer(t *testing.T) {
	def := ingest.DefaultOptions()
	if MaxBatch != def.MaxItems {
		t.Errorf("MaxBatch %d, the server takes %d items a request", MaxBatch, def.MaxItems)
	}
	if maxBatchBytes > def.MaxBytes/2 {
		t.Errorf("batches up to %d bytes, not well under the server's %d", maxBatchBytes, def.MaxBytes)
	}
}

// TestRunStdin: File "-" reads Options.Stdin, read twice through a
// temporary file, and the requests go through Options.HTTPClient.
func TestRunStdin(t *testing.T) {
	var posts atomic.Int32
	var out, log bytes.Buffer
	res, err := Run(context.Background(), Options{
		File: "-", Stdin: strings.NewReader("id,score,channel\na,9,phone\nb,3,email\nc,10,chat\n"),
		Server: "http://pulseboard.invalid", Token: "t", Batch: 2,
		HTTPClient: fakeAPI(&posts, func(n int) string { return fmt.Sprintf(`{"accepted":%d,"updated":0,"duplicates":0}`, n) }),
		Out:        &out, Log: &log,
	})
	if err != nil || res.Rows != 3 || res.Sent != 3 || res.Recorded.Accepted != 3 || posts.Load() < 2 {
		t.Fatalf("result %+v, %v after %d posts\n%s\n%s", res, err, posts.Load(), out.String(), log.String())
	}
	if !strings.HasSuffix(out.String(), "imported 3 rows: 3 new, 0 updated, 0 already there\n") ||
		!strings.Contains(log.String(), `id="id" score="score" channel="channel"`) {
		t.Errorf("out:\n%s\nlog:\n%s", out.String(), log.String())
	}
}

// TestRunClock: rows are validated against Options.Now, and the report's
// times come from it too.
func TestRunClock(t *testing.T) {
	then := time.Date(2020, 6, 1, 12, 0, 0, 0, time.UTC)
	now := then
	clock := func() time.Time { now = now.Add(time.Second); return now }
	path := writeCSV(t, "id,score,channel,at\na,9,phone,2020-06-01 08:00\nb,3,email,2020-05-01\n")
	var out bytes.Buffer
	res, err := Run(context.Background(), Options{File: path, DryRun: true, Now: clock, Out: &out})
	if err != nil || res.Invalid != 0 || !strings.Contains(out.String(), "dry run: 2 rows are valid") {
		t.Fatalf("%+v, %v\n%s", res, err, out.String())
	}
	// The clock was read for the start, the pass and each row, never the
	// machine's: the elapsed time is whole seconds of it.
	if !strings.Contains(out.String(), "elapsed:     ") || strings.Contains(out.String(), "elapsed:     0s") {
		t.Errorf("elapsed not from the clock:\n%s", out.String())
	}
	// By the machine's clock these rows are years old.
	res, err = Run(context.Background(), Options{File: path, DryRun: true})
	if !errors.Is(err, ErrInvalidRows) || res.Invalid != 2 {
		t.Fatalf("by the real clock: %+v, %v", res, err)
	}
}

func TestRunOutcomes(t *testing.T) {
	path := writeCSV(t, "id,score,channel\na,9,phone\nb,11,email\nc,3,chat\n")
	run := func(o Options, ack func(int) string) (Result, string, string, int32, error) {
		var posts atomic.Int32
		var out, log bytes.Buffer
		o.File, o.Server, o.Token, o.Out, o.Log = path, "http://pulseboard.invalid", "t", &out, &log
		o.HTTPClient = fakeAPI(&posts, ack)
		res, err := Run(context.Background(), o)
		return res, out.String(), log.String(), posts.Load(), err
	}
	accept := func(n int) string { return fmt.Sprintf(`{"accepted":%d,"updated":0,"duplicates":0}`, n) }

	// An invalid row: nothing is sent.
	res, out, _, posts, err := run(Options{}, accept)
	if !errors.Is(err, ErrInvalidRows) || posts != 0 || res.Invalid != 1 || !strings.Contains(out, "line 3: score:") ||
		!strings.Contains(out, "nothing was imported: 1 of 3 rows are invalid") {
		t.Fatalf("invalid: %+v, %v, %d posts\n%s", res, err, posts, out)
	}
	// Skipped: the others are.
	res, out, _, _, err = run(Options{SkipInvalid: true}, accept)
	if err != nil || res.Sent != 2 || !strings.HasSuffix(out, "imported 2 rows: 2 new, 0 updated, 0 already there; skipped 1 invalid rows\n") {
		t.Fatalf("skip-invalid: %+v, %v\n%s", res, err, out)
	}
	// A server that acknowledges less than it was sent.
	res, out, _, _, err = run(Options{SkipInvalid: true}, func(int) string { return `{"accepted":0,"updated":0,"duplicates":0}` })
	if !errors.Is(err, ErrUnacknowledged) || !strings.Contains(out, "warning: the server acknowledged 0 of the 2 rows sent") {
		t.Fatalf("unacknowledged: %+v, %v\n%s", res, err, out)
	}
	// Interrupted.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var log bytes.Buffer
	_, err = Run(ctx, Options{File: path, DryRun: true, Log: &log})
	if !errors.Is(err, context.Canceled) || !strings.HasSuffix(log.String(), "\nimport: interrupted\n") {
		t.Fatalf("interrupted: %v\n%s", err, log.String())
	}
}

// TestRunAgainstTheAPI is the contract with the real server: rows sent are
// counted, a re-run finds them all, and the server's refusals reach the
// user with the file's lines.
func TestRunAgainstTheAPI(t *testing.T) {
	const token = "importer-test-token-0123"
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	s := memstore.New(opts)
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Recorder: s, Querier: s, Pinger: s, Decoder: ingest.NewDecoder(ingest.Options{}),
		IngestTokens: auth.NewTokens(token), MaxBodyBytes: ingest.DefaultOptions().MaxBytes,
		Calendar: opts.Calendar, Rollups: opts.Rollups,
		Now: clock.Now,
	}))
	t.Cleanup(srv.Close)

	at := storetest.Start.Add(-time.Hour).Format(time.RFC3339)
	path := writeCSV(t, "id,score,channel,team,comment,tags,at,version\n"+
		"a,9,phone,billing,\"two\nlines & <b>\",vip;renewal,"+at+",2\n"+
		"b,0,email,,,,,\n"+
		"c,10,chat,sales,,,"+at+",\n")
	run := func(o Options) (Result, string, error) {
		var out bytes.Buffer
		o.File, o.Server, o.Out, o.Log = path, srv.URL, &out, &out
		o.Now = clock.Now
		o.After = func(time.Duration) <-chan time.Time {
			t.Error("no retries expected")
			return time.After(0)
		}
		res, err := Run(context.Background(), o)
		return res, out.String(), err
	}
	res, out, err := run(Options{Token: token, Batch: 2})
	if err != nil || res.Recorded.Accepted != 3 || res.Sent != 3 {
		t.Fatalf("import: %+v, %v\n%s", res, err, out)
	}
	groups, err := s.Query(context.Background(), store.Query{Span: opts.Calendar.Span(window.Rolling24h, clock.Now())})
	if err != nil || len(groups) != 1 || groups[0].Counts != nps.Of(9, 0, 10) {
		t.Fatalf("the store holds %+v (%v)", groups, err)
	}
	res, out, err = run(Options{Token: token})
	if err != nil || res.Recorded.Duplicates != 3 || !strings.Contains(out, "nothing new: the server already had all 3 rows") {
		t.Fatalf("re-run: %+v, %v\n%s", res, err, out)
	}
	_, out, err = run(Options{Token: "wrong-token-0123456789"})
	// Which batch is refused first depends on the workers.
	if err == nil || !regexp.MustCompile(`import: the server refused lines? [0-9-]+: 401 Unauthorized: a valid ingest token is required`).MatchString(out) ||
		!strings.Contains(out, "(check --token") {
		t.Fatalf("wrong token: %v\n%s", err, out)
	}
	// The importer's clock is an hour ahead of the server's: its rows
	// without a time pass here and are "in the future" there.
	ahead := func() time.Time { return clock.Now().Add(time.Hour) }
	var out2 bytes.Buffer
	_, err = Run(context.Background(), Options{File: writeCSV(t, "id,score,channel,at\nd,9,phone,"+storetest.Start.Add(30*time.Minute).Format(time.RFC3339)+"\n"),
		Server: srv.URL, Token: token, Now: ahead, Out: &out2, Log: &out2})
	if err == nil || !strings.Contains(out2.String(), "422 Unprocessable Entity") ||
		!strings.Contains(out2.String(), "\n  line 2: at: is in the future") {
		t.Fatalf("refused row: %v\n%s", err, out2.String())
	}
}

// TestRunOffersAgainstTheAPI: with Kind offer the rows go to POST
// /api/v1/offers; answers imported after them, naming them, with CSAT
// alone or a score, make the response rate and CSAT the store counts.
func TestRunOffersAgainstTheAPI(t *testing.T) {
	const token = "importer-test-token-0123"
	clock := &storetest.Clock{}
	clock.Set(storetest.Start)
	opts := storetest.Options(t, clock)
	s := memstore.New(opts)
	t.Cleanup(func() { s.Close() })
	srv := httptest.NewServer(httpapi.New(httpapi.Deps{
		Recorder: s, Querier: s, Pinger: s, Decoder: ingest.NewDecoder(ingest.Options{}),
		IngestTokens: auth.NewTokens(token), MaxBodyBytes: ingest.DefaultOptions().MaxBytes,
		Calendar: opts.Calendar, Rollups: opts.Rollups,
		Now: clock.Now,
	}))
	t.Cleanup(srv.Close)
	run := func(o Options, text string) (Result, string, error) {
		var out bytes.Buffer
		o.File, o.Server, o.Token, o.Out, o.Log, o.Now = writeCSV(t, text), srv.URL, token, &out, &out, clock.Now
		res, err := Run(context.Background(), o)
		return res, out.String(), err
	}
	at := storetest.Start.Add(-2 * time.Hour).Format(time.RFC3339)
	offers := "id,channel,team,at\n" +
		"call-1,phone,billing," + at + "\n" +
		"call-2,phone,billing," + at + "\n" +
		"call-3,phone,sales," + at + "\n" +
		"call-4,email,sales," + at + "\n"
	res, out, err := run(Options{Kind: store.KindOffer, Batch: 3}, offers)
	if err != nil || res.Recorded.Accepted != 4 || !strings.Contains(out, "imported 4 rows: 4 new") {
		t.Fatalf("offers: %+v, %v\n%s", res, err, out)
	}
	if res, out, err := run(Options{Kind: store.KindOffer}, offers); err != nil || res.Recorded.Duplicates != 4 {
		t.Fatalf("offers again: %+v, %v\n%s", res, err, out)
	}
	answered := storetest.Start.Add(-30 * time.Minute).Format(time.RFC3339)
	res, out, err = run(Options{}, "id,offer_id,score,csat,channel,at\n"+
		"a1,call-1,9,5,phone,"+answered+"\n"+
		"a2,call-2,,2,phone,"+answered+"\n"+
		"a3,call-4,3,,email,"+answered+"\n")
	if err != nil || res.Recorded.Accepted != 3 {
		t.Fatalf("answers: %+v, %v\n%s", res, err, out)
	}
	groups, err := s.Query(context.Background(), store.Query{By: []store.Dimension{store.Channel}, Span: opts.Calendar.Span(window.Rolling24h, clock.Now())})
	if err != nil || len(groups) != 2 {
		t.Fatalf("the store holds %+v (%v)", groups, err)
	}
	for _, g := range groups {
		switch g.Key[store.Channel] {
		case "phone":
			if g.Offered != 3 || g.Answered != 2 || g.Counts != nps.Of(9) || g.CSAT.Answers() != 2 || g.CSAT.Satisfied() != 1 {
				t.Errorf("phone: %+v", g)
			}
		case "email":
			if g.Offered != 1 || g.Answered != 1 || g.Counts != nps.Of(3) || g.CSAT.Answers() != 0 {
				t.Errorf("email: %+v", g)
			}
		}
	}
	// A bad offer is refused before anything is sent, naming its line.
	_, out, err = run(Options{Kind: store.KindOffer}, "id,channel\ncall-9,a/b\n")
	if err == nil || !strings.Contains(out, "line 2: channel: may hold only") || !strings.Contains(out, "nothing was imported") {
		t.Fatalf("bad offer: %v\n%s", err, out)
	}
}
