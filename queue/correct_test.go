package queue

// Correct against the Telegram fake on a real Redis: a sent post edited in place and logged
// `edited` with who asked, a pending delivery posting the corrected text when it goes, a channel
// that cannot edit reported, edit errors classified like sends, and an invalid correction
// changing nothing.

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
)

var correctTargets = []Target{{Name: "tg", Kind: channels.KindTelegram}, {Name: "plain", Kind: channels.KindTelegram}}

func corrected(id, title string) *article.Article {
	return &article.Article{ID: id, URL: "https://example.com/news/" + id, Title: title}
}

func correctResults(c *Correction) map[channels.Name]CorrectResult {
	out := map[channels.Name]CorrectResult{}
	for _, x := range c.Results {
		out[x.Channel] = x
	}
	return out
}

func (e *retractEnv) editRequests() int {
	n := 0
	for _, r := range e.tg.Requests() {
		if strings.HasPrefix(r.Method, "edit") {
			n++
		}
	}
	return n
}

// TestCorrectEditsSentTelegramPost: the sent Telegram message now reads the corrected title
// (same message, no new one), the record stays sent with who edited, the log has one edited
// entry with by; the channel without an Editor is cannot-edit; the stored article is the
// corrected one; correcting again with the same text is done without a change.
func TestCorrectEditsSentTelegramPost(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("c1", correctTargets)
	e.waitAll("c1", StateSent)
	before := e.tg.Messages()
	if len(before) != 1 || !strings.Contains(before[0].Plain, "عنوان الخبر c1") {
		t.Fatalf("sent %+v", before)
	}

	c, err := e.broker.Correct(ctx, corrected("c1", "العنوان المصحح c1"), "", "editor@desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	res := correctResults(c)
	if res["tg"].Result != "edited" || res["tg"].RemoteID != "1" || res["tg"].Attempts != 1 {
		t.Errorf("tg: %+v, want edited", res["tg"])
	}
	if res["plain"].Result != "cannot-edit" || c.Failed() {
		t.Errorf("plain: %+v, want cannot-edit", res["plain"])
	}
	msgs := e.tg.Messages()
	if len(msgs) != 1 || msgs[0].MessageID != before[0].MessageID || msgs[0].Edits != 1 ||
		!strings.Contains(msgs[0].Plain, "العنوان المصحح c1") || strings.Contains(msgs[0].Plain, "عنوان الخبر") {
		t.Fatalf("Telegram holds %+v, want the one message with the corrected title", msgs)
	}
	d, err := e.broker.Delivery(ctx, "c1", "tg")
	if err != nil || d.State != StateSent || d.EditedBy != "editor@desk" || d.EditedAt.IsZero() || d.RemoteID != "1" {
		t.Fatalf("record %+v %v: want sent, edited by editor@desk", d, err)
	}
	if d, _ := e.broker.Delivery(ctx, "c1", "plain"); d.State != StateSent || d.EditedBy != "" {
		t.Fatalf("plain record %+v", d)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Status: LogEdited})
	if err != nil || len(page.Entries) != 1 {
		t.Fatalf("edited entries %+v %v, want one", page, err)
	}
	if en := page.Entries[0]; en.ArticleID != "c1" || en.Channel != "tg" || en.By != "editor@desk" || en.RemoteID != "1" {
		t.Fatalf("edited entry %+v", en)
	}
	if a, err := e.broker.Article(ctx, "c1"); err != nil || a.Title != "العنوان المصحح c1" {
		t.Fatalf("stored article %+v %v", a, err)
	}
	if names, err := e.broker.articleChannels(ctx, "c1"); err != nil || strings.Join(names, ",") != "plain,tg" {
		t.Fatalf("stored channels %v %v", names, err)
	}

	// Again, same text: Telegram says not modified, which is done; nothing changes.
	c, err = e.broker.Correct(ctx, corrected("c1", "العنوان المصحح c1"), "tg", "editor@desk", e.routes)
	if err != nil || correctResults(c)["tg"].Result != "edited" || len(c.Results) != 1 {
		t.Fatalf("second correct: %+v %v", c, err)
	}
	if m := e.tg.Messages(); m[0].Edits != 1 {
		t.Fatalf("second correct changed the message: %+v", m[0])
	}
	// Retracted: nothing to edit.
	if _, err := e.broker.Retract(ctx, "c1", "tg", "admin", e.chans); err != nil {
		t.Fatal(err)
	}
	c, err = e.broker.Correct(ctx, corrected("c1", "ثالث"), "tg", "admin", e.routes)
	if err != nil || correctResults(c)["tg"].Result != "retracted" {
		t.Fatalf("correct after retract: %+v %v", c, err)
	}
	if _, err := e.broker.Correct(ctx, corrected("c1", "x"), "nope", "admin", e.routes); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown channel: %v", err)
	}
	if _, err := e.broker.Correct(ctx, corrected("never", "x"), "", "admin", e.routes); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown article: %v", err)
	}
}

// TestCorrectPendingPostsCorrectedText: a delivery not yet sent is not edited; when the worker
// sends it, it posts the corrected title.
func TestCorrectPendingPostsCorrectedText(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.publish("p1", correctTargets[:1]) // no worker yet: pending
	c, err := e.broker.Correct(ctx, corrected("p1", "العنوان المصحح p1"), "", "editor", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	if r := correctResults(c)["tg"]; r.Result != "will-post-corrected" {
		t.Fatalf("pending: %+v, want will-post-corrected", r)
	}
	e.start()
	e.waitAll("p1", StateSent)
	msgs := e.tg.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Plain, "العنوان المصحح p1") || strings.Contains(msgs[0].Plain, "عنوان الخبر") || msgs[0].Edits != 0 {
		t.Fatalf("Telegram holds %+v, want the corrected title posted once", msgs)
	}
	if e.editRequests() != 0 {
		t.Fatal("a pending delivery was edited")
	}
}

// TestCorrectInvalidArticleChangesNothing: an invalid correction is a validation error before
// anything is stored or edited.
func TestCorrectInvalidArticleChangesNothing(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("v1", correctTargets[:1])
	e.waitAll("v1", StateSent)
	bad := corrected("v1", "")
	bad.Priority = 11
	_, err := e.broker.Correct(ctx, bad, "", "editor", e.routes)
	var ve *article.ValidationError
	if !errors.As(err, &ve) || len(ve.Errors) != 2 {
		t.Fatalf("invalid correction: %v, want a validation error naming title and priority", err)
	}
	if a, err := e.broker.Article(ctx, "v1"); err != nil || a.Title != "عنوان الخبر v1" {
		t.Fatalf("stored article after a refused correction: %+v %v", a, err)
	}
	if e.editRequests() != 0 || e.tg.Messages()[0].Edits != 0 {
		t.Fatal("a refused correction edited the post")
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Status: LogEdited})
	if err != nil || len(page.Entries) != 0 {
		t.Fatalf("edited entries %+v %v", page, err)
	}
}

// TestCorrectEditErrorsClassifiedLikeSends: a rate limit is waited for (edited on the second
// attempt); a permanent error is failed after one attempt, the record keeps the error and stays
// sent, nothing is logged edited, and the next correction edits.
func TestCorrectEditErrorsClassifiedLikeSends(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("e1", correctTargets[:1])
	e.waitAll("e1", StateSent)

	e.tg.FailEditNext(1, 429, "", 1)
	start := time.Now()
	c, err := e.broker.Correct(ctx, corrected("e1", "تصحيح أول"), "", "admin", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	if r := correctResults(c)["tg"]; r.Result != "edited" || r.Attempts != 2 {
		t.Fatalf("after a 429: %+v, want edited on the second attempt", r)
	}
	if time.Since(start) < time.Second {
		t.Error("Telegram's retry_after 1 was not waited for")
	}

	e.tg.FailEditNext(1, 400, "Bad Request: message can't be edited", 0)
	c, err = e.broker.Correct(ctx, corrected("e1", "تصحيح ثان"), "", "admin", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	r := correctResults(c)["tg"]
	if r.Result != "failed" || r.Attempts != 1 || !c.Failed() || !strings.Contains(r.Error, "can't be edited") {
		t.Fatalf("permanent edit error: %+v, want failed after one attempt", r)
	}
	if d, _ := e.broker.Delivery(ctx, "e1", "tg"); d.State != StateSent || !strings.Contains(d.Error, "edit failed") {
		t.Fatalf("record after a failed edit: %+v", d)
	}
	if m := e.tg.Messages(); !strings.Contains(m[0].Plain, "تصحيح أول") {
		t.Fatalf("message after the failed edit: %+v", m[0])
	}
	page, _ := e.broker.QueryLog(ctx, LogQuery{Status: LogEdited})
	if len(page.Entries) != 1 {
		t.Fatalf("%d edited entries, want 1 (the failed edit logs none)", len(page.Entries))
	}
	c, err = e.broker.Correct(ctx, corrected("e1", "تصحيح ثان"), "", "admin", e.routes)
	if err != nil || correctResults(c)["tg"].Result != "edited" || !strings.Contains(e.tg.Messages()[0].Plain, "تصحيح ثان") {
		t.Fatalf("correct after the failure: %+v %v", c, err)
	}
}

// TestCorrectEditsThroughAnyEditor: Correct works with any channels.Editor: the Facebook post is
// edited too (after a 5xx, retried: edited on the second attempt), each channel through its own
// renderer; X, which cannot edit, keeps its post (cannot-edit).
func TestCorrectEditsThroughAnyEditor(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("f1", retractTargets[:3])
	e.waitAll("f1", StateSent)
	e.fb.FailEditNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.", nil)
	c, err := e.broker.Correct(ctx, corrected("f1", "العنوان المصحح f1"), "", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	res := correctResults(c)
	if res["fb"].Result != "edited" || res["fb"].Attempts != 2 {
		t.Errorf("fb: %+v, want edited on the second attempt", res["fb"])
	}
	if res["tg"].Result != "edited" || res["x"].Result != "cannot-edit" || c.Failed() {
		t.Errorf("results %+v", c.Results)
	}
	if ed := e.fb.Edits(); len(ed) != 1 || ed[0].PostID != res["fb"].RemoteID || !strings.Contains(ed[0].Message, "العنوان المصحح f1") {
		t.Fatalf("Facebook edits %+v", ed)
	}
	if m := e.tg.Messages(); len(m) != 1 || !strings.Contains(m[0].Plain, "العنوان المصحح f1") {
		t.Fatalf("Telegram %+v", m)
	}
	if n := len(e.x.Posts()); n != 1 {
		t.Fatalf("X has %d posts: a correction must not post again", n)
	}
	page, err := e.broker.QueryLog(ctx, LogQuery{Status: LogEdited})
	if err != nil || len(page.Entries) != 2 {
		t.Fatalf("edited entries %+v %v, want fb and tg", page, err)
	}
	// A repost is a new post, with the corrected text and no edit of its own.
	if d, _ := e.broker.Delivery(ctx, "f1", "tg"); d.EditedBy != "desk" {
		t.Fatalf("tg record before the repost %+v", d)
	}
	if _, err := e.broker.Requeue(ctx, "f1", "tg", "repost", "admin"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		d, err := e.broker.Delivery(ctx, "f1", "tg")
		return err == nil && d.State == StateSent && d.Revision == 2
	})
	if d, _ := e.broker.Delivery(ctx, "f1", "tg"); d.EditedBy != "" || !d.EditedAt.IsZero() {
		t.Fatalf("reposted record %+v: still says edited", d)
	}
	if m := e.tg.Messages(); len(m) != 2 || !strings.Contains(m[1].Plain, "العنوان المصحح f1") || m[1].Edits != 0 {
		t.Fatalf("Telegram after the repost %+v", m)
	}
}

// TestCorrectFacebookLostEditAnswerRetried: Graph made the edit but the answer was lost on the
// way back; Correct tries again (the same text twice is harmless) and reports edited on the
// second attempt, the record stays sent with its remote id and no error.
func TestCorrectFacebookLostEditAnswerRetried(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("f2", retractTargets[:3])
	e.waitAll("f2", StateSent)
	before, err := e.broker.Delivery(ctx, "f2", "fb")
	if err != nil {
		t.Fatal(err)
	}
	e.fb.DropNextEdit()
	c, err := e.broker.Correct(ctx, corrected("f2", "العنوان المصحح f2"), "fb", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	if r := correctResults(c)["fb"]; r.Result != "edited" || r.Attempts != 2 || c.Failed() {
		t.Fatalf("fb: %+v, want edited on the second attempt", r)
	}
	ed := e.fb.Edits()
	if len(ed) != 2 || ed[0].PostID != before.RemoteID || ed[1].PostID != before.RemoteID || !strings.Contains(ed[1].Message, "العنوان المصحح f2") {
		t.Fatalf("Facebook edits %+v: want the lost edit and its retry on %s", ed, before.RemoteID)
	}
	d, err := e.broker.Delivery(ctx, "f2", "fb")
	if err != nil || d.State != StateSent || d.RemoteID != before.RemoteID || d.EditedBy != "desk" || d.Error != "" {
		t.Fatalf("record %+v %v", d, err)
	}
	var posts int
	for _, p := range e.fb.Posts() {
		if strings.Contains(p.Message, "f2") {
			posts++
		}
	}
	if posts != 1 {
		t.Fatalf("%d Facebook posts for f2: a correction must not post again", posts)
	}
}

// TestCorrectRecordsCannotEditOnTheDelivery: a sent post on a channel that cannot edit keeps
// who corrected and when (not_edited_by/at), for the dashboard and the admin bot; the edited one
// does not; a process without the channel records nothing (another may edit it); a repost,
// which posts the corrected text, clears it.
func TestCorrectRecordsCannotEditOnTheDelivery(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	e.start()
	e.publish("n1", correctTargets)
	e.waitAll("n1", StateSent)

	// Without the channel in this process: not-configured, nothing recorded.
	c, err := e.broker.Correct(ctx, corrected("n1", "تصحيح أول"), "plain", "elsewhere", map[channels.Name]Route{})
	if err != nil || correctResults(c)["plain"].Result != "not-configured" {
		t.Fatalf("correct without the channel: %+v %v", c, err)
	}
	if d, _ := e.broker.Delivery(ctx, "n1", "plain"); d.NotEditedBy != "" || !d.NotEditedAt.IsZero() {
		t.Fatalf("a process without the channel recorded %+v", d)
	}

	if _, err := e.broker.Correct(ctx, corrected("n1", "العنوان المصحح n1"), "", "desk@news", e.routes); err != nil {
		t.Fatal(err)
	}
	d, err := e.broker.Delivery(ctx, "n1", "plain")
	if err != nil || d.State != StateSent || d.NotEditedBy != "desk@news" || d.NotEditedAt.IsZero() || d.EditedBy != "" {
		t.Fatalf("cannot-edit record %+v %v: want sent, not edited by desk@news", d, err)
	}
	if d, _ := e.broker.Delivery(ctx, "n1", "tg"); d.EditedBy != "desk@news" || d.NotEditedBy != "" {
		t.Fatalf("edited record %+v", d)
	}
	if _, err := e.broker.Requeue(ctx, "n1", "plain", "repost", "admin"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, func() bool {
		d, err := e.broker.Delivery(ctx, "n1", "plain")
		return err == nil && d.State == StateSent && d.Revision == 2
	})
	if d, _ := e.broker.Delivery(ctx, "n1", "plain"); d.NotEditedBy != "" || !d.NotEditedAt.IsZero() {
		t.Fatalf("after the repost %+v: want no not_edited fields", d)
	}
}
