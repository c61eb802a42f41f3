// Package websub tells WebSub hubs that the site's feeds changed, the moment an article is
// published, so that aggregators reading those feeds (Google News, Nabd and other readers
// subscribed through a hub) fetch them in seconds instead of at their next poll. See config.go
// for the settings and docs/websub.md.
package websub

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel pings the configured hubs for the configured topics. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	http *httpsend.Client
	now  func() time.Time
}

var (
	_ channels.Channel       = (*Channel)(nil)
	_ channels.Deduplicating = (*Channel)(nil)
	_ channels.Previewer     = (*Channel)(nil)
)

// New builds a websub channel from its spec without calling the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	c := &Channel{name: spec.Name, cfg: cfg, now: time.Now}
	c.http = &httpsend.Client{
		HTTP:    httpsend.NoRedirects(env.HTTPClient),
		Timeout: cfg.Timeout,
		Prefix:  "websub",
		// A hub URL may carry credentials (https://user:token@hub.example/): never in an error.
		Secrets: hubPasswords(cfg.Hubs),
		SafeURL: func(u *url.URL) string { u.User = nil; return u.String() },
		Log:     env.Logger,
		Now:     func() time.Time { return c.now() },
	}
	return c, nil
}

// safeHub is a hub URL without its user info, for receipts.
func safeHub(hub string) string {
	u, err := url.Parse(hub)
	if err != nil {
		return "<hub>"
	}
	u.User = nil
	return u.String()
}

func hubPasswords(hubs []string) []string {
	var out []string
	for _, h := range hubs {
		if u, err := url.Parse(h); err == nil && u.User != nil {
			// The userinfo as written, its password, and the Basic header Go's client makes of it.
			out = append(out, u.User.String())
			if p, ok := u.User.Password(); ok {
				out = append(out, p, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)))
			}
		}
	}
	return out
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindWebSub }

// Deduplicates implements channels.Deduplicating: a ping only says "fetch this feed again",
// so one that may have arrived is safely sent again.
func (c *Channel) Deduplicates() bool { return true }

// Send pings every hub for every topic. The article itself is not sent: the hub fetches the
// feeds, which carry it. All pings are tried; when some fail, the error is the one most worth
// retrying (a retry pings every hub again, which is harmless). The receipt's remote id is the
// hubs pinged, its post URL the first topic.
func (c *Channel) Send(ctx context.Context, _ channels.Message) (channels.Receipt, error) {
	var errs []error
	for _, hub := range c.cfg.Hubs {
		for _, topic := range c.cfg.Topics {
			if err := c.ping(ctx, hub, topic); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := worst(errs); err != nil {
		return channels.Receipt{}, err
	}
	// The receipt is stored and shown (API, dashboard): hubs without their credentials.
	hubs := make([]string, len(c.cfg.Hubs))
	for i, h := range c.cfg.Hubs {
		hubs[i] = safeHub(h)
	}
	return channels.Receipt{RemoteID: strings.Join(hubs, " "), PostURL: c.cfg.Topics[0]}, nil
}

// worst picks the error that decides what happens: a retryable one first (pings are
// idempotent), then a rate limit (the latest), then a permanent one.
func worst(errs []error) error {
	var rl *channels.RateLimitedError
	var perm error
	for _, err := range errs {
		r, isRL := channels.AsRateLimited(err)
		switch {
		case isRL:
			if rl == nil || r.RetryAt.After(rl.RetryAt) {
				rl = r
			}
		case channels.IsPermanent(err):
			if perm == nil {
				perm = err
			}
		default:
			return err
		}
	}
	if rl != nil {
		return rl
	}
	return perm
}

// form is the publish ping.
// Specs: https://www.w3.org/TR/websub/#publishing and
// https://pubsubhubbub.github.io/PubSubHubbub/pubsubhubbub-core-0.4.html#rfc.section.7
func form(topic string) url.Values {
	return url.Values{"hub.mode": {"publish"}, "hub.url": {topic}}
}

func (c *Channel) ping(ctx context.Context, hub, topic string) error {
	req, err := http.NewRequest(http.MethodPost, hub, strings.NewReader(form(topic).Encode()))
	if err != nil {
		return channels.Permanent(c.http.Errorf("pinging %s: %w", hub, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "herald-websub")
	action := fmt.Sprintf("pinging %s for %s", hub, topic)
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return err
	}
	return c.classify(action, resp)
}

// DefaultRetryAfter is the wait after a 429 without a Retry-After.
const DefaultRetryAfter = 30 * time.Second

// HubError is a hub's answer other than 2xx.
type HubError struct {
	Status int
	Body   string
}

func (e *HubError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("hub answered %d", e.Status)
	}
	return fmt.Sprintf("hub answered %d: %s", e.Status, e.Body)
}

// classify: 2xx (Google's hub: 204) delivered; 429 rate-limited until Retry-After; 5xx and
// 408 (the hub gave up waiting for the request) retryable; other answers (400 bad topic, 3xx)
// permanent.
func (c *Channel) classify(action string, resp *httpsend.Response) error {
	if resp.Status >= 200 && resp.Status < 300 {
		return nil
	}
	err := c.http.Errorf("%s: %w", action, &HubError{Status: resp.Status, Body: c.http.Snippet(resp.Body)})
	switch {
	case resp.Status == 429:
		return channels.RateLimited(err, c.http.RetryAt(resp, DefaultRetryAfter))
	case resp.Status >= 500, resp.Status == 408:
		return err
	default:
		return channels.Permanent(err)
	}
}

// AsHubError reads a HubError through wrapping.
func AsHubError(err error) (*HubError, bool) {
	var he *HubError
	ok := errors.As(err, &he)
	return he, ok
}

// Preview implements channels.Previewer: the pings Send would make.
func (c *Channel) Preview(channels.Message) ([]channels.Request, error) {
	var out []channels.Request
	for _, hub := range c.cfg.Hubs {
		for _, topic := range c.cfg.Topics {
			out = append(out, channels.Request{Method: http.MethodPost, URL: c.http.RedactString(hub),
				Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, Body: form(topic).Encode()})
		}
	}
	return out, nil
}
