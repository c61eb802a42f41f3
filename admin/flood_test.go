package admin

import (
	"context"
	"testing"
	"time"

	"herald/queue"
)

// TestDigestWaitsOutTelegramsFloodControl: a digest refused with a 429 longer than a reply may
// wait is tried again once retry_after has passed, not sooner. Before, the alerter came back
// after min(1 minute, alerts.interval), into Telegram's flood control again.
func TestDigestWaitsOutTelegramsFloodControl(t *testing.T) {
	e := newEnv(t)
	e.cfg.Alerts.Interval = time.Second // the retry would come after a second
	e.alertGroupReady()
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	a := e.publish("flood-1", "خبر", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateFailed, 1)
	e.botTG.RateLimitNext(1, 25)
	e.startBot("p1")
	var refusedAt time.Time
	waitFor(t, "the digest refused with a 429", 15*time.Second, func() bool {
		for _, r := range e.botTG.Requests() {
			if r.Method == "sendMessage" && r.Status == 429 {
				refusedAt = r.Time
				return true
			}
		}
		return false
	})
	waitFor(t, "several retry intervals past", 15*time.Second, func() bool { return time.Since(refusedAt) > 4*time.Second })
	for _, r := range e.botTG.Requests() {
		if r.Method == "sendMessage" && r.Time.After(refusedAt) {
			t.Fatalf("the digest was sent again %s after a 429 asking for 25s", r.Time.Sub(refusedAt))
		}
	}
}

// TestASlowDigestIsSentOnce: a digest whose sending outlasts the digest lease (Telegram slow to
// answer) keeps its lease: the other process does not send the same digest meanwhile. Before,
// the lease lapsed under the send; the second process sent the digest again, and both trimmed
// the list, the second dropping items no digest had shown.
func TestASlowDigestIsSentOnce(t *testing.T) {
	old := digestLease
	digestLease = time.Second
	t.Cleanup(func() { digestLease = old })
	e := newEnv(t)
	e.alertGroupReady()
	e.chTG.FailNext(1, 400, "Bad Request: message is too long")
	e.startWorker()
	a := e.publish("slow-1", "خبر", "tg-a")
	e.waitState(a.ID, "tg-a", queue.StateFailed, 1)
	e.botTG.Hold() // the digest is accepted, its answer late
	e.startBot("p1")
	e.startBot("p2")
	e.waitReply(alertChat, "herald alerts")
	first := time.Now()
	waitFor(t, "three leases past", 15*time.Second, func() bool { return time.Since(first) > 3*digestLease })
	if n := len(e.replies(alertChat, "herald alerts")); n != 1 {
		t.Fatalf("%d digests sent while the first one's answer was late, want 1", n)
	}
	e.botTG.Release()
	waitFor(t, "the digest list drained", 10*time.Second, func() bool { return e.rdb.LLen(context.Background(), digestKey).Val() == 0 })
}
