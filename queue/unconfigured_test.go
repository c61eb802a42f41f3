package queue

import (
	"context"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
)

// TestUnconfiguredNamesAChannelWhoseBacklogNoWorkerServes: deliveries queued for a channel that
// is no longer configured are found with their counts, urgent included; a configured channel, and
// one whose queues have emptied, are not named.
func TestUnconfiguredNamesAChannelWhoseBacklogNoWorkerServes(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.publishTo("a1", "tg")
	e.publishTo("a2", "old-tg")
	e.publishTo("a3", "old-tg")
	urgent := &article.Article{ID: "a4", URL: "https://example.com/news/a4", Title: "عاجل", Priority: 10}
	urgent.Normalize()
	if _, err := e.broker.Publish(ctx, urgent, []Target{{Name: "old-tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.broker.Unconfigured(ctx, []ChannelConfig{{Name: "tg"}, {Name: "tg2"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Channel != "old-tg" || got[0].Pending != 3 || got[0].Urgent != 1 || got[0].Waiting() != 3 {
		t.Fatalf("unconfigured %+v, want old-tg with 3 pending (1 urgent)", got)
	}
	if got, err := e.broker.Unconfigured(ctx, []ChannelConfig{{Name: "tg"}, {Name: "old-tg"}}); err != nil || len(got) != 0 {
		t.Fatalf("with old-tg configured again: %+v %v, want none", got, err)
	}
	// Once its backlog is gone (here the channel is served again and drains), it is not named.
	e.ch = &scripted{name: "old-tg"}
	e.route.Channel = e.ch
	e.start(testOpts(t), nil)
	waitFor(t, 10*time.Second, func() bool {
		got, err := e.broker.Unconfigured(ctx, []ChannelConfig{{Name: "tg"}})
		return err == nil && len(got) == 0
	})
}

func TestChannelOfQueue(t *testing.T) {
	for q, want := range map[string]string{"ch:tg": "tg", "ch:tg:urgent": "tg", "ch:tg:bell": "tg", "ch:أخبار": "أخبار", "default": "", "ch:": ""} {
		got, ok := channelOfQueue(q)
		if string(got) != want || ok != (want != "") {
			t.Errorf("channelOfQueue(%q) = %q %v, want %q", q, got, ok, want)
		}
	}
}

// Dropping a removed channel's deliveries empties its backlog: the drop deletes each one's
// queued task, urgent lane included. (Before, the tasks stayed, so the dashboard, the API and
// herald doctor went on counting the dropped deliveries until the channel was configured again.)
func TestDropEmptiesARemovedChannelsBacklog(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.publishTo("d1", "old-tg")
	urgent := &article.Article{ID: "d2", URL: "https://example.com/news/d2", Title: "عاجل", Priority: 10}
	urgent.Normalize()
	if _, err := e.broker.Publish(ctx, urgent, []Target{{Name: "old-tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"d1", "d2"} {
		if d, err := e.broker.Drop(ctx, id, "old-tg", "@desk"); err != nil || d.State != StateFailed {
			t.Fatalf("drop %s: %+v %v", id, d, err)
		}
	}
	if got, err := e.broker.Unconfigured(ctx, []ChannelConfig{{Name: "tg"}}); err != nil || len(got) != 0 {
		t.Fatalf("after dropping every delivery of old-tg: %+v %v, want no backlog", got, err)
	}
}
