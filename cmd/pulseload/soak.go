package main

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// A soak is a long run of the same load that watches the server's memory
// for drift at steady state: RSS and heap in use sampled while posting,
// drift measured from just after a warm-up (the replica, the pools and the
// follow-up snapshot grow at first) to the end, and a heap profile at each
// of those two moments for `go tool pprof -diff_base`. `make soak` runs it.

type soakOptions struct {
	sampleEvery  time.Duration
	warmup       time.Duration
	maxDrift     float64
	heapProfiles string
}

func (s *soakOptions) flags(fs *flag.FlagSet) {
	fs.DurationVar(&s.sampleEvery, "sample-every", time.Minute, "sample the server's RSS and heap in use this often while posting")
	fs.DurationVar(&s.warmup, "drift-after", time.Minute, "measure RSS drift from this far into the run to its end (a fifth of -duration when -duration is not longer)")
	fs.Float64Var(&s.maxDrift, "max-drift", 0, "fail (exit 1) when the RSS drift after -drift-after exceeds this many percent (0: report only)")
	fs.StringVar(&s.heapProfiles, "heap-profiles", "", "with -server-bin: save the server's heap profiles at -drift-after and at the end into this directory")
}

func (s soakOptions) check(duration time.Duration) error {
	switch {
	case s.sampleEvery != 0 && s.sampleEvery < time.Second:
		return fmt.Errorf("-sample-every must be at least 1s")
	case s.warmup < 0:
		return fmt.Errorf("-drift-after must not be negative")
	case s.maxDrift < 0:
		return fmt.Errorf("-max-drift must not be negative")
	case s.maxDrift > 0 && s.every() > driftWindow(s.driftAfter(duration), duration)/2:
		return fmt.Errorf("-max-drift needs at least two samples in each of the windows it compares: lower -sample-every (now %s) or lengthen -duration", s.every())
	}
	return nil
}

// every is the sampling period; the zero value samples each minute.
func (s soakOptions) every() time.Duration {
	if s.sampleEvery == 0 {
		return time.Minute
	}
	return s.sampleEvery
}

// driftAfter is when the steady state is taken to start: -drift-after, or
// a fifth of the run when the run is not longer (`make soak SOAK=5m`).
func (s soakOptions) driftAfter(duration time.Duration) time.Duration {
	if s.warmup >= duration {
		return duration / 5
	}
	return s.warmup
}

type sample struct {
	at        time.Duration // since posting began
	rss, heap int64         // heap: go_memstats_heap_inuse_bytes, -1 if unknown
	// parts are where the runtime's memory is (memParts), -1 if unknown:
	// they tell a growing live heap from pages kept idle, stacks or the
	// runtime's own structures.
	parts [len(memParts)]int64
}

// memParts name the parts of a Go process's memory a soak reports, each
// from the Go collector's metrics (the server's /metrics).
var memParts = [...]struct {
	name string
	of   func(m []float64) float64
}{
	{"heap in use", func(m []float64) float64 { return m[0] }},
	{"heap idle, not returned", func(m []float64) float64 { return m[1] - m[2] }},
	{"stacks", func(m []float64) float64 { return m[3] }},
	{"runtime's other", func(m []float64) float64 { return m[4] - m[5] - m[6] }},
}

// memMetrics are what memParts read, in their order.
var memMetrics = []string{"go_memstats_heap_inuse_bytes", "go_memstats_heap_idle_bytes", "go_memstats_heap_released_bytes",
	"go_memstats_stack_inuse_bytes", "go_memstats_sys_bytes", "go_memstats_heap_sys_bytes", "go_memstats_stack_sys_bytes"}

// sampleOf samples the server's memory.
func sampleOf(at time.Duration, rss int64, base string) sample {
	m := metrics(base, memMetrics...)
	s := sample{at: at, rss: rss, heap: int64(m[0])}
	for i, p := range memParts {
		s.parts[i] = -1
		if !slices.Contains(m, -1) {
			s.parts[i] = int64(p.of(m))
		}
	}
	return s
}

// drift is how the RSS and the heap in use moved at steady state.
type drift struct {
	after, window         time.Duration
	rssFrom, rssTo        float64 // means over the first and last window
	rssMax                int64   // highest sample after `after`
	heapFrom, heapTo      float64
	rssPercent, heapDelta float64
	// partDelta is how each memPart moved between the same windows.
	partDelta [len(memParts)]float64
}

// driftWindow is how long each of the two windows steadyDrift compares
// lasts: a minute, or a third of the time after `after` if that is shorter.
func driftWindow(after, duration time.Duration) time.Duration {
	return min(time.Minute, (duration-after)/3)
}

// steadyDrift compares the mean of the samples in the window just after
// `after` with the mean of the samples in the run's last window. Means of a
// few samples, not single samples: one GC cycle swings the RSS by more
// than 5% of a 50 MB server, and a single sample lands anywhere in it.
func steadyDrift(samples []sample, after, duration time.Duration) (drift, bool) {
	d := drift{after: after, window: driftWindow(after, duration)}
	var from, to []sample
	for _, s := range samples {
		if s.at < after {
			continue
		}
		d.rssMax = max(d.rssMax, s.rss)
		if s.at < after+d.window {
			from = append(from, s)
		}
		if s.at >= duration-d.window {
			to = append(to, s)
		}
	}
	if len(from) == 0 || len(to) == 0 || from[0] == to[len(to)-1] {
		return d, false
	}
	mean := func(ss []sample, f func(sample) int64) float64 {
		var sum float64
		for _, s := range ss {
			sum += float64(f(s))
		}
		return sum / float64(len(ss))
	}
	d.rssFrom, d.rssTo = mean(from, func(s sample) int64 { return s.rss }), mean(to, func(s sample) int64 { return s.rss })
	d.heapFrom, d.heapTo = mean(from, func(s sample) int64 { return s.heap }), mean(to, func(s sample) int64 { return s.heap })
	d.rssPercent = 100 * (d.rssTo - d.rssFrom) / d.rssFrom
	d.heapDelta = d.heapTo - d.heapFrom
	for i := range memParts {
		d.partDelta[i] = mean(to, func(s sample) int64 { return s.parts[i] }) - mean(from, func(s sample) int64 { return s.parts[i] })
	}
	return d, true
}

func (r report) printSeries(w io.Writer) {
	if len(r.samples) < 2 {
		return
	}
	// One sample a minute at most, so a half-hour soak fits on a line.
	var b strings.Builder
	next := time.Duration(0)
	for _, s := range r.samples {
		if s.at < next && len(r.samples) > 20 {
			continue
		}
		next = s.at.Truncate(time.Minute) + time.Minute
		fmt.Fprintf(&b, "%s %.1f", s.at.Round(time.Second), mb(s.rss))
		if s.heap >= 0 {
			fmt.Fprintf(&b, " (heap %.1f)", mb(s.heap))
		}
		b.WriteString("  ")
	}
	fmt.Fprintf(w, "server RSS while posting (MB)\t%s\n", strings.TrimSpace(b.String()))
	d, ok := steadyDrift(r.samples, r.o.soak.driftAfter(r.o.duration), r.o.duration)
	if !ok {
		return
	}
	fmt.Fprintf(w, "RSS drift after %s\t%+.1f%% (mean of %s at %s: %.1f MB; of the last %s: %.1f MB; highest sample after %s: %.1f MB)\n",
		d.after, d.rssPercent, d.window, d.after, d.rssFrom/(1<<20), d.window, d.rssTo/(1<<20), d.after, mb(d.rssMax))
	if d.heapFrom > 0 {
		fmt.Fprintf(w, "heap in use, same windows\t%.1f → %.1f MB (%+.1f MB)\n", d.heapFrom/(1<<20), d.heapTo/(1<<20), d.heapDelta/(1<<20))
		var parts []string
		for i, p := range memParts {
			parts = append(parts, fmt.Sprintf("%s %+.1f", p.name, d.partDelta[i]/(1<<20)))
		}
		fmt.Fprintf(w, "memory moved, same windows (MB)\t%s; RSS %+.1f\n", strings.Join(parts, ", "), (d.rssTo-d.rssFrom)/(1<<20))
	}
	var saved []string
	for _, p := range r.heapProfiles {
		if p != "" {
			saved = append(saved, p)
		}
	}
	if len(saved) == 2 {
		fmt.Fprintf(w, "heap profiles\tgo tool pprof -top -sample_index=inuse_space -diff_base %s %s\n", saved[0], saved[1])
	}
}

// checkDrift fails a run given -max-drift whose RSS drifted more.
func (r report) checkDrift() error {
	if r.o.soak.maxDrift == 0 {
		return nil
	}
	d, ok := steadyDrift(r.samples, r.o.soak.driftAfter(r.o.duration), r.o.duration)
	if !ok {
		return fmt.Errorf("-max-drift: too few RSS samples after %s to measure drift", r.o.soak.driftAfter(r.o.duration))
	}
	if d.rssPercent > r.o.soak.maxDrift {
		return fmt.Errorf("RSS drifted %+.1f%% after %s, above -max-drift %.1f%%", d.rssPercent, d.after, r.o.soak.maxDrift)
	}
	return nil
}

// saveHeapProfile saves the server's heap profile, after a GC, into
// dir/name and returns its path ("" when it could not, which it says).
func saveHeapProfile(base, adminToken, dir, name string, log io.Writer) string {
	path := filepath.Join(dir, name)
	err := func() error {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		req, err := http.NewRequest(http.MethodGet, base+"/debug/pprof/heap?gc=1", nil)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := probeClient.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", res.StatusCode)
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, res.Body); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}()
	if err != nil {
		progress(log, "heap profile %s: %v", path, err)
		return ""
	}
	progress(log, "saved heap profile %s", path)
	return path
}
