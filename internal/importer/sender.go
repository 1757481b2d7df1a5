package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pulseboard/pulseboard/internal/api"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/pkg/client"
)

// sender batches valid rows and posts the batches with a few requests in
// flight. Rows are spread over the workers by a hash of their id, and each
// worker sends its batches one after another, so the rows of one id always
// reach the server in file order.
type sender struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	client *apiClient
	con    *console
	batch  int // rows per request

	pending []*batch // being filled, one per worker
	queues  []chan *batch
	wg      sync.WaitGroup
	enc     []byte // one encoded row, an NDJSON line

	mu     sync.Mutex
	result store.RecordResult
	sent   int
}

// batch is one request: its NDJSON body and the file line of each row.
type batch struct {
	body  bytes.Buffer
	lines []int
}

func newSender(ctx context.Context, cl *apiClient, o Options, con *console) *sender {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &sender{ctx: ctx, cancel: cancel, client: cl, con: con, batch: o.Batch}
	for range o.Workers {
		q := make(chan *batch, 1)
		s.queues = append(s.queues, q)
		s.pending = append(s.pending, &batch{})
		s.wg.Go(func() {
			for b := range q {
				if s.ctx.Err() != nil {
					continue // failed: drain
				}
				if err := s.post(b); err != nil {
					s.cancel(err)
				}
			}
		})
	}
	return s
}

// add queues one valid row. It blocks while every worker is busy, which
// keeps memory bounded, and fails once the import has failed.
func (s *sender) add(line int, r store.Response) error {
	var err error
	if r.Kind == store.KindOffer {
		s.enc, err = client.AppendOffer(s.enc[:0], api.OfferOf(r))
	} else {
		s.enc, err = client.AppendResponse(s.enc[:0], api.ResponseOf(r))
	}
	if err != nil {
		return fmt.Errorf("encode line %d: %w", line, err)
	}
	s.enc = append(s.enc, '\n')
	i := shard(r.ID, len(s.pending))
	b := s.pending[i]
	if len(b.lines) > 0 && b.body.Len()+len(s.enc) > maxBatchBytes {
		if err := s.flush(i); err != nil {
			return err
		}
		b = s.pending[i]
	}
	b.body.Write(s.enc)
	b.lines = append(b.lines, line)
	if len(b.lines) >= s.batch {
		return s.flush(i)
	}
	return nil
}

// shard spreads ids over n workers (FNV-1a).
func shard(id string, n int) int {
	h := uint32(2166136261)
	for i := 0; i < len(id); i++ {
		h ^= uint32(id[i])
		h *= 16777619
	}
	return int(h % uint32(n))
}

// flush hands worker i its pending batch.
func (s *sender) flush(i int) error {
	b := s.pending[i]
	select {
	case s.queues[i] <- b:
		s.pending[i] = &batch{}
		return nil
	case <-s.ctx.Done():
		return context.Cause(s.ctx)
	}
}

// close sends what is pending, waits for every request and returns the
// first failure.
func (s *sender) close() error {
	for i, b := range s.pending {
		if len(b.lines) > 0 && s.ctx.Err() == nil {
			_ = s.flush(i)
		}
	}
	for _, q := range s.queues {
		close(q)
	}
	s.wg.Wait()
	err := context.Cause(s.ctx)
	s.cancel(nil)
	return err
}

// totals are the server's counts so far and the rows they are for.
func (s *sender) totals() (store.RecordResult, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result, s.sent
}

// post sends one batch, telling of retries on the console, and names its
// file lines in any failure.
func (s *sender) post(b *batch) error {
	where := fmt.Sprintf("lines %d-%d", b.lines[0], b.lines[len(b.lines)-1])
	if len(b.lines) == 1 {
		where = fmt.Sprintf("line %d", b.lines[0])
	}
	r, err := s.client.post(s.ctx, b.body.Bytes(), func(r client.RetryEvent) {
		fmt.Fprintf(s.con, "%s: %s; retrying in %s (attempt %d of %d)\n", where, why(r.Err), r.Wait.Round(time.Millisecond), r.Attempt, r.Attempts)
	})
	var refused *client.Error
	switch {
	case err == nil:
	case s.ctx.Err() != nil:
		return context.Cause(s.ctx)
	case errors.As(err, &refused):
		return refusal(where, refused, b.lines)
	default:
		return fmt.Errorf("%s: %w", where, err)
	}
	s.mu.Lock()
	s.result.Add(api.ResultOf(r))
	s.sent += len(b.lines)
	s.mu.Unlock()
	return nil
}
