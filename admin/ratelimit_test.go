package admin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
)

// TestRepliesWaitOutATooManyRequests: Telegram answers a bot writing too fast to a chat with
// 429 and retry_after; the bot waits that long and sends the message again, so a command is
// still answered, and a reply of several messages arrives whole, each part once. Before, the
// reply stopped at the 429: the admin got no answer, or the first parts of a long one (a
// digest then sent again whole, its first parts twice).
func TestRepliesWaitOutATooManyRequests(t *testing.T) {
	e := newEnv(t)
	e.startBot("p1")
	e.botTG.RateLimitNext(1, 1)
	e.say(adminID, "/help")
	e.waitReply(adminID, "/status <id|url>")

	b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "direct"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := b.connect(ctx); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for i := range 120 {
		lines = append(lines, fmt.Sprintf("line %03d %s", i, strings.Repeat("x", 90)))
	}
	var once sync.Once
	e.botTG.OnAccept(func(m telegramfake.Message) {
		if m.Chat.ID == alertChat {
			once.Do(func() { e.botTG.RateLimitNext(1, 1) }) // the second part is refused once
		}
	})
	start := time.Now()
	if _, err := b.send(ctx, dest{chat: alertChat}, reply{text: strings.Join(lines, "\n")}); err != nil {
		t.Fatalf("send: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("sent again after %s, before retry_after", d)
	}
	var all string
	parts := e.replies(alertChat, "")
	for _, m := range parts {
		all += m.Plain + "\n"
	}
	for i := range 120 {
		if n := strings.Count(all, fmt.Sprintf("line %03d ", i)); n != 1 {
			t.Fatalf("line %d arrived %d times in %d messages", i, n, len(parts))
		}
	}
	// A wait longer than a reply may take is not waited: the error says why.
	e.botTG.RateLimitNext(1, 300)
	if _, err := b.send(ctx, dest{chat: alertChat}, reply{text: "x"}); err == nil || !strings.Contains(err.Error(), "Too Many Requests") {
		t.Fatalf("a 429 of 5 minutes: %v", err)
	}
}
