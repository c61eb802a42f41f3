package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// TestUnconfiguredChannelBacklogIsShown: deliveries queued for a channel that was then removed
// from (or renamed in) the config have no worker; herald channels (table and --json, the shape
// of GET /v1/channels) and herald doctor name the channel, count what waits and say what to do.
func TestUnconfiguredChannelBacklogIsShown(t *testing.T) {
	s := newStack(t)
	b := queue.NewBroker(s.rdb, queue.Options{})
	for _, id := range []string{"u-1", "u-2"} {
		a := &article.Article{ID: id, URL: "https://news.example.com/" + id, Title: "خبر " + id}
		a.Normalize()
		if _, err := b.Publish(context.Background(), a, []queue.Target{{Name: "tg-old", Kind: channels.KindTelegram}}); err != nil {
			t.Fatal(err)
		}
	}
	out, errOut, code := runCLI(t, "", "channels", "--config", s.config)
	if code != 0 || !strings.Contains(out, "tg-old: not in the config, yet 2 deliveries wait in its queue (2 pending") ||
		!strings.Contains(out, "herald pause tg-old") {
		t.Fatalf("channels: exit %d\n%s%s", code, out, errOut)
	}
	out, _, code = runCLI(t, "", "channels", "--json", "--config", s.config)
	var res struct {
		Unconfigured []queue.ChannelStats `json:"unconfigured"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Unconfigured) != 1 || res.Unconfigured[0].Channel != "tg-old" || res.Unconfigured[0].Pending != 2 {
		t.Fatalf("channels --json: exit %d\n%s", code, out)
	}
	out, errOut, _ = runCLI(t, "", "doctor", "--config", s.config)
	if !strings.Contains(out, "WARN  channel tg-old") || !strings.Contains(out, "2 deliveries wait in its queue") {
		t.Fatalf("doctor:\n%s%s", out, errOut)
	}
}
