// Package metrics holds Pulseboard's Prometheus metrics. They live on a
// registry the program creates (no global state), next to the Go runtime
// and process collectors, and are served at /metrics.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the application's own series.
type Metrics struct {
	registry *prometheus.Registry
	// private holds series that name user data and show scores (the NPS
	// gauges): /metrics adds them only for those who may read the numbers.
	private *prometheus.Registry
	open    http.Handler
	reader  http.Handler

	ingestRequests *prometheus.CounterVec
	ingestDuration prometheus.Histogram
	responses      *prometheus.CounterVec
	offers         *prometheus.CounterVec
	droppedScreens prometheus.Counter
	broadcastLag   prometheus.Histogram
	redisErrors    *prometheus.CounterVec
	proxyIgnored   prometheus.Counter
}

// New registers every metric, with the runtime and process collectors.
func New() *Metrics {
	r := prometheus.NewRegistry()
	r.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{
		registry: r,
		private:  prometheus.NewRegistry(),
		ingestRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pulseboard_ingest_requests_total",
			Help: "Ingest requests (API, webhooks), by HTTP status.",
		}, []string{"code"}),
		ingestDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pulseboard_ingest_duration_seconds",
			Help:    "Time to validate and record one ingest request.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pulseboard_responses_total",
			Help: "Responses recorded, by upsert result: accepted, updated, duplicate.",
		}, []string{"result"}),
		offers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pulseboard_offers_total",
			Help: "Offered surveys recorded (POST /api/v1/offers), by upsert result: accepted, updated, duplicate, stale.",
		}, []string{"result"}),
		droppedScreens: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pulseboard_ws_dropped_total",
			Help: "Screens disconnected for not taking their messages in time.",
		}),
		broadcastLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pulseboard_broadcast_seconds",
			Help:    "Time to compute and send one board update to all its screens' queues.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		proxyIgnored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pulseboard_sso_header_ignored_total",
			Help: "Requests whose single-sign-on user header was ignored because they did not come from a trusted proxy.",
		}),
		redisErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pulseboard_redis_errors_total",
			Help: "Failed Redis commands (and failed dials), by command; a nil reply is not a failure.",
		}, []string{"command"}),
	}
	r.MustRegister(m.ingestRequests, m.ingestDuration, m.responses, m.offers, m.droppedScreens, m.broadcastLag, m.redisErrors, m.proxyIgnored)
	m.open = promhttp.HandlerFor(r, promhttp.HandlerOpts{})
	// A private collector that fails (it has user data in its labels)
	// must not blind the operational series: serve what gathered.
	m.reader = promhttp.HandlerFor(prometheus.Gatherers{r, m.private}, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return m
}

// Handler serves the open series: counts and timings, no names.
func (m *Metrics) Handler() http.Handler { return m.open }

// ReaderHandler serves the open series and the private ones, for a
// request that may read the numbers.
func (m *Metrics) ReaderHandler() http.Handler { return m.reader }

// RegisterPrivate registers a collector whose series name user data (team
// names) with their scores, served by ReaderHandler only.
func (m *Metrics) RegisterPrivate(c prometheus.Collector) { m.private.MustRegister(c) }

// Ingest records one ingest request.
func (m *Metrics) Ingest(status int, took time.Duration, accepted, updated, duplicates, stale int) {
	m.ingest(m.responses, status, took, accepted, updated, duplicates, stale)
}

// IngestOffers records one request of offered surveys: a request like
// Ingest's, its offers counted apart from responses.
func (m *Metrics) IngestOffers(status int, took time.Duration, accepted, updated, duplicates, stale int) {
	m.ingest(m.offers, status, took, accepted, updated, duplicates, stale)
}

func (m *Metrics) ingest(items *prometheus.CounterVec, status int, took time.Duration, accepted, updated, duplicates, stale int) {
	m.ingestRequests.WithLabelValues(strconv.Itoa(status)).Inc()
	m.ingestDuration.Observe(took.Seconds())
	items.WithLabelValues("accepted").Add(float64(accepted))
	items.WithLabelValues("updated").Add(float64(updated))
	items.WithLabelValues("duplicate").Add(float64(duplicates))
	items.WithLabelValues("stale").Add(float64(stale))
}

// ProxyHeaderIgnored counts a single-sign-on header from an untrusted peer.
func (m *Metrics) ProxyHeaderIgnored() { m.proxyIgnored.Inc() }

// ScreenDropped counts a screen closed as too slow.
func (m *Metrics) ScreenDropped() { m.droppedScreens.Inc() }

// Broadcast records the time of one board update's fan-out.
func (m *Metrics) Broadcast(took time.Duration) { m.broadcastLag.Observe(took.Seconds()) }

// GaugeFunc registers a gauge read at scrape time (aggregator state).
func (m *Metrics) GaugeFunc(name, help string, f func() float64) {
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// screens reports screens per board at scrape time.
type screens struct {
	desc *prometheus.Desc
	f    func() map[string]int
}

func (s screens) Describe(ch chan<- *prometheus.Desc) { ch <- s.desc }

func (s screens) Collect(ch chan<- prometheus.Metric) {
	for board, n := range s.f() {
		ch <- prometheus.MustNewConstMetric(s.desc, prometheus.GaugeValue, float64(n), board)
	}
}

// Screens registers pulseboard_ws_clients{board}, read from f at scrape
// time.
func (m *Metrics) Screens(f func() map[string]int) {
	m.registry.MustRegister(screens{
		desc: prometheus.NewDesc("pulseboard_ws_clients", "Screens connected, by board.", []string{"board"}, nil),
		f:    f,
	})
}
