package alert

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// leaseMargin is how much longer than one attempt's timeout a lease lasts:
// time to record the attempt's outcome after the receiver answered.
const leaseMargin = 5 * time.Second

// deliverLoop sends due deliveries until ctx ends, by up to senders at a
// time. It claims a delivery only once a sender is free to send it at once,
// so the lease (one attempt's timeout and a margin) covers the whole
// attempt: a delivery claimed with others and left waiting for a sender
// behind a slow receiver could outlive its lease and be sent by another
// node too. A node that dies leaves its deliveries due again at the lease
// end.
func (s *Service) deliverLoop(ctx context.Context) {
	lease := s.o.Config.Timeout + leaseMargin
	free := make(chan struct{}, senders)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case free <- struct{}{}:
		}
		ds, err := s.o.Engine.Claim(ctx, s.o.Now(), lease, 1)
		if err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("alerts: cannot read the outbox", slog.Any("err", err))
		}
		if len(ds) == 0 {
			<-free
			t := time.NewTimer(pollEvery)
			select {
			case <-ctx.Done():
			case <-s.kick:
			case <-t.C:
			}
			t.Stop()
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-free; wg.Done() }()
			s.attempt(ctx, ds[0])
		}()
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
		if err := s.o.Engine.Delivered(wctx, d); errors.Is(err, ErrLeaseLost) {
			s.o.Logger.Warn("alerts: delivered after its lease ended; another claim has it and may send it again", slog.String("delivery", d.ID))
		} else if err != nil {
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
			slog.String("url", logURL(d)), slog.Int("attempts", d.Attempts), slog.Any("err", err))
		if err := s.o.Engine.Bury(wctx, d); err != nil {
			s.o.Logger.Warn("alerts: cannot bury a delivery", slog.String("delivery", d.ID), slog.Any("err", err))
		}
		return
	}
	wait := s.backoff(d.Attempts)
	// A receiver that says when to come back (Slack and Teams past their
	// rate limits: 429 with Retry-After) is not asked sooner.
	var ans *answerError
	if errors.As(err, &ans) && ans.retryAfter > wait {
		wait = ans.retryAfter
	}
	s.o.Logger.Warn("alerts: delivery failed; will retry", slog.String("delivery", d.ID), slog.String("url", logURL(d)),
		slog.Int("attempt", d.Attempts), slog.Duration("in", wait), slog.Any("err", err))
	if err := s.o.Engine.Retry(wctx, d, now.Add(wait)); errors.Is(err, ErrLeaseLost) {
		s.o.Logger.Info("alerts: the failed delivery was taken over by another claim meanwhile; it retries there", slog.String("delivery", d.ID))
	} else if err != nil {
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
	if d.Kind == "" || d.Kind == KindWebhook {
		// Chat receivers verify nothing; the signature is for
		// receivers that know the alert secret.
		req.Header.Set(HeaderSignature, Sign(s.secret, d.Body, s.o.Now()))
	}
	res, err := s.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(res.Body, maxExcerpt))
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 300 && res.StatusCode <= 399 {
		return fmt.Errorf("receiver answered %s to %s: %w", res.Status, res.Header.Get("Location"), errRedirect)
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return &answerError{status: res.Status, body: printable(excerpt), retryAfter: retryAfter(res.Header.Get("Retry-After"), s.o.Now())}
	}
	return nil
}

// logURL is a delivery's receiver as logs name it. A Slack or Teams
// webhook URL is itself the credential that posts to the channel (its path,
// or its sig parameter), so only its scheme and host are logged; a generic
// receiver's URL is logged whole, as before.
func logURL(d Delivery) string {
	if d.Kind == "" || d.Kind == KindWebhook {
		return d.URL
	}
	u, err := url.Parse(d.URL)
	if err != nil {
		return string(d.Kind) + " receiver"
	}
	return string(d.Kind) + " receiver " + u.Scheme + "://" + u.Host + "/…"
}

// maxExcerpt bounds what of a refusal's body the last error keeps: Slack
// says why in a word ("invalid_blocks", "no_service"), Teams in a line.
const maxExcerpt = 200

// maxRetryAfter bounds a receiver's Retry-After: a delivery waits at most
// this long for one attempt, whatever a receiver asks.
const maxRetryAfter = time.Hour

// answerError is a receiver's refusal: its status, the start of its body,
// and how long it asked to wait (0: it did not say).
type answerError struct {
	status     string
	body       string
	retryAfter time.Duration
}

func (e *answerError) Error() string {
	msg := "receiver answered " + e.status
	if e.body != "" {
		msg += ": " + e.body
	}
	if e.retryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.retryAfter)
	}
	return msg
}

// retryAfter reads a Retry-After header: seconds or an HTTP date, at most
// maxRetryAfter; 0 when absent or unreadable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		d = time.Duration(min(n, int64(maxRetryAfter/time.Second))) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// printable is a body excerpt fit for a log line and the dead letters:
// one line of printable text.
func printable(b []byte) string {
	s := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, string(b))
	return strings.Join(strings.Fields(s), " ")
}

// leaseToken names one claim: random, so a node can tell its own lease
// from a later claim's, whichever node made it.
func leaseToken() string {
	var b [12]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}
