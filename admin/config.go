// Package admin is herald's Telegram admin bot: admins check, repost, retry and pause from a
// chat; herald sends them a digest of what needs a decision. It runs inside `herald serve` when
// the config has an `admin:` block. Every action is checked (allowed users, once-only buttons)
// and written to the audit log in Redis.
package admin

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"herald/channels"
)

// Config is the `admin:` block:
//
//	admin:
//	  telegram:
//	    token_env: HERALD_ADMIN_BOT_TOKEN     # or token / token_file (default: that variable)
//	    api_endpoint: "https://api.telegram.org/bot%s/%s"
//	    allowed_user_ids: [123456789]          # who may command; everyone else is refused
//	    admin_chat_id: -1001234567890          # optional: every member of this group may command
//	    alert_chat_id: -1001234567890          # where alerts go (optional: no alerts without it)
//	    alert_thread_id: 42                    # its topic, in a group with topics (optional)
//	    language: ar                           # replies in ar (default) or en
//	    mode: polling                          # or webhook
//	    webhook_url: https://herald.example.com/telegram/admin   # webhook mode
//	    webhook_secret_env: HERALD_ADMIN_WEBHOOK_SECRET           # or webhook_secret
//	  alerts:
//	    delay: 30s       # gather alerts this long before the first digest
//	    interval: 10m    # at most one digest per interval
//	    button_ttl: 24h  # how long a digest's buttons work
//	    feed_failures: 3 # failed polls in a row that make a feed alert
type Config struct {
	Telegram TelegramConfig `yaml:"telegram"`
	Alerts   AlertsConfig   `yaml:"alerts"`
}

// TelegramConfig is admin.telegram.
type TelegramConfig struct {
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	// APIEndpoint is tgbotapi's format string: the first %s is the token, the second the method.
	APIEndpoint    string  `yaml:"api_endpoint"`
	AllowedUserIDs []int64 `yaml:"allowed_user_ids"`
	// AdminChatID is an optional admin group: anyone who can write in it may command.
	AdminChatID int64 `yaml:"admin_chat_id"`
	// AlertChatID receives the alert digests; 0 turns alerts off.
	AlertChatID int64 `yaml:"alert_chat_id"`
	// AlertThreadID is the topic of alert_chat_id the digests go to, when that group has
	// topics (0: the General topic, or a chat without topics).
	AlertThreadID int    `yaml:"alert_thread_id"`
	Language      string `yaml:"language"` // ar (default) or en
	Mode          string `yaml:"mode"`     // polling (default) or webhook
	// PollTimeout is the long-poll wait of getUpdates (default 25s).
	PollTimeout time.Duration `yaml:"poll_timeout"`
	// WebhookURL is the public HTTPS URL Telegram posts updates to (webhook mode); herald serves
	// it on its HTTP address at the URL's path.
	WebhookURL       string `yaml:"webhook_url"`
	WebhookSecret    string `yaml:"webhook_secret"`
	WebhookSecretEnv string `yaml:"webhook_secret_env"`
}

// AlertsConfig is admin.alerts.
type AlertsConfig struct {
	// Delay is how long the first alert after a quiet spell waits for others (default 30s).
	Delay time.Duration `yaml:"delay"`
	// Interval is the least time between two digests (default 10m): a bad hour sends a handful
	// of digests, not one message per failure.
	Interval time.Duration `yaml:"interval"`
	// ButtonTTL is how long the buttons of a digest stay usable (default 24h).
	ButtonTTL time.Duration `yaml:"button_ttl"`
	// FeedFailures is how many failed polls in a row make a feed worth an alert (default 3).
	FeedFailures int `yaml:"feed_failures"`
}

// standInUsers are the accounts Telegram puts in a message's from when someone writes on
// behalf of a chat (an anonymous group admin, a channel) or forwards a channel's post.
// Specs: https://core.telegram.org/bots/api#message (from, sender_chat)
var standInUsers = map[int64]string{
	1087968824: "@GroupAnonymousBot",
	136817688:  "@Channel_Bot",
	777000:     "Telegram's service account",
}

// Defaults.
const (
	DefaultTokenEnv         = "HERALD_ADMIN_BOT_TOKEN"
	DefaultWebhookSecretEnv = "HERALD_ADMIN_WEBHOOK_SECRET"
	DefaultAPIEndpoint      = "https://api.telegram.org/bot%s/%s"
	DefaultPollTimeout      = 25 * time.Second
	DefaultAlertDelay       = 30 * time.Second
	DefaultAlertInterval    = 10 * time.Minute
	DefaultButtonTTL        = 24 * time.Hour
	DefaultFeedFailures     = 3
)

var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// Resolve applies defaults, reads the token and the webhook secret, and validates. Errors name
// the setting (relative to admin.) or the variable at fault, never the token.
func (c *Config) Resolve(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	t := &c.Telegram
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t.APIEndpoint == "" {
		t.APIEndpoint = DefaultAPIEndpoint
	}
	if err := checkEndpoint(t.APIEndpoint); err != nil {
		bad("telegram.api_endpoint: %v", err)
	}
	if err := t.resolveToken(getenv, readFile); err != nil {
		bad("telegram.%v", err)
	}
	if len(t.AllowedUserIDs) == 0 && t.AdminChatID == 0 {
		bad("telegram.allowed_user_ids: empty, and no admin_chat_id: nobody could command the bot")
	}
	if slices.ContainsFunc(t.AllowedUserIDs, func(id int64) bool { return id <= 0 }) {
		bad("telegram.allowed_user_ids: user ids are positive numbers (ask @userinfobot)")
	}
	for _, id := range t.AllowedUserIDs {
		if name, ok := standInUsers[id]; ok {
			// The from.id of a refused anonymous admin, read in herald audit: allowing it would
			// let anyone who adds the bot to a group of their own and writes there anonymously
			// (or as a channel) command it.
			bad("telegram.allowed_user_ids: %d is %s, Telegram's stand-in for whoever writes on behalf of a group or channel, not a person: allow the people (with \"Remain anonymous\" off), or make the group admin_chat_id", id, name)
		}
	}
	switch {
	case t.AlertThreadID < 0:
		bad("telegram.alert_thread_id: a topic id is a positive number (the last number of the topic's link, t.me/c/…/42)")
	case t.AlertThreadID != 0 && t.AlertChatID == 0:
		bad("telegram.alert_thread_id: set without alert_chat_id, the group the topic is in")
	}
	switch t.Language {
	case "":
		t.Language = "ar"
	case "ar", "en":
	default:
		bad("telegram.language: %q is not ar or en", t.Language)
	}
	if t.PollTimeout <= 0 {
		t.PollTimeout = DefaultPollTimeout
	}
	switch t.Mode {
	case "":
		t.Mode = "polling"
	case "polling":
	case "webhook":
		u, err := url.Parse(t.WebhookURL)
		if t.WebhookURL == "" || err != nil || u.Scheme != "https" || u.Host == "" {
			bad("telegram.webhook_url: webhook mode needs the public https URL Telegram will call")
		}
		if t.WebhookSecret != "" && t.WebhookSecretEnv != "" {
			bad("telegram.webhook_secret, webhook_secret_env: set only one")
		}
		env := t.WebhookSecretEnv
		if env == "" {
			env = DefaultWebhookSecretEnv
		}
		if t.WebhookSecret == "" {
			t.WebhookSecret = strings.TrimSpace(getenv(env))
		}
		if !secretRE.MatchString(t.WebhookSecret) {
			bad("telegram.webhook_secret ($%s): webhook mode needs a secret of 1-256 characters A-Z a-z 0-9 _ -", env)
		}
	default:
		bad("telegram.mode: %q is not polling or webhook", t.Mode)
	}
	a := &c.Alerts
	if a.Delay <= 0 {
		a.Delay = DefaultAlertDelay
	}
	if a.Interval <= 0 {
		a.Interval = DefaultAlertInterval
	}
	if a.ButtonTTL <= 0 {
		a.ButtonTTL = DefaultButtonTTL
	}
	if a.FeedFailures <= 0 {
		a.FeedFailures = DefaultFeedFailures
	}
	return errors.Join(errs...)
}

func (t *TelegramConfig) resolveToken(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	set := 0
	for _, s := range []string{t.Token, t.TokenFile, t.TokenEnv} {
		if s != "" {
			set++
		}
	}
	if set > 1 {
		return errors.New("token, token_file, token_env: set only one")
	}
	source := "token"
	switch {
	case t.Token != "":
	case t.TokenFile != "":
		source = "token_file"
		b, err := readFile(t.TokenFile)
		if err != nil {
			return fmt.Errorf("token_file: %w", err)
		}
		t.Token = strings.TrimSpace(string(b))
	default:
		env := t.TokenEnv
		if env == "" {
			env = DefaultTokenEnv
		}
		source = "token_env: $" + env
		t.Token = strings.TrimSpace(getenv(env))
	}
	if t.Token == "" {
		return fmt.Errorf("%s: no admin bot token (set token, token_file, token_env or $%s)", source, DefaultTokenEnv)
	}
	if strings.ContainsAny(t.Token, " \t\r\n/?#%") {
		return fmt.Errorf("%s: the bot token contains characters a token cannot have", source)
	}
	return nil
}

func checkEndpoint(ep string) error {
	// Scheme and host only: an endpoint copied from a working URL holds the bot token.
	shown := channels.ShowURL(strings.ReplaceAll(ep, "%s", "x"))
	if strings.Count(ep, "%") != 2 || strings.Count(ep, "%s") != 2 {
		return fmt.Errorf("%s must contain exactly two %%s (token, then method)", shown)
	}
	u, err := url.Parse(fmt.Sprintf(ep, "TOKEN", "getMe"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an http or https URL", shown)
	}
	return nil
}
