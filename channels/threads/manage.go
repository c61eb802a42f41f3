package threads

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"herald/channels"
)

// Check asks Threads whose token this is (GET /me): it must be user_id's. It then reads the
// publishing quota, which needs threads_content_publish: a token without it, or a quota used up,
// is reported.
// Specs: https://developers.facebook.com/docs/threads/threads-profiles
func (c *Channel) Check(ctx context.Context) error {
	var me struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	if err := c.get(ctx, "checking the access token", "/me", "id,username", &me); err != nil {
		return err
	}
	if me.ID != c.cfg.UserID {
		return fmt.Errorf("threads: checking the access token: it belongs to @%s (%s), not user_id %s", me.Username, me.ID, c.cfg.UserID)
	}
	lim, err := c.publishingLimit(ctx)
	if err != nil {
		return err
	}
	if lim.Usage >= lim.Total {
		return fmt.Errorf("threads: @%s has published %d of its %d posts in %s: posts wait until the window moves", me.Username, lim.Usage, lim.Total, lim.Duration)
	}
	c.log.Info("threads access token works", zap.String("username", me.Username),
		zap.Int("quota_usage", lim.Usage), zap.Int("quota_total", lim.Total))
	return nil
}

// Delete takes back the posts of a receipt (comma-joined ids), for corrections; it needs the
// threads_delete permission, and Threads allows 100 deletes a day. A post that is already gone
// (code 100, subcode 33) counts as deleted.
// Specs: https://developers.facebook.com/docs/threads/posts/delete-posts
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		var ans struct {
			Success bool `json:"success"`
		}
		err := c.call(ctx, "deleting post "+id, http.MethodDelete, "/"+url.PathEscape(id), "", &ans)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == 100 && ae.Subcode == subcodeNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if !ans.Success {
			return fmt.Errorf("threads: deleting post %s: Threads answered success=false", id)
		}
	}
	return nil
}

// Preview implements channels.Previewer: the requests Send makes for each post, the token
// hidden. The container id of the publish request is Threads' answer to the first, shown as
// <container-id>; an image container's status is read in between until it is FINISHED.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	hide := func(form url.Values) string {
		form.Set("access_token", "TOKEN")
		return strings.Replace(form.Encode(), "access_token=TOKEN", "access_token=<redacted>", 1)
	}
	header := map[string]string{"Content-Type": formType}
	out := make([]channels.Request, 0, 2*len(msg.Posts))
	for _, post := range msg.Posts {
		image := imageURL(post)
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.APIBase + "/" + c.cfg.UserID + "/threads",
			Header: header, Body: hide(c.containerForm(post, image))})
		if image != "" {
			out = append(out, channels.Request{Method: http.MethodGet,
				URL: c.cfg.APIBase + "/<container-id>?access_token=<redacted>&fields=status,error_message"})
		}
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.APIBase + "/" + c.cfg.UserID + "/threads_publish",
			Header: header, Body: hide(url.Values{"creation_id": {"<container-id>"}})})
	}
	return out, nil
}
