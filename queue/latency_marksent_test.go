package queue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/internal/redistest"
)

// herald stats' publish→post latency is how long herald took to post, as
// herald_publish_to_post_seconds measures it from the worker. An admin's "mark sent" (the post
// exists, seen by hand) posts nothing: its time is the admin's, hours after the publish, and it
// made the last hour's p50/p95 read hours for a channel whose posts went out in seconds.
func TestMarkSentIsNoLatencySample(t *testing.T) {
	rdb, _ := redistest.Start(t)
	ctx := context.Background()
	var shift atomic.Int64 // the broker's clock, behind the real one by this many ns
	b := NewBroker(rdb, Options{Now: func() time.Time { return time.Now().Add(-time.Duration(shift.Load())) }})
	shift.Store(int64(3 * time.Hour)) // published three hours ago
	a := &article.Article{ID: "ms-1", URL: "https://news.example.com/ms-1", Title: "خبر"}
	a.Normalize()
	if _, err := b.Publish(ctx, a, []Target{{Name: "tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	shift.Store(0)
	if _, err := b.Drop(ctx, "ms-1", "tg", "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.MarkSent(ctx, "ms-1", "tg", "@ops", "4711", "https://t.me/news/4711"); err != nil {
		t.Fatal(err)
	}
	ov, err := b.Overview(ctx, []ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}})
	if err != nil {
		t.Fatal(err)
	}
	c := ov.Channels[0]
	if c.LastHour.Sent != 1 {
		t.Errorf("the marked-sent delivery is not counted as sent: %+v", c.LastHour)
	}
	if c.Latency.Samples != 0 || ov.Latency.Samples != 0 {
		t.Errorf("herald stats' latency counts an admin's mark sent as a post: %+v (all channels %+v)", c.Latency, ov.Latency)
	}
}
