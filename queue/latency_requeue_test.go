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
			if _, err := e.broker.Requeue(ctx, "rq-1", "tg", mode, "admin"); err != nil {
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

// TestRequeueLogsWhoAsked: the delivery log's entry of an admin's retry, repost or bulk retry
// of unknown deliveries names who asked (by), as a mark sent's and a drop's do and as LogEntry.By
// says; it was empty, so herald log and GET /v1/deliveries could not tell who re-sent a post.
func TestRequeueLogsWhoAsked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.publish("by-1")
	e.publish("by-2")
	for _, id := range []string{"by-1", "by-2"} {
		if _, err := e.broker.Drop(ctx, id, "tg", "admin"); err != nil {
			t.Fatal(err)
		}
	}
	latest := func() LogEntry {
		t.Helper()
		log, err := e.broker.Log(ctx, 1)
		if err != nil || len(log) != 1 {
			t.Fatalf("log: %v %v", log, err)
		}
		return log[0]
	}
	if _, err := e.broker.Requeue(ctx, "by-1", "tg", "retry", "@editor"); err != nil {
		t.Fatal(err)
	}
	if l := latest(); l.ArticleID != "by-1" || l.Status != "pending" || l.By != "@editor" {
		t.Fatalf("retry's log entry %+v, want by @editor", l)
	}
	if _, err := e.broker.Requeue(ctx, "by-2", "tg", "repost", "ops via dashboard"); err != nil {
		t.Fatal(err)
	}
	if l := latest(); l.ArticleID != "by-2" || l.By != "ops via dashboard" {
		t.Fatalf("repost's log entry %+v, want by ops via dashboard", l)
	}
	// A bulk retry of the channel's unknown deliveries.
	e.publish("by-3")
	e.broker.rdb.HSet(ctx, ledgerKey("by-3", "tg"), "state", "unknown")
	e.broker.rdb.SAdd(ctx, unknownKey("tg"), deliveryMember("by-3", "tg"))
	if n, err := e.broker.RetryUnknown(ctx, "tg", "api"); err != nil || n != 1 {
		t.Fatalf("RetryUnknown = %d, %v", n, err)
	}
	if l := latest(); l.ArticleID != "by-3" || l.By != "api" {
		t.Fatalf("bulk retry's log entry %+v, want by api", l)
	}
}
