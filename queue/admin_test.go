package queue

import (
	"context"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"herald/channels"
)

func TestMarkSentAndDropFollowTheLedgerRules(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))), fail(channels.Permanent(errors.New("400 chat not found"))))
	e.start(testOpts(t), nil)
	e.publish("m1")
	e.waitState("m1", StateUnknown, 10*time.Second)
	e.publish("m2")
	e.waitState("m2", StateFailed, 10*time.Second)
	e.publish("m3")
	e.waitState("m3", StateSent, 10*time.Second)
	e.waitIdle()

	if n := e.broker.rdb.SCard(ctx, unknownKey("tg")).Val(); n != 1 {
		t.Fatalf("unknown index has %d members, want 1", n)
	}
	d, err := e.broker.MarkSent(ctx, "m1", "tg", "@editor", "", "")
	if err != nil || d.State != StateSent || d.RemoteID != "" || d.Revision != 1 {
		t.Fatalf("mark sent: %+v %v", d, err)
	}
	if n := e.broker.rdb.SCard(ctx, unknownKey("tg")).Val(); n != 0 {
		t.Fatalf("a delivery marked sent is still indexed as unknown")
	}
	d, err = e.broker.Drop(ctx, "m2", "tg", "@editor")
	if err != nil || d.State != StateFailed || d.Error != "dropped by @editor" {
		t.Fatalf("drop: %+v %v", d, err)
	}
	if _, err := e.broker.MarkSent(ctx, "m3", "tg", "@editor", "", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("marking a sent delivery sent: %v", err)
	}
	if _, err := e.broker.Drop(ctx, "m3", "tg", "@editor"); !errors.Is(err, ErrConflict) {
		t.Fatalf("dropping a sent delivery: %v", err)
	}
	if _, err := e.broker.Drop(ctx, "nope", "tg", "@editor"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("dropping a missing delivery: %v", err)
	}
	if n := len(e.ch.sent()); n != 3 {
		t.Fatalf("%d sends, want 3: an admin's decision posts nothing", n)
	}
	// Every change is in the delivery log, with who made it.
	var events []LogEvent
	_ = e.broker.scanLog(ctx, func(ev LogEvent) bool { events = append(events, ev); return true })
	if events[0].By != "@editor" || events[0].Status != "failed" || events[1].By != "@editor" || events[1].Status != "sent" {
		t.Fatalf("newest log entries %+v", events[:2])
	}
	// The failed list has the drop (a failure) but not the one marked sent.
	fs, err := e.broker.Failed(ctx, "", 10)
	if err != nil || len(fs) != 1 || fs[0].ArticleID != "m2" {
		t.Fatalf("failed: %+v %v", fs, err)
	}
	if fs, _ := e.broker.Failed(ctx, "other", 10); len(fs) != 0 {
		t.Fatalf("failed on another channel: %+v", fs)
	}
	rs, err := e.broker.Recent(ctx, 2)
	if err != nil || len(rs) != 2 || rs[0].ID != "m2" || rs[1].ID != "m1" {
		t.Fatalf("recent: %+v %v", rs, err)
	}
	c, err := e.broker.Outcomes(ctx, time.Now().Add(-time.Hour))
	if got := c["tg"]; err != nil || got.Sent != 2 || got.Failed != 2 || got.Unknown != 1 {
		t.Fatalf("outcomes %+v %v", c, err)
	}
}

func TestAuditAndConsumerGroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, a := range []string{"/pause", "/resume"} {
		if err := e.broker.AppendAudit(ctx, AuditEntry{Source: "telegram", UserID: 1, Username: "ed", Action: a, Result: "ok", Allowed: true}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := e.broker.Audit(ctx, 10)
	if err != nil || len(es) != 2 || es[0].Action != "/resume" || es[1].Username != "ed" || !es[1].Allowed || es[0].Time.IsZero() {
		t.Fatalf("audit %+v %v", es, err)
	}
	// Two consumers of one group: each entry reaches one of them.
	c1, err := e.broker.NewConsumer(ctx, "g", "one")
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := e.broker.NewConsumer(ctx, "g", "two")
	e.publish("c1")
	if err := e.broker.RaiseAlert(ctx, Alert{Kind: "feed", Subject: "https://news.example.com/rss", Text: "404"}); err != nil {
		t.Fatal(err)
	}
	b1, err := c1.Read(ctx, 10, 100*time.Millisecond)
	if err != nil || len(b1.Log) != 1 || b1.Log[0].ArticleID != "c1" || len(b1.Alerts) != 1 || b1.Alerts[0].Text != "404" {
		t.Fatalf("first read %+v %v", b1, err)
	}
	b2, err := c2.Read(ctx, 10, 100*time.Millisecond)
	if err != nil || len(b2.Log)+len(b2.Alerts) != 0 {
		t.Fatalf("the second consumer got %+v %v", b2, err)
	}
	// Unacknowledged entries go to another consumer once idle.
	c2.ClaimIdle = time.Millisecond
	time.Sleep(5 * time.Millisecond) // the idle time being tested
	b2, err = c2.Read(ctx, 10, 100*time.Millisecond)
	if err != nil || len(b2.Log) != 1 || len(b2.Alerts) != 1 {
		t.Fatalf("claimed %+v %v", b2, err)
	}
	if err := c2.Ack(ctx, b2); err != nil {
		t.Fatal(err)
	}
	b1, _ = c1.Read(ctx, 10, 50*time.Millisecond)
	if len(b1.Log)+len(b1.Alerts) != 0 {
		t.Fatalf("acknowledged entries read again: %+v", b1)
	}
}

// A consumer group does not collect a consumer per process that ever ran: a new consumer
// deletes those idle for consumerForgetIdle with nothing pending, and keeps one whose entries
// still wait to be taken over and a live one.
func TestNewConsumerForgetsConsumersOfProcessesGone(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	defer func(d time.Duration) { consumerForgetIdle = d }(consumerForgetIdle)
	consumerForgetIdle = 200 * time.Millisecond
	names := func(stream string) []string {
		cs, err := e.broker.rdb.XInfoConsumers(ctx, stream, "g").Result()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		sort.Strings(out)
		return out
	}
	var gone []*Consumer
	for _, n := range []string{"gone-1", "gone-2", "holder"} {
		c, err := e.broker.NewConsumer(ctx, "g", n)
		if err != nil {
			t.Fatal(err)
		}
		gone = append(gone, c)
	}
	// Two processes read an entry each and acknowledged it; "holder" read one and stopped
	// before acknowledging it.
	for i, c := range gone {
		e.publish("c" + itoa(i))
		b, err := c.Read(ctx, 10, 100*time.Millisecond)
		if err != nil || len(b.Log) != 1 {
			t.Fatalf("%s read %+v %v", c.Name, b, err)
		}
		if c.Name != "holder" {
			if err := c.Ack(ctx, b); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := names(logKey); !slices.Equal(got, []string{"gone-1", "gone-2", "holder"}) {
		t.Fatalf("consumers before: %v", got)
	}
	time.Sleep(consumerForgetIdle + 50*time.Millisecond) // the idle time being tested
	if _, err := e.broker.NewConsumer(ctx, "g", "new"); err != nil {
		t.Fatal(err)
	}
	// On the log "holder" keeps its pending entry; on the alert stream it has none.
	if got := names(logKey); !slices.Equal(got, []string{"holder"}) {
		t.Fatalf("consumers of the log after a new one joined: %v; want the one with an entry pending", got)
	}
	if got := names(alertsKey); len(got) != 0 {
		t.Fatalf("consumers of the alert stream after a new one joined: %v; want none", got)
	}
}

// A lost reply to an admin's mark sent or drop: go-redis runs the script again, and the re-run
// must answer as the first run did — mark sent not "conflict" (it finds the delivery sent by
// itself), drop not a second "dropped" log entry. (Fails with the decided_token check removed.)
func TestAdminActionWithLostReplyAnswersAsTheFirstRun(t *testing.T) {
	e, px := newEnvVia(t)
	ctx := context.Background()
	e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout"))), fail(channels.Permanent(errors.New("400 chat not found"))))
	e.start(testOpts(t), nil)
	e.publish("ls1")
	e.waitState("ls1", StateUnknown, 10*time.Second)
	e.publish("ls2")
	e.waitState("ls2", StateFailed, 10*time.Second)
	e.waitIdle()
	// Loaded first: a NOSCRIPT answer is what the drop would lose otherwise (no re-run).
	if err := adminSetScript.Load(ctx, e.broker.rdb).Err(); err != nil {
		t.Fatal(err)
	}

	px.DropNext(adminSetScript.Hash())
	d, err := e.broker.MarkSent(ctx, "ls1", "tg", "@editor", "77", "")
	if err != nil || d.State != StateSent || d.RemoteID != "77" {
		t.Fatalf("mark sent with its reply lost: %+v %v", d, err)
	}
	px.DropNext(adminSetScript.Hash())
	if d, err = e.broker.Drop(ctx, "ls2", "tg", "@editor"); err != nil || d.State != StateFailed {
		t.Fatalf("drop with its reply lost: %+v %v", d, err)
	}
	if px.Dropped() != 2 {
		t.Fatalf("%d replies dropped, want 2", px.Dropped())
	}
	for id, want := range map[string]string{"ls1": "sent", "ls2": "failed"} {
		page, err := e.broker.QueryLog(ctx, LogQuery{ArticleID: id})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, le := range page.Entries {
			if le.By == "@editor" {
				n++
				if le.Status != want {
					t.Fatalf("%s: the admin's entry is %s, want %s", id, le.Status, want)
				}
			}
		}
		if n != 1 {
			t.Fatalf("%s: %d log entries by the admin, want 1: %+v", id, n, page.Entries)
		}
	}
	// Another action is another token: marking the dropped delivery sent still works, and
	// marking the sent one sent again is still a conflict.
	if _, err := e.broker.MarkSent(ctx, "ls2", "tg", "@editor", "", ""); err != nil {
		t.Fatalf("mark sent after a drop: %v", err)
	}
	if _, err := e.broker.MarkSent(ctx, "ls1", "tg", "@editor", "", ""); !errors.Is(err, ErrConflict) {
		t.Fatalf("marking a sent delivery sent again: %v", err)
	}
}
