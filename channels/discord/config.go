package discord

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"herald/channels"
)

// Config is the settings block of a channel of kind "discord":
//
//	channels:
//	  - name: dc-news
//	    kind: discord
//	    settings:
//	      webhook_url_file: /run/secrets/dc-news     # or webhook_url: https://discord.com/api/webhooks/<id>/<token>, or webhook_url_env: VAR
//	      username: "Herald News"                    # optional: the name the posts show (default: the webhook's own)
//	      avatar_url: https://news.example.com/logo.png  # optional: the picture the posts show
//	      thread_id: "1200000000000000001"           # optional: post into this thread of the webhook's channel
//	      timeout: 15s                               # per request (default 15s)
//
// The webhook URL carries the webhook's token in its path: whoever has it can post, so it is a
// secret like a bot token. It may also come from HERALD_CH_<NAME>_WEBHOOK_URL. Errors, logs and
// previews show it as https://discord.com/api/v10/webhooks/<id>/***.
type Config struct {
	WebhookURL     string        `yaml:"webhook_url"`
	WebhookURLFile string        `yaml:"webhook_url_file"`
	WebhookURLEnv  string        `yaml:"webhook_url_env"`
	Username       string        `yaml:"username"`
	AvatarURL      string        `yaml:"avatar_url"`
	ThreadID       string        `yaml:"thread_id"`
	Timeout        time.Duration `yaml:"timeout"`

	hook webhook
}

// Defaults for zero values.
const (
	DefaultTimeout = 15 * time.Second
	// APIVersion is the version herald calls when the webhook URL names none (the URL Discord
	// shows is https://discord.com/api/webhooks/…, which means an old default version).
	// Specs: https://discord.com/developers/docs/reference#api-versioning
	APIVersion = "v10"
)

// webhook is a parsed webhook URL: base is scheme://host/api/vN/webhooks.
type webhook struct {
	base, id, token string
}

// URL is the webhook's execute URL, token included: only for requests.
func (w webhook) URL() string { return w.base + "/" + w.id + "/" + w.token }

// Safe is the webhook's URL with the token hidden, for errors, logs and previews.
func (w webhook) Safe() string { return w.base + "/" + w.id + "/***" }

// discordHosts are the hosts Discord serves webhooks from.
var discordHosts = map[string]bool{"discord.com": true, "discordapp.com": true,
	"ptb.discord.com": true, "canary.discord.com": true, "ptb.discordapp.com": true, "canary.discordapp.com": true}

var (
	// /api[/vN]/webhooks/<snowflake>/<token>; tokens are URL-safe base64 (68 characters today).
	hookPathRE = regexp.MustCompile(`^/api(/v[0-9]{1,2})?/webhooks/([0-9]{15,21})/([A-Za-z0-9_-]{20,200})/?$`)
	snowflake  = regexp.MustCompile(`^[0-9]{15,21}$`)
)

// errWebhookShape says what a webhook URL looks like without repeating the value given (it may
// be a real token pasted in the wrong place).
const errWebhookShape = "must be a Discord webhook URL like https://discord.com/api/webhooks/<id>/<token> (channel settings → Integrations → Webhooks → Copy Webhook URL)"

// parseWebhook checks a webhook URL. Errors never contain the URL. Loopback hosts over http are
// accepted for tests and the sandbox's fake Discord.
func parseWebhook(raw string) (webhook, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" {
		return webhook{}, errors.New(errWebhookShape)
	}
	host := strings.ToLower(u.Hostname())
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	switch {
	case u.Scheme == "https" && discordHosts[host] && u.Port() == "":
	case (u.Scheme == "http" || u.Scheme == "https") && loopback:
	case u.Scheme != "https":
		return webhook{}, errors.New("must be an https URL: " + errWebhookShape)
	default:
		return webhook{}, fmt.Errorf("host %q is not Discord's: %s", u.Host, errWebhookShape)
	}
	if u.RawQuery != "" {
		return webhook{}, errors.New("must have no query (?thread_id=… is the thread_id setting; herald adds ?wait=true itself): " + errWebhookShape)
	}
	m := hookPathRE.FindStringSubmatch(u.EscapedPath())
	if m == nil {
		return webhook{}, errors.New(errWebhookShape)
	}
	version := m[1]
	if version == "" {
		version = "/" + APIVersion
	}
	return webhook{base: u.Scheme + "://" + u.Host + "/api" + version + "/webhooks", id: m[2], token: m[3]}, nil
}

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// webhook URL. Errors name the setting or environment variable at fault, never the URL's token.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(os.Getenv, os.ReadFile); err != nil {
		return Config{}, fmt.Errorf("channel %q (discord): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	var errs []error
	sec := channels.Secret{Setting: "webhook_url", Value: c.WebhookURL, File: c.WebhookURLFile, Env: c.WebhookURLEnv}
	raw, err := sec.ResolveWith(getenv, readFile)
	switch {
	case errors.Is(err, channels.ErrNoSecret):
		errs = append(errs, fmt.Errorf("%w (%s; also webhook_url_file, webhook_url_env or $HERALD_CH_<NAME>_WEBHOOK_URL)", err, errWebhookShape))
	case err != nil:
		errs = append(errs, err)
	default:
		hook, perr := parseWebhook(raw)
		if perr != nil {
			errs = append(errs, fmt.Errorf("%s: %w", sec.Source(), perr))
		}
		c.WebhookURL, c.hook = raw, hook
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		errs = append(errs, err)
	}
	c.Username = strings.TrimSpace(c.Username)
	if err := checkUsername(c.Username); err != nil {
		errs = append(errs, fmt.Errorf("username: %w", err))
	}
	c.AvatarURL = strings.TrimSpace(c.AvatarURL)
	if c.AvatarURL != "" {
		if u, err := url.Parse(c.AvatarURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("avatar_url: %q is not an http(s) URL", c.AvatarURL))
		}
	}
	c.ThreadID = strings.TrimSpace(c.ThreadID)
	if c.ThreadID != "" && !snowflake.MatchString(c.ThreadID) {
		errs = append(errs, fmt.Errorf("thread_id: %q is not a Discord id (a number like 1200000000000000001; right-click the thread → Copy Thread ID)", c.ThreadID))
	}
	return errors.Join(errs...)
}

// checkUsername applies Discord's rules for a webhook's name: 1–80 characters, without the
// words Discord reserves, so a bad name fails at start-up and not on every post.
// Specs: https://discord.com/developers/docs/resources/webhook#execute-webhook (username) and
// https://discord.com/developers/docs/resources/user#usernames-and-nicknames
func checkUsername(name string) error {
	if name == "" {
		return nil
	}
	if n := utf8.RuneCountInString(name); n > 80 {
		return fmt.Errorf("%d characters, Discord allows 80", n)
	}
	low := strings.ToLower(name)
	for _, w := range []string{"discord", "clyde", "```"} {
		if strings.Contains(low, w) {
			return fmt.Errorf("%q may not contain %q (Discord refuses it)", name, w)
		}
	}
	if low == "everyone" || low == "here" {
		return fmt.Errorf("%q is reserved by Discord", name)
	}
	return nil
}
