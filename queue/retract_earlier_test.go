package queue

import (
	"context"
	"testing"
	"time"

	"herald/channels"
)

// A story reposted without a retract has two posts up; a takedown removes both. (Before, the
// repost forgot the first post's id, so the retract deleted only the new post and the original
// stayed up, with herald no longer knowing it.) A retract after the earlier post is gone does
// not ask again.
func TestRetractAlsoDeletesThePostARepostLeftUp(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("rp2", []Target{{Name: "tg", Kind: channels.KindTelegram}})
	e.waitAll("rp2", StateSent)
	first, _ := e.broker.Delivery(ctx, "rp2", "tg")
	if _, err := e.broker.Requeue(ctx, "rp2", "tg", "repost", "admin"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		d, _ := e.broker.Delivery(ctx, "rp2", "tg")
		return d.State == StateSent && d.RemoteID != "" && d.RemoteID != first.RemoteID
	})
	second, _ := e.broker.Delivery(ctx, "rp2", "tg")
	if len(second.EarlierIDs) != 1 || second.EarlierIDs[0] != first.RemoteID {
		t.Fatalf("reposted record keeps earlier ids %q, want [%s]", second.EarlierIDs, first.RemoteID)
	}
	r, err := e.broker.Retract(ctx, "rp2", "tg", "desk", e.chans)
	if err != nil || results(r)["tg"].Result != "retracted" {
		t.Fatalf("retract: %+v %v", r, err)
	}
	if _, _, tgn := e.deleteRequests(); tgn != 2 {
		t.Fatalf("%d deleteMessage requests, want 2: the repost and the post it left up", tgn)
	}
	if d, _ := e.broker.Delivery(ctx, "rp2", "tg"); d.State != StateRetracted || len(d.EarlierIDs) != 0 {
		t.Fatalf("record after the retract %+v: want retracted, no earlier post left", d)
	}
	if r, err := e.broker.Retract(ctx, "rp2", "tg", "desk", e.chans); err != nil || results(r)["tg"].Result != "already" {
		t.Fatalf("second retract: %+v %v", r, err)
	}
	if _, _, tgn := e.deleteRequests(); tgn != 2 {
		t.Fatalf("%d deleteMessage requests after a second retract, want still 2", tgn)
	}
}
