package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pulseboard/pulseboard/pkg/client"
)

// counting counts the requests an http.Client sends through it, and
// remembers the last one's headers.
type counting struct {
	n    atomic.Int64
	last atomic.Pointer[http.Header]
}

func (c *counting) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	h := r.Header.Clone()
	c.last.Store(&h)
	return http.DefaultTransport.RoundTrip(r)
}

// newServer starts the test server for t.
func newServer(t *testing.T) *testServer {
	t.Helper()
	s := startServer(func(a ...any) { t.Helper(); t.Fatal(a...) })
	t.Cleanup(s.Close)
	return s
}

// newClient is a client of url with token, whose requests are counted.
func newClient(t *testing.T, url, token string, opts ...client.Option) (*client.Client, *counting) {
	t.Helper()
	tr := &counting{}
	c, err := client.New(url, append([]client.Option{client.WithToken(token), client.WithHTTPClient(&http.Client{Transport: tr})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, tr
}

// asError is err's *client.Error, or fails the test.
func asError(t *testing.T, err error) *client.Error {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %v (%T), want a *client.Error", err, err)
	}
	return e
}

func TestNew(t *testing.T) {
	for _, bad := range []string{"", "localhost:8080", "ftp://x", "http://", "http://x/?a=1"} {
		if _, err := client.New(bad); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	// A path prefix is kept: a server behind a proxy at /pb.
	s := newServer(t)
	c, _ := newClient(t, s.URL+"/", "")
	if err := c.Health(context.Background()); err != nil {
		t.Fatalf("health: %v", err)
	}
	c, _ = newClient(t, s.URL+"/pb", "", client.WithRetry(client.Retry{Attempts: 1}))
	if e := asError(t, c.Health(context.Background())); e.StatusCode != 404 || e.Path != "/pb/healthz" && e.Path != "/healthz" {
		t.Fatalf("health under a prefix the server does not have: %v", e)
	}
}

// TestIngest: one response, a JSON batch, an NDJSON batch and a body
// encoded by the caller all reach the real server, with the token, the
// content type and the user agent; a resend comes back as duplicates.
func TestIngest(t *testing.T) {
	s := newServer(t)
	c, tr := newClient(t, s.URL, ingestToken, client.WithUserAgent("pulse-test/1"))
	ctx := context.Background()
	at := s.Clock.Now().Add(-10 * time.Minute).Format(time.RFC3339)

	rec, err := c.SendResponse(ctx, client.Response{ID: "one", Score: 9, Channel: "phone", Team: "billing", Comment: "a <b> & c", At: at})
	if err != nil || rec != (client.Recorded{Accepted: 1}) {
		t.Fatalf("one: %+v, %v", rec, err)
	}
	if h := *tr.last.Load(); h.Get("Authorization") != "Bearer "+ingestToken || h.Get("User-Agent") != "pulse-test/1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
	batch := []client.Response{
		{ID: "j1", Score: 10, Channel: "chat", Team: "billing"},
		{ID: "j2", Score: 3, Channel: "email", Team: "first line", Tags: []string{"vip"}, Version: 2},
	}
	if rec, err = c.SendResponses(ctx, client.JSON, batch); err != nil || rec != (client.Recorded{Accepted: 2}) {
		t.Fatalf("JSON batch: %+v, %v", rec, err)
	}
	nd := []client.Response{{ID: "n1", Score: 8, Channel: "sms"}, {ID: "j1", Score: 10, Channel: "chat", Team: "billing"}}
	if rec, err = c.SendResponses(ctx, client.NDJSON, nd); err != nil || rec != (client.Recorded{Accepted: 1, Duplicates: 1}) {
		t.Fatalf("NDJSON batch: %+v, %v", rec, err)
	}
	if h := *tr.last.Load(); h.Get("Content-Type") != "application/x-ndjson" {
		t.Errorf("NDJSON sent as %q", h.Get("Content-Type"))
	}
	// A body the caller wrote, as a load generator does; a lower version
	// than the stored one is stale.
	body := client.Body{Format: client.NDJSON, Data: []byte(`{"id":"j2","score":9,"channel":"email","version":1}` + "\n" + `{"id":"n1","score":0,"channel":"sms"}` + "\n")}
	if rec, err = c.SendResponsesBody(ctx, body); err != nil || rec != (client.Recorded{Updated: 1, Stale: 1}) {
		t.Fatalf("pre-encoded: %+v, %v", rec, err)
	}
	if n := tr.n.Load(); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	if rec, err = c.SendResponses(ctx, client.NDJSON, nil); err != nil || rec != (client.Recorded{}) || tr.n.Load() != 4 {
		t.Errorf("an empty batch: %+v, %v, %d requests", rec, err, tr.n.Load())
	}
	// What the server holds: one, j1, j2 (still 3: the stale 9 was not
	// applied) and n1 (now 0).
	viewer, _ := newClient(t, s.URL, viewerToken)
	got, err := viewer.NPS(ctx, client.NPSQuery{Window: "1h"})
	if err != nil || len(got.Groups) != 1 || got.Groups[0].Distribution != [11]int64{0: 1, 3: 1, 9: 1, 10: 1} {
		t.Fatalf("the server holds %+v (%v)", got, err)
	}
}

// TestIngestRefused: a batch with invalid items is a 422 whose problem
// names each bad item; a body that is not JSON a 400 naming the line; a
// wrong token a 401. None is retried.
func TestIngestRefused(t *testing.T) {
	s := newServer(t)
	c, tr := newClient(t, s.URL, ingestToken)
	ctx := context.Background()
	_, err := c.SendResponses(ctx, client.JSON, []client.Response{
		{ID: "ok", Score: 9, Channel: "phone"},
		{ID: "bad", Score: 11, Channel: "phone"},
		{ID: "", Score: 1, Channel: "phone"},
	})
	e := asError(t, err)
	if e.StatusCode != 422 || e.Code() != "invalid" || e.Problem.Status != 422 || e.Problem.Title != "Unprocessable Entity" ||
		!strings.Contains(e.Problem.Detail, "nothing was recorded") || e.Method != "POST" || e.Path != "/api/v1/responses" {
		t.Fatalf("422: %+v", e)
	}
	byItem := map[int]string{}
	for _, it := range e.Problem.Errors {
		byItem[it.Index] += it.Field
	}
	if len(byItem) != 2 || byItem[1] != "score" || byItem[2] != "id" {
		t.Errorf("item errors %+v", e.Problem.Errors)
	}
	if !strings.Contains(e.Error(), "POST /api/v1/responses: 422 Unprocessable Entity: ") || !strings.Contains(e.Error(), "; item 1: score: ") {
		t.Errorf("message %q", e.Error())
	}
	_, err = c.SendResponsesBody(ctx, client.Body{Format: client.NDJSON, Data: []byte(`{"id":"a","score":1,"channel":"sms"}` + "\n{not json\n")})
	if e := asError(t, err); e.StatusCode != 400 || e.Code() != "bad_request" || len(e.Problem.Errors) != 1 || !strings.Contains(e.Problem.Errors[0].Reason, "line 2") {
		t.Errorf("400: %+v", e)
	}
	_, err = c.SendResponsesBody(ctx, client.Body{Format: "text/plain", Data: []byte("id=1")})
	if e := asError(t, err); e.StatusCode != 415 || e.Code() != "unsupported" {
		t.Errorf("415: %+v", e)
	}
	wrong, tr2 := newClient(t, s.URL, "not-a-token-0123456789")
	_, err = wrong.SendResponse(ctx, client.Response{ID: "x", Score: 1, Channel: "sms"})
	if e := asError(t, err); e.StatusCode != 401 || e.Code() != "unauthorized" || e.Problem.RequestID == "" {
		t.Errorf("401: %+v", e)
	}
	if tr.n.Load() != 3 || tr2.n.Load() != 1 {
		t.Errorf("%d and %d requests: a refusal was retried", tr.n.Load(), tr2.n.Load())
	}
}

func TestEncodeResponses(t *testing.T) {
	rs := []client.Response{{ID: "a", Score: 1, Channel: "phone", Custom: map[string]string{"region": "north"}}, {ID: "b<", Score: 2, Channel: "sms"}}
	b, err := client.EncodeResponses(client.JSON, rs)
	if err != nil || string(b.Data) != `[{"id":"a","score":1,"channel":"phone","region":"north"},{"id":"b<","score":2,"channel":"sms"}]` || b.Format != client.JSON {
		t.Errorf("JSON: %s, %v", b.Data, err)
	}
	b, err = client.EncodeResponses(client.NDJSON, rs)
	if err != nil || string(b.Data) != `{"id":"a","score":1,"channel":"phone","region":"north"}`+"\n"+`{"id":"b<","score":2,"channel":"sms"}`+"\n" {
		t.Errorf("NDJSON: %s, %v", b.Data, err)
	}
	if _, err := client.EncodeResponses("text/csv", rs); err == nil {
		t.Error("a batch encoded as CSV")
	}
	// Appending keeps what was there.
	out, _ := client.AppendResponse([]byte("x"), rs[0])
	if string(out) != `x{"id":"a","score":1,"channel":"phone","region":"north"}` {
		t.Errorf("append: %s", out)
	}
}

// fill sends answers of two teams over the last hour.
func fill(t *testing.T, s *testServer) {
	t.Helper()
	c, _ := newClient(t, s.URL, ingestToken)
	var rs []client.Response
	for i := range 40 {
		team := []string{"billing", "first line"}[i%2]
		rs = append(rs, client.Response{ID: fmt.Sprintf("r%d", i), Score: []client.Score{10, 9, 7, 3}[i%4], Channel: []string{"phone", "chat"}[i/20], Team: team,
			Agent: "Ana Lima", Comment: "thanks", At: s.Clock.Now().Add(-time.Duration(i) * time.Minute).Format(time.RFC3339)})
	}
	if _, err := c.SendResponses(context.Background(), client.NDJSON, rs); err != nil {
		t.Fatal(err)
	}
}

func TestNPS(t *testing.T) {
	s := newServer(t)
	fill(t, s)
	c, _ := newClient(t, s.URL, viewerToken)
	ctx := context.Background()

	got, err := c.NPS(ctx, client.NPSQuery{Window: "1h", By: []string{"team"}, Filters: map[string]string{"channel": "phone"}})
	if err != nil || got.Window != "1h" || got.Label == "" || len(got.Groups) != 2 {
		t.Fatalf("by team: %+v, %v", got, err)
	}
	for _, g := range got.Groups {
		if g.Responses != 10 || g.NPS == nil || g.MOE == nil || !g.LowSample || (g.Key["team"] != "billing" && g.Key["team"] != "first line") {
			t.Errorf("group %+v", g)
		}
	}
	// A range, its end left open.
	from := s.Clock.Now().Add(-20 * time.Minute)
	got, err = c.NPS(ctx, client.NPSQuery{From: from, Filters: map[string]string{"team": "first line"}})
	if err != nil || got.Window != "" || !got.From.Equal(from) || len(got.Groups) != 1 || got.Groups[0].Responses != 10 {
		t.Fatalf("range: %+v, %v", got, err)
	}
	var csv bytes.Buffer
	if err := c.NPSCSV(ctx, client.NPSQuery{Window: "1h", By: []string{"team"}}, &csv); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(csv.String()), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "team,nps,") || !strings.HasPrefix(lines[2], `first line,`) {
		t.Errorf("CSV:\n%s", csv.String())
	}
	// Every comment says "thanks": praise, which the groups by theme name
	// with its label, and the theme filter keeps.
	got, err = c.NPS(ctx, client.NPSQuery{Window: "1h", By: []string{"theme"}})
	if err != nil || len(got.Groups) != 1 || got.Groups[0].Key["theme"] != "praise" || got.Groups[0].Labels["theme"] != "Praise" || got.Groups[0].Responses != 40 {
		t.Fatalf("by theme: %+v, %v", got, err)
	}
	got, err = c.NPS(ctx, client.NPSQuery{Window: "1h", By: []string{"team"}, Theme: "praise"})
	if err != nil || len(got.Groups) != 2 || got.Groups[0].Responses != 20 || got.Groups[0].Labels != nil {
		t.Fatalf("theme=praise by team: %+v, %v", got, err)
	}
	_, err = c.NPS(ctx, client.NPSQuery{Window: "1h", Theme: "bills"})
	if e := asError(t, err); e.StatusCode != 400 || !strings.HasPrefix(e.Problem.Detail, "theme:") || !strings.Contains(e.Problem.Detail, "praise") {
		t.Errorf("a theme not in the dictionary: %+v", e)
	}
	if _, err := c.NPS(ctx, client.NPSQuery{Theme: "praise", Filters: map[string]string{"theme": "billing"}}); err == nil {
		t.Error("two themes were sent")
	}
	_, err = c.NPS(ctx, client.NPSQuery{Window: "fortnight"})
	if e := asError(t, err); e.StatusCode != 400 || e.Code() != "bad_request" || !strings.HasPrefix(e.Problem.Detail, "window:") {
		t.Errorf("a bad window: %+v", e)
	}
	if _, err := c.NPS(ctx, client.NPSQuery{Filters: map[string]string{"by": "team"}}); err == nil {
		t.Error("a filter named like a parameter was sent")
	}
	anon, _ := newClient(t, s.URL, "")
	_, err = anon.NPS(ctx, client.NPSQuery{})
	if e := asError(t, err); e.StatusCode != 401 {
		t.Errorf("without a token: %+v", e)
	}
}

func TestBoards(t *testing.T) {
	s := newServer(t)
	fill(t, s)
	c, _ := newClient(t, s.URL, viewerToken)
	ctx := context.Background()
	list, err := c.Boards(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range list.Boards {
		names = append(names, b.Name)
	}
	if fmt.Sprint(names) != "[floor team/billing team/first line]" || len(list.Templates) != 1 || list.Templates[0].ForEach.Dimension != "team" ||
		list.Boards[2].URL != "/boards/team/first%20line" || list.Boards[2].Value != "first line" {
		t.Fatalf("boards %+v", list)
	}
	floor, err := c.Board(ctx, "floor")
	if err != nil || floor.Board != "floor" || !floor.Ready || floor.Epoch == "" {
		t.Fatalf("floor: %+v, %v", floor, err)
	}
	views := map[string]client.Tile{}
	for _, tile := range floor.Tiles {
		views[tile.View] = tile
	}
	if f := views["headline"].Figure; f == nil || f.Responses != 40 || f.Score == "" {
		t.Errorf("headline %+v", views["headline"])
	}
	if len(views["breakdown"].Rows) != 2 || len(views["leaderboard"].Rows) != 2 || len(views["trend"].Points) == 0 ||
		views["distribution"].Distribution == nil || views["distribution"].Distribution.Responses != 40 ||
		len(views["comments"].Answers) != 3 || views["followups"].ID != "followups" || views["banners"].ID != "alert-banner" {
		t.Errorf("tiles %+v", floor.Tiles)
	}
	team, err := c.Board(ctx, "team/first line")
	if err != nil || team.Board != "team/first line" || team.Tiles[len(team.Tiles)-1].Figure.Responses != 20 {
		t.Fatalf("a template's board: %+v, %v", team, err)
	}
	_, err = c.Board(ctx, "nope")
	if e := asError(t, err); e.StatusCode != 404 || e.Code() != "not_found" {
		t.Errorf("no board: %+v", e)
	}
}

func TestFollowUps(t *testing.T) {
	s := newServer(t)
	for _, id := range []string{"crm/42", "f2", "f3"} {
		if err := s.openFollowUp(id, "", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	dana, _ := newClient(t, s.URL, viewerToken)
	ctx := context.Background()
	list, err := dana.FollowUps(ctx, client.FollowUpFilter{})
	if err != nil || list.Count != 3 || len(list.FollowUps) != 3 || len(list.Queues) != 2 || list.FollowUps[0].QueueLabel != "Floor supervisors" {
		t.Fatalf("list: %+v, %v", list, err)
	}
	// An id with a slash travels as one path segment.
	f, err := dana.ClaimFollowUp(ctx, "crm/42", "")
	if err != nil || f.ID != "crm/42" || f.Status != "claimed" || f.ClaimedBy != "dana" || f.ClaimedAt == nil {
		t.Fatalf("claim: %+v, %v", f, err)
	}
	list, err = dana.FollowUps(ctx, client.FollowUpFilter{Status: "claimed"})
	if err != nil || list.Count != 1 || list.FollowUps[0].ID != "crm/42" {
		t.Fatalf("claimed: %+v, %v", list, err)
	}
	lee := "lee"
	it, err := dana.ReassignFollowUp(ctx, "f2", client.Reassignment{Queue: "pharma", To: &lee})
	if err != nil || it.Queue != "pharma" || it.QueueLabel != "Pharma specialists" || it.ClaimedBy != "lee" || len(it.History) != 1 || it.History[0].Action != "reassigned" {
		t.Fatalf("reassign: %+v, %v", it, err)
	}
	list, err = dana.FollowUps(ctx, client.FollowUpFilter{Queue: "pharma"})
	if err != nil || list.Count != 1 || list.FollowUps[0].ID != "f2" {
		t.Fatalf("pharma: %+v, %v", list, err)
	}
	f, err = dana.ResolveFollowUp(ctx, "crm/42", "", "called back")
	if err != nil || f.Status != "resolved" || f.ResolvedBy != "dana" || f.Note != "called back" {
		t.Fatalf("resolve: %+v, %v", f, err)
	}
	// Resolving again is a conflict, and is not tried again.
	_, err = dana.ResolveFollowUp(ctx, "crm/42", "", "")
	if e := asError(t, err); e.StatusCode != 409 || e.Code() != "conflict" {
		t.Errorf("resolved twice: %+v", e)
	}
	// A viewer acts under their own name; an admin names who acts.
	_, err = dana.ClaimFollowUp(ctx, "f3", "lee")
	if e := asError(t, err); e.StatusCode != 403 {
		t.Errorf("dana claims for lee: %+v", e)
	}
	admin, _ := newClient(t, s.URL, adminToken)
	if f, err = admin.ClaimFollowUp(ctx, "f3", "lee"); err != nil || f.ClaimedBy != "lee" {
		t.Errorf("admin claims for lee: %+v, %v", f, err)
	}
	_, err = dana.ClaimFollowUp(ctx, "nobody", "")
	if e := asError(t, err); e.StatusCode != 404 {
		t.Errorf("no follow-up: %+v", e)
	}
	_, err = dana.FollowUps(ctx, client.FollowUpFilter{Status: "pending"})
	if e := asError(t, err); e.StatusCode != 400 {
		t.Errorf("a bad status: %+v", e)
	}
}

func TestMeAndHealth(t *testing.T) {
	s := newServer(t)
	ctx := context.Background()
	dana, _ := newClient(t, s.URL, viewerToken)
	if me, err := dana.Me(ctx); err != nil || me != (client.Me{User: "dana", Role: "viewer", Via: "bearer", MaySeeAgentNames: true}) {
		t.Errorf("dana: %+v, %v", me, err)
	}
	admin, _ := newClient(t, s.URL, adminToken)
	if me, err := admin.Me(ctx); err != nil || me.User != "" || me.Role != "admin" {
		t.Errorf("admin: %+v, %v", me, err)
	}
	ingest, _ := newClient(t, s.URL, ingestToken)
	_, err := ingest.Me(ctx)
	if e := asError(t, err); e.StatusCode != 401 {
		t.Errorf("an ingest token: %+v", e)
	}
	if err := ingest.Health(ctx); err != nil {
		t.Errorf("health: %v", err)
	}
	if err := ingest.Ready(ctx); err != nil {
		t.Errorf("ready: %v", err)
	}
}

// TestErrorBodies: a reply that is not problem JSON keeps its text; a
// proxy's JSON of another shape has what it can read.
func TestErrorBodies(t *testing.T) {
	for _, tc := range []struct {
		contentType, body string
		want              client.Error
	}{
		{"text/html", "<html>  bad gateway  </html>\n", client.Error{Body: "<html>  bad gateway  </html>"}},
		{"application/json", `{"status":"error","detail":"no such route"}`, client.Error{Problem: client.Problem{Detail: "no such route"}}},
		{"text/plain", strings.Repeat("x", 400), client.Error{Body: strings.Repeat("x", 300) + "…"}},
		{"text/plain", "", client.Error{}},
	} {
		srv := localServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Content-Type", tc.contentType)
			w.WriteHeader(http.StatusTeapot)
			fmt.Fprint(w, tc.body)
		})
		c, _ := newClient(t, srv, "")
		e := asError(t, c.Health(context.Background()))
		if e.StatusCode != 418 || e.Status != "418 I'm a teapot" || e.Body != tc.want.Body || e.Problem.Detail != tc.want.Problem.Detail || e.Code() != "" {
			t.Errorf("%s %q: %+v", tc.contentType, tc.body, e)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	e := &client.Error{Method: "POST", Path: "/api/v1/responses", Status: "422 Unprocessable Entity", StatusCode: 422,
		Problem: client.Problem{Detail: "5 of 5 responses are invalid", Errors: []client.ItemError{
			{Index: 0, Field: "score", Reason: "must be 0 to 10"}, {Index: 1, Reason: "must be a JSON object"},
			{Index: 2, Field: "id", Reason: "is required"}, {Index: 3, Field: "id", Reason: "is required"}, {Index: 4, Field: "id", Reason: "is required"}}}}
	const want = "POST /api/v1/responses: 422 Unprocessable Entity: 5 of 5 responses are invalid; item 0: score: must be 0 to 10; " +
		"item 1: must be a JSON object; item 2: id: is required; and 2 more"
	if e.Error() != want {
		t.Errorf("\n%s\nwant\n%s", e.Error(), want)
	}
	b, _ := json.Marshal(e.Problem)
	if !strings.Contains(string(b), `"errors":[{"index":0,"field":"score"`) {
		t.Errorf("problem JSON %s", b)
	}
}

// TestReadmeShowsTheExample: the README's "Go client" snippet is
// example/main.go, which the README's test runs against the real server.
func TestReadmeShowsTheExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example/main.go")
	if err != nil {
		t.Fatal(err)
	}
	code := string(src[bytes.Index(src, []byte("package main")):])
	if !strings.Contains(string(readme), "## Go client\n") || !strings.Contains(string(readme), "```go\n"+code+"```\n") {
		t.Errorf("README.md's Go client section does not show example/main.go as it is:\n%s", code)
	}
}
