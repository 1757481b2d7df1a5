// Command example sends two responses to a Pulseboard and reads the last
// hour's score by team, with the Go client. It is the README's "Go client"
// snippet, run by the README's test against the real server.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/pulseboard/pulseboard/pkg/client"
)

func main() {
	server := "http://localhost:8080"
	if len(os.Args) > 1 {
		server = os.Args[1]
	}
	ctx := context.Background()

	// An ingest token sends responses; a batch is retried while the server
	// is unavailable (the ids make a resend count nothing twice).
	producer, err := client.New(server, client.WithToken("demo-ingest-token"))
	if err != nil {
		log.Fatal(err)
	}
	rec, err := producer.SendResponses(ctx, client.NDJSON, []client.Response{
		{ID: "go-1001", Score: 9, Channel: "phone", Team: "billing"},
		{ID: "go-1002", Score: 4, Channel: "chat", Team: "sales", Comment: "waited too long"},
	})
	if err != nil {
		log.Fatal(err) // a *client.Error: the status, and what was wrong with each item
	}
	fmt.Printf("accepted %d, updated %d, duplicates %d\n", rec.Accepted, rec.Updated, rec.Duplicates)

	// A viewer's token reads the scores.
	reader, err := client.New(server, client.WithToken("demo-viewer-token"))
	if err != nil {
		log.Fatal(err)
	}
	nps, err := reader.NPS(ctx, client.NPSQuery{Window: "1h", By: []string{"team"}})
	if err != nil {
		log.Fatal(err)
	}
	for _, g := range nps.Groups {
		if g.NPS != nil {
			fmt.Printf("%s: %+.0f from %d responses\n", g.Key["team"], *g.NPS, g.Responses)
		}
	}
}
