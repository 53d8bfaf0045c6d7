// Package metrics defines the bot's Prometheus metrics, all named qovery_bot_*, on a registry of
// its own (no global state), and the HTTP instrumentation of its Qovery and Slack clients. Every
// method is safe on a nil *Metrics, which records nothing: tests and the console run without.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the bot's metrics.
type Metrics struct {
	reg *prometheus.Registry

	operations    *prometheus.CounterVec
	confirmations *prometheus.CounterVec
	activeWatches prometheus.Gauge
	schedules     prometheus.Gauge
	scheduleRuns  *prometheus.CounterVec
	ackLatency    prometheus.Histogram
	stopDuration  prometheus.Histogram
	qoveryCalls   *prometheus.CounterVec
	slackCalls    *prometheus.CounterVec
}

// New returns the bot's metrics on a fresh registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qovery_bot_operations_total",
			Help: "Operations finished, by verb and outcome (succeeded, failed, not_started, timed_out, aborted, void, rejected, cancelled, expired).",
		}, []string{"verb", "outcome"}),
		confirmations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qovery_bot_confirmations_total",
			Help: "Answers to confirmation requests: confirmed, cancelled, expired, denied.",
		}, []string{"outcome"}),
		schedules: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qovery_bot_schedules",
			Help: "Active schedules, as the replica running them last counted (0 on the others).",
		}),
		scheduleRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qovery_bot_schedule_runs_total",
			Help: "Occurrences of schedules, by outcome (run, skipped, missed, denied, not_needed, blocked, failed).",
		}, []string{"outcome"}),
		activeWatches: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "qovery_bot_active_watches",
			Help: "Clusters being watched to a final state.",
		}),
		ackLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qovery_bot_ack_latency_seconds",
			Help:    "Time from the bot's event loop taking a Socket Mode envelope to queuing its ack. Slack's side also sees the time the envelope waited on the socket before that (BENCHMARKS.md); Slack allows 3 s in all.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 3},
		}),
		stopDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "qovery_bot_stop_duration_seconds",
			Help:    "Time from Qovery accepting a stop to its final state.",
			Buckets: prometheus.ExponentialBuckets(30, 2, 10), // 30 s to about 4 h
		}),
		qoveryCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qovery_bot_qovery_requests_total",
			Help: "Requests to the Qovery API, by endpoint and HTTP status (\"error\" when no answer came).",
		}, []string{"endpoint", "code"}),
		slackCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qovery_bot_slack_api_calls_total",
			Help: "Slack Web API calls, by method and HTTP status (\"error\" when no answer came).",
		}, []string{"method", "code"}),
	}
	// Every outcome is served from the start, at 0, so that a rate over it is defined.
	for _, outcome := range []string{"run", "skipped", "missed", "denied", "not_needed", "blocked", "failed"} {
		m.scheduleRuns.WithLabelValues(outcome)
	}
	m.reg.MustRegister(m.operations, m.confirmations, m.activeWatches, m.schedules, m.scheduleRuns, m.ackLatency, m.stopDuration,
		m.qoveryCalls, m.slackCalls, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// OperationFinished counts a finished operation and, when Qovery had accepted it, its duration.
func (m *Metrics) OperationFinished(verb, outcome string, accepted time.Duration) {
	if m == nil {
		return
	}
	m.operations.WithLabelValues(verb, outcome).Inc()
	if accepted > 0 {
		m.stopDuration.Observe(accepted.Seconds())
	}
}

// Confirmation counts an answer to a confirmation request.
func (m *Metrics) Confirmation(outcome string) {
	if m != nil {
		m.confirmations.WithLabelValues(outcome).Inc()
	}
}

// WatchStarted and WatchEnded track the active watches.
func (m *Metrics) WatchStarted() {
	if m != nil {
		m.activeWatches.Inc()
	}
}

// Schedules records how many schedules are active.
func (m *Metrics) Schedules(n int) {
	if m != nil {
		m.schedules.Set(float64(n))
	}
}

// ScheduleRun counts one occurrence of a schedule by outcome.
func (m *Metrics) ScheduleRun(outcome string) {
	if m != nil {
		m.scheduleRuns.WithLabelValues(outcome).Inc()
	}
}

// WatchEnded is the counterpart of WatchStarted.
func (m *Metrics) WatchEnded() {
	if m != nil {
		m.activeWatches.Dec()
	}
}

// Acked records the time an envelope took to be acked.
func (m *Metrics) Acked(d time.Duration) {
	if m != nil {
		m.ackLatency.Observe(d.Seconds())
	}
}

// InstrumentQovery counts the requests rt carries to the Qovery API, by endpoint template.
func (m *Metrics) InstrumentQovery(rt http.RoundTripper) http.RoundTripper {
	if m == nil {
		return rt
	}
	return counting{rt: rt, vec: m.qoveryCalls, label: qoveryEndpoint}
}

// InstrumentSlack counts the Slack Web API calls rt carries, by method.
func (m *Metrics) InstrumentSlack(rt http.RoundTripper) http.RoundTripper {
	if m == nil {
		return rt
	}
	return counting{rt: rt, vec: m.slackCalls, label: slackMethod}
}

type counting struct {
	rt    http.RoundTripper
	vec   *prometheus.CounterVec
	label func(*http.Request) string
}

func (c counting) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(req)
	code := "error"
	if err == nil {
		code = strconv.Itoa(resp.StatusCode)
	}
	c.vec.WithLabelValues(c.label(req), code).Inc()
	return resp, err
}

var uuidPattern = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)

// qoveryEndpoint names a request by its route, ids replaced, so that labels stay few.
func qoveryEndpoint(req *http.Request) string {
	return req.Method + " " + uuidPattern.ReplaceAllString(req.URL.Path, "{id}")
}

// slackMethod is the Web API method (the last path element), or "response_url" for the rest.
func slackMethod(req *http.Request) string {
	i := strings.LastIndex(req.URL.Path, "/")
	method := req.URL.Path[i+1:]
	if strings.Contains(method, ".") {
		return method
	}
	return "response_url"
}

// LeaseStats reports the leases of this replica, by kind (watch, operation, schedules): how many it holds,
// and how many it took over from a replica that stopped renewing them.
type LeaseStats func() (held, tookOver map[string]int64)

// WatchLeases exports stats as qovery_bot_leases_held and qovery_bot_lease_takeovers_total,
// read at each scrape.
func (m *Metrics) WatchLeases(stats LeaseStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(leaseCollector{stats})
}

var (
	leasesHeldDesc = prometheus.NewDesc("qovery_bot_leases_held",
		"Leases this replica holds, by kind: watch (it polls Qovery and watches for the fleet), operation (operations it carries forward) and schedules (it runs the schedules for the fleet).",
		[]string{"kind"}, nil)
	leaseTakeoversDesc = prometheus.NewDesc("qovery_bot_lease_takeovers_total",
		"Leases this replica took over from a replica that stopped renewing them (it died or stalled), by kind.",
		[]string{"kind"}, nil)
)

type leaseCollector struct{ stats LeaseStats }

func (c leaseCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- leasesHeldDesc
	ch <- leaseTakeoversDesc
}

func (c leaseCollector) Collect(ch chan<- prometheus.Metric) {
	held, tookOver := c.stats()
	// Every kind is always exported, at zero when nothing is held, so that dashboards see them.
	for _, k := range [...]string{"watch", "operation", "schedules"} {
		ch <- prometheus.MustNewConstMetric(leasesHeldDesc, prometheus.GaugeValue, float64(held[k]), k)
		ch <- prometheus.MustNewConstMetric(leaseTakeoversDesc, prometheus.CounterValue, float64(tookOver[k]), k)
	}
}
