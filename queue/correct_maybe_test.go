package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/channels/linkedin"
	"herald/channels/linkedin/linkedinfake"
)

// TestCorrectOfARetryAfterALostAnswerSaysTheOldTextMayBeOut: Mastodon made the status but its
// answer was lost, so the delivery waits, pending, for its retry under the same Idempotency-Key.
// A correction now cannot promise the corrected text: the retry gets back the status the first
// attempt made, with the text from before the correction, and records it sent. The result says
// so (correct again once it is sent), instead of a bare will-post-corrected.
func TestCorrectOfARetryAfterALostAnswerSaysTheOldTextMayBeOut(t *testing.T) {
	ctx := context.Background()
	e, fake := newMastodonEnv(t)
	fake.DropNextStatus()
	e.publish("m6")
	opts := testOpts(t)
	opts.BackoffBase, opts.BackoffMax = time.Minute, time.Minute // the retry waits: the correction comes first
	stop := e.start(opts, nil)
	waitFor(t, 15*time.Second, func() bool {
		d, err := e.broker.Delivery(ctx, "m6", e.ch.name)
		return err == nil && d.State == StatePending && d.Attempt == 1 && d.Error != ""
	})
	stop()
	routes := map[channels.Name]Route{e.ch.name: e.route}
	c, err := e.broker.Correct(ctx, corrected("m6", "العنوان المصحح m6"), "", "desk", routes)
	if err != nil || len(c.Results) != 1 {
		t.Fatalf("correct %+v %v", c, err)
	}
	if r := c.Results[0]; r.Result != "will-post-corrected" || !strings.Contains(r.Note, "correct again") {
		t.Fatalf("result %+v: want will-post-corrected with a note that the old text may be out", r)
	}

	// Why: the retry, with the corrected text and the same key, gets the old status back.
	a, err := e.broker.Article(ctx, "m6")
	if err != nil {
		t.Fatal(err)
	}
	posts, err := e.route.Renderer.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := e.route.Channel.Send(ctx, channels.Message{ArticleID: "m6", Key: TaskID("m6", e.ch.name, 1), Attempt: 2, Posts: posts})
	st := fake.Statuses()
	if err != nil || len(st) != 1 || rcpt.RemoteID != st[0].ID || strings.Contains(st[0].Text, "المصحح") {
		t.Fatalf("retry %+v %v, statuses %+v: want the first status, with the old text", rcpt, err, st)
	}
	// A pending delivery never tried has nothing out: no note.
	e.publishTo("m7", e.ch.name)
	c, err = e.broker.Correct(ctx, corrected("m7", "العنوان المصحح m7"), "", "desk", routes)
	if err != nil || len(c.Results) != 1 || c.Results[0].Result != "will-post-corrected" || c.Results[0].Note != "" {
		t.Fatalf("correct of a fresh pending delivery %+v %v: want will-post-corrected, no note", c, err)
	}
}

// TestCorrectThatSucceedsClearsTheEarlierEditError: a correction Telegram refused left "edit
// failed: …" on the record; the next correction edited the post, but the error stayed, so
// herald status, the API and the dashboard showed the post edited and its edit failed at once.
// A successful edit clears an edit's error (and only that: a retract's stays, the post stands).
func TestCorrectThatSucceedsClearsTheEarlierEditError(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("e9", correctTargets[:1])
	e.waitAll("e9", StateSent)
	e.tg.FailEditNext(1, 400, "Bad Request: message can't be edited", 0)
	if c, err := e.broker.Correct(ctx, corrected("e9", "تصحيح أول"), "", "desk", e.routes); err != nil || correctResults(c)["tg"].Result != "failed" {
		t.Fatalf("correct %+v %v: want failed", c, err)
	}
	if d, _ := e.broker.Delivery(ctx, "e9", "tg"); !strings.Contains(d.Error, "edit failed") {
		t.Fatalf("record %+v: want the edit's error", d)
	}
	if c, err := e.broker.Correct(ctx, corrected("e9", "تصحيح أول"), "", "desk", e.routes); err != nil || correctResults(c)["tg"].Result != "edited" {
		t.Fatalf("correct again %+v %v: want edited", c, err)
	}
	if d, _ := e.broker.Delivery(ctx, "e9", "tg"); d.Error != "" || d.EditedBy != "desk" {
		t.Fatalf("record %+v: want edited by desk, no error left", d)
	}
	// A retract's error is not the edit's to clear: the post it could not delete still stands.
	e.tg.FailDeleteNext(1, 400, "Bad Request: message can't be deleted", 0)
	if r, err := e.broker.Retract(ctx, "e9", "", "desk", e.chans); err != nil || results(r)["tg"].Result != "failed" {
		t.Fatalf("retract %+v %v: want failed", r, err)
	}
	if c, err := e.broker.Correct(ctx, corrected("e9", "تصحيح ثان"), "", "desk", e.routes); err != nil || correctResults(c)["tg"].Result != "edited" {
		t.Fatalf("correct after the failed retract %+v %v: want edited", c, err)
	}
	if d, _ := e.broker.Delivery(ctx, "e9", "tg"); !strings.HasPrefix(d.Error, "retract failed") {
		t.Fatalf("record %+v: want the retract's error kept", d)
	}
}

// TestLinkedInCorrectionSaysTheCardKeepsTheOldTitle: LinkedIn edits only a published post's
// commentary; its article card keeps the title and description herald posted it with. A
// correction of a wrong name in the title answered a bare "edited" while the card still showed
// the wrong name in large type; the result's note now says the card keeps the old text and how
// to replace it. A first correction that leaves the card's text as it was has no note; one after
// a correction has it still (the card kept the text from before both).
func TestLinkedInCorrectionSaysTheCardKeepsTheOldTitle(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	fake := linkedinfake.New()
	t.Cleanup(fake.Close)
	e.routes["li"] = buildChannel(t, "li", channels.KindLinkedIn, fmt.Sprintf("organization_id: %q\naccess_token: %q\napi_base: %q\ntimeout: 1s\n",
		linkedinfake.DefaultOrganization, linkedinfake.DefaultToken, fake.APIBase()), linkedin.New)
	e.chans["li"] = e.routes["li"].Channel
	e.start()
	e.publish("lcard", []Target{{Name: "li", Kind: channels.KindLinkedIn}})
	e.waitAll("lcard", StateSent)

	bodyOnly := corrected("lcard", "عنوان الخبر lcard")
	bodyOnly.Body = "<p>نص مصحح</p>"
	c, err := e.broker.Correct(ctx, bodyOnly, "", "desk", e.routes)
	if err != nil || correctResults(c)["li"].Result != "edited" || correctResults(c)["li"].Note != "" {
		t.Fatalf("a first correction leaving the card's text: %+v %v, want edited, no note", c, err)
	}
	fixed := corrected("lcard", "العنوان المصحح lcard")
	c, err = e.broker.Correct(ctx, fixed, "", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	r := correctResults(c)["li"]
	p := fake.Posts()
	if r.Result != "edited" || len(p) != 1 || !strings.Contains(p[0].Shown, "العنوان المصحح") || strings.Contains(p[0].Title, "المصحح") {
		t.Fatalf("result %+v, posts %+v: want the commentary edited, the card as posted", r, p)
	}
	if !strings.Contains(r.Note, "card") || !strings.Contains(r.Note, "retract") {
		t.Fatalf("result %+v: want a note that the card keeps the old title", r)
	}
	again := corrected("lcard", "العنوان المصحح lcard")
	again.Body = "<p>نص مصحح مرة أخرى</p>"
	c, err = e.broker.Correct(ctx, again, "", "desk", e.routes)
	if err != nil || !strings.Contains(correctResults(c)["li"].Note, "card") {
		t.Fatalf("a correction after the title's: %+v %v, want the note still (the card has the first title)", c, err)
	}
}

// TestCorrectOfThePhotoSaysThePhotoStays: a wrong picture is a common correction, but an edit
// changes a Telegram photo post's caption only (Facebook's and Mastodon's edits likewise keep the
// photo): the result said a bare "edited" while the wrong picture stayed. Its note now says the
// post keeps the photo it was posted with and to retract and repost to replace it; a correction
// that keeps the photo has no note.
func TestCorrectOfThePhotoSaysThePhotoStays(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	a := &article.Article{ID: "ph1", URL: "https://example.com/news/ph1", Title: "عنوان الخبر ph1", ImageURL: "https://example.com/media/wrong.jpg"}
	a.Normalize()
	if _, err := e.broker.Publish(ctx, a, []Target{{Name: "tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
	e.waitAll("ph1", StateSent)
	if m := e.tg.Messages(); len(m) != 1 || m[0].PhotoURL != a.ImageURL {
		t.Fatalf("sent %+v: want a photo post", m)
	}
	title := corrected("ph1", "العنوان المصحح ph1")
	title.ImageURL = a.ImageURL
	c, err := e.broker.Correct(ctx, title, "", "desk", e.routes)
	if r := correctResults(c)["tg"]; err != nil || r.Result != "edited" || r.Note != "" {
		t.Fatalf("correct of the title: %+v %v, want edited, no note", r, err)
	}
	photo := corrected("ph1", "العنوان المصحح ph1")
	photo.ImageURL = "https://example.com/media/right.jpg"
	c, err = e.broker.Correct(ctx, photo, "", "desk", e.routes)
	r := correctResults(c)["tg"]
	if err != nil || r.Result != "edited" || !strings.Contains(r.Note, "photo") || !strings.Contains(r.Note, "retract and repost") {
		t.Fatalf("correct of the photo: %+v %v, want edited with a note that the photo stays", r, err)
	}
	if m := e.tg.Messages(); len(m) != 1 || m[0].PhotoURL != a.ImageURL {
		t.Fatalf("Telegram holds %+v: the photo it was posted with stays", m)
	}
}

// TestCorrectOfAFailedDeliverySaysItPostsOnlyIfRetried: a delivery whose send failed for good
// posts nothing more unless an admin retries it, yet a correction answered will-post-corrected
// as for one still queued. The note says it posts the corrected text only when retried.
func TestCorrectOfAFailedDeliverySaysItPostsOnlyIfRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.ch.script(fail(channels.Permanent(errors.New("400 Bad Request: chat not found"))))
	e.publish("f1")
	e.start(testOpts(t), nil)
	e.waitState("f1", StateFailed, 15*time.Second)
	routes := map[channels.Name]Route{e.ch.name: e.route}
	c, err := e.broker.Correct(ctx, corrected("f1", "العنوان المصحح f1"), "", "desk", routes)
	if err != nil || len(c.Results) != 1 {
		t.Fatalf("correct %+v %v", c, err)
	}
	if r := c.Results[0]; r.Result != "will-post-corrected" || !strings.Contains(r.Note, "retried") {
		t.Fatalf("result %+v: want will-post-corrected, noting it posts only when retried", r)
	}
	if _, err := e.broker.Requeue(ctx, "f1", e.ch.name, "retry", "desk"); err != nil {
		t.Fatal(err)
	}
	e.waitState("f1", StateSent, 15*time.Second)
	if s := e.ch.sent(); len(s) != 2 || !strings.Contains(s[1].text, "المصحح") {
		t.Fatalf("sends %+v: want the retry to post the corrected text", s)
	}
}

// TestCorrectOfASendWhoseWorkerDied: the worker died mid-send and none runs (herald down, the
// correction made with the CLI on Redis): the record stays sending past its lease, and a
// correction answered busy, "run it again", at every call. A lease run out is an unknown outcome:
// the correction is stored and the result says so, as for an unknown delivery.
func TestCorrectOfASendWhoseWorkerDied(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	d := crashMidSend(t, e, "d2")
	routes := map[channels.Name]Route{e.ch.name: e.route}
	if c, err := e.broker.Correct(ctx, corrected("d2", "العنوان المصحح d2"), "", "desk", routes); err != nil || c.Results[0].Result != "busy" {
		t.Fatalf("correct within the lease: %+v %v, want busy", c, err)
	}
	waitFor(t, 10*time.Second, func() bool { return time.Now().After(d.LeaseUntil.Add(100 * time.Millisecond)) })
	c, err := e.broker.Correct(ctx, corrected("d2", "العنوان المصحح d2"), "", "desk", routes)
	if err != nil || c.Results[0].Result != "will-post-corrected" || !strings.Contains(c.Results[0].Note, "check by hand") {
		t.Fatalf("correct after the lease: %+v %v, want will-post-corrected with a note to check by hand", c, err)
	}
}
