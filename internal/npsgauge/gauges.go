// Package npsgauge exports the Net Promoter Score of configured groups as
// Prometheus gauges (metrics.nps): for each entry, a rollup over a named
// window, one pulseboard_nps_score, _responses, _promoters, _passives and
// _detractors series per group, labelled window, by and one label per
// dimension.
//
// The numbers come from the store, not from each scrape: Run refreshes a
// snapshot of every entry every 15 s (one store query per entry) and
// Collect only reads it. A refresh on Redis moves every bucket of the
// window, which costs milliseconds (docs/BENCHMARKS.md); a scrape that
// queried would cost that for every Prometheus (and every dashboard
// reload) that scrapes, and would wait on a stalled Redis. 15 s is the
// usual scrape interval, so the gauges are as fresh as a scrape can show.
//
// Stale numbers are never shown as fresh: an entry whose last refresh
// failed, or did not happen for three intervals, has no group series at all
// (a graph shows a gap, not a flat line), pulseboard_nps_stale{window,by}
// is 1 and pulseboard_nps_last_success_timestamp_seconds says since when.
//
// Cardinality is capped twice: the configuration refuses agent rollups
// unless allowed and bounds max_groups (config.go), and at each refresh an
// entry with more groups than its max_groups keeps those with the most
// responses, counts the others in pulseboard_nps_series_dropped_total and
// logs a warning once.
package npsgauge

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pulseboard/pulseboard/internal/nps"
	"github.com/pulseboard/pulseboard/internal/store"
	"github.com/pulseboard/pulseboard/internal/window"
)

// Querier is what the gauges read: the store's per-group counts over a
// span.
type Querier interface {
	Query(ctx context.Context, q store.Query) ([]store.Group, error)
}

// Defaults of Options.
const (
	// DefaultEvery is how often the snapshot is refreshed: Prometheus's
	// usual scrape interval.
	DefaultEvery = 15 * time.Second
	// DefaultTimeout bounds one entry's query.
	DefaultTimeout = 3 * time.Second
	// staleIntervals is how many intervals without a successful refresh
	// make an entry stale even though no refresh failed (a refresh stuck
	// or the loop stopped).
	staleIntervals = 3
)

// MaxLabelLen bounds a label value, in characters. Ingest already bounds a
// dimension value to 64; this holds whatever the store returns to the same.
const MaxLabelLen = 64

// Options configure the gauges.
type Options struct {
	Entries  []Entry
	Calendar window.Calendar
	// Now is the program's clock: it places the windows and judges
	// staleness. Nil is time.Now.
	Now func() time.Time
	// Clock drives the refresh ticker; nil is the real clock. Tests pass a
	// clockwork fake clock.
	Clock clockwork.Clock
	// Every is the refresh interval (DefaultEvery when 0); Timeout bounds
	// each entry's query (DefaultTimeout when 0).
	Every   time.Duration
	Timeout time.Duration
	Logger  *slog.Logger
}

// Gauges is the prometheus.Collector of the NPS series.
type Gauges struct {
	q     Querier
	opts  Options
	descs []entryDescs // one per entry

	mu      sync.RWMutex
	entries []entryState
}

// entryDescs are the descriptors of one entry's series. Each entry has its
// own label names (window, by and its rollup's dimensions), so the group
// series of two entries are one family with different labels, which
// Prometheus takes but a checked collector may not describe; Gauges is an
// unchecked collector for that reason, and the tests gather it with a
// pedantic registry instead.
type entryDescs struct {
	dims                                              []store.Dimension
	score, responses, promoters, passives, detractors *prometheus.Desc
	stale, lastSuccess, dropped                       *prometheus.Desc
}

// entryState is the snapshot of one entry. The refresh loop writes it
// under mu, Collect reads it.
type entryState struct {
	rows    []row
	ok      bool      // the last refresh succeeded
	failing bool      // a failure was logged and no success since
	lastOK  time.Time // when a refresh last succeeded
	dropped float64   // groups dropped by the cap, over every refresh
	warned  bool      // the cap's warning was logged
}

// row is one group's label values (the entry's dimensions, in schema
// order) and counts.
type row struct {
	values []string
	counts nps.Distribution
}

// Help texts, one per family whichever entry a series belongs to.
const (
	helpScore       = "Net Promoter Score, -100 to 100, of a group over the window (metrics.nps); absent while the entry is stale."
	helpResponses   = "Responses of a group over the window (metrics.nps)."
	helpPromoters   = "Promoters (9-10) of a group over the window (metrics.nps)."
	helpPassives    = "Passives (7-8) of a group over the window (metrics.nps)."
	helpDetractors  = "Detractors (0-6) of a group over the window (metrics.nps)."
	helpStale       = "1 while an entry's numbers cannot be refreshed from the store (its group series are then absent), else 0."
	helpLastSuccess = "When an entry was last refreshed from the store, in Unix seconds."
	helpDropped     = "Groups (five series each) left out because the entry had more than max_groups, summed over refreshes."
)

// New makes the collector; Run fills it.
func New(q Querier, opts Options) *Gauges {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Every <= 0 {
		opts.Every = DefaultEvery
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	g := &Gauges{q: q, opts: opts, entries: make([]entryState, len(opts.Entries))}
	entry := []string{"window", "by"}
	for _, e := range opts.Entries {
		dims := e.Rollup.Dims()
		group := slices.Clone(entry)
		for _, d := range dims {
			group = append(group, string(d))
		}
		g.descs = append(g.descs, entryDescs{
			dims:        dims,
			score:       prometheus.NewDesc("pulseboard_nps_score", helpScore, group, nil),
			responses:   prometheus.NewDesc("pulseboard_nps_responses", helpResponses, group, nil),
			promoters:   prometheus.NewDesc("pulseboard_nps_promoters", helpPromoters, group, nil),
			passives:    prometheus.NewDesc("pulseboard_nps_passives", helpPassives, group, nil),
			detractors:  prometheus.NewDesc("pulseboard_nps_detractors", helpDetractors, group, nil),
			stale:       prometheus.NewDesc("pulseboard_nps_stale", helpStale, entry, nil),
			lastSuccess: prometheus.NewDesc("pulseboard_nps_last_success_timestamp_seconds", helpLastSuccess, entry, nil),
			dropped:     prometheus.NewDesc("pulseboard_nps_series_dropped_total", helpDropped, entry, nil),
		})
	}
	return g
}

// Describe describes nothing: Gauges is an unchecked collector (see
// entryDescs).
func (g *Gauges) Describe(chan<- *prometheus.Desc) {}

// Collect sends the snapshot; it never queries the store.
func (g *Gauges) Collect(ch chan<- prometheus.Metric) {
	now := g.opts.Now()
	g.mu.RLock()
	defer g.mu.RUnlock()
	for i, e := range g.opts.Entries {
		st, d := g.entries[i], g.descs[i]
		w, by := e.Window.Name, e.Rollup.Name()
		fresh := st.ok && now.Sub(st.lastOK) <= staleIntervals*g.opts.Every
		ch <- prometheus.MustNewConstMetric(d.stale, prometheus.GaugeValue, boolValue(!fresh), w, by)
		if !st.lastOK.IsZero() {
			ch <- prometheus.MustNewConstMetric(d.lastSuccess, prometheus.GaugeValue, float64(st.lastOK.UnixMilli())/1e3, w, by)
		}
		ch <- prometheus.MustNewConstMetric(d.dropped, prometheus.CounterValue, st.dropped, w, by)
		if !fresh {
			continue
		}
		for _, r := range st.rows {
			lv := append([]string{w, by}, r.values...)
			c := r.counts
			if s, ok := c.NPS(); ok {
				ch <- prometheus.MustNewConstMetric(d.score, prometheus.GaugeValue, s, lv...)
			}
			ch <- prometheus.MustNewConstMetric(d.responses, prometheus.GaugeValue, float64(c.Responses()), lv...)
			ch <- prometheus.MustNewConstMetric(d.promoters, prometheus.GaugeValue, float64(c.Promoters()), lv...)
			ch <- prometheus.MustNewConstMetric(d.passives, prometheus.GaugeValue, float64(c.Passives()), lv...)
			ch <- prometheus.MustNewConstMetric(d.detractors, prometheus.GaugeValue, float64(c.Detractors()), lv...)
		}
	}
}

// Run refreshes at once, then every interval of the clock, until ctx
// ends.
func (g *Gauges) Run(ctx context.Context) {
	t := g.opts.Clock.NewTicker(g.opts.Every)
	defer t.Stop()
	for {
		g.Refresh(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.Chan():
		}
	}
}

// Refresh reads every entry from the store once, at the program's now.
// An entry that fails keeps no numbers: it is stale until a refresh
// succeeds.
func (g *Gauges) Refresh(ctx context.Context) {
	now := g.opts.Now()
	for i, e := range g.opts.Entries {
		if ctx.Err() != nil {
			return
		}
		rows, dropped, err := g.read(ctx, e, g.descs[i].dims, now)
		g.mu.Lock()
		st := &g.entries[i]
		wasFailing := st.failing
		if err != nil {
			st.ok, st.rows = false, nil
			// A refresh cut short by the program's stop is no outage.
			st.failing = st.failing || ctx.Err() == nil
		} else {
			st.ok, st.rows, st.lastOK, st.failing = true, rows, now, false
			st.dropped += float64(dropped)
		}
		warn := dropped > 0 && !st.warned
		st.warned = st.warned || warn
		failed := st.failing && !wasFailing
		g.mu.Unlock()

		log := g.opts.Logger.With(slog.String("by", e.Rollup.Name()), slog.String("window", e.Window.Name))
		switch {
		case failed:
			log.Warn("nps gauges: cannot read the store; the entry's series are dropped and pulseboard_nps_stale is 1 until it answers", slog.Any("err", err))
		case err == nil && wasFailing:
			log.Info("nps gauges: the store answers again")
		}
		if warn {
			log.Warn("nps gauges: more groups than max_groups; those with the fewest responses are left out (pulseboard_nps_series_dropped_total); logged once",
				slog.Int("groups", len(rows)+dropped), slog.Int("max_groups", e.MaxGroups))
		}
	}
}

// read queries one entry and applies its cap: the groups with the most
// responses are kept (ties by label values, so the choice is stable).
func (g *Gauges) read(ctx context.Context, e Entry, dims []store.Dimension, now time.Time) ([]row, int, error) {
	ctx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	groups, err := g.q.Query(ctx, store.Query{By: e.Rollup.Dims(), Span: g.opts.Calendar.Span(e.Window, now)})
	if err != nil {
		return nil, 0, err
	}
	rows := make([]row, 0, len(groups))
	for _, gr := range groups {
		if gr.Counts.Responses() == 0 {
			continue
		}
		vals := make([]string, len(dims))
		for j, d := range dims {
			vals[j] = boundLabel(gr.Key[d])
		}
		rows = append(rows, row{values: vals, counts: gr.Counts})
	}
	dropped := 0
	if len(rows) > e.MaxGroups {
		slices.SortFunc(rows, func(a, b row) int {
			if c := cmp.Compare(b.counts.Responses(), a.counts.Responses()); c != 0 {
				return c
			}
			return slices.Compare(a.values, b.values)
		})
		dropped = len(rows) - e.MaxGroups
		rows = rows[:e.MaxGroups:e.MaxGroups]
	}
	return rows, dropped, nil
}

// boundLabel keeps a label value to MaxLabelLen characters. A longer one
// (ingest never lets one in) is cut and ends with a hash of the whole, so
// two values that share their beginning stay two series.
func boundLabel(v string) string {
	if utf8.RuneCountInString(v) <= MaxLabelLen {
		return v
	}
	sum := sha256.Sum256([]byte(v))
	suffix := "~" + hex.EncodeToString(sum[:4])
	keep := MaxLabelLen - len(suffix)
	cut := 0
	for i := range v {
		if keep == 0 {
			cut = i
			break
		}
		keep--
	}
	return v[:cut] + suffix
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
