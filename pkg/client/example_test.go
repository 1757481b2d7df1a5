package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pulseboard/pulseboard/pkg/client"
)

// exampleServer starts a real Pulseboard API (the test server) for the
// examples; a program would use its server's address instead.
func exampleServer() *testServer {
	return startServer(func(a ...any) { panic(fmt.Sprint(a...)) })
}

func Example() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()

	// An ingest token sends responses.
	producer, err := client.New(srv.URL, client.WithToken("ingest-token-0123456789"), client.WithUserAgent("crm-sync/1.0"))
	if err != nil {
		panic(err)
	}
	rec, err := producer.SendResponses(ctx, client.NDJSON, []client.Response{
		{ID: "case-1001", Score: 9, Channel: "phone", Team: "billing", Comment: "Sorted in one call"},
		{ID: "case-1002", Score: 3, Channel: "email", Team: "billing"},
		{ID: "case-1003", Score: 10, Channel: "chat", Team: "sales"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("accepted %d, updated %d, duplicates %d\n", rec.Accepted, rec.Updated, rec.Duplicates)

	// A viewer's token reads the scores.
	reader, err := client.New(srv.URL, client.WithToken("viewer-token-dana-0123"))
	if err != nil {
		panic(err)
	}
	nps, err := reader.NPS(ctx, client.NPSQuery{Window: "1h", By: []string{"team"}})
	if err != nil {
		panic(err)
	}
	for _, g := range nps.Groups {
		fmt.Printf("%s: NPS %+.2f from %d responses\n", g.Key["team"], *g.NPS, g.Responses)
	}
	// Output:
	// accepted 3, updated 0, duplicates 0
	// billing: NPS +0.00 from 2 responses
	// sales: NPS +100.00 from 1 responses
}

// A refused batch is an *client.Error: the server's problem details, with
// one ItemError per problem of an item. Nothing of the batch was recorded.
func ExampleError() {
	srv := exampleServer()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithToken("ingest-token-0123456789"))
	if err != nil {
		panic(err)
	}
	_, err = c.SendResponses(context.Background(), client.JSON, []client.Response{
		{ID: "ok-1", Score: 9, Channel: "phone"},
		{ID: "bad-1", Score: 11, Channel: "phone"},
	})
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Code(), e.Problem.Detail)
		for _, item := range e.Problem.Errors {
			fmt.Printf("item %d: %s: %s\n", item.Index, item.Field, item.Reason)
		}
	}
	// Output:
	// 422 invalid 1 of 2 responses are invalid; nothing was recorded
	// item 1: score: must be an integer from 0 to 10
}

// NPSCSV exports the scores of a range as CSV.
func ExampleClient_NPSCSV() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	producer, _ := client.New(srv.URL, client.WithToken("ingest-token-0123456789"))
	at := srv.Clock.Now().Add(-30 * time.Minute).Format(time.RFC3339)
	if _, err := producer.SendResponse(ctx, client.Response{ID: "case-7", Score: 10, Channel: "phone", Team: "billing", At: at}); err != nil {
		panic(err)
	}
	reader, _ := client.New(srv.URL, client.WithToken("viewer-token-dana-0123"))
	from := srv.Clock.Now().Add(-time.Hour)
	var csv strings.Builder
	if err := reader.NPSCSV(ctx, client.NPSQuery{From: from, By: []string{"team"}}, &csv); err != nil {
		panic(err)
	}
	// Lines end in CRLF, as RFC 4180 has them.
	fmt.Print(strings.ReplaceAll(csv.String(), "\r\n", "\n"))
	// Output:
	// team,nps,ci_low,ci_high,responses,promoters,passives,detractors,promoter_share,passive_share,detractor_share,low_sample,from,to,csat,csat_low,csat_high,csat_answers,csat_satisfied,response_rate,response_rate_low,response_rate_high,offered,answered
	// billing,100,-48.5,98.5,1,1,0,0,100,0,0,true,2026-12-02T13:00:00Z,2026-12-02T14:01:00Z,,,,0,0,,,,0,0
}

// Offers are the surveys offered after interactions; answers name them,
// and a group's response rate is its answered offers over its offers,
// counted in the window each offer was made in. An answer may carry CSAT
// alone (Score: client.NoScore).
func ExampleClient_SendOffers() {
	srv := exampleServer()
	defer srv.Close()
	ctx := context.Background()
	producer, _ := client.New(srv.URL, client.WithToken("ingest-token-0123456789"))
	at := srv.Clock.Now().Add(-30 * time.Minute).Format(time.RFC3339)
	rec, err := producer.SendOffers(ctx, client.JSON, []client.Offer{
		{ID: "call-1", Channel: "phone", Team: "billing", At: at},
		{ID: "call-2", Channel: "phone", Team: "billing", At: at},
		{ID: "call-3", Channel: "phone", Team: "billing", At: at},
		{ID: "call-4", Channel: "phone", Team: "billing", At: at},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("offers: %d new\n", rec.Accepted)
	if _, err := producer.SendResponses(ctx, client.NDJSON, []client.Response{
		{ID: "case-1", OfferID: "call-1", Score: 9, CSAT: 5, Channel: "phone", Team: "billing"},
		{ID: "case-2", OfferID: "call-2", Score: client.NoScore, CSAT: 2, Channel: "phone", Team: "billing"},
	}); err != nil {
		panic(err)
	}
	reader, _ := client.New(srv.URL, client.WithToken("viewer-token-dana-0123"))
	ans, err := reader.NPS(ctx, client.NPSQuery{Window: "1h", Filters: map[string]string{"team": "billing"}})
	if err != nil {
		panic(err)
	}
	g := ans.Groups[0]
	fmt.Printf("NPS answers %d; CSAT %.0f%% of %d; response rate %.0f%% (%d of %d)\n",
		g.Responses, g.CSAT.CSAT, g.CSAT.Answers, g.ResponseRate.Rate, g.ResponseRate.Answered, g.ResponseRate.Offered)
	// Output:
	// offers: 4 new
	// NPS answers 1; CSAT 50% of 2; response rate 50% (2 of 4)
}

// A program that writes its own NDJSON (a load generator, an exporter
// with rows already encoded) sends it as it is.
func ExampleClient_SendResponsesBody() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("ingest-token-0123456789"))
	body := client.Body{Format: client.NDJSON, Data: []byte(
		`{"id":"load-1","score":10,"channel":"phone"}` + "\n" +
			`{"id":"load-2","score":6,"channel":"sms"}` + "\n")}
	rec, err := c.SendResponsesBody(context.Background(), body)
	if err != nil {
		panic(err)
	}
	fmt.Println(rec.Total(), "recorded")
	// Output:
	// 2 recorded
}
