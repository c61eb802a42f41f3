package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"herald/channels"
)

// A delivery a pause moved to the head of its lane sits in the channel's urgent queue for its
// place only: the record does not call the article urgent, and an admin's repost puts it back
// in the normal lane, behind the channel's urgent stories. (Before, the move recorded it as
// urgent for good: the dashboard and the API said "urgent", and a repost jumped the queue.)
func TestMovedToFrontIsNotRecordedAsUrgent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.route.InFlight = 1
	e.ch.script(fail(channels.Auth(errors.New("401 Unauthorized"))))
	e.publish("mv0")
	e.start(testOpts(t), nil)
	waitFor(t, 10*time.Second, func() bool {
		d, _ := e.broker.Delivery(ctx, "mv0", "tg")
		return d.Gen > 0
	})
	d, _ := e.broker.Delivery(ctx, "mv0", "tg")
	if lane, _ := e.broker.rdb.HGet(ctx, ledgerKey("mv0", "tg"), "urgent").Result(); lane != "1" {
		t.Fatalf("the moved delivery's task lane is %q, want the urgent queue (1)", lane)
	}
	if d.Urgent {
		t.Fatalf("a normal article moved to the head of its lane is recorded as urgent: %+v", d)
	}
	if err := e.broker.Resume(ctx, "tg"); err != nil {
		t.Fatal(err)
	}
	e.waitState("mv0", StateSent, 20*time.Second)
	got, err := e.broker.Requeue(ctx, "mv0", "tg", "repost", "test")
	if err != nil {
		t.Fatal(err)
	}
	if got.Urgent {
		t.Fatalf("the repost of a normal article is urgent: %+v", got)
	}
	if lane, _ := e.broker.rdb.HGet(ctx, ledgerKey("mv0", "tg"), "urgent").Result(); lane == "1" {
		t.Fatal("the repost went to the urgent queue")
	}
	e.waitState("mv0", StateSent, 20*time.Second)
}
