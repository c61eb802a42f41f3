package queue

import (
	"context"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/internal/redistest"
)

// Hourly puts each final state change in its channel's hour; pending entries and other
// channels' entries are not counted.
func TestHourlyCountsOutcomesPerChannelAndHour(t *testing.T) {
	rdb, _ := redistest.Start(t)
	b := NewBroker(rdb, Options{})
	ctx := context.Background()
	targets := []Target{{Name: "a", Kind: channels.KindTelegram}, {Name: "b", Kind: channels.KindTelegram}}
	for _, u := range []string{"https://e.com/1", "https://e.com/2"} {
		a := &article.Article{URL: u, Title: "t"}
		a.Normalize()
		p, err := b.Publish(ctx, a, targets)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Drop(ctx, p.ArticleID, "a", "test"); err != nil {
			t.Fatal(err)
		}
		if u == "https://e.com/2" {
			if _, err := b.MarkSent(ctx, p.ArticleID, "a", "test", "1", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	start, h, err := b.Hourly(ctx, []channels.Name{"a", "b"}, 24)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Now().Truncate(time.Hour).Add(-23 * time.Hour); !start.Equal(want) {
		t.Fatalf("start %v, want %v", start, want)
	}
	// A change logged in the previous hour would land in bucket 22; the test runs within one.
	last := h["a"][23]
	if len(h["a"]) != 24 || last.Failed+h["a"][22].Failed != 2 || last.Sent+h["a"][22].Sent != 1 {
		t.Fatalf("channel a: %+v", h["a"])
	}
	if len(h["b"]) != 24 {
		t.Fatalf("channel b: %d buckets", len(h["b"]))
	}
	for _, c := range h["b"] {
		if c != (Counts{}) {
			t.Fatalf("channel b has outcomes: %+v", h["b"])
		}
	}
}
