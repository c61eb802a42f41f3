// Package linkedin posts to a LinkedIn organization Page through the Posts API: an article post
// whose commentary is the formatter's little text and whose card is the article link, authored
// by the Page. See config.go for the settings, errors.go for how LinkedIn's answers map to retry
// decisions, manage.go for edits, deletes and the check, and docs/linkedin.md.
package linkedin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel posts to one LinkedIn Page. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	send *httpsend.Client
	log  *zap.Logger
	now  func() time.Time
}

var (
	_ channels.Channel   = (*Channel)(nil)
	_ channels.Checker   = (*Channel)(nil)
	_ channels.Deleter   = (*Channel)(nil)
	_ channels.Editor    = (*Channel)(nil)
	_ channels.Previewer = (*Channel)(nil)
)

// New builds a LinkedIn channel from its spec. It does not call the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	env = env.WithDefaults()
	return &Channel{
		name: spec.Name,
		cfg:  cfg,
		send: &httpsend.Client{HTTP: httpsend.NoRedirects(env.HTTPClient), Timeout: cfg.Timeout, Prefix: "linkedin",
			Secrets: []string{cfg.AccessToken}, Log: env.Logger},
		log: env.Logger,
		now: time.Now,
	}, nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindLinkedIn }

// PostURL is the public link to a post by its URN.
func PostURL(urn string) string { return "https://www.linkedin.com/feed/update/" + urn + "/" }

// Send posts each of msg.Posts in order, authored by the Page. The receipt holds the post URN
// (several, comma-joined) and the link to the first. When a later post fails after an earlier
// one was accepted, the error is UnknownOutcome.
//
// A post LinkedIn refuses as a duplicate is settled by the post the refusal names when that
// post exists and is the Page's with the same commentary and the same card link: an earlier
// attempt whose answer was lost made it (an admin's retry of an unknown delivery), or the same
// article reached the Page before; its URN becomes the receipt instead of a failure. A
// duplicate naming a post that is gone, another author's, or another text or link stays
// DuplicateContent.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	create := func(ctx context.Context, post channels.Post) (string, error) {
		urn, err := c.create(ctx, post)
		var ae *APIError
		if channels.IsDuplicateContent(err) && errors.As(err, &ae) && ae.DuplicateOf() != "" {
			if c.isOurs(ctx, ae.DuplicateOf(), post) {
				c.log.Info("linkedin: refused as a duplicate of the Page's post with the same text and link; recording that post",
					zap.String("urn", ae.DuplicateOf()), zap.Int("attempt", msg.Attempt))
				return ae.DuplicateOf(), nil
			}
		}
		return urn, err
	}
	return channels.SendEach(ctx, "linkedin", "post", msg.Posts, create, PostURL)
}

// isOurs reads a post (GET /rest/posts/{urn}) and reports whether it is the Page's with post's
// commentary and link. A duplicate's URN may name a post that no longer exists (LinkedIn
// remembers deleted posts for a while): then, or on any failure, it is not ours.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#retrieve-posts
func (c *Channel) isOurs(ctx context.Context, urn string, post channels.Post) bool {
	req, err := c.newRequest(http.MethodGet, "/posts/"+escapeURN(urn), nil)
	if err != nil {
		return false
	}
	resp, err := c.call(ctx, "reading post "+urn, req)
	if err != nil || resp.Status != http.StatusOK {
		return false
	}
	var got postBody
	if json.Unmarshal(resp.Body, &got) != nil {
		return false
	}
	var want postBody
	if b, err := c.body(post); err != nil || json.Unmarshal(b, &want) != nil {
		return false
	}
	source := func(p postBody) string {
		if p.Content == nil || p.Content.Article == nil {
			return ""
		}
		return p.Content.Article.Source
	}
	return got.Author == want.Author && got.Commentary == want.Commentary && source(got) == source(want)
}

// postBody is the Posts API create body.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#create-organic-posts
type postBody struct {
	Author       string       `json:"author"`
	Commentary   string       `json:"commentary"`
	Visibility   string       `json:"visibility"`
	Distribution distribution `json:"distribution"`
	Content      *content     `json:"content,omitempty"`
	Lifecycle    string       `json:"lifecycleState"`
	NoReshare    bool         `json:"isReshareDisabledByAuthor"`
}

type distribution struct {
	FeedDistribution string   `json:"feedDistribution"`
	TargetEntities   []string `json:"targetEntities"`
	ThirdParty       []string `json:"thirdPartyDistributionChannels"`
}

type content struct {
	Article *articleCard `json:"article,omitempty"`
}

// articleCard is content.article: the link and the card's text, plain (not little text).
type articleCard struct {
	Source      string `json:"source"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
}

// body builds the create body of a post: its text is the commentary as the formatter wrote it
// (little text, already escaped), its Extra["article"] the card.
func (c *Channel) body(post channels.Post) ([]byte, error) {
	b := postBody{
		Author:       c.cfg.author(),
		Commentary:   post.Text,
		Visibility:   "PUBLIC",
		Distribution: distribution{FeedDistribution: "MAIN_FEED", TargetEntities: []string{}, ThirdParty: []string{}},
		Lifecycle:    "PUBLISHED",
	}
	if card, ok := post.Extra["article"].(map[string]any); ok {
		a := &articleCard{}
		a.Source, _ = card["source"].(string)
		a.Title, _ = card["title"].(string)
		a.Description, _ = card["description"].(string)
		if a.Source != "" {
			b.Content = &content{Article: a}
		}
	}
	return json.Marshal(b)
}

// newRequest builds a request to the REST API with the headers every call needs: the token,
// the pinned LinkedIn-Version and Rest.li protocol 2.0.0.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/versioning
func (c *Channel) newRequest(method, path string, body []byte) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.cfg.APIBase+path, r)
	if err != nil {
		return nil, err
	}
	for k, v := range c.headers(body != nil) {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	return req, nil
}

func (c *Channel) headers(withBody bool) map[string]string {
	h := map[string]string{"LinkedIn-Version": c.cfg.Version, "X-Restli-Protocol-Version": "2.0.0"}
	if withBody {
		h["Content-Type"] = "application/json"
	}
	return h
}

// create makes one post: POST /rest/posts, answered 201 with the post's URN in x-restli-id.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api#create-organic-posts
func (c *Channel) create(ctx context.Context, post channels.Post) (string, error) {
	const action = "creating the post"
	body, err := c.body(post)
	if err != nil {
		return "", channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	req, err := c.newRequest(http.MethodPost, "/posts", body)
	if err != nil {
		return "", channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		return "", err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return "", c.classify(action, resp, true)
	}
	urn := strings.TrimSpace(resp.Header.Get("X-Restli-Id"))
	if urn == "" {
		// LinkedIn said yes without naming the post: it exists, but herald cannot point at it.
		return "", channels.UnknownOutcome(fmt.Errorf("linkedin: %s: the %d answer has no x-restli-id", action, resp.Status))
	}
	return urn, nil
}

// Preview implements channels.Previewer: the create request of each post, the token hidden.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	out := make([]channels.Request, 0, len(msg.Posts))
	for _, post := range msg.Posts {
		body, err := c.body(post)
		if err != nil {
			return nil, err
		}
		h := c.headers(true)
		h["Authorization"] = "Bearer <redacted>"
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.APIBase + "/posts", Header: h, Body: string(body)})
	}
	return out, nil
}

// call sends a request that changes nothing twice over (a delete, an edit, a read): an answer
// lost after the request left is plainly retryable, not an unknown outcome.
func (c *Channel) call(ctx context.Context, action string, req *http.Request) (*httpsend.Response, error) {
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if errors.As(err, &u) {
			return nil, u.Err
		}
		return nil, err
	}
	return resp, nil
}

// escapeURN puts a URN in a path segment URL-encoded (urn%3Ali%3Ashare%3A1), as Rest.li 2.0
// asks of every URN in a path.
func escapeURN(urn string) string { return url.QueryEscape(urn) }
