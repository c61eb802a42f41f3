package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"herald/channels"
)

var _ channels.Editor = (*Channel)(nil)

// Edit implements channels.Editor: each message of the receipt (comma-joined ids, in the order
// Send made them) gets the corrected rendering's post at the same place, through the webhook
// that posted it, so the message keeps its place, link and reactions. A message already deleted
// (404, code 10008 Unknown Message) fails permanently; a rendering with another number of posts
// cannot be applied in place and is refused (Permanent) before any call. Rate limits are
// handled as Send's (the bucket is waited for, a 429 holds it); a lost answer is plainly
// retryable, since the same edit twice is harmless.
func (c *Channel) Edit(ctx context.Context, remoteID string, msg channels.Message) error {
	var ids []string
	for _, id := range strings.Split(remoteID, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return channels.Permanent(fmt.Errorf("discord: editing: no message id in %q", remoteID))
	}
	if len(ids) != len(msg.Posts) {
		return channels.Permanent(fmt.Errorf("discord: editing %s: the correction renders %d posts, the delivery made %d; it cannot be applied in place",
			remoteID, len(msg.Posts), len(ids)))
	}
	for _, id := range ids {
		if !snowflake.MatchString(id) {
			return channels.Permanent(fmt.Errorf("discord: editing message %q: not a message id", id))
		}
	}
	for i, id := range ids {
		if err := c.editOne(ctx, id, msg.Posts[i]); err != nil {
			return err
		}
	}
	return nil
}

// editBody is the body of Edit Webhook Message: the rendering's content (always sent, so an
// embed-only correction clears text, and "" is a valid value there) and its embeds when it has
// any (left out otherwise, so Discord keeps the link preview of content mode), never pinging
// anyone. username and avatar_url are not part of an edit.
func (c *Channel) editBody(p channels.Post) ([]byte, error) {
	b, err := c.body(p) // the same checks and embeds as a post
	if err != nil {
		return nil, err
	}
	var pl payload
	if err := json.Unmarshal(b, &pl); err != nil {
		return nil, err
	}
	out := struct {
		Content         string           `json:"content"`
		Embeds          []map[string]any `json:"embeds,omitempty"`
		AllowedMentions allowedMentions  `json:"allowed_mentions"`
	}{pl.Content, pl.Embeds, allowedMentions{Parse: []string{}}}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// editOne edits one message.
// Specs: https://discord.com/developers/docs/resources/webhook#edit-webhook-message
func (c *Channel) editOne(ctx context.Context, id string, p channels.Post) error {
	action := "editing message " + id
	body, err := c.editBody(p)
	if err != nil {
		return channels.Permanent(fmt.Errorf("discord: %s: building the message: %w", action, err))
	}
	if err := c.waitBucket(ctx); err != nil {
		return err
	}
	u := c.cfg.hook.URL() + "/messages/" + id
	if c.cfg.ThreadID != "" {
		u += "?" + url.Values{"thread_id": {c.cfg.ThreadID}}.Encode()
	}
	req, err := http.NewRequest(http.MethodPatch, u, bytes.NewReader(body))
	if err != nil {
		return channels.Permanent(c.http.Errorf("%s: %w", action, err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return readOnly(err)
	}
	if resp.Status == http.StatusTooManyRequests {
		err := c.classify(action, resp, false)
		if rl, ok := channels.AsRateLimited(err); ok {
			c.holdUntil(rl.RetryAt)
		}
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		err := c.classify(action, resp, false)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == CodeUnknownMessage {
			return channels.Permanent(fmt.Errorf("discord: %s: the message was deleted: %w", action, ae))
		}
		return err
	}
	c.noteBucket(resp.Header)
	return nil
}
