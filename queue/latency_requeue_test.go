package queue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestRequeueStartsTheLatencyAfresh: the publish→post latency of a delivery an admin retries or
// reposts counts from the retry or repost, not from the publish: a story reposted two days later
// (or an unknown retried after an hour's outage) went out in seconds, and counting from the
// publish put a sample of days into herald stats' p50/p95 and herald_publish_to_post_seconds.
func TestRequeueStartsTheLatencyAfresh(t *testing.T) {
	for _, mode := range []string{"retry", "repost"} {
		t.Run(mode, func(t *testing.T) {
			e := newEnv(t)
			var shift atomic.Int64 // the broker's clock, behind the real one by this many ns
			e.broker.opts.Now = func() time.Time { return time.Now().Add(-time.Duration(shift.Load())) }
			shift.Store(int64(48 * time.Hour)) // published two days ago
			e.publish("rq-1")
			shift.Store(0)
			ctx := context.Background()
			if _, err := e.broker.Drop(ctx, "rq-1", "tg", "admin"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.broker.Requeue(ctx, "rq-1", "tg", mode); err != nil {
				t.Fatal(err)
			}
			outs := &outcomes{}
			opts := testOpts(t)
			opts.OnOutcome = outs.add
			e.start(opts, nil)
			e.waitState("rq-1", StateSent, 10*time.Second)
			ov, err := e.broker.Overview(ctx, []ChannelConfig{{Name: "tg"}})
			if err != nil {
				t.Fatal(err)
			}
			if l := ov.Channels[0].Latency; l.Samples != 1 || l.P95 > time.Minute {
				t.Errorf("latency after a %s: %+v, want one sample of seconds (counted from the %s, not the publish)", mode, l, mode)
			}
			outs.mu.Lock()
			defer outs.mu.Unlock()
			for _, o := range outs.all {
				if o.Status == "sent" && time.Since(o.QueuedAt) > time.Minute {
					t.Errorf("the worker's outcome (metrics' latency) counts from %s, the publish", o.QueuedAt)
				}
			}
		})
	}
}
