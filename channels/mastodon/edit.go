package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"herald/channels"
)

var _ channels.Editor = (*Channel)(nil)

// Edit implements channels.Editor: each status of the receipt (comma-joined ids, in the order
// Send made them) gets the text of the corrected rendering's post at the same place, so the
// status keeps its boosts, favourites and replies, and shows as edited. Mastodon drops the
// attachments an edit does not name again (media_ids[] lists those to keep), so Edit first reads
// the status and passes its media back: the image stays as posted. A rendering with another
// number of posts cannot be applied in place and is refused (Permanent) before any call.
// Errors are Send's classes; a deleted status, or one of another account, is 404 → Permanent;
// a lost answer is plainly retryable (the same edit twice is harmless).
func (c *Channel) Edit(ctx context.Context, remoteID string, msg channels.Message) error {
	var ids []string
	for _, id := range strings.Split(remoteID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return channels.Permanent(fmt.Errorf("mastodon: editing: no status id in %q", remoteID))
	}
	if len(ids) != len(msg.Posts) {
		return channels.Permanent(fmt.Errorf("mastodon: editing %s: the correction renders %d posts, the delivery made %d; it cannot be applied in place",
			remoteID, len(msg.Posts), len(ids)))
	}
	for i, id := range ids {
		if err := c.editStatus(ctx, id, msg.Posts[i]); err != nil {
			return err
		}
	}
	return nil
}

// editStatus reads the status's attachments, then replaces its text.
func (c *Channel) editStatus(ctx context.Context, id string, post channels.Post) error {
	if strings.TrimSpace(post.Text) == "" {
		return channels.Permanent(errors.New("mastodon: editing status " + id + ": the corrected post has no text"))
	}
	// Specs: https://docs.joinmastodon.org/methods/statuses/#get
	var st struct {
		Media []MediaAttachment `json:"media_attachments"`
	}
	if err := c.get(ctx, "reading status "+id, "/api/v1/statuses/"+url.PathEscape(id), &st); err != nil {
		return err
	}
	mediaIDs := make([]string, 0, len(st.Media))
	for _, m := range st.Media {
		mediaIDs = append(mediaIDs, m.ID)
	}
	form := url.Values{"status": {post.Text}}
	if lang := c.language(post); lang != "" {
		form.Set("language", lang)
	}
	for _, m := range mediaIDs {
		form.Add("media_ids[]", m)
	}
	action := "editing status " + id
	req, err := http.NewRequest(http.MethodPut, c.cfg.Instance+"/api/v1/statuses/"+url.PathEscape(id), strings.NewReader(form.Encode()))
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req.Header.Set("Content-Type", formType)
	// Specs: https://docs.joinmastodon.org/methods/statuses/#edit
	return c.call(ctx, action, req, nil, false)
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
