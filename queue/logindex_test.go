package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/channels"
)

// The log is queryable by channel, status, article and time through its indexes, page by page,
// and the counters and latencies behind herald stats follow the same changes.
func TestLogIndexesPaginationAndOverview(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.script(fail(channels.Permanent(errors.New("Bad Request: chat not found"))))
	e.start(testOpts(t), nil)
	e.publish("a1")
	e.waitState("a1", StateFailed, 10*time.Second)
	for _, id := range []string{"a2", "a3", "a4", "a5"} {
		e.publish(id)
	}
	for _, id := range []string{"b1", "b2"} {
		e.publishTo(id, "tg2")
	}
	for _, id := range []string{"a2", "a3", "a4", "a5"} {
		e.waitState(id, StateSent, 10*time.Second)
	}
	waitFor(t, 10*time.Second, func() bool {
		d, _ := e.broker.Delivery(ctx, "b2", "tg2")
		return d.State == StateSent
	})

	// Channel and status together, two per page, newest first.
	var all []LogEntry
	cursor := ""
	for pages := 0; ; pages++ {
		page, err := e.broker.QueryLog(ctx, LogQuery{Channel: "tg", Status: "sent", Limit: 2, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Entries...)
		if page.NextCursor == "" {
			if pages != 1 {
				t.Fatalf("%d pages of 2 for 4 entries", pages+1)
			}
			break
		}
		cursor = page.NextCursor
	}
	if len(all) != 4 {
		t.Fatalf("%d sent entries for tg, want 4: %+v", len(all), all)
	}
	for i, le := range all {
		if le.Channel != "tg" || le.Status != "sent" || le.Kind != "telegram" || le.PostURL == "" || le.RemoteID == "" || le.Title == "" {
			t.Fatalf("entry %+v", le)
		}
		if i > 0 && !idLess(le.ID, all[i-1].ID) {
			t.Fatalf("not newest first: %s after %s", le.ID, all[i-1].ID)
		}
	}
	// The index holds exactly the channel's entries: a query reads only those.
	// a1: pending, failed; a2..a5: pending, sent (claims are not logged) → 10.
	var n int64
	keys, _ := e.broker.streams(ctx, LogQuery{Channel: "tg"})
	for _, k := range keys {
		n += e.broker.rdb.XLen(ctx, k).Val()
	}
	if n != 10 {
		t.Fatalf("channel indexes have %d entries, want 10", n)
	}
	art, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "a1"})
	if err != nil || len(art.Entries) != 2 || art.Entries[0].Status != "failed" || art.Entries[1].Status != "pending" || art.Entries[0].Error == "" {
		t.Fatalf("article a1: %+v %v", art.Entries, err)
	}
	// An article's pages, one entry each, by cursor; its index is the entry ids in its ledger
	// records, not a stream holding copies (a stream per article cost ~4.7 KB of Redis per
	// delivery) nor a key of its own.
	p1, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "a1", Limit: 1})
	if err != nil || len(p1.Entries) != 1 || p1.Entries[0].Status != "failed" || p1.NextCursor != p1.Entries[0].ID {
		t.Fatalf("article a1 page 1: %+v %v", p1, err)
	}
	p2, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: "a1", Limit: 1, Cursor: p1.NextCursor})
	if err != nil || len(p2.Entries) != 1 || p2.Entries[0].Status != "pending" || p2.NextCursor != "" {
		t.Fatalf("article a1 page 2: %+v %v", p2, err)
	}
	if n := e.broker.rdb.Exists(ctx, logKey+":ix:art:a1").Val(); n != 0 {
		t.Fatal("an article has its own index key; its entry ids belong in its ledger records")
	}
	failed, _ := e.broker.QueryLog(ctx, LogQuery{Status: "failed"})
	if len(failed.Entries) != 1 || failed.Entries[0].ArticleID != "a1" {
		t.Fatalf("failed: %+v", failed.Entries)
	}
	other, _ := e.broker.QueryLog(ctx, LogQuery{Channel: "tg2"})
	if len(other.Entries) != 4 {
		t.Fatalf("tg2: %+v", other.Entries)
	}
	future, _ := e.broker.QueryLog(ctx, LogQuery{Since: time.Now().Add(time.Minute)})
	past, _ := e.broker.QueryLog(ctx, LogQuery{Until: time.Now().Add(-time.Hour)})
	if len(future.Entries) != 0 || len(past.Entries) != 0 {
		t.Fatalf("time range: %d after now, %d an hour ago", len(future.Entries), len(past.Entries))
	}
	if _, err := e.broker.QueryLog(ctx, LogQuery{Cursor: "+"}); !errors.Is(err, ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}

	ov, err := e.broker.Overview(ctx, []ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}, {Name: "tg2", Kind: channels.KindTelegram}})
	if err != nil {
		t.Fatal(err)
	}
	tg := ov.Channels[0]
	if tg.LastHour != (Counts{Sent: 4, Failed: 1}) || tg.LastDay != tg.LastHour || tg.Latency.Samples != 4 || tg.Latency.P95 < tg.Latency.P50 {
		t.Fatalf("tg overview: %+v", tg)
	}
	if ov.Channels[1].LastHour.Sent != 2 || ov.Latency.Samples != 6 {
		t.Fatalf("overview: %+v", ov)
	}

	// Same retention: what the main log dropped, the indexes no longer show.
	newest := all[0].ID
	if err := e.broker.rdb.XTrimMinID(ctx, logKey, newest).Err(); err != nil {
		t.Fatal(err)
	}
	kept, _ := e.broker.QueryLog(ctx, LogQuery{Channel: "tg", Status: "sent"})
	if len(kept.Entries) != 1 || kept.Entries[0].ID != newest {
		t.Fatalf("after trimming the log: %+v", kept.Entries)
	}
}

// FollowLog hands over each new matching entry as it is appended (blocking reads).
func TestFollowLogSeesNewEntries(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var got []LogEntry
	done := make(chan error, 1)
	go func() {
		done <- e.broker.FollowLog(ctx, LogQuery{Channel: "tg2"}, "$", func(le LogEntry) error {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, le)
			return nil
		})
	}()
	// Let the blocking read start: an entry before it would not be "new".
	waitFor(t, 5*time.Second, func() bool {
		n, _ := e.broker.rdb.ClientList(ctx).Result()
		return len(n) > 0 && containsXRead(n)
	})
	e.start(testOpts(t), nil)
	e.publish("x1")
	e.publishTo("y1", "tg2")
	waitFor(t, 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	})
	mu.Lock()
	if got[0].ArticleID != "y1" || got[0].Status != "pending" || got[1].Status != "sent" || got[1].Title == "" {
		t.Fatalf("followed: %+v", got)
	}
	mu.Unlock()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func containsXRead(clients string) bool {
	return strings.Contains(clients, "cmd=xread")
}

// After a crash mid-send the channel shows one delivery sending with its lease end; once the
// lease ran out, one unknown; after an admin retry, none.
func TestSendingAndUnknownCounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	chs := []ChannelConfig{{Name: "tg", Kind: channels.KindTelegram}}
	e.publish("c1")
	opts := testOpts(t)
	opts.LeaseDuration = 2500 * time.Millisecond
	crashed := make(chan struct{})
	var once sync.Once
	stop := e.start(opts, func(Delivery) {
		once.Do(func() { close(crashed) })
		panic("injected crash between platform answer and ledger commit")
	})
	<-crashed
	stop()
	infos, err := ChannelInfos(ctx, e.broker, chs)
	if err != nil || infos[0].Sending != 1 || infos[0].SendingLeaseUntil.IsZero() || infos[0].Unknown != 0 {
		t.Fatalf("after the crash: %+v %v", infos, err)
	}
	e.start(testOpts(t), nil)
	e.waitState("c1", StateUnknown, 15*time.Second)
	infos, _ = ChannelInfos(ctx, e.broker, chs)
	if infos[0].Sending != 0 || infos[0].Unknown != 1 {
		t.Fatalf("after the lease: %+v", infos)
	}
	if _, err := e.broker.Requeue(ctx, "c1", "tg", "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	e.waitState("c1", StateSent, 10*time.Second)
	infos, _ = ChannelInfos(ctx, e.broker, chs)
	if infos[0].Unknown != 0 {
		t.Fatalf("after the retry: %+v", infos)
	}
}
