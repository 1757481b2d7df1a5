package main

import (
	"strings"
	"testing"
	"time"
)

// series samples every 10 s for d, with the RSS given by f.
func series(d time.Duration, f func(at time.Duration) int64) []sample {
	var out []sample
	for at := 10 * time.Second; at <= d; at += 10 * time.Second {
		out = append(out, sample{at: at, rss: f(at), heap: 10 << 20})
	}
	return out
}

// Drift compares the mean RSS of the minute after the warm-up with the
// mean of the last minute: a GC sawtooth of ±6% around a flat level is not
// drift, growth is, and what happened during the warm-up does not count.
func TestSteadyDrift(t *testing.T) {
	const mb = 1 << 20
	const d = 30 * time.Minute
	saw := func(at time.Duration) int64 { // 50 MB ± 3 MB, a 20 s cycle
		if (at/(10*time.Second))%2 == 0 {
			return 47 * mb
		}
		return 53 * mb
	}
	flat, ok := steadyDrift(series(d, saw), 5*time.Minute, d)
	if !ok || flat.rssPercent < -1 || flat.rssPercent > 1 {
		t.Fatalf("sawtooth around a flat level: drift %+.1f%% (%v)", flat.rssPercent, ok)
	}
	warm := func(at time.Duration) int64 { // doubles during the warm-up, then flat
		if at < 5*time.Minute {
			return 25 * mb
		}
		return saw(at)
	}
	if w, _ := steadyDrift(series(d, warm), 5*time.Minute, d); w.rssPercent < -1 || w.rssPercent > 1 {
		t.Fatalf("growth during the warm-up counted: %+.1f%%", w.rssPercent)
	}
	grow := func(at time.Duration) int64 { // +20% over the 25 minutes after the warm-up
		return saw(at) + int64(float64(10*mb)*float64(at-5*time.Minute)/float64(25*time.Minute))
	}
	g, _ := steadyDrift(series(d, grow), 5*time.Minute, d)
	if g.rssPercent < 15 || g.rssPercent > 21 {
		t.Fatalf("20%% growth measured as %+.1f%%", g.rssPercent)
	}
	if g.rssMax < 60*mb {
		t.Fatalf("highest sample %d", g.rssMax)
	}
	// Too few samples after the warm-up: no figure rather than a wrong one.
	if _, ok := steadyDrift(series(5*time.Minute, saw), 5*time.Minute, 5*time.Minute); ok {
		t.Fatal("a drift from no samples")
	}
}

// -max-drift fails the run when the drift is above it, passes it below,
// and fails it when there is nothing to judge.
func TestCheckDrift(t *testing.T) {
	const mb = 1 << 20
	o := options{duration: 6 * time.Minute}
	o.soak = soakOptions{sampleEvery: 10 * time.Second, warmup: 5 * time.Minute, maxDrift: 5}
	if err := o.soak.check(o.duration); err != nil {
		t.Fatal(err)
	}
	flat := report{o: o, samples: series(o.duration, func(time.Duration) int64 { return 50 * mb })}
	if err := flat.checkDrift(); err != nil {
		t.Fatal(err)
	}
	grow := report{o: o, samples: series(o.duration, func(at time.Duration) int64 { return 50*mb + int64(at/time.Second)*200<<10 })}
	if err := grow.checkDrift(); err == nil || !strings.Contains(err.Error(), "above -max-drift") {
		t.Fatalf("growing RSS: %v", err)
	}
	if err := (report{o: o}).checkDrift(); err == nil {
		t.Fatal("no samples passed -max-drift")
	}
	o.soak.maxDrift = 0
	if err := (report{o: o}).checkDrift(); err != nil {
		t.Fatal("without -max-drift a run is not judged:", err)
	}
}

// A short soak (make soak SOAK=5m) measures drift after a fifth of the
// run, and a sampling period too long for two samples per window is
// refused with the reason.
func TestSoakOptions(t *testing.T) {
	s := soakOptions{sampleEvery: 10 * time.Second, warmup: 5 * time.Minute, maxDrift: 5}
	if got := s.driftAfter(5 * time.Minute); got != time.Minute {
		t.Fatalf("driftAfter(5m) = %s", got)
	}
	if got := s.driftAfter(30 * time.Minute); got != 5*time.Minute {
		t.Fatalf("driftAfter(30m) = %s", got)
	}
	if err := s.check(5 * time.Minute); err != nil {
		t.Fatal(err)
	}
	s.sampleEvery = time.Minute
	if err := s.check(30 * time.Minute); err == nil || !strings.Contains(err.Error(), "-sample-every") {
		t.Fatalf("one sample a minute, windows of a minute: %v", err)
	}
}

// Heap profiles need the admin token pulseload gives a server it starts.
func TestHeapProfilesNeedServerBin(t *testing.T) {
	o := options{server: "http://127.0.0.1:8080", clients: 1, duration: time.Minute, rate: 1, batch: 1, concurrency: 1, boards: 1, protocol: 2}
	o.soak.heapProfiles = t.TempDir()
	if err := o.check(); err == nil || !strings.Contains(err.Error(), "-server-bin") {
		t.Fatalf("check = %v", err)
	}
	o.server, o.serverBin = "", "bin/pulseboard"
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
}
