package threads

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
)

// recentPosts is how many of the profile's newest posts a lost publish is looked for among.
const recentPosts = 10

// resolveLostPublish settles a publish whose answer was lost (cause is an UnknownOutcome) without
// ever posting: it reads the container's status, and when Threads says PUBLISHED it finds the
// post among the profile's newest by its text and returns its id. Only a post published since
// the container was made (since, less clockSkew) counts, and only when it is the one such post:
// an older post with the same text (the same article posted before, a repost) or a second one
// (another channel on the same profile) would put another post's id in the receipt, and a
// retract would then delete the wrong post. Anything else (the container not published as far
// as Threads says, which may still be a publish in flight; a status or list that cannot be
// read; no post, or more than one, with this text) stays UnknownOutcome for an admin, with what
// was learnt.
// Specs: https://developers.facebook.com/docs/threads/troubleshooting#publishing-does-not-return-a-media-id
// Specs: https://developers.facebook.com/docs/threads/threads-media#retrieve-a-list-of-all-a-user-s-threads
func (c *Channel) resolveLostPublish(ctx context.Context, containerID, text string, since time.Time, cause error) (string, error) {
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
			ID        string `json:"id"`
			Text      string `json:"text"`
			Timestamp string `json:"timestamp"`
		} `json:"data"`
	}
	q := fmt.Sprintf("/%s/threads?limit=%d", c.cfg.UserID, recentPosts)
	if err := c.get(ctx, "listing the profile's newest posts", q, "id,text,timestamp", &list); err != nil {
		return "", channels.UnknownOutcome(fmt.Errorf("%w; container %s is PUBLISHED but the profile's posts could not be read: %v", cause, containerID, err))
	}
	var found []string
	for _, p := range list.Data {
		at, err := time.Parse(graphTime, p.Timestamp)
		if p.Text == text && p.ID != "" && err == nil && !at.Before(since.Add(-clockSkew)) {
			found = append(found, p.ID)
		}
	}
	switch len(found) {
	case 1:
		c.log.Info("threads: the publish answer was lost; found the post it made",
			zap.String("container_id", containerID), zap.String("remote_id", found[0]))
		return found[0], nil
	case 0:
		return "", channels.UnknownOutcome(fmt.Errorf("%w; container %s is PUBLISHED but no post among the profile's %d newest since %s has its text", cause, containerID, recentPosts, since.UTC().Format(time.RFC3339)))
	}
	return "", channels.UnknownOutcome(fmt.Errorf("%w; container %s is PUBLISHED and %d posts since %s have its text (%s): check which is this delivery's", cause, containerID, len(found), since.UTC().Format(time.RFC3339), strings.Join(found, ", ")))
}

// graphTime is the layout of a Graph timestamp ("2026-11-27T01:12:00+0000").
const graphTime = "2006-01-02T15:04:05-0700"

// clockSkew is how far Threads' clock may be behind ours, and the timestamp's truncation to
// the second.
const clockSkew = time.Minute
