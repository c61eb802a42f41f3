// Package facebook posts to a Facebook Page through the Graph API: a feed post with the message
// and the article link (which makes the preview card), or a photo post with the text as its
// caption when the post carries an image. See config.go for the settings, errors.go for how
// Graph errors map to retry decisions, and docs/facebook.md.
package facebook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
	"herald/internal/safehttp"
)

// Channel posts to one Facebook Page. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	send *httpsend.Client
	// photoHTTP downloads a photo Facebook could not fetch, with the private-address guard.
	photoHTTP *http.Client
	log       *zap.Logger
	now       func() time.Time
}

var (
	_ channels.Channel   = (*Channel)(nil)
	_ channels.Checker   = (*Channel)(nil)
	_ channels.Deleter   = (*Channel)(nil)
	_ channels.Editor    = (*Channel)(nil)
	_ channels.Previewer = (*Channel)(nil)
)

// New builds a Facebook channel from its spec. It does not call the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	env = env.WithDefaults()
	return &Channel{
		name: spec.Name,
		cfg:  cfg,
		send: &httpsend.Client{HTTP: httpsend.NoRedirects(env.HTTPClient), Timeout: cfg.Timeout, Prefix: "facebook",
			Secrets: []string{cfg.PageToken}, Log: env.Logger},
		photoHTTP: safehttp.NewClient(safehttp.Options{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivateHosts, Setting: "allow_private_hosts"}),
		log:       env.Logger,
		now:       time.Now,
	}, nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindFacebook }

// PostURL is the public link to a Page post ("<page id>_<post id>").
func PostURL(postID string) string { return "https://www.facebook.com/" + url.PathEscape(postID) }

// Send posts each of msg.Posts in order: with an image, a photo post captioned with the text;
// otherwise a feed post with the text and the link from the post's extra "link". The receipt
// holds the post id (several, comma-joined) and the link to the first. When a later post fails
// after an earlier one was accepted, the error is UnknownOutcome.
//
// On a retry (msg.MayHavePosted: a later attempt, or the first after an admin retried an unknown
// outcome), Graph's 506 "Duplicate status message" is not a plain failure:
// Graph has no idempotency key and sometimes answers a 5xx (code 1 or 2, retried as Meta asks)
// for a post it made. The duplicate then most likely names the earlier attempt's post, so the
// delivery is UnknownOutcome, parked for an admin who checks the Page (and marks it sent), not
// failed, which would say nothing went out.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	rcpt, err := channels.SendEach(ctx, "facebook", "post", msg.Posts, c.sendPost, PostURL)
	if err != nil && msg.MayHavePosted() && channels.IsDuplicateContent(err) {
		// %v, not %w: the duplicate's permanence must not decide for the unknown.
		return rcpt, channels.UnknownOutcome(fmt.Errorf("%v (attempt %d: an earlier attempt may have made this post)", err, msg.Attempt))
	}
	return rcpt, err
}

func link(post channels.Post) string {
	if s, ok := post.Extra["link"].(string); ok {
		return s
	}
	return ""
}

func photoURL(post channels.Post) string {
	for _, m := range post.Media {
		if u := strings.TrimSpace(m.URL); u != "" {
			return u
		}
	}
	return ""
}

// fetchFailures are Graph's answers when it cannot fetch or read a photo URL: 324 missing or
// invalid image file, 100 with subcode 2069019 (url not reachable), 1366046 (bad image).
func fetchFailure(err error) bool {
	if _, pause := channels.AsPause(err); pause {
		return false
	}
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == 324 || ae.Code == 100 && (ae.Subcode == 2069019 || ae.Subcode == 1366046 ||
		strings.Contains(strings.ToLower(ae.Message), "url")))
}

// sendPost makes one post. A photo whose URL Facebook cannot fetch is downloaded (safehttp) and
// uploaded as the photo's bytes; failing that, the text goes out as a feed post with the link.
func (c *Channel) sendPost(ctx context.Context, post channels.Post) (string, error) {
	photo := photoURL(post)
	if photo == "" {
		return c.feed(ctx, post)
	}
	id, err := c.photoByURL(ctx, photo, post.Text)
	if err == nil || !fetchFailure(err) {
		return id, err
	}
	f, derr := safehttp.DownloadImage(ctx, c.photoHTTP, photo, MaxPhotoBytes, "Facebook's 10 MB photo limit")
	if derr == nil {
		id, err = c.photoUpload(ctx, f, post.Text)
		if err == nil || !fetchFailure(err) {
			return id, err
		}
	} else {
		err = fmt.Errorf("%w; downloading it: %v", err, derr)
	}
	c.log.Warn("facebook: photo could not be posted; posting the text with its link",
		zap.String("photo_url", photo), zap.Error(err))
	return c.feed(ctx, post)
}

type postAnswer struct {
	ID     string `json:"id"`
	PostID string `json:"post_id"` // photos: the feed post the photo makes
}

func (a postAnswer) postID() string {
	if a.PostID != "" {
		return a.PostID
	}
	return a.ID
}

// feed makes a Page feed post.
// Specs: https://developers.facebook.com/docs/graph-api/reference/page/feed/#publish
func (c *Channel) feed(ctx context.Context, post channels.Post) (string, error) {
	return c.create(ctx, "posting to the page feed", "/"+c.cfg.PageID+"/feed", formType, strings.NewReader(c.feedForm(post).Encode()))
}

const formType = "application/x-www-form-urlencoded"

func (c *Channel) feedForm(post channels.Post) url.Values {
	form := url.Values{"message": {post.Text}, "access_token": {c.cfg.PageToken}}
	if l := link(post); l != "" {
		form.Set("link", l)
	}
	return form
}

func (c *Channel) photoForm(photo, caption string) url.Values {
	return url.Values{"url": {photo}, "caption": {caption}, "access_token": {c.cfg.PageToken}}
}

// Preview implements channels.Previewer: the request Send makes first for each post, the Page
// token hidden. (A photo Facebook cannot fetch is then uploaded, or the post falls back to the
// feed; those depend on Facebook's answer.)
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	out := make([]channels.Request, 0, len(msg.Posts))
	for _, post := range msg.Posts {
		path, form := "/feed", c.feedForm(post)
		if photo := photoURL(post); photo != "" {
			path, form = "/photos", c.photoForm(photo, post.Text)
		}
		form.Set("access_token", "TOKEN")
		body := strings.Replace(form.Encode(), "access_token=TOKEN", "access_token=<redacted>", 1)
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.GraphBase + "/" + c.cfg.PageID + path,
			Header: map[string]string{"Content-Type": formType}, Body: body})
	}
	return out, nil
}

// photoByURL makes a photo post that Facebook fetches from url.
// Specs: https://developers.facebook.com/docs/graph-api/reference/page/photos/#publish
func (c *Channel) photoByURL(ctx context.Context, photo, caption string) (string, error) {
	return c.create(ctx, "posting a photo", "/"+c.cfg.PageID+"/photos", formType, strings.NewReader(c.photoForm(photo, caption).Encode()))
}

// photoUpload makes a photo post from the image's bytes (multipart "source").
func (c *Channel) photoUpload(ctx context.Context, f safehttp.File, caption string) (string, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("caption", caption)
	_ = mw.WriteField("access_token", c.cfg.PageToken)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name="source"; filename=%q`, f.Name)}
	h["Content-Type"] = []string{f.ContentType}
	pw, err := mw.CreatePart(h)
	if err == nil {
		_, err = pw.Write(f.Data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return "", channels.Permanent(fmt.Errorf("facebook: building the photo upload: %w", err))
	}
	return c.create(ctx, "uploading a photo", "/"+c.cfg.PageID+"/photos", mw.FormDataContentType(), &buf)
}

// create POSTs to Graph and returns the new post's id.
func (c *Channel) create(ctx context.Context, action, path, contentType string, body io.Reader) (string, error) {
	req, err := http.NewRequest(http.MethodPost, c.cfg.GraphBase+path, body)
	if err != nil {
		return "", channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		return "", err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		err := c.classify(action, resp, true)
		if strings.HasSuffix(path, "/photos") && retryable(err) {
			// A 5xx or code 1/2 that Graph answers for a photo post is in doubt: Graph has made
			// the photo and answered 500 code 2 ("Please retry your request later"), and, unlike
			// a feed post, a photo sent again is not refused as a duplicate (506) but posted
			// again (https://github.com/arsduo/koala/issues/699: one photo seven times). Parked
			// for an admin, as the other platforms without an idempotency key are.
			return "", channels.UnknownOutcome(fmt.Errorf("%w (a photo post: Graph may have made it, and a retry would post it again)", err))
		}
		return "", err
	}
	var ans postAnswer
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.postID() == "" {
		// Graph said yes but gave no id we can read: the post exists.
		return "", channels.UnknownOutcome(fmt.Errorf("facebook: %s: the %d answer has no post id: %s", action, resp.Status, c.send.Snippet(resp.Body)))
	}
	return ans.postID(), nil
}

// retryable reports a refusal that classify leaves to be retried (Graph's 1 and 2, a 5xx): not
// permanent, a rate limit, a pause or already in doubt.
func retryable(err error) bool {
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) {
		return false
	}
	_, limited := channels.AsRateLimited(err)
	_, pause := channels.AsPause(err)
	return !limited && !pause
}

// get or delete with the token as a query parameter (Graph takes access_token anywhere; errors
// are redacted by httpsend).
func (c *Channel) call(ctx context.Context, action, method, path string, out any) error {
	q := url.Values{"access_token": {c.cfg.PageToken}}
	if method == http.MethodGet {
		q.Set("fields", "id,name")
	}
	req, err := http.NewRequest(method, c.cfg.GraphBase+path+"?"+q.Encode(), nil)
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return u.Err // reading or deleting twice is harmless
		}
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return c.classify(action, resp, false)
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		return c.send.Errorf("%s: reading the answer: %w", action, err)
	}
	return nil
}

// Delete takes back the posts of a receipt (comma-joined ids), for corrections. A post that is
// already gone (Graph code 100, subcode 33) counts as deleted.
// Specs: https://developers.facebook.com/docs/graph-api/reference/post/#deleting
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		var ans struct {
			Success bool `json:"success"`
		}
		err := c.call(ctx, "deleting post "+id, http.MethodDelete, "/"+url.PathEscape(id), &ans)
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == 100 && ae.Subcode == 33 {
			continue
		}
		if err != nil {
			return err
		}
		if !ans.Success {
			return fmt.Errorf("facebook: deleting post %s: Graph answered success=false", id)
		}
	}
	return nil
}

// Check asks Graph whose token this is (GET /me): the Page token must belong to page_id.
// Specs: https://developers.facebook.com/docs/graph-api/reference/user/ (/me with a Page token is the Page)
func (c *Channel) Check(ctx context.Context) error {
	var me struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := c.call(ctx, "checking the page token", http.MethodGet, "/me", &me); err != nil {
		return err
	}
	if me.ID != c.cfg.PageID {
		return fmt.Errorf("facebook: checking the page token: it belongs to %q (%s), not page_id %s", me.Name, me.ID, c.cfg.PageID)
	}
	c.log.Info("facebook page token works", zap.String("page", me.Name))
	return nil
}
