package threads

import (
	"context"
	"fmt"
	"net/url"

	"go.uber.org/zap"

	"herald/channels"
)

// recentPosts is how many of the profile's newest posts a lost publish is looked for among.
const recentPosts = 10

// resolveLostPublish settles a publish whose answer was lost (cause is an UnknownOutcome) without
// ever posting: it reads the container's status, and when Threads says PUBLISHED it finds the
// post among the profile's newest by its text and returns its id. Anything else (the container
// not published as far as Threads says, which may still be a publish in flight; a status or
// list that cannot be read; no post with this text) stays UnknownOutcome for an admin, with what
// was learnt.
// Specs: https://developers.facebook.com/docs/threads/troubleshooting#publishing-does-not-return-a-media-id
// Specs: https://developers.facebook.com/docs/threads/threads-media#retrieve-a-list-of-all-a-user-s-threads
func (c *Channel) resolveLostPublish(ctx context.Context, containerID, text string, cause error) (string, error) {
	var st struct {
		Status string `json:"status"`
	}
	if err := c.get(ctx, "reading the status of container "+containerID, "/"+url.PathEscape(containerID), "status", &st); err != nil {
		return "", channels.UnknownOutcome(fmt.Errorf("%w; the container's status could not be read: %v", cause, err))
	}
	if st.Status != "PUBLISHED" {
		return "", channels.UnknownOutcome(fmt.Errorf("%w; container %s is %s: check the profile before retrying", cause, containerID, st.Status))
	}
	var list struct {
		Data []struct {
			ID   string `json:"id"`
			Text string `json:"text"`
		} `json:"data"`
	}
	q := fmt.Sprintf("/%s/threads?limit=%d", c.cfg.UserID, recentPosts)
	if err := c.get(ctx, "listing the profile's newest posts", q, "id,text", &list); err != nil {
		return "", channels.UnknownOutcome(fmt.Errorf("%w; container %s is PUBLISHED but the profile's posts could not be read: %v", cause, containerID, err))
	}
	for _, p := range list.Data {
		if p.Text == text && p.ID != "" {
			c.log.Info("threads: the publish answer was lost; found the post it made",
				zap.String("container_id", containerID), zap.String("remote_id", p.ID))
			return p.ID, nil
		}
	}
	return "", channels.UnknownOutcome(fmt.Errorf("%w; container %s is PUBLISHED but no post among the profile's %d newest has its text", cause, containerID, recentPosts))
}
