package queue

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herald/channels"
)

// A repost while a correction is editing the sent post is refused (try again when it has
// answered): taken from under the edit, the record would get the edit's outcome on the new
// revision. (Before, the repost went through.)
func TestRepostWaitsForAnEditInFlight(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.hangingTelegram("editmessagetext", "editmessagecaption")
	e.start()
	e.publish("h4", []Target{{Name: "a-tg", Kind: channels.KindTelegram}})
	e.waitAll("h4", StateSent)
	done := make(chan *Correction, 1)
	go func() {
		c, err := e.broker.Correct(ctx, corrected("h4", "العنوان المصحح h4"), "", "desk", e.routes)
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	waitFor(t, 10*time.Second, func() bool {
		v, err := e.broker.rdb.HGet(ctx, ledgerKey("h4", "a-tg"), "edit_token").Result()
		return err == nil && v != ""
	})
	_, err := e.broker.Requeue(ctx, "h4", "a-tg", "repost", "desk")
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "being corrected") {
		t.Fatalf("repost during the edit: %v, want a conflict saying a correction is under way", err)
	}
	if d, _ := e.broker.Delivery(ctx, "h4", "a-tg"); d.State != StateSent || d.Revision != 1 {
		t.Fatalf("record %+v: want still sent, revision 1", d)
	}
	<-done
	if _, err := e.broker.Requeue(ctx, "h4", "a-tg", "repost", "desk"); err != nil {
		t.Fatalf("repost after the correction answered: %v", err)
	}
}
