package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels"
)

var _ channels.Editor = (*Channel)(nil)

// Answers of editMessageText / editMessageCaption (lower case, matched as substrings).
var (
	// notModified: the message already reads so (an edit applied before): done, not an error.
	notModified = []string{"message is not modified"}
	// wrongEditKind: a text edit of a photo message or a caption edit of a text message; the
	// other method is tried (a photo post whose photo could not be sent went out as text).
	wrongEditKind = []string{"there is no text in the message to edit", "there is no caption in the message to edit"}
)

// Edit changes the messages of a receipt (comma-joined message ids, in the configured chat) to
// msg's posts, in order: a post with media edits the photo's caption, any other the message's
// text (falling back to the other on Telegram's "there is no text/caption in the message to
// edit", so a photo post sent as text alone is edited too). The photo itself is not changed.
// Parse mode and link preview options are Send's. A message that already reads so counts as
// edited. A correction that renders as a different number of messages than were sent cannot be
// applied in place: that is permanent (retract and repost instead), checked before any edit.
func (c *Channel) Edit(ctx context.Context, remoteID string, msg channels.Message) error {
	var ids []int
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		n, err := strconv.Atoi(id)
		if err != nil || n <= 0 {
			return channels.Permanent(errorf("editing message %q: not a message id", id))
		}
		ids = append(ids, n)
	}
	if len(ids) == 0 {
		return channels.Permanent(errorf("editing: no message id"))
	}
	if len(ids) != len(msg.Posts) {
		return channels.Permanent(errorf("editing: the correction renders as %d messages but %d were sent; retract and repost instead", len(msg.Posts), len(ids)))
	}
	for i, id := range ids {
		post := msg.Posts[i]
		caption := photoURL(post) != ""
		err := c.editOne(ctx, id, post, caption)
		if badRequestAbout(err, wrongEditKind) {
			err = c.editOne(ctx, id, post, !caption)
		}
		if badRequestAbout(err, notModified) {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// editOne edits one message's caption (caption) or text, with the post's parse mode and, for
// text, its link preview options as Send would set them.
// Specs: https://core.telegram.org/bots/api#editmessagetext,
// https://core.telegram.org/bots/api#editmessagecaption
func (c *Channel) editOne(ctx context.Context, id int, post channels.Post, caption bool) error {
	params := tgbotapi.Params{}
	if err := params.AddFirstValid("chat_id", c.chatID, c.username); err != nil {
		return channels.Permanent(fmt.Errorf("telegram: chat_id: %w", err))
	}
	params.AddNonZero("message_id", id)
	params.AddNonEmpty("parse_mode", string(post.ParseMode))
	method, action := "editMessageText", "editing message "+strconv.Itoa(id)
	if caption {
		method, action = "editMessageCaption", "editing the caption of message "+strconv.Itoa(id)
		params["caption"] = post.Text
	} else {
		params["text"] = post.Text
		switch {
		case c.cfg.DisableWebPagePreview:
			params.AddBool("disable_web_page_preview", true)
		case post.LinkPreview != nil:
			opts, err := json.Marshal(linkPreviewOptions(*post.LinkPreview))
			if err != nil {
				return channels.Permanent(fmt.Errorf("telegram: encoding link_preview_options: %w", err))
			}
			params["link_preview_options"] = string(opts)
		}
	}
	return c.call(ctx, action, func(bot *tgbotapi.BotAPI) error {
		_, err := bot.MakeRequest(method, params)
		return err
	})
}

var _ channels.EditKeeper = (*Channel)(nil)

// EditKeeps implements channels.EditKeeper: Edit changes a post's text, never its photo, so a
// correction of the photo (a wrong picture) leaves the one it was posted with.
func (c *Channel) EditKeeps(before, corrected []channels.Post, _ bool) string {
	if channels.PhotoChanged(before, corrected) {
		return channels.NotePhotoKept
	}
	return ""
}
