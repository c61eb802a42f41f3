// Package mastodon posts statuses to a Mastodon account through its server's REST API:
// POST /api/v1/statuses with an Idempotency-Key, so a repeated request within the hour answers
// the status already made instead of posting twice. See config.go for the settings, errors.go
// for how answers map to retry decisions, media.go for images, and docs/mastodon.md.
package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
	"herald/internal/safehttp"
)

// Channel posts to one Mastodon account. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	send *httpsend.Client
	// mediaHTTP downloads article images for upload, with the private-address guard.
	mediaHTTP *http.Client
	log       *zap.Logger
	now       func() time.Time
	// pollEvery spaces the questions about an upload still processing (a second; tests less).
	pollEvery time.Duration
}

var (
	_ channels.Channel       = (*Channel)(nil)
	_ channels.Deduplicating = (*Channel)(nil)
	_ channels.Checker       = (*Channel)(nil)
	_ channels.Deleter       = (*Channel)(nil)
	_ channels.Previewer     = (*Channel)(nil)
)

// New builds a Mastodon channel from its spec. It does not call the network: a wrong token
// shows up on the first Send (the channel pauses) or on Check.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	env = env.WithDefaults()
	return &Channel{
		name: spec.Name,
		cfg:  cfg,
		send: &httpsend.Client{HTTP: httpsend.NoRedirects(env.HTTPClient), Timeout: cfg.Timeout, Prefix: "mastodon",
			Secrets: []string{cfg.AccessToken}, Log: env.Logger},
		mediaHTTP: safehttp.NewClient(safehttp.Options{Timeout: cfg.Timeout, AllowPrivate: cfg.AllowPrivateHosts, Setting: "allow_private_hosts"}),
		log:       env.Logger,
		now:       time.Now,
		pollEvery: time.Second,
	}, nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindMastodon }

// Deduplicates implements channels.Deduplicating: every status carries the delivery's key as
// its Idempotency-Key, and Mastodon answers a repeated key (for 1 hour after the status was
// made) with the status it made, posting nothing new. So the worker retries a send whose
// answer was lost instead of parking it.
// Specs: https://docs.joinmastodon.org/methods/statuses/#create (Idempotency-Key)
func (c *Channel) Deduplicates() bool { return true }

// DedupWindow implements channels.DedupWindowed: Mastodon keeps an Idempotency-Key for an hour
// (Redis key idempotency:status:…, EX 3600), after which the same key posts a new status.
// Specs: https://docs.joinmastodon.org/methods/statuses/#create
func (c *Channel) DedupWindow() time.Duration { return time.Hour }

// IdempotencyKey is the key of the i-th post (from 0) of a message: the message's key for the
// first, the key and "#<i+1>" for the others, so each post of a message is made once.
func IdempotencyKey(msgKey string, i int) string {
	if i == 0 {
		return msgKey
	}
	return msgKey + "#" + strconv.Itoa(i+1)
}

// Status is the part of Mastodon's Status entity herald reads.
// Specs: https://docs.joinmastodon.org/entities/Status/
type Status struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	URI string `json:"uri"`
}

// Send posts each of msg.Posts in order as a status, each with up to four of its images
// (media.go). The receipt holds the status id (several, comma-joined, for several posts) and
// the first status's url. A later post failing after an earlier one was made is UnknownOutcome
// (channels.SendEach); the worker retries it, and the made posts answer their own status again.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	if strings.TrimSpace(msg.Key) == "" {
		return channels.Receipt{}, channels.Permanent(errors.New("mastodon: message has no key for the Idempotency-Key"))
	}
	i := 0
	urls := map[string]string{}
	send := func(ctx context.Context, post channels.Post) (string, error) {
		st, err := c.sendPost(ctx, IdempotencyKey(msg.Key, i), post)
		i++
		if err != nil {
			return "", err
		}
		urls[st.ID] = st.URL
		return st.ID, nil
	}
	return channels.SendEach(ctx, "mastodon", "status", msg.Posts, send, func(id string) string { return urls[id] })
}

// sendPost uploads the post's images, then creates the status with exactly the rendered text.
func (c *Channel) sendPost(ctx context.Context, key string, post channels.Post) (Status, error) {
	if strings.TrimSpace(post.Text) == "" && len(post.Media) == 0 {
		return Status{}, channels.Permanent(errors.New("mastodon: post has neither text nor media"))
	}
	mediaIDs, err := c.uploadImages(ctx, post.Media)
	if err != nil {
		return Status{}, err
	}
	req, err := http.NewRequest(http.MethodPost, c.cfg.Instance+"/api/v1/statuses", strings.NewReader(c.statusForm(post, mediaIDs).Encode()))
	if err != nil {
		return Status{}, channels.Permanent(c.send.Errorf("creating status: %w", err))
	}
	req.Header.Set("Content-Type", formType)
	req.Header.Set("Idempotency-Key", key)
	var st Status
	// Specs: https://docs.joinmastodon.org/methods/statuses/#create
	if err := c.call(ctx, "creating status", req, &st, true); err != nil {
		return Status{}, err
	}
	if st.ID == "" {
		return Status{}, channels.UnknownOutcome(errors.New("mastodon: creating status: the answer has no status id"))
	}
	if st.URL == "" {
		st.URL = st.URI
	}
	return st, nil
}

const formType = "application/x-www-form-urlencoded"

// statusForm is the body of POST /api/v1/statuses.
func (c *Channel) statusForm(post channels.Post, mediaIDs []string) url.Values {
	form := url.Values{"status": {post.Text}, "visibility": {string(c.cfg.Visibility)}}
	if lang := c.language(post); lang != "" {
		form.Set("language", lang)
	}
	for _, id := range mediaIDs {
		form.Add("media_ids[]", id)
	}
	return form
}

// language is the status's language: the language setting, else the article's (the
// formatter's Extra["language"]); "" lets Mastodon guess.
func (c *Channel) language(post channels.Post) string {
	if c.cfg.Language != "" {
		return c.cfg.Language
	}
	if s, ok := post.Extra["language"].(string); ok && languageRE.MatchString(s) {
		return s
	}
	return ""
}

// call sends req with the bearer token through the shared round trip (httpsend: timeout,
// context, request-left-or-not trace, secrets out of errors) and decodes a 2xx answer into out.
// creating marks a request that makes something: only there may a lost answer mean it was
// made (UnknownOutcome); elsewhere trying again is harmless, so the error is plain retryable.
func (c *Channel) call(ctx context.Context, action string, req *http.Request, out any, creating bool) error {
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	req.Header.Set("Accept", "application/json")
	resp, err := c.send.Do(ctx, action, req)
	if err != nil {
		var u *channels.UnknownOutcomeError
		if !creating && errors.As(err, &u) {
			return u.Err
		}
		return err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return c.classify(action, resp, creating)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(resp.Body, out); err != nil {
		err = c.send.Errorf("%s: reading the %d answer: %w", action, resp.Status, err)
		if creating {
			return channels.UnknownOutcome(err) // Mastodon said yes: it exists
		}
		return err
	}
	return nil
}

func (c *Channel) get(ctx context.Context, action, path string, out any) error {
	req, err := http.NewRequest(http.MethodGet, c.cfg.Instance+path, nil)
	if err != nil {
		return channels.Permanent(c.send.Errorf("%s: %w", action, err))
	}
	return c.call(ctx, action, req, out, false)
}

// Delete takes back the statuses of a receipt (comma-joined ids), for corrections and
// takedowns. A status already gone (404) counts as deleted. Mastodon allows 30 deletes per
// 30 minutes per account; a 429 is a RateLimited error.
// Specs: https://docs.joinmastodon.org/methods/statuses/#delete
func (c *Channel) Delete(ctx context.Context, remoteID string) error {
	for _, id := range strings.Split(remoteID, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		action := "deleting status " + id
		req, err := http.NewRequest(http.MethodDelete, c.cfg.Instance+"/api/v1/statuses/"+url.PathEscape(id), nil)
		if err != nil {
			return channels.Permanent(c.send.Errorf("%s: %w", action, err))
		}
		err = c.call(ctx, action, req, nil, false)
		var ae *APIError
		if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Account is the part of Mastodon's Account entity Check reads.
type Account struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Acct     string `json:"acct"`
	URL      string `json:"url"`
}

// Check asks the server whose token this is (GET /api/v1/accounts/verify_credentials), which
// posts nothing, then reads the server's status length limit (GET /api/v2/instance) for the
// log line; herald doctor compares that limit with the channel's format.limit.
// Errors are classified like Send's (a revoked token is an Auth error).
// Specs: https://docs.joinmastodon.org/methods/accounts/#verify_credentials
func (c *Channel) Check(ctx context.Context) error {
	var acc Account
	if err := c.get(ctx, "checking the access token", "/api/v1/accounts/verify_credentials", &acc); err != nil {
		return err
	}
	if acc.ID == "" {
		return errors.New("mastodon: checking the access token: the answer has no account id")
	}
	fields := []zap.Field{zap.String("account", acc.Acct), zap.String("instance", c.cfg.Instance)}
	if n, err := c.MaxCharacters(ctx); err != nil {
		c.log.Warn("mastodon: reading the server's status limit", zap.Error(err))
	} else {
		fields = append(fields, zap.Int("max_characters", n))
	}
	c.log.Info("mastodon access token works", fields...)
	return nil
}

// MaxCharacters is the server's status length limit (configuration.statuses.max_characters).
// Specs: https://docs.joinmastodon.org/methods/instance/#v2
func (c *Channel) MaxCharacters(ctx context.Context) (int, error) {
	var inst struct {
		Configuration struct {
			Statuses struct {
				MaxCharacters int `json:"max_characters"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	if err := c.get(ctx, "reading the instance", "/api/v2/instance", &inst); err != nil {
		return 0, err
	}
	if n := inst.Configuration.Statuses.MaxCharacters; n > 0 {
		return n, nil
	}
	return 0, errors.New("mastodon: reading the instance: no configuration.statuses.max_characters")
}

// Preview implements channels.Previewer: the requests Send makes for msg, the token hidden.
// Each image is uploaded first (its bytes, downloaded at send time, stand as a placeholder) and
// the status then names the media ids the server answered.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	var out []channels.Request
	for i, post := range msg.Posts {
		var ids []string
		for _, u := range imageURLs(post.Media) {
			out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.Instance + "/api/v2/media",
				Header: map[string]string{"Authorization": "Bearer <redacted>", "Content-Type": "multipart/form-data"},
				Body:   "file=<the image at " + u + ">"})
			ids = append(ids, fmt.Sprintf("<media id %d>", len(ids)+1))
		}
		out = append(out, channels.Request{Method: http.MethodPost, URL: c.cfg.Instance + "/api/v1/statuses",
			Header: map[string]string{"Authorization": "Bearer <redacted>", "Content-Type": formType, "Idempotency-Key": IdempotencyKey(msg.Key, i)},
			Body:   c.statusForm(post, ids).Encode()})
	}
	return out, nil
}
