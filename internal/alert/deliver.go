package alert

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// deliverLoop sends due deliveries until ctx ends. Each claim leases the
// deliveries for longer than an attempt can take, so no other node sends
// them meanwhile; a node that dies leaves them due again at the lease end.
func (s *Service) deliverLoop(ctx context.Context) {
	lease := s.o.Config.Timeout + 5*time.Second
	for ctx.Err() == nil {
		ds, err := s.o.Engine.Claim(ctx, s.o.Now(), lease, claimBatch)
		if err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("alerts: cannot read the outbox", slog.Any("err", err))
		}
		if len(ds) == 0 {
			t := time.NewTimer(pollEvery)
			select {
			case <-ctx.Done():
			case <-s.kick:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		sem := make(chan struct{}, senders)
		var wg sync.WaitGroup
		for _, d := range ds {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				s.attempt(ctx, d)
			}()
		}
		wg.Wait()
	}
}

// attempt sends one delivery once and records the outcome: done on 2xx, a
// retry after a doubling backoff otherwise, a dead letter after the last
// attempt.
func (s *Service) attempt(ctx context.Context, d Delivery) {
	err := s.send(ctx, d)
	if ctx.Err() != nil {
		return // shutting down: the lease ends and the delivery is due again
	}
	// Outcomes are written even if ctx ends meanwhile.
	wctx := context.WithoutCancel(ctx)
	if err == nil {
		if err := s.o.Engine.Delivered(wctx, d.ID); err != nil {
			s.o.Logger.Warn("alerts: delivered, but cannot forget the delivery (it will be sent again)", slog.String("delivery", d.ID), slog.Any("err", err))
		}
		return
	}
	d.Attempts++
	d.LastError = err.Error()
	now := s.o.Now()
	if d.Attempts >= s.o.Config.Retries {
		d.Buried = &now
		s.o.Logger.Error("alerts: delivery given up; moved to the dead letters", slog.String("delivery", d.ID),
			slog.String("url", d.URL), slog.Int("attempts", d.Attempts), slog.Any("err", err))
		if err := s.o.Engine.Bury(wctx, d); err != nil {
			s.o.Logger.Warn("alerts: cannot bury a delivery", slog.String("delivery", d.ID), slog.Any("err", err))
		}
		return
	}
	wait := s.backoff(d.Attempts)
	s.o.Logger.Warn("alerts: delivery failed; will retry", slog.String("delivery", d.ID), slog.String("url", d.URL),
		slog.Int("attempt", d.Attempts), slog.Duration("in", wait), slog.Any("err", err))
	if err := s.o.Engine.Retry(wctx, d, now.Add(wait)); err != nil {
		s.o.Logger.Warn("alerts: cannot schedule a retry", slog.String("delivery", d.ID), slog.Any("err", err))
	}
}

// backoff is the wait after the n-th failed attempt: Backoff doubled n−1
// times, at most MaxBackoff, ±20% so receivers coming back are not hit by
// every retry at once.
func (s *Service) backoff(n int) time.Duration {
	d := s.o.Config.Backoff
	for i := 1; i < n && d < s.o.Config.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.o.Config.MaxBackoff)
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// send makes one signed POST.
func (s *Service) send(ctx context.Context, d Delivery) error {
	ctx, cancel := context.WithTimeout(ctx, s.o.Config.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Pulseboard-Alerts/1")
	req.Header.Set(HeaderEvent, d.Event)
	req.Header.Set(HeaderDelivery, d.ID)
	req.Header.Set(HeaderSignature, Sign(s.secret, d.Body, s.o.Now()))
	res, err := s.o.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("receiver answered %s", res.Status)
	}
	return nil
}
