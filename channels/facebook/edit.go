package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"herald/channels"
)

// Edit implements channels.Editor: each post of the receipt (comma-joined ids, in the order Send
// made them) gets the text of the corrected rendering's post at the same place, so the post
// keeps its link, its comments and its reactions. Send records the feed story id for photo posts
// too (post_id, not the photo id), and Graph edits that story's text, which is the photo's
// caption. The link of a feed post cannot change; a rendering with another number of posts
// cannot be applied in place and is refused (Permanent) before any call.
// Specs: https://developers.facebook.com/docs/graph-api/reference/post/#updating
func (c *Channel) Edit(ctx context.Context, remoteID string, msg channels.Message) error {
	ids := splitIDs(remoteID)
	if len(ids) == 0 {
		return channels.Permanent(fmt.Errorf("facebook: editing: no post id in %q", remoteID))
	}
	if len(ids) != len(msg.Posts) {
		return channels.Permanent(fmt.Errorf("facebook: editing %s: the correction renders %d posts, the delivery made %d; it cannot be applied in place",
			remoteID, len(msg.Posts), len(ids)))
	}
	for i, id := range ids {
		if err := c.editPost(ctx, id, msg.Posts[i].Text); err != nil {
			return err
		}
	}
	return nil
}

func splitIDs(remoteID string) []string {
	var ids []string
	for _, id := range strings.Split(remoteID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// editPost replaces one post's message: POST /{post-id} with message. Errors are classified as
// Send's (190 pauses, throttling waits, 100 "does not support this operation" is permanent with
// Graph's message); a lost answer is plainly retryable, since setting the same text twice is
// harmless.
func (c *Channel) editPost(ctx context.Context, id, text string) error {
	action := "editing post " + id
	form := url.Values{"message": {text}, "access_token": {c.cfg.PageToken}}
	req, err := http.NewRequest(http.MethodPost, c.cfg.GraphBase+"/"+url.PathEscape(id), strings.NewReader(form.Encode()))
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req.Header.Set("Content-Type", formType)
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return u.Err
		}
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return c.classify(action, resp, false)
	}
	var ans struct {
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || !ans.Success {
		return fmt.Errorf("facebook: %s: Graph did not answer success: %s", action, c.send.Snippet(resp.Body))
	}
	return nil
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
