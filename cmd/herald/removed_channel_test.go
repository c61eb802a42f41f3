package main

import (
	"context"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// TestRetryToARemovedChannelIsRefused: herald retry and repost of a delivery whose channel was
// removed from the config are refused (exit 2, saying why and what to do) and change nothing,
// directly and through --server; they answered with the record, now pending, whose task then
// waited for ever in a queue no worker serves. herald drop still gives it up.
func TestRetryToARemovedChannelIsRefused(t *testing.T) {
	s := newStack(t)
	b := queue.NewBroker(s.rdb, queue.Options{})
	ctx := context.Background()
	a := &article.Article{ID: "rm-1", URL: "https://news.example.com/rm-1", Title: "خبر قديم"}
	a.Normalize()
	if _, err := b.Publish(ctx, a, []queue.Target{{Name: "tg-old", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Drop(ctx, "rm-1", "tg-old", "test"); err != nil { // a failed delivery
		t.Fatal(err)
	}
	check := func(how string, args ...string) {
		t.Helper()
		_, errOut, code := runCLI(t, "", args...)
		if code != 2 || !strings.Contains(errOut, "tg-old is not in the config") {
			t.Errorf("%s: exit %d %s; want 2 saying tg-old is not in the config", how, code, errOut)
		}
		if d, _ := b.Delivery(ctx, "rm-1", "tg-old"); d.State != queue.StateFailed || d.Revision != 1 {
			t.Fatalf("%s changed the delivery: %+v", how, d)
		}
	}
	check("retry", "retry", "--config", s.config, "rm-1", "tg-old")
	check("repost", "repost", "--config", s.config, "rm-1", "tg-old")
	if _, _, code := runCLI(t, "", "retry", "--config", s.config, "nope", "tg-old"); code != 3 {
		t.Errorf("retry of an unknown delivery: exit %d, want 3", code)
	}
	s.serve()
	t.Setenv("HERALD_API_TOKEN", testToken)
	check("retry --server", "retry", "--server", "http://"+s.addr, "rm-1", "tg-old")
	check("repost --server", "repost", "--server", "http://"+s.addr, "rm-1", "tg-old")
}
