// Package x posts to X (Twitter) through API v2 POST /2/tweets, signed with OAuth 1.0a user
// context (github.com/dghubble/oauth1). See config.go for the settings, errors.go for how answers
// map to retry decisions, media.go for images, and docs/x.md.
package x

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
	"herald/internal/safehttp"
)

// Channel posts to one X account. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	send *httpsend.Client // signs every request (newSignedClient)
	// mediaHTTP downloads article images for upload, with the private-address guard.
	mediaHTTP *http.Client
	log       *zap.Logger
	now       func() time.Time
}

var (
	_ channels.Channel   = (*Channel)(nil)
	_ channels.Checker   = (*Channel)(nil)
	_ channels.Deleter   = (*Channel)(nil)
	_ channels.Coster    = (*Channel)(nil)
	_ channels.Previewer = (*Channel)(nil)
)

// New builds an X channel from its spec. It does not call the network: wrong credentials show
// up on the first Send (the channel pauses) or on Check.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	return newChannel(spec.Name, cfg, env), nil
}

func newChannel(name channels.Name, cfg Config, env channels.Env) *Channel {
	env = env.WithDefaults()
	return &Channel{
		name: name,
		cfg:  cfg,
		send: &httpsend.Client{HTTP: newSignedClient(cfg, env.HTTPClient), Timeout: cfg.Timeout, Prefix: "x",
			Secrets: cfg.secrets(), Log: env.Logger},
		mediaHTTP: safehttp.NewClient(safehttp.Options{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivateHosts, Setting: "allow_private_hosts"}),
		log:       env.Logger,
		now:       time.Now,
	}
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindX }

// PostURL is the public link to a post; X redirects it to the account's own path.
func PostURL(id string) string { return "https://x.com/i/web/status/" + url.PathEscape(id) }

// Send posts each of msg.Posts in order, each with up to four of its images (media.go). The
// receipt holds the post id (several, comma-joined, for several posts) and the link to the
// first. When a later post fails after an earlier one was accepted, the error is
// UnknownOutcome: retrying would post the accepted ones again.
//
// On a retry (msg.MayHavePosted: a later attempt, or the first after an admin retried an unknown
// outcome), X's 403 "duplicate content" is not a plain failure: X has no
// idempotency key, and a 5xx after the request was written (retried, as most 5xx are a front
// end's) can come for a post X made. The duplicate then most likely names the earlier
// attempt's post, so the delivery is UnknownOutcome, parked for an admin who checks the
// account (and marks it sent with the post's id), not failed, which would say nothing went out.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	rcpt, err := channels.SendEach(ctx, "x", "post", msg.Posts, c.sendPost, PostURL)
	if err != nil && msg.MayHavePosted() && channels.IsDuplicateContent(err) {
		// %v, not %w: the duplicate's permanence must not decide for the unknown.
		return rcpt, channels.UnknownOutcome(fmt.Errorf("%v (attempt %d: an earlier attempt may have made this post)", err, msg.Attempt))
	}
	return rcpt, err
}

type tweetRequest struct {
	Text  string      `json:"text"`
	Media *tweetMedia `json:"media,omitempty"`
}

type tweetMedia struct {
	MediaIDs []string `json:"media_ids"`
}

type tweetAnswer struct {
	Data struct {
		ID   string `json:"id"`
		Text string `json:"text"`
	} `json:"data"`
}

// sendPost uploads the post's images, then creates the post with exactly the rendered text.
func (c *Channel) sendPost(ctx context.Context, post channels.Post) (string, error) {
	if strings.TrimSpace(post.Text) == "" && len(post.Media) == 0 {
		return "", channels.Permanent(errors.New("x: post has neither text nor media"))
	}
	mediaIDs, err := c.uploadImages(ctx, post.Media)
	if err != nil {
		return "", err
	}
	req := tweetRequest{Text: post.Text}
	if len(mediaIDs) > 0 {
		req.Media = &tweetMedia{MediaIDs: mediaIDs}
	}
	var ans tweetAnswer
	// Specs: https://docs.x.com/x-api/posts/create-post
	if err := c.call(ctx, "creating post", http.MethodPost, "/2/tweets", req, &ans, true); err != nil {
		return "", err
	}
	if ans.Data.ID == "" {
		return "", channels.UnknownOutcome(errors.New("x: creating post: the answer has no post id"))
	}
	return ans.Data.ID, nil
}

// Delete takes back the posts of a receipt (comma-joined ids), for corrections. A post that is
// already gone counts as deleted.
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		var ans struct {
			Data struct {
				Deleted bool `json:"deleted"`
			} `json:"data"`
		}
		// Specs: https://docs.x.com/x-api/posts/delete-post
		err := c.call(ctx, "deleting post "+id, http.MethodDelete, "/2/tweets/"+url.PathEscape(id), nil, &ans, false)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return err
		}
		if !ans.Data.Deleted {
			return fmt.Errorf("x: deleting post %s: X answered deleted=false", id)
		}
	}
	return nil
}

// Check asks X who the credentials belong to (GET /2/users/me): a cheap test of all four keys
// that posts nothing. Errors are classified like Send's.
func (c *Channel) Check(ctx context.Context) error {
	var ans struct {
		Data struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"data"`
	}
	// Specs: https://docs.x.com/x-api/users/get-my-user
	if err := c.call(ctx, "checking the credentials", http.MethodGet, "/2/users/me", nil, &ans, false); err != nil {
		return err
	}
	if ans.Data.ID == "" {
		return errors.New("x: checking the credentials: the answer has no user id")
	}
	c.log.Info("x credentials work", zap.String("username", ans.Data.Username))
	return nil
}

// urlRE finds what X bills as a post "with URL": any http(s) link in the text.
var urlRE = regexp.MustCompile(`(?i)\bhttps?://\S`)

// Billing kinds of one post (X's "Content: Create" and "Content: Create with URL").
const (
	CostPost        = "post"
	CostPostWithURL = "post_with_url"
)

// Cost implements channels.Coster: each post is billed as one request, at the price with URL
// when its text carries a link.
func (c *Channel) Cost(posts []channels.Post) ([]string, float64) {
	kinds := make([]string, 0, len(posts))
	usd := 0.0
	for _, p := range posts {
		if urlRE.MatchString(p.Text) {
			kinds = append(kinds, CostPostWithURL)
			usd += *c.cfg.PricePostWithURL
		} else {
			kinds = append(kinds, CostPost)
			usd += *c.cfg.PricePost
		}
	}
	return kinds, usd
}

// MonthlyBudget implements channels.Coster.
func (c *Channel) MonthlyBudget() float64 { return c.cfg.MonthlyBudget }

// Preview implements channels.Previewer: the requests Send makes for msg, signatures hidden.
// Each image is uploaded first (its bytes, downloaded at send time, stand as a placeholder) and
// the post then names the media ids X answered.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	hdr := map[string]string{"Content-Type": "application/json", "Authorization": "OAuth <redacted: HMAC-SHA1 signed per request>"}
	var out []channels.Request
	for _, post := range msg.Posts {
		req := tweetRequest{Text: post.Text}
		for _, m := range post.Media {
			u := strings.TrimSpace(m.URL)
			if u == "" || req.Media != nil && len(req.Media.MediaIDs) == MaxImages {
				continue
			}
			up, _ := marshal(uploadRequest{Media: "<base64 of the image at " + u + ">", MediaCategory: "tweet_image", MediaType: "<its image/* type>"})
			out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.APIBase + "/2/media/upload", Header: hdr, Body: string(up)})
			if req.Media == nil {
				req.Media = &tweetMedia{}
			}
			req.Media.MediaIDs = append(req.Media.MediaIDs, fmt.Sprintf("<media id %d>", len(req.Media.MediaIDs)+1))
		}
		b, err := marshal(req)
		if err != nil {
			return nil, err
		}
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.APIBase + "/2/tweets", Header: hdr, Body: string(b)})
	}
	return out, nil
}
