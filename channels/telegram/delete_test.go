package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"

	"herald/channels"
	"herald/channels/telegram/telegramfake"
)

// Delete removes every message of a receipt; deleting again is done, not an error (Telegram
// answers "message to delete not found"); a message past the 48-hour limit is permanent; 429 is
// rate-limited; the token shows nowhere.
func TestDelete(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	rcpt, err := h.ch.Send(ctx, msgOf(channels.Post{Text: "one"}, channels.Post{Text: "two"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.fake.Messages()) != 2 {
		t.Fatalf("fake holds %d messages, want 2", len(h.fake.Messages()))
	}
	if err := h.ch.Delete(ctx, rcpt.RemoteID); err != nil {
		t.Fatalf("delete %s: %v", rcpt.RemoteID, err)
	}
	if n := len(h.fake.Messages()); n != 0 {
		t.Fatalf("fake still holds %d messages after delete", n)
	}
	if n := len(h.fake.DeletedMessages()); n != 2 {
		t.Fatalf("fake deleted %d messages, want 2", n)
	}
	if err := h.ch.Delete(ctx, rcpt.RemoteID); err != nil {
		t.Fatalf("deleting again: %v", err)
	}
	if n := len(h.fake.DeletedMessages()); n != 2 {
		t.Fatalf("deleting again deleted %d", n)
	}

	old, err := h.ch.Send(ctx, msgOf(channels.Post{Text: "old"}))
	if err != nil {
		t.Fatal(err)
	}
	h.fake.Age(telegramfake.DefaultChat.ID, h.fake.Messages()[0].MessageID, telegramfake.DeleteLimit)
	err = h.ch.Delete(ctx, old.RemoteID)
	if !channels.IsPermanent(err) {
		t.Fatalf("deleting a 48-hour-old message: %v, want permanent", err)
	}
	h.assertNoToken(t, err)

	h.fake.Reset()
	fresh, err := h.ch.Send(ctx, msgOf(channels.Post{Text: "fresh"}))
	if err != nil {
		t.Fatal(err)
	}
	h.fake.FailDeleteNext(1, 429, "", 3)
	err = h.ch.Delete(ctx, fresh.RemoteID)
	if _, ok := channels.AsRateLimited(err); !ok {
		t.Fatalf("429 on delete: %v, want rate-limited", err)
	}
	if err := h.ch.Delete(ctx, fresh.RemoteID); err != nil || len(h.fake.Messages()) != 0 {
		t.Fatalf("delete after 429: %v, %d left", err, len(h.fake.Messages()))
	}
	if err := h.ch.Delete(ctx, "abc"); !channels.IsPermanent(err) || errors.Is(err, context.Canceled) {
		t.Fatalf("bad id: %v", err)
	}
}

// A message Telegram will not delete (older than 48 hours, or one the bot may not delete) cannot
// be taken back by running the retract again, as the retract's answer suggests for a failed
// delete: the error says what to do instead — delete it in the chat by hand (a channel's admins
// can, at any age), then retract again, which finds it gone and records the retraction.
func TestDeleteRefusedByTelegramSaysToDeleteByHand(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	old, err := h.ch.Send(ctx, msgOf(channels.Post{Text: "old"}))
	if err != nil {
		t.Fatal(err)
	}
	id := h.fake.Messages()[0].MessageID
	h.fake.Age(telegramfake.DefaultChat.ID, id, telegramfake.DeleteLimit)
	err = h.ch.Delete(ctx, old.RemoteID)
	if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "48 hours") || !strings.Contains(err.Error(), "delete it in the chat by hand, then retract again") {
		t.Fatalf("deleting a 48-hour-old message: %v, want permanent, saying to delete it by hand", err)
	}
	h.assertNoToken(t, err)
}
