package queue

import (
	"github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
)

// AsynqCollector is asynq's own Prometheus collector (asynq_tasks_enqueued_total,
// asynq_queue_size, asynq_queue_latency_seconds, …) for every queue on this Redis. It lives here
// because nothing outside queue/ may import asynq.
func (b *Broker) AsynqCollector() prometheus.Collector {
	return metrics.NewQueueMetricsCollector(b.insp)
}
