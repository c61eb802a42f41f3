// Package threads posts to a Threads (Meta) profile. A post is made in two steps: a media
// container (POST /{user-id}/threads: TEXT with the text and its link_attachment card, or IMAGE
// with image_url), then its publish (POST /{user-id}/threads_publish with creation_id), which
// makes the post. See config.go for the settings, errors.go for how errors map to retry
// decisions, and docs/threads.md.
//
// Exactly once: a container is not a post. Any failure up to and including the container step
// (or the wait for an image container) is retried freely: the next attempt makes a new
// container and the unused one expires after 24 h. Only the publish request can make a post, so
// only its lost answer (or a 5xx after it was written) is in doubt: the container's status then
// says whether it was published, and a published one's post is looked up (lost.go); what stays in
// doubt is channels.UnknownOutcome, parked for an admin. A publish that never reached Threads
// (no connection) is retried.
package threads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel posts to one Threads profile. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	send *httpsend.Client
	log  *zap.Logger
	now  func() time.Time
	// pollEvery is the pause between status reads of an image container.
	pollEvery time.Duration
}

var (
	_ channels.Channel   = (*Channel)(nil)
	_ channels.Checker   = (*Channel)(nil)
	_ channels.Deleter   = (*Channel)(nil)
	_ channels.Previewer = (*Channel)(nil)
)

// New builds a Threads channel from its spec. It does not call the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	env = env.WithDefaults()
	return &Channel{
		name: spec.Name,
		cfg:  cfg,
		send: &httpsend.Client{HTTP: httpsend.NoRedirects(env.HTTPClient), Timeout: cfg.Timeout, Prefix: "threads",
			Secrets: []string{cfg.AccessToken}, Log: env.Logger},
		log:       env.Logger,
		now:       time.Now,
		pollEvery: time.Second,
	}, nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindThreads }

// Send posts each of msg.Posts in order (the threads renderer makes one). The receipt holds the
// post's media id and, when Threads answers it, its permalink.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	rcpt, err := channels.SendEach(ctx, "threads", "post", msg.Posts, c.sendPost, nil)
	if err != nil {
		return rcpt, err
	}
	first, _, _ := strings.Cut(rcpt.RemoteID, ",")
	rcpt.PostURL = c.permalink(ctx, first)
	return rcpt, nil
}

func imageURL(post channels.Post) string {
	for _, m := range post.Media {
		if u := strings.TrimSpace(m.URL); u != "" {
			return u
		}
	}
	return ""
}

func linkAttachment(post channels.Post) string {
	if s, ok := post.Extra["link_attachment"].(string); ok {
		return s
	}
	return ""
}

// sendPost makes one post: a container, for an image its wait until FINISHED, then the
// publish. An image Threads refuses or cannot process (status ERROR) is left out: the text goes
// out as a TEXT post with its link card.
func (c *Channel) sendPost(ctx context.Context, post channels.Post) (string, error) {
	image := imageURL(post)
	// A post this send makes is published after this moment (lost.go).
	started := c.now()
	id, err := c.createContainer(ctx, post, image)
	if image != "" && (channels.IsPermanent(err) || mediaTimeout(err)) {
		// Threads refused the IMAGE container (an image_url it will not take, or one it could
		// not download in time): the text can still go out. Were the text at fault, the TEXT
		// container is refused the same way.
		c.log.Warn("threads: the image could not be used; posting the text with its link",
			zap.String("image_url", image), zap.Error(err))
		image = ""
		id, err = c.createContainer(ctx, post, "")
	}
	if err != nil {
		return "", err
	}
	if image != "" {
		err := c.waitFinished(ctx, id)
		var ie *imageError
		if errors.As(err, &ie) {
			c.log.Warn("threads: the image could not be used; posting the text with its link",
				zap.String("image_url", image), zap.Error(err))
			if id, err = c.createContainer(ctx, post, ""); err != nil {
				return "", err
			}
		} else if err != nil {
			return "", err
		}
	}
	postID, err := c.publish(ctx, id)
	if notReady(err) {
		// Threads refused to publish a container it has not finished (a TEXT one may still be
		// checking its link card): nothing was posted. Publishing a new container on the next
		// attempt would race the same way, so wait for this one, as for an image, and publish
		// it once more.
		if werr := c.waitFinished(ctx, id); werr != nil {
			var ie *imageError
			if errors.As(werr, &ie) {
				return "", channels.Permanent(werr)
			}
			return "", werr
		}
		postID, err = c.publish(ctx, id)
	}
	for try := 0; mediaNotFound(err) && try < notFoundRepublishes && c.canWait(ctx, c.notFoundPause()); try++ {
		// Threads cannot find the container it made a moment ago (code 24, subcode 4279009):
		// nothing was posted, and the same publish a few seconds later goes through. Waiting here
		// keeps the post's place: a retry would wait for the channel's next send slot (5 m 46 s at
		// the default rate).
		c.log.Info("threads: the container is not found yet; publishing it again shortly", zap.String("container_id", id), zap.Error(err))
		t := time.NewTimer(c.notFoundPause())
		select {
		case <-ctx.Done():
			t.Stop()
			return "", c.send.Errorf("publishing container %s: %w", id, ctx.Err())
		case <-t.C:
		}
		postID, err = c.publish(ctx, id)
	}
	if channels.IsUnknownOutcome(err) {
		return c.resolveLostPublish(ctx, id, post.Text, started, err)
	}
	return postID, err
}

// containerForm is the form of POST /{user-id}/threads for post, as an IMAGE post when image
// is not "". link_attachment goes only with TEXT posts (Threads refuses it otherwise); an IMAGE
// post keeps its link in the text.
func (c *Channel) containerForm(post channels.Post, image string) url.Values {
	form := url.Values{"text": {post.Text}, "access_token": {c.cfg.AccessToken}}
	if image != "" {
		form.Set("media_type", "IMAGE")
		form.Set("image_url", image)
		return form
	}
	form.Set("media_type", "TEXT")
	link := linkAttachment(post)
	if link == "" {
		link = linkFromText(post.Text)
	}
	if link != "" {
		form.Set("link_attachment", link)
	}
	return form
}

// linkFromText is the last http(s) URL of a text post without Extra (a template's output, a
// post built by hand), so the card is still the article's.
func linkFromText(text string) string {
	fields := strings.Fields(text)
	for i := len(fields) - 1; i >= 0; i-- {
		f := strings.TrimLeft(fields[i], "\u200f\u200e")
		if u, err := url.Parse(f); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			return f
		}
	}
	return ""
}

// createContainer makes a media container and returns its id. Nothing is posted, so every
// failure here is safe to retry: an unknown outcome from the transport becomes a plain,
// retryable error.
// Specs: https://developers.facebook.com/docs/threads/posts#step-1--create-a-threads-media-container
func (c *Channel) createContainer(ctx context.Context, post channels.Post, image string) (string, error) {
	const action = "creating the media container"
	id, err := c.post(ctx, action, "/"+c.cfg.UserID+"/threads", c.containerForm(post, image), stepContainer)
	var u *channels.UnknownOutcomeError
	if errors.As(err, &u) {
		// An orphan container is harmless (it expires unpublished after 24 h).
		return "", u.Err
	}
	return id, err
}

// publish publishes a container: this request makes the post.
// Specs: https://developers.facebook.com/docs/threads/posts#step-2--publish-a-threads-media-container
func (c *Channel) publish(ctx context.Context, containerID string) (string, error) {
	action := "publishing container " + containerID
	form := url.Values{"creation_id": {containerID}, "access_token": {c.cfg.AccessToken}}
	return c.post(ctx, action, "/"+c.cfg.UserID+"/threads_publish", form, stepPublish)
}

const formType = "application/x-www-form-urlencoded"

// post POSTs a form and returns the id Threads answers.
func (c *Channel) post(ctx context.Context, action, path string, form url.Values, st step) (string, error) {
	req, err := http.NewRequest(http.MethodPost, c.cfg.APIBase+path, strings.NewReader(form.Encode()))
	if err != nil {
		return "", channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req.Header.Set("Content-Type", formType)
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		return "", err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return "", c.classify(action, resp, st, func() time.Duration { return c.quotaWait(ctx) })
	}
	var ans struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.ID == "" {
		err := c.send.Errorf("%s: the %d answer has no id: %s", action, resp.Status, c.send.Snippet(resp.Body))
		if st == stepPublish {
			// Threads said yes but gave no id we can read: the post exists.
			return "", channels.UnknownOutcome(err)
		}
		return "", err
	}
	return ans.ID, nil
}

// notReady reports Threads' refusal to publish a container it has not finished processing
// (code 9007, subcode 2207027): nothing was posted.
func notReady(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == codeNotReady || ae.Subcode == subcodeNotReady)
}

// mediaTimeout reports the publishing API's timeout (code -2: 2207003 "It takes too long to
// download the media", 2207020 the media expired) on a container: about the image, which a
// retry would most likely wait for again, post after post at the channel's pace.
func mediaTimeout(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == -2
}

// mediaNotFound reports Threads' refusal to publish a container it cannot find yet (code 24,
// subcode 4279009): nothing was posted.
func mediaNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == codeMediaNotFound && ae.Subcode == subcodeMediaNotFound
}

// notFoundRepublishes is how many times a publish refused as not found is sent again in one
// send, notFoundPause (5 s) apart; still refused, the send is retried with a new container.
const notFoundRepublishes = 3

func (c *Channel) notFoundPause() time.Duration { return 5 * c.pollEvery }

// canWait reports whether ctx leaves room for a wait of d and then a request.
func (c *Channel) canWait(ctx context.Context, d time.Duration) bool {
	dl, ok := ctx.Deadline()
	return !ok || c.now().Add(d+c.cfg.Timeout).Before(dl)
}

// imageError is an image container Threads could not process (status ERROR or EXPIRED).
type imageError struct{ status, message string }

func (e *imageError) Error() string {
	return fmt.Sprintf("threads: the media container is %s: %s", e.status, e.message)
}

// waitFinished reads a container's status (an image's, or one whose publish Threads refused as
// not ready) until it is FINISHED, every pollEvery, for at
// most image_wait and never past the point where the publish request would no longer fit in
// ctx. A container still IN_PROGRESS then is a plain (retryable) error: nothing is posted.
// Specs: https://developers.facebook.com/docs/threads/troubleshooting#publishing-does-not-return-a-media-id
func (c *Channel) waitFinished(ctx context.Context, containerID string) error {
	deadline := c.now().Add(c.cfg.ImageWait)
	if d, ok := ctx.Deadline(); ok && d.Add(-c.cfg.Timeout).Before(deadline) {
		deadline = d.Add(-c.cfg.Timeout)
	}
	action := "reading the status of container " + containerID
	status := ""
	for {
		var st struct {
			Status       string `json:"status"`
			ErrorMessage string `json:"error_message"`
		}
		err := c.get(ctx, action, "/"+url.PathEscape(containerID), "status,error_message", &st)
		if err != nil {
			return err
		}
		status = st.Status
		switch st.Status {
		case "FINISHED":
			return nil
		case "ERROR", "EXPIRED":
			return &imageError{status: st.Status, message: st.ErrorMessage}
		}
		if !c.now().Add(c.pollEvery).Before(deadline) {
			break
		}
		t := time.NewTimer(c.pollEvery)
		select {
		case <-ctx.Done():
			t.Stop()
			return c.send.Errorf("%s: %w", action, ctx.Err())
		case <-t.C:
		}
	}
	return fmt.Errorf("threads: container %s still %s after %s (image_wait): nothing posted", containerID, status, c.cfg.ImageWait)
}

// get reads a node with the token as a query parameter (errors are redacted by httpsend).
// Reading twice is harmless: an unknown outcome is a plain error here.
func (c *Channel) get(ctx context.Context, action, path, fields string, out any) error {
	return c.call(ctx, action, http.MethodGet, path, fields, out)
}

func (c *Channel) call(ctx context.Context, action, method, path, fields string, out any) error {
	q := url.Values{"access_token": {c.cfg.AccessToken}}
	if fields != "" {
		q.Set("fields", fields)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	req, err := http.NewRequest(method, c.cfg.APIBase+path+sep+q.Encode(), nil)
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return u.Err
		}
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return c.classify(action, resp, stepOther, func() time.Duration { return DefaultQuotaWait })
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return c.send.Errorf("%s: reading the answer: %w", action, err)
	}
	return nil
}

// permalink is the post's public link, or "" when Threads does not say (the post exists
// either way: this never fails a send).
// Specs: https://developers.facebook.com/docs/threads/threads-media#retrieve-a-single-threads-media-object
func (c *Channel) permalink(ctx context.Context, postID string) string {
	var ans struct {
		Permalink string `json:"permalink"`
	}
	if err := c.get(ctx, "reading the permalink of post "+postID, "/"+url.PathEscape(postID), "permalink", &ans); err != nil {
		c.log.Debug("threads: no permalink for the post", zap.String("remote_id", postID), zap.Error(err))
		return ""
	}
	return ans.Permalink
}

// PublishingLimit is the profile's use of its publishing quota.
type PublishingLimit struct {
	Usage    int           // posts published in the window
	Total    int           // the quota (250)
	Duration time.Duration // the window (24 h)
}

// publishingLimit reads the profile's publishing quota.
// Specs: https://developers.facebook.com/docs/threads/overview#rate-limiting
func (c *Channel) publishingLimit(ctx context.Context) (PublishingLimit, error) {
	var ans struct {
		Data []struct {
			QuotaUsage int `json:"quota_usage"`
			Config     struct {
				QuotaTotal    int `json:"quota_total"`
				QuotaDuration int `json:"quota_duration"`
			} `json:"config"`
		} `json:"data"`
	}
	err := c.get(ctx, "reading the publishing limit", "/"+c.cfg.UserID+"/threads_publishing_limit", "quota_usage,config", &ans)
	if err != nil {
		return PublishingLimit{}, err
	}
	if len(ans.Data) == 0 || ans.Data[0].Config.QuotaTotal <= 0 || ans.Data[0].Config.QuotaDuration <= 0 {
		return PublishingLimit{}, errors.New("threads: reading the publishing limit: no quota in the answer")
	}
	d := ans.Data[0]
	return PublishingLimit{Usage: d.QuotaUsage, Total: d.Config.QuotaTotal, Duration: time.Duration(d.Config.QuotaDuration) * time.Second}, nil
}

// quotaWait is how long to wait after a publish refused for the quota. Threads says how many
// posts the window holds, not when the oldest leaves it, so the wait is the window's average
// spacing (24 h / 250 = 5 m 46 s) read from threads_publishing_limit, at least a minute; a
// later attempt refused again waits again without using an attempt.
func (c *Channel) quotaWait(ctx context.Context) time.Duration {
	lim, err := c.publishingLimit(ctx)
	if err != nil {
		c.log.Debug("threads: publishing limit unreadable; waiting the default", zap.Error(err))
		return DefaultQuotaWait
	}
	c.log.Warn("threads: publishing quota reached", zap.Int("quota_usage", lim.Usage), zap.Int("quota_total", lim.Total))
	return max(lim.Duration/time.Duration(lim.Total), time.Minute)
}
