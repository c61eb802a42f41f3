package metrics

import (
	"testing"
	"time"

	"herald/channels"
	"herald/internal/redistest"
	"herald/queue"
)

// Channels paced by a daily quota (Threads 250/24h, LinkedIn 150/24h by default; X after a 429
// of its 24-hour window) post a burst of news hours after its publish. With 3600 s as the last
// finite bucket, histogram_quantile could only answer "1 h" for them however long they waited
// (the Grafana panel's p95 sat flat at 1 h while posts went out 4 hours late): the buckets
// must tell 1 h from several hours, and reach a day.
func TestPublishToPostBucketsReachADay(t *testing.T) {
	rdb, _ := redistest.Start(t)
	m := New(queue.NewBroker(rdb, queue.Options{}), []queue.ChannelConfig{{Name: "threads", Kind: channels.KindThreads}})
	now := time.Now()
	for _, late := range []time.Duration{61 * time.Minute, 4 * time.Hour, 20 * time.Hour} {
		m.Observe(queue.Outcome{Channel: "threads", Status: "sent", Took: time.Second, QueuedAt: now.Add(-late)})
	}
	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var below = map[float64]uint64{} // upper bound → cumulative count
	for _, f := range fams {
		if f.GetName() != "herald_publish_to_post_seconds" {
			continue
		}
		for _, s := range f.GetMetric() {
			for _, b := range s.GetHistogram().GetBucket() {
				below[b.GetUpperBound()] = b.GetCumulativeCount()
			}
		}
	}
	distinct := map[uint64]bool{}
	largest := 0.0
	for ub, n := range below {
		distinct[n] = true
		largest = max(largest, ub)
	}
	// 0 below the first, 1 (61 min), 2 (4 h), 3 (20 h): each delay in a bucket of its own.
	for _, n := range []uint64{0, 1, 2, 3} {
		if !distinct[n] {
			t.Errorf("no finite bucket holds exactly %d of the posts 61 min, 4 h and 20 h late: buckets %v", n, below)
		}
	}
	if largest < 24*3600 {
		t.Errorf("the largest finite bucket is %v s; a daily-paced channel's posts wait up to a day", largest)
	}
}
