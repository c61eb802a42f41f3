package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
)

// While no digest can go out (the alert chat unreachable), failures keep adding items: the
// digest list keeps the newest maxPendingDigestItems instead of growing without end.
func TestDigestListIsBoundedWhileDigestsCannotBeSent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	const extra = 10
	for start := 0; start < maxPendingDigestItems+extra; start += 1000 {
		var items []digestItem
		for i := start; i < min(start+1000, maxPendingDigestItems+extra); i++ {
			items = append(items, digestItem{Kind: "failed", Article: fmt.Sprintf("a%d", i), Channel: "tg-a", At: int64(i)})
		}
		if err := b.pushItems(ctx, items); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.rdb.LLen(ctx, digestKey).Val(); n != maxPendingDigestItems {
		t.Fatalf("digest list holds %d items, want %d", n, maxPendingDigestItems)
	}
	var first, last digestItem
	_ = json.Unmarshal([]byte(e.rdb.LIndex(ctx, digestKey, 0).Val()), &first)
	_ = json.Unmarshal([]byte(e.rdb.LIndex(ctx, digestKey, -1).Val()), &last)
	if first.Article != fmt.Sprintf("a%d", extra) || last.Article != fmt.Sprintf("a%d", maxPendingDigestItems+extra-1) {
		t.Fatalf("kept %s … %s, want the newest", first.Article, last.Article)
	}
}
