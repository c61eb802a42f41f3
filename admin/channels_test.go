package admin

import (
	"context"
	"strings"
	"testing"
	"time"
)

// TestChannelsSaysTheWaitIsInUTC: after a platform's 429, /channels shows until when the
// channel waits; the time is UTC, as every time the bot shows, and says so. Before, "waiting
// until 14:03:05" read as local time in Cairo or Riyadh, hours off.
func TestChannelsSaysTheWaitIsInUTC(t *testing.T) {
	e := newEnv(t)
	e.chTG.RateLimitNext(1, 600)
	e.startWorker()
	e.startBot("p1")
	e.publish("nb-1", "خبر", "tg-a")
	var nb time.Time
	waitFor(t, "the channel's not-before time", 15*time.Second, func() bool {
		nb, _ = e.broker.NotBefore(context.Background(), "tg-a")
		return !nb.IsZero()
	})
	e.say(adminID, "/channels")
	m := e.waitReply(adminID, "waiting until")
	if want := "waiting until " + nb.UTC().Format("15:04:05") + " UTC"; !strings.Contains(m.Plain, want) {
		t.Fatalf("reply %q lacks %q", m.Plain, want)
	}
}
