package admin

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"herald/channels/telegram/telegramfake"
	"herald/internal/redistest"
	"herald/queue"
)

// TestRetryUnknownThatStopsHalfWaySaysHowManyWent: a "/retry unknown" whose Redis fails after
// the first of three unknown deliveries was requeued says that one is being sent again and the
// rest are still unknown, and the audit log has the count; the bot answered only "Something
// went wrong", which reads as "nothing was done" while one delivery was already on its way.
func TestRetryUnknownThatStopsHalfWaySaysHowManyWent(t *testing.T) {
	e := newEnv(t)
	release := make(chan struct{})
	e.chTG.OnAccept(func(telegramfake.Message) { <-release })
	t.Cleanup(func() { close(release) })
	e.startWorker()
	ids := []string{"hw-1", "hw-2", "hw-3"}
	for _, id := range ids {
		e.publish(id, "خبر عاجل", "tg-a")
	}
	for _, id := range ids {
		e.waitState(id, "tg-a", queue.StateUnknown, 1)
	}
	e.chTG.OnAccept(nil)

	// The bot's broker loses Redis at the second delivery (publish order: hw-2).
	hooked := redis.NewClient(e.rdb.Options())
	t.Cleanup(func() { _ = hooked.Close() })
	hooked.AddHook(redistest.FailScripts{Key: "hw-2:tg-a"})
	b, err := New(e.cfg, Deps{Broker: queue.NewBroker(hooked, queue.Options{}), Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	e.say(adminID, "/retry unknown tg-a confirm")
	m := e.waitReply(adminID, "tg-a")
	for _, want := range []string{"1 unknown deliveries of tg-a sent again", "connection reset by peer", "run it again"} {
		if !strings.Contains(m.Plain, want) {
			t.Errorf("reply %q lacks %q", m.Plain, want)
		}
	}
	e.waitState("hw-1", "tg-a", queue.StateSent, 1)
	for _, id := range ids[1:] {
		if d, _ := e.broker.Delivery(context.Background(), id, "tg-a"); d.State != queue.StateUnknown {
			t.Errorf("%s is %s; want still unknown", id, d.State)
		}
	}
	var found bool
	for _, a := range e.audit() {
		if a.Action == "/retry" {
			found = true
			if !strings.Contains(a.Result, "retried 1 unknown on tg-a") || !strings.Contains(a.Result, "error") {
				t.Errorf("audit result %q does not say 1 was retried before the error", a.Result)
			}
		}
	}
	if !found {
		t.Error("no audit entry for /retry")
	}
}
