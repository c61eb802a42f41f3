package admin

import (
	"context"
	"strings"
	"testing"

	"herald/channels"
	"herald/queue"
)

// TestRetryToARemovedChannelIsRefused: /retry and /repost of an article with a delivery on a
// channel removed from the config (or renamed) leave that delivery alone and say why; they
// answered "Sending again" while its task waited for ever in a queue no worker serves.
func TestRetryToARemovedChannelIsRefused(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.publish("rm-1", "خبر قديم", "tg-a", "tg-old")
	ctx := context.Background()
	for _, ch := range []string{"tg-a", "tg-old"} { // two failed deliveries
		if _, err := e.broker.Drop(ctx, "rm-1", channels.Name(ch), "test"); err != nil {
			t.Fatal(err)
		}
	}
	unchanged := func(how string) {
		t.Helper()
		if d, _ := e.broker.Delivery(ctx, "rm-1", "tg-old"); d.State != queue.StateFailed || d.Revision != 1 {
			t.Fatalf("%s changed tg-old's delivery: %+v", how, d)
		}
	}
	e.say(adminID, "/retry rm-1 tg-old")
	e.waitReply(adminID, "tg-old: the channel is not in the config any more")
	unchanged("/retry rm-1 tg-old")

	// Every failed one: tg-a goes, tg-old is said to be left.
	e.say(adminID, "/retry rm-1")
	m := e.waitReply(adminID, "Sending again: tg-a")
	if !strings.Contains(m.Plain, "tg-old: the channel is not in the config any more") {
		t.Errorf("/retry rm-1 answered %q, without a word on tg-old", m.Plain)
	}
	unchanged("/retry rm-1")

	e.say(adminID, "/repost rm-1 tg-old confirm")
	e.waitReply(adminID, "rm-1 on tg-old: the channel is not in the config any more")
	unchanged("/repost rm-1 tg-old confirm")
}
