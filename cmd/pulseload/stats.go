package main

import (
	"sort"
	"sync"
	"time"
)

// latencies collects durations in 1 ms buckets up to a minute: enough
// resolution for p50/p95/p99 of screen delays, in fixed memory whatever
// the number of samples.
type latencies struct {
	mu      sync.Mutex
	buckets [60_001]int64
	n       int64
	max     time.Duration
}

func (l *latencies) add(d time.Duration) {
	ms := int(d / time.Millisecond)
	ms = max(0, min(ms, len(l.buckets)-1))
	l.mu.Lock()
	l.buckets[ms]++
	l.n++
	l.max = max(l.max, d)
	l.mu.Unlock()
}

// quantile returns the q-quantile (0..1), to the millisecond.
func (l *latencies) quantile(q float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n == 0 {
		return 0
	}
	want := int64(q * float64(l.n))
	var seen int64
	for ms, c := range l.buckets {
		seen += c
		if seen > want {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return l.max
}

func (l *latencies) count() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// ackLog is the timeline of acknowledged responses: after acked[i].n
// responses were acknowledged, the time was acked[i].at. A screen showing a
// count of C shows the answer that was acknowledged when the count first
// reached C.
type ackLog struct {
	mu    sync.Mutex
	total int64
	marks []ackMark
}

type ackMark struct {
	n  int64
	at time.Time
}

func (a *ackLog) add(n int, at time.Time) {
	a.mu.Lock()
	a.total += int64(n)
	a.marks = append(a.marks, ackMark{n: a.total, at: at})
	a.mu.Unlock()
}

// when returns when the count first reached c, and false if it has not.
func (a *ackLog) when(c int64) (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i := sort.Search(len(a.marks), func(i int) bool { return a.marks[i].n >= c })
	if i == len(a.marks) {
		return time.Time{}, false
	}
	return a.marks[i].at, true
}

func (a *ackLog) acked() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.total
}

// sizes collects message sizes in bytes, exact up to 256 KiB (larger ones
// count as 256 KiB), in fixed memory whatever the number of samples.
type sizes struct {
	mu      sync.Mutex
	buckets [256 << 10]int64
	n       int64
}

func (s *sizes) add(n int) {
	n = max(0, min(n, len(s.buckets)-1))
	s.mu.Lock()
	s.buckets[n]++
	s.n++
	s.mu.Unlock()
}

// quantile returns the q-quantile (0..1) in bytes, and how many samples.
func (s *sizes) quantile(q float64) (int, int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	want := int64(q * float64(s.n))
	var seen int64
	for b, c := range s.buckets {
		seen += c
		if seen > want {
			return b, s.n
		}
	}
	return 0, s.n
}
