package telegram

import (
	"context"
	"strings"
	"testing"

	"herald/channels"
)

// Edit changes a text message's text and a photo's caption in place (the message ids and the
// photo stay), with Send's parse mode; editing again with the same text is done, not an error
// (Telegram's "message is not modified"); a photo post that went out as text is edited as text;
// a correction with another number of messages is permanent before any request; 429 is
// rate-limited; a deleted message is permanent; the token shows nowhere.
func TestEdit(t *testing.T) {
	ctx := testCtx(t)
	h := newHarness(t)
	const photo = "https://cdn.example.com/a.jpg"
	rcpt, err := h.ch.Send(ctx, msgOf(htmlPost("<b>عنوان</b> خاطئ"), htmlPost("caption <i>old</i>", photo)))
	if err != nil {
		t.Fatal(err)
	}
	corrected := msgOf(htmlPost("<b>عنوان</b> مصحح"), htmlPost("caption <i>new</i>", photo))
	if err := h.ch.Edit(ctx, rcpt.RemoteID, corrected); err != nil {
		t.Fatalf("edit %s: %v", rcpt.RemoteID, err)
	}
	msgs := h.fake.Messages()
	if len(msgs) != 2 || msgs[0].Plain != "عنوان مصحح" || msgs[0].Text != "<b>عنوان</b> مصحح" || msgs[0].Edits != 1 ||
		msgs[1].Plain != "caption new" || msgs[1].PhotoURL != photo || msgs[1].Edits != 1 || len(msgs[1].Entities) != 1 {
		t.Fatalf("after the edit the chat holds %+v", msgs)
	}
	var methods []string
	for _, r := range h.fake.Requests() {
		methods = append(methods, r.Method)
	}
	if got := strings.Join(methods, ","); got != "sendMessage,sendPhoto,editMessageText,editMessageCaption" {
		t.Fatalf("requests %s", got)
	}
	// Again: Telegram says "message is not modified"; that is success, and nothing changes.
	if err := h.ch.Edit(ctx, rcpt.RemoteID, corrected); err != nil {
		t.Fatalf("editing again: %v", err)
	}
	if m := h.fake.Messages(); m[0].Edits != 1 || m[1].Edits != 1 {
		t.Fatalf("editing again changed the messages: %+v", m)
	}
	// The correction needs another number of messages: refused before any request.
	n := len(h.fake.Requests())
	if err := h.ch.Edit(ctx, rcpt.RemoteID, msgOf(htmlPost("one"))); !channels.IsPermanent(err) || len(h.fake.Requests()) != n {
		t.Fatalf("1 post for 2 messages: %v, %d requests", err, len(h.fake.Requests())-n)
	}
	h.fake.FailEditNext(1, 429, "", 3)
	err = h.ch.Edit(ctx, rcpt.RemoteID, msgOf(htmlPost("third"), htmlPost("c", photo)))
	if _, ok := channels.AsRateLimited(err); !ok {
		t.Fatalf("429 on edit: %v, want rate-limited", err)
	}
	h.fake.FailEditNext(1, 401, "Unauthorized", 0)
	err = h.ch.Edit(ctx, rcpt.RemoteID, msgOf(htmlPost("third"), htmlPost("c", photo)))
	if _, ok := channels.AsPause(err); !ok {
		t.Fatalf("401 on edit: %v, want a pause", err)
	}
	h.assertNoToken(t, err)
	if err := h.ch.Delete(ctx, rcpt.RemoteID); err != nil {
		t.Fatal(err)
	}
	err = h.ch.Edit(ctx, rcpt.RemoteID, corrected)
	if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("editing a deleted message: %v, want permanent", err)
	}
	h.assertNoToken(t, err)
	if err := h.ch.Edit(context.Background(), "abc", msgOf(htmlPost("x"))); !channels.IsPermanent(err) {
		t.Fatalf("bad id: %v", err)
	}
}

// A photo post whose photo Telegram could not fetch went out as text: its correction (still a
// post with media) tries the caption, gets "there is no caption in the message to edit", and
// edits the text.
func TestEditPhotoPostSentAsText(t *testing.T) {
	ctx := testCtx(t)
	h := newHarness(t, "photo_upload: false")
	const photo = "https://cdn.example.com/missing.jpg"
	h.fake.RejectPhotoURL(photo)
	rcpt, err := h.ch.Send(ctx, msgOf(htmlPost("old text", photo)))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Edit(ctx, rcpt.RemoteID, msgOf(htmlPost("new <b>text</b>", photo))); err != nil {
		t.Fatal(err)
	}
	if m := h.fake.Messages(); len(m) != 1 || m[0].Method != "sendMessage" || m[0].Plain != "new text" || m[0].Edits != 1 {
		t.Fatalf("messages %+v", m)
	}
	reqs := h.fake.Requests()
	if len(reqs) != 4 || reqs[2].Method != "editMessageCaption" || reqs[3].Method != "editMessageText" {
		t.Fatalf("requests %+v", reqs)
	}
}
