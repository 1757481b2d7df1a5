package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pulseboard/pulseboard/pkg/client"
)

// loader posts responses at a target rate.
type loader struct {
	base        string
	token       string
	rate        float64 // responses per second
	batch       int
	concurrency int
	run         string        // makes ids unique per run
	spread      time.Duration // answers are dated up to this far back (0: now)
	total       int64         // stop after this many (0: no limit)
	acks        *ackLog
	latency     latencies // request round trip
	sent        atomic.Int64
	errors      atomic.Int64
	statuses    sync.Map       // status code -> *atomic.Int64
	client      *http.Client   // its connections; main closes them at the end
	api         *client.Client // the API's Go client over client, made by drive
}

var (
	channels = []string{"phone", "chat", "email", "sms"}
	teams    = []string{"billing", "tech-support", "onboarding", "retention", "sales"}
	// Every response carries every built-in dimension, as the demo's do, so
	// it counts in all nine default rollups (journey and channel+journey
	// included): the full write cost of a real answer.
	segments = []string{"consumer", "smb", "enterprise"}
	journeys = []string{"new order", "billing question", "technical support", "cancellation", "pharma", "medical devices"}
)

func (l *loader) body(n int64, size int, rng *rand.Rand) []byte {
	var b bytes.Buffer
	now := time.Now()
	for i := range size {
		at := ""
		if l.spread > 0 {
			at = fmt.Sprintf(`,"at":%q`, now.Add(-time.Duration(rng.Int64N(int64(l.spread)))).UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(&b, `{"id":"load-%s-%d","score":%d,"channel":%q,"segment":%q,"journey":%q,"team":%q,"agent":"agent-%02d"%s}`+"\n",
			l.run, n+int64(i), rng.IntN(11), channels[rng.IntN(len(channels))], segments[rng.IntN(len(segments))],
			journeys[rng.IntN(len(journeys))], teams[rng.IntN(len(teams))], rng.IntN(60), at)
	}
	return b.Bytes()
}

// drive sends until ctx ends, pacing all workers together to the rate.
func (l *loader) drive(ctx context.Context) {
	// The API's client, without retries: a load generator counts what the
	// server answered, it does not hide a 503 by sending again.
	api, err := client.New(l.base, client.WithToken(l.token), client.WithHTTPClient(l.client),
		client.WithUserAgent("pulseload"), client.WithRetry(client.Retry{Attempts: 1}))
	if err != nil {
		l.errors.Add(1)
		return
	}
	l.api = api
	start := time.Now()
	var next atomic.Int64 // responses handed out
	var wg sync.WaitGroup
	for w := range l.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(start.UnixNano())))
			for ctx.Err() == nil {
				n := next.Add(int64(l.batch)) - int64(l.batch)
				if l.total > 0 && n >= l.total {
					return
				}
				// Wait until the rate allows this batch.
				due := start.Add(time.Duration(float64(n+int64(l.batch)) / l.rate * float64(time.Second)))
				if d := time.Until(due); d > 0 {
					select {
					case <-ctx.Done():
						return
					case <-time.After(d):
					}
				}
				l.post(ctx, l.body(n, l.batch, rng))
			}
		}()
	}
	wg.Wait()
}

// post sends one NDJSON body, written by body with format strings (an
// encoder would cost this process more CPU than the server it measures),
// through the API's client.
func (l *loader) post(ctx context.Context, body []byte) {
	began := time.Now()
	_, err := l.api.SendResponsesBody(ctx, client.Body{Format: client.NDJSON, Data: body})
	now := time.Now()
	status := http.StatusAccepted
	if err != nil {
		var refused *client.Error
		if !errors.As(err, &refused) {
			if ctx.Err() == nil {
				l.errors.Add(1)
			}
			return
		}
		status = refused.StatusCode
	}
	c, _ := l.statuses.LoadOrStore(status, new(atomic.Int64))
	c.(*atomic.Int64).Add(1)
	if err != nil {
		l.errors.Add(1)
		return
	}
	l.latency.add(now.Sub(began))
	l.sent.Add(int64(l.batch))
	l.acks.add(l.batch, now)
}
