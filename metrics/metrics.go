// Package metrics exposes herald's Prometheus series: delivery outcomes and timings counted
// in-process from the worker's OnOutcome hook, queue and channel state read from Redis at each
// scrape, and asynq's own queue collector.
package metrics

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"herald/channels"
	"herald/queue"
)

// Metrics is one process's registry. Create it with New and pass Observe as
// queue.WorkerOptions.OnOutcome.
type Metrics struct {
	b              *queue.Broker
	reg            *prometheus.Registry
	deliveries     *prometheus.CounterVec
	sendDuration   *prometheus.HistogramVec
	latency        *prometheus.HistogramVec
	rateLimitWaits *prometheus.CounterVec
	platformErrors *prometheus.CounterVec
}

// New registers every series. Queue depth, pause and rate-limit state are read from b for the
// channels chs when Prometheus scrapes.
func New(b *queue.Broker, chs []queue.ChannelConfig) *Metrics {
	m := &Metrics{
		b:   b,
		reg: prometheus.NewRegistry(),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_deliveries_total",
			Help: "Delivery attempts handled by this process, by channel and outcome (sent, failed, unknown, retry, rate_limited, paused, duplicate, stale, busy, handback).",
		}, []string{"channel", "status"}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "herald_send_duration_seconds",
			Help:    "Time of one platform call (Send), by channel.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "herald_publish_to_post_seconds",
			Help: "Time from publishing an article to its post being accepted by the platform, by channel.",
			// Up to a day: a channel paced by a daily quota (Threads, LinkedIn; X after a 429 of
			// its 24-hour window) posts a burst hours after its publish.
			Buckets: []float64{.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 7200, 14400, 28800, 86400},
		}, []string{"channel"}),
		rateLimitWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_rate_limit_waits_total",
			Help: "Deliveries put back to wait for a rate limit: source=local (the channel's configured rate) or platform (a 429 from the platform).",
		}, []string{"channel", "source"}),
		platformErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "herald_platform_errors_total",
			Help: "Errors answered by platforms, by channel and class (permanent, rate_limited, unknown_outcome, pause, duplicate_content, transient).",
		}, []string{"channel", "class"}),
	}
	m.reg.MustRegister(m.deliveries, m.sendDuration, m.latency, m.rateLimitWaits, m.platformErrors,
		&stateCollector{b: b, chs: chs}, b.AsynqCollector(),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// A series that appears at its first increment hides that increment from rate() and
	// increase(), so the first failure after a restart would never reach an alert: serve every
	// configured channel's series at 0 from the start (a fixed set per channel).
	for _, c := range chs {
		ch := string(c.Name)
		for _, st := range statuses {
			m.deliveries.WithLabelValues(ch, st)
		}
		for _, class := range errorClasses {
			m.platformErrors.WithLabelValues(ch, class)
		}
		m.rateLimitWaits.WithLabelValues(ch, "local")
		m.rateLimitWaits.WithLabelValues(ch, "platform")
		m.sendDuration.WithLabelValues(ch)
		m.latency.WithLabelValues(ch)
	}
	return m
}

// statuses are the outcomes the worker reports (queue.Outcome.Status): the values of
// herald_deliveries_total's status label.
var statuses = []string{"sent", "failed", "unknown", "retry", "rate_limited", "paused", "duplicate", "stale", "busy", "handback"}

// errorClasses are ErrorClass's answers.
var errorClasses = []string{"permanent", "rate_limited", "unknown_outcome", "pause", "duplicate_content", "transient"}

// Registry is the registry behind Handler (tests, extra collectors).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Observe counts one handled delivery task; it is the worker's OnOutcome hook.
func (m *Metrics) Observe(o queue.Outcome) {
	ch := string(o.Channel)
	m.deliveries.WithLabelValues(ch, o.Status).Inc()
	if o.Took > 0 {
		m.sendDuration.WithLabelValues(ch).Observe(o.Took.Seconds())
	}
	if o.Status == "sent" && !o.QueuedAt.IsZero() {
		m.latency.WithLabelValues(ch).Observe(time.Since(o.QueuedAt).Seconds())
	}
	_, platform := channels.AsRateLimited(o.Err)
	if o.Status == "rate_limited" {
		source := "local"
		if platform {
			source = "platform"
		}
		m.rateLimitWaits.WithLabelValues(ch, source).Inc()
	}
	// Only a platform call that failed has a platform error: not our own waits (pause, lease,
	// rate limit before sending), nor a commit to Redis that failed after the platform accepted.
	if o.PlatformErr != nil && o.Took > 0 {
		m.platformErrors.WithLabelValues(ch, ErrorClass(o.PlatformErr)).Inc()
	}
}

// ErrorClass names the kind of a platform error, as channels/errors.go defines them.
func ErrorClass(err error) string {
	var pe *channels.PauseError
	switch {
	case errors.As(err, &pe):
		return "pause"
	case channels.IsDuplicateContent(err):
		return "duplicate_content"
	case channels.IsPermanent(err):
		return "permanent"
	case func() bool { _, ok := channels.AsRateLimited(err); return ok }():
		return "rate_limited"
	case channels.IsUnknownOutcome(err):
		return "unknown_outcome"
	}
	return "transient"
}

// stateCollector reads queue depth, pause and rate-limit state from Redis at scrape time, so
// every process reports the shared truth (take max or any one in PromQL, not the sum).
type stateCollector struct {
	b   *queue.Broker
	chs []queue.ChannelConfig
}

var (
	depthDesc = prometheus.NewDesc("herald_queue_depth",
		"Deliveries waiting in a channel's queue, by lane (urgent, normal) — shared state read from Redis.",
		[]string{"channel", "lane"}, nil)
	tasksDesc = prometheus.NewDesc("herald_queue_tasks",
		"A channel's tasks in other queue states (scheduled, retry, active) — shared state read from Redis.",
		[]string{"channel", "state"}, nil)
	pausedDesc = prometheus.NewDesc("herald_channel_paused",
		"1 when the channel is paused (by an admin or by herald after an auth or budget error).",
		[]string{"channel"}, nil)
	notBeforeDesc = prometheus.NewDesc("herald_channel_rate_limited_until_seconds",
		"Unix time until which the platform asked the channel to wait (0 when it need not).",
		[]string{"channel"}, nil)
	upDesc = prometheus.NewDesc("herald_redis_up", "1 when the last scrape could read Redis.", nil, nil)
)

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{depthDesc, tasksDesc, pausedDesc, notBeforeDesc, upDesc} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	infos, err := queue.ChannelInfos(ctx, c.b, c.chs)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for _, in := range infos {
		name := string(in.Channel)
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(in.Urgent), name, "urgent")
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(in.Pending-in.Urgent), name, "normal")
		ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(in.Scheduled), name, "scheduled")
		ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(in.Retry), name, "retry")
		ch <- prometheus.MustNewConstMetric(tasksDesc, prometheus.GaugeValue, float64(in.Active), name, "active")
		paused := 0.0
		if in.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(pausedDesc, prometheus.GaugeValue, paused, name)
		nb := 0.0
		if !in.NotBefore.IsZero() {
			nb = float64(in.NotBefore.Unix())
		}
		ch <- prometheus.MustNewConstMetric(notBeforeDesc, prometheus.GaugeValue, nb, name)
	}
}
