package httpapi

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/pulseboard/pulseboard/internal/auth"
	"github.com/pulseboard/pulseboard/internal/fault"
)

// rateLimits holds one token bucket per ingest token, counted in responses
// rather than requests: a batch of 5,000 costs 5,000, so batching is not a
// way around the limit, and a single producer looping on a bug cannot starve
// the others or flood the store.
type rateLimits struct {
	perSecond rate.Limit
	burst     int

	mu      sync.Mutex
	buckets map[auth.Hash]*rate.Limiter
}

// newRateLimits makes the limits; perSecond 0 means none.
func newRateLimits(perSecond float64, burst int) *rateLimits {
	if perSecond <= 0 {
		return nil
	}
	// The burst holds at least a second's worth and one full batch, so any
	// valid batch can pass once its tokens have refilled.
	burst = max(burst, int(math.Ceil(perSecond)))
	return &rateLimits{perSecond: rate.Limit(perSecond), burst: burst, buckets: map[auth.Hash]*rate.Limiter{}}
}

// take charges n responses to the token's bucket, or says how long to wait.
// Only valid tokens reach it, so the map is bounded by the configuration.
func (l *rateLimits) take(token string, n int, now time.Time) error {
	if l == nil {
		return nil
	}
	h := auth.HashOf(token)
	l.mu.Lock()
	b := l.buckets[h]
	if b == nil {
		b = rate.NewLimiter(l.perSecond, l.burst)
		l.buckets[h] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, n)
	if !r.OK() {
		return fault.New(fault.TooLarge, "a batch of %d is more than this token's burst of %d responses", n, l.burst)
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		// Rounded up to whole seconds, what Retry-After can say.
		wait := (d + time.Second - 1).Truncate(time.Second)
		e := fault.New(fault.TooMany, "this token's ingest rate of %g responses/s is used up; retry after %d s with the same ids", float64(l.perSecond), int(wait/time.Second))
		e.RetryAfter = wait
		return e
	}
	return nil
}
