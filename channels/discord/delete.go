package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"herald/channels"
)

// Delete takes back the messages of a receipt (comma-joined message ids), for corrections and
// takedowns. A message that is already gone (404, code 10008 Unknown Message) counts as
// deleted. A webhook can delete only the messages it posted.
// Specs: https://discord.com/developers/docs/resources/webhook#delete-webhook-message
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !snowflake.MatchString(id) {
			return channels.Permanent(fmt.Errorf("discord: deleting message %q: not a message id", id))
		}
		err := c.deleteOne(ctx, id)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == CodeUnknownMessage {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *Channel) deleteOne(ctx context.Context, id string) error {
	action := "deleting message " + id
	u := c.cfg.hook.URL() + "/messages/" + id
	if c.cfg.ThreadID != "" {
		u += "?" + url.Values{"thread_id": {c.cfg.ThreadID}}.Encode()
	}
	req, err := http.NewRequest(http.MethodDelete, u, nil)
	if err != nil {
		return channels.Permanent(c.http.Errorf("%s: %w", action, err))
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return readOnly(err)
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return c.classify(action, resp, false)
	}
	return nil
}
