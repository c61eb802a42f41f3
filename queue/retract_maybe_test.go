package queue

// A retract of a delivery whose post may be out although herald has no id for it: an unknown
// outcome, or a retry of a deduplicating channel whose earlier answer was lost (maybe_at). It is
// cancelled (no task of it posts any more), but the answer must not read as "never posted".

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"herald/channels"
	"herald/channels/telegram/telegramfake"
)

// TestRetractOfALostAnswerSaysThePostMayBeOut: Mastodon made the status but its answer was lost,
// so the delivery waits, pending, for its retry (the same Idempotency-Key). A takedown now
// cancels the retry; the status is on Mastodon all the same, so the result and the record say
// to remove it by hand instead of "cancelled before it was posted". An unknown delivery (the
// worker could not tell) says so in the result too, not only on the record.
func TestRetractOfALostAnswerSaysThePostMayBeOut(t *testing.T) {
	ctx := context.Background()
	t.Run("pending retry after a lost answer", func(t *testing.T) {
		e, fake := newMastodonEnv(t)
		fake.DropNextStatus()
		e.publish("m5")
		opts := testOpts(t)
		opts.BackoffBase, opts.BackoffMax = time.Minute, time.Minute // the retry waits: the retract comes first
		stop := e.start(opts, nil)
		waitFor(t, 15*time.Second, func() bool {
			d, err := e.broker.Delivery(ctx, "m5", e.ch.name)
			return err == nil && d.State == StatePending && d.Attempt == 1 && d.Error != ""
		})
		stop()
		if st := fake.Statuses(); len(st) != 1 || st[0].Deleted {
			t.Fatalf("statuses %+v: want the one status the lost answer made", st)
		}
		r, err := e.broker.Retract(ctx, "m5", "", "desk", map[channels.Name]channels.Channel{e.ch.name: e.route.Channel})
		if err != nil || len(r.Results) != 1 {
			t.Fatalf("retract %+v %v", r, err)
		}
		if got := r.Results[0]; got.Result != "cancelled" || !strings.Contains(got.Note, "remove it by hand") {
			t.Fatalf("result %+v: want cancelled with a note that the post may be out", got)
		}
		d, _ := e.broker.Delivery(ctx, "m5", e.ch.name)
		if d.State != StateRetracted || !strings.Contains(d.Error, "remove it by hand") || strings.Contains(d.Error, "before it was posted") {
			t.Fatalf("record %+v: want retracted, saying the post may be out", d)
		}
	})
	t.Run("unknown", func(t *testing.T) {
		e := newEnv(t)
		e.ch.script(fail(channels.UnknownOutcome(errors.New("read timeout after the request was written"))))
		e.publish("u5")
		e.start(testOpts(t), nil)
		e.waitState("u5", StateUnknown, 15*time.Second)
		r, err := e.broker.Retract(ctx, "u5", "", "desk", map[channels.Name]channels.Channel{e.ch.name: e.ch})
		if err != nil || len(r.Results) != 1 {
			t.Fatalf("retract %+v %v", r, err)
		}
		if got := r.Results[0]; got.Result != "cancelled" || !strings.Contains(got.Note, "remove it by hand") {
			t.Fatalf("result %+v: want cancelled with a note that the post may be out", got)
		}
	})
	t.Run("never tried", func(t *testing.T) {
		e := newEnv(t)
		e.publish("p5")
		r, err := e.broker.Retract(ctx, "p5", "", "desk", map[channels.Name]channels.Channel{e.ch.name: e.ch})
		if err != nil || len(r.Results) != 1 {
			t.Fatalf("retract %+v %v", r, err)
		}
		if got := r.Results[0]; got.Result != "cancelled" || got.Note != "" {
			t.Fatalf("result %+v: want cancelled, no note", got)
		}
	})
}

// TestRetractThatLeavesAPostSaysSoOnTheRecord: a takedown cannot delete a post on a platform
// without deletes (WhatsApp, webhook, WebSub: no channels.Deleter), nor one marked sent without
// an id. The answer said so once, but the record stayed a plain sent, so herald status, the API
// and the dashboard showed the post as if nothing had been asked; the record now says who asked
// and that the post stays, to remove by hand. A process without the channel records nothing
// (another may delete it).
func TestRetractThatLeavesAPostSaysSoOnTheRecord(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("r7", retractTargets)
	e.waitAll("r7", StateSent)
	if _, err := e.broker.Retract(ctx, "r7", "plain", "desk", map[channels.Name]channels.Channel{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := e.broker.Delivery(ctx, "r7", "plain"); d.State != StateSent || d.Error != "" {
		t.Fatalf("record %+v after a retract by a process without the channel: want it unchanged", d)
	}
	r, err := e.broker.Retract(ctx, "r7", "", "desk", e.chans)
	if err != nil || results(r)["plain"].Result != "cannot-delete" {
		t.Fatalf("retract %+v %v", r, err)
	}
	d, _ := e.broker.Delivery(ctx, "r7", "plain")
	if d.State != StateSent || !strings.Contains(d.Error, "desk") || !strings.Contains(d.Error, "remove it by hand") {
		t.Fatalf("record %+v: want sent, saying the retract by desk left the post", d)
	}

	// Marked sent by an admin without an id: nothing to delete by.
	e.plain.script(fail(channels.UnknownOutcome(errors.New("read timeout after the request was written"))))
	e.publish("r8", retractTargets[3:])
	waitFor(t, 15*time.Second, func() bool {
		d, err := e.broker.Delivery(ctx, "r8", "plain")
		return err == nil && d.State == StateUnknown
	})
	if _, err := e.broker.MarkSent(ctx, "r8", "plain", "admin", "", ""); err != nil {
		t.Fatal(err)
	}
	r, err = e.broker.Retract(ctx, "r8", "", "desk", e.chans)
	if err != nil || results(r)["plain"].Result != "no-remote-id" {
		t.Fatalf("retract %+v %v", r, err)
	}
	if d, _ := e.broker.Delivery(ctx, "r8", "plain"); d.State != StateSent || !strings.Contains(d.Error, "remove it by hand") {
		t.Fatalf("record %+v: want sent, saying the retract left the post", d)
	}
}

// TestRetractThatLeavesAPostRaisesAnAlert: a takedown that leaves a post up — a delete Telegram
// refuses (48 hours), a platform without deletes — raises an alert for the admin bot's digest, one
// per post left, naming the article and the channel and saying what to do. A trashed WordPress
// post retracts with no one reading the answer, so the newsroom heard nothing of the posts its
// takedown did not reach. Posts taken back raise nothing, and neither does a delivery busy
// right now (the call is to be made again).
func TestRetractThatLeavesAPostRaisesAnAlert(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("r9", retractTargets)
	e.waitAll("r9", StateSent)
	e.tg.Age(telegramfake.DefaultChat.ID, e.tg.Messages()[0].MessageID, telegramfake.DeleteLimit)
	if _, err := e.broker.Retract(ctx, "r9", "", "wordpress:site", e.chans); err != nil {
		t.Fatal(err)
	}
	msgs, err := e.broker.rdb.XRange(ctx, alertsKey, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, m := range msgs {
		if m.Values["kind"] != "retract" {
			t.Errorf("alert %v: want kind retract", m.Values)
			continue
		}
		got[m.Values["subject"].(string)] = m.Values["text"].(string)
	}
	if len(got) != 2 {
		t.Fatalf("alerts %v: want one for tg and one for plain", got)
	}
	if s := got["r9 on tg"]; !strings.Contains(s, "wordpress:site") || !strings.Contains(s, "failed") || !strings.Contains(s, "by hand") {
		t.Errorf("tg alert %q: want who asked, failed, and what to do", s)
	}
	if s := got["r9 on plain"]; !strings.Contains(s, "cannot delete") || !strings.Contains(s, "by hand") {
		t.Errorf("plain alert %q: want cannot delete and what to do", s)
	}
}

// TestRetractOfAnArticleHeraldHasNoRecordOfSaysWhy: herald keeps an article's delivery records
// for the retention (90 days by default); a takedown of an older story found nothing and said
// "not found", which reads as "never posted" while its posts are still up. The error (still
// ErrNotFound: 404, exit 3) says why there may be nothing and what to do; a correction alike.
func TestRetractOfAnArticleHeraldHasNoRecordOfSaysWhy(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	_, err := e.broker.Retract(ctx, "old-story", "", "desk", e.chans)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "90 days") || !strings.Contains(err.Error(), "by hand") {
		t.Fatalf("retract of an article herald has no record of: %v", err)
	}
	_, err = e.broker.Correct(ctx, corrected("old-story", "عنوان"), "", "desk", e.routes)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "90 days") {
		t.Fatalf("correct of an article herald has no record of: %v", err)
	}
}

// TestRetractOfASendWhoseWorkerDied: the worker died between the platform's answer and its
// commit, and no worker runs (herald down: the takedown is made with the CLI on Redis). The
// record stays sending after its lease ran out — nothing turns it unknown until a worker runs —
// and a retract answered busy, "run it again", every time. A lease that ran out is a send whose
// outcome is unknown: the retract cancels it, saying to check the platform by hand.
func TestRetractOfASendWhoseWorkerDied(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	d := crashMidSend(t, e, "d1")
	chans := map[channels.Name]channels.Channel{e.ch.name: e.ch}
	if r, err := e.broker.Retract(ctx, "d1", "", "desk", chans); err != nil || r.Results[0].Result != "busy" {
		t.Fatalf("retract within the lease: %+v %v, want busy", r, err)
	}
	waitFor(t, 10*time.Second, func() bool { return time.Now().After(d.LeaseUntil.Add(100 * time.Millisecond)) })
	r, err := e.broker.Retract(ctx, "d1", "", "desk", chans)
	if err != nil || r.Results[0].Result != "cancelled" || !strings.Contains(r.Results[0].Note, "by hand") {
		t.Fatalf("retract after the lease: %+v %v, want cancelled with a note to check by hand", r, err)
	}
	if d, _ := e.broker.Delivery(ctx, "d1", e.ch.name); d.State != StateRetracted {
		t.Fatalf("record %+v: want retracted", d)
	}
}

// crashMidSend publishes id and lets a worker send it and die between the platform's answer and
// the ledger commit, no worker left running; it returns the record the dead worker left, sending
// under a lease of 5 s (long enough for a call within it to find the send running).
func crashMidSend(t *testing.T, e *env, id string) Delivery {
	t.Helper()
	e.publish(id)
	opts := testOpts(t)
	opts.LeaseDuration = 5 * time.Second
	crashed := make(chan struct{})
	var once sync.Once
	stop := e.start(opts, func(Delivery) {
		once.Do(func() { close(crashed) })
		panic("injected crash between the platform's answer and the ledger commit")
	})
	select {
	case <-crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("the send never happened")
	}
	stop()
	d, _ := e.broker.Delivery(context.Background(), id, e.ch.name)
	if d.State != StateSending {
		t.Fatalf("record %+v: want sending, left by the dead worker", d)
	}
	return d
}
