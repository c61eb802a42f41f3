package admin

import (
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
