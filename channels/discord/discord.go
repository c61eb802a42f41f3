// Package discord posts to a Discord channel through one of its webhooks: the rendered content
// (markdown) or an embed (title, description, link, image), never pinging anyone. The webhook
// URL is the credential. See config.go for the settings, errors.go for how Discord's answers map
// to retry decisions, ratelimit.go for the X-RateLimit headers, and docs/discord.md.
package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/channels/httpsend"
)

// Channel posts through one Discord webhook. It is safe for concurrent use.
type Channel struct {
	name channels.Name
	cfg  Config
	http *httpsend.Client
	log  *zap.Logger
	now  func() time.Time

	mu sync.Mutex
	// notBefore is when the webhook's bucket has room again (an empty bucket on the last
	// answer, or a 429).
	notBefore time.Time
	// guildID is the webhook's server, learnt from Check, for post URLs when a message
	// answer does not carry it.
	guildID string
	looked  bool // the webhook object was read once: guildID is what it said
}

var (
	_ channels.Channel   = (*Channel)(nil)
	_ channels.Checker   = (*Channel)(nil)
	_ channels.Deleter   = (*Channel)(nil)
	_ channels.Previewer = (*Channel)(nil)
)

// New builds a Discord channel from its spec. It does not call the network.
func New(spec channels.Spec, env channels.Env) (channels.Channel, error) {
	cfg, err := LoadConfig(spec)
	if err != nil {
		return nil, err
	}
	return newChannel(spec.Name, cfg, env), nil
}

func newChannel(name channels.Name, cfg Config, env channels.Env) *Channel {
	env = env.WithDefaults()
	c := &Channel{name: name, cfg: cfg, log: env.Logger, now: time.Now}
	c.http = &httpsend.Client{
		HTTP:    httpsend.NoRedirects(env.HTTPClient),
		Timeout: cfg.Timeout,
		Prefix:  "discord",
		// The token is the secret; the whole URL is listed too in case it was given with
		// another version or host spelling.
		Secrets: []string{cfg.hook.token, cfg.WebhookURL},
		SafeURL: func(*url.URL) string { return cfg.hook.Safe() },
		Log:     env.Logger,
		Now:     func() time.Time { return c.now() },
	}
	return c
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return c.name }

// Kind implements channels.Channel.
func (c *Channel) Kind() channels.Kind { return channels.KindDiscord }

// SafeURL is the webhook URL with its token hidden: https://discord.com/api/v10/webhooks/<id>/***.
func (c *Channel) SafeURL() string { return c.cfg.hook.Safe() }

// PostURL is the link to a message: https://discord.com/channels/<guild>/<channel>/<message>.
func PostURL(guildID, channelID, messageID string) string {
	return "https://discord.com/channels/" + guildID + "/" + channelID + "/" + messageID
}

// Send executes the webhook once per post (normally one) and returns the message ids
// (comma-joined) and the link to the first. Discord has no idempotency key: a post that may
// have arrived is channels.UnknownOutcome, parked for an admin rather than posted twice.
func (c *Channel) Send(ctx context.Context, msg channels.Message) (channels.Receipt, error) {
	c.learnGuild(ctx)
	var first *message
	rcpt, err := channels.SendEach(ctx, "discord", "message", msg.Posts, func(ctx context.Context, p channels.Post) (string, error) {
		m, err := c.execute(ctx, p)
		if err != nil {
			return "", err
		}
		if first == nil {
			first = m
		}
		return m.ID, nil
	}, nil)
	if err == nil && first != nil {
		rcpt.PostURL = c.postURL(first)
	}
	return rcpt, err
}

// message is the part of Discord's message object herald reads.
// Specs: https://discord.com/developers/docs/resources/message#message-object
type message struct {
	ID        string `json:"id"`
	ChannelID string `json:"channel_id"`
	GuildID   string `json:"guild_id"`
}

func (c *Channel) postURL(m *message) string {
	guild := m.GuildID
	if guild == "" {
		c.mu.Lock()
		guild = c.guildID
		c.mu.Unlock()
	}
	if guild == "" || m.ChannelID == "" {
		return ""
	}
	return PostURL(guild, m.ChannelID, m.ID)
}

// payload is the body of Execute Webhook.
// Specs: https://discord.com/developers/docs/resources/webhook#execute-webhook
type payload struct {
	Content string           `json:"content,omitempty"`
	Embeds  []map[string]any `json:"embeds,omitempty"`
	// AllowedMentions is always sent, with nothing allowed: a headline quoting "@everyone" or
	// a role must never ping a server.
	AllowedMentions allowedMentions `json:"allowed_mentions"`
	Username        string          `json:"username,omitempty"`
	AvatarURL       string          `json:"avatar_url,omitempty"`
}

// allowedMentions with an empty (not null) parse list allows no mention of any kind.
// Specs: https://discord.com/developers/docs/resources/message#allowed-mentions-object
type allowedMentions struct {
	Parse []string `json:"parse"`
}

// body is the JSON Discord receives for a post: its content, the embeds the formatter put in
// Extra["embeds"], and the channel's username and avatar. The post's Media is not attached:
// in content mode Discord's preview of the article link shows its picture, and an embed
// carries the image itself.
func (c *Channel) body(p channels.Post) ([]byte, error) {
	pl := payload{Content: p.Text, AllowedMentions: allowedMentions{Parse: []string{}},
		Username: c.cfg.Username, AvatarURL: c.cfg.AvatarURL}
	if raw, ok := p.Extra["embeds"]; ok && raw != nil {
		// Re-read through JSON: Extra holds []any of maps from the formatter, or whatever a
		// decoded JSON payload gives.
		b, err := json.Marshal(raw)
		if err == nil {
			err = json.Unmarshal(b, &pl.Embeds)
		}
		if err != nil {
			return nil, fmt.Errorf("extra embeds: not a list of embed objects: %w", err)
		}
	}
	if pl.Content == "" && len(pl.Embeds) == 0 {
		return nil, errors.New("the post has neither content nor an embed")
	}
	// Without HTML escaping: the preview shows "&" and "<" as Discord receives them.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(pl); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// executeURL is the webhook with ?wait=true, which makes Discord answer with the message it
// created (its id is the receipt), and the thread when one is set. It holds the token.
func (c *Channel) executeURL() string {
	q := url.Values{"wait": {"true"}}
	if c.cfg.ThreadID != "" {
		q.Set("thread_id", c.cfg.ThreadID)
	}
	return c.cfg.hook.URL() + "?" + q.Encode()
}

// execute posts one message.
// Specs: https://discord.com/developers/docs/resources/webhook#execute-webhook
func (c *Channel) execute(ctx context.Context, p channels.Post) (*message, error) {
	body, err := c.body(p)
	if err != nil {
		return nil, channels.Permanent(fmt.Errorf("discord: building the message: %w", err))
	}
	if err := c.waitBucket(ctx); err != nil {
		return nil, err
	}
	req, err := http.NewRequest(http.MethodPost, c.executeURL(), bytes.NewReader(body))
	if err != nil {
		return nil, channels.Permanent(c.http.Errorf("building the request: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	const action = "executing the webhook"
	resp, err := c.http.Do(ctx, action, req)
	if err != nil {
		return nil, err
	}
	if resp.Status == http.StatusTooManyRequests {
		err := c.classify(action, resp, true)
		if rl, ok := channels.AsRateLimited(err); ok {
			c.holdUntil(rl.RetryAt)
		}
		return nil, err
	}
	if resp.Status < 200 || resp.Status >= 300 {
		return nil, c.classify(action, resp, true)
	}
	c.noteBucket(resp.Header)
	var m message
	if err := json.Unmarshal(resp.Body, &m); err != nil || m.ID == "" {
		// Discord took the post but gave no id herald can read: it exists, herald cannot
		// delete or link it; an admin marks it sent.
		return nil, channels.UnknownOutcome(fmt.Errorf("discord: %s: the %d answer has no message id: %s", action, resp.Status, c.http.Snippet(resp.Body)))
	}
	return &m, nil
}

// userAgent names herald to Discord (its logs, and Cloudflare, see who calls).
const userAgent = "herald-discord"

// Preview implements channels.Previewer: the requests Send would make, the webhook token
// hidden.
func (c *Channel) Preview(msg channels.Message) ([]channels.Request, error) {
	if len(msg.Posts) == 0 {
		return nil, channels.Permanent(errors.New("discord: message has no posts"))
	}
	u := c.cfg.hook.Safe() + "?wait=true"
	if c.cfg.ThreadID != "" {
		u += "&thread_id=" + c.cfg.ThreadID
	}
	out := make([]channels.Request, 0, len(msg.Posts))
	for _, p := range msg.Posts {
		b, err := c.body(p)
		if err != nil {
			return nil, channels.Permanent(fmt.Errorf("discord: building the message: %w", err))
		}
		out = append(out, channels.Request{Method: http.MethodPost, URL: u,
			Header: map[string]string{"Content-Type": "application/json", "User-Agent": userAgent}, Body: string(b)})
	}
	return out, nil
}
