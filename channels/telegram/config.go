package telegram

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
)

// Config is the settings block of a channel of kind "telegram":
//
//	channels:
//	  - name: tg-main
//	    kind: telegram
//	    settings:
//	      chat_id: "@my_news"          # or -1001234567890 (required)
//	      token_file: /run/secrets/tg  # or token: "123:ABC"; default: $HERALD_TELEGRAM_TOKEN
//	      token_env: TG_MAIN_TOKEN      # read the token from this variable instead
//	      api_endpoint: "https://api.telegram.org/bot%s/%s"   # default; local Bot API servers, fakes
//	      timeout: 15s                  # per request; default 15s
//	      disable_web_page_preview: false
//	      photo_upload: true            # Telegram can't fetch a photo URL → download and upload it
//	      photo_max_bytes: 10485760     # download cap (Telegram's upload limit is 10 MB)
//	      allow_private_photo_hosts: false  # refuse photo URLs on loopback/private addresses
//	      bot_api_5xx: unknown          # a Bot API 500: unknown (park for an admin) or retry
//
// The token is looked for in this order: token, token_file, the variable named by token_env,
// then HERALD_TELEGRAM_TOKEN. Setting more than one of token, token_file and token_env is an
// error. The token never appears in an error or a log line.
type Config struct {
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	ChatID    ChatID `yaml:"chat_id"`
	// APIEndpoint is tgbotapi's format string: the first %s is the token, the second the method.
	APIEndpoint           string        `yaml:"api_endpoint"`
	Timeout               time.Duration `yaml:"timeout"`
	DisableWebPagePreview bool          `yaml:"disable_web_page_preview"`
	// PhotoUpload: when Telegram cannot fetch a photo URL (it caches such failures for long),
	// herald downloads the image and uploads the bytes; nil means on. Off, or when the download
	// fails, the post goes out as text.
	PhotoUpload *bool `yaml:"photo_upload"`
	// PhotoMaxBytes caps the download (default and maximum 10 MiB, Telegram's upload limit).
	PhotoMaxBytes int64 `yaml:"photo_max_bytes"`
	// AllowPrivatePhotoHosts lets the download reach loopback, private and link-local addresses
	// (a CMS on the same network); off by default so an article cannot make herald probe them.
	AllowPrivatePhotoHosts bool `yaml:"allow_private_photo_hosts"`
	// BotAPI5xx is what a 500 (or another 5xx but 504) from the Bot API itself means: "unknown"
	// (default: the post may exist, park it for an admin) or "retry" (send again, accepting a
	// rare duplicate). A 502/503 page from Telegram's front end is always retried, a 504 always
	// unknown; see docs/telegram.md.
	BotAPI5xx string `yaml:"bot_api_5xx"`
	// BotRate is the limit every channel on this bot token shares: "30/s" (default, Telegram's
	// broadcast limit per bot), another "N/s" or "N/min" (paid broadcasts allow up to 1000/s;
	// a local Bot API server), or "unlimited". Channels on one token should agree.
	BotRate string `yaml:"bot_rate"`

	botCount  int
	botPeriod time.Duration
}

// Values of bot_api_5xx.
const (
	BotAPI5xxUnknown = "unknown"
	BotAPI5xxRetry   = "retry"
)

// MaxPhotoBytes is Telegram's limit for an uploaded photo.
// Specs: https://core.telegram.org/bots/api#sending-files
const MaxPhotoBytes = 10 << 20

// Defaults for zero values.
const (
	DefaultAPIEndpoint = "https://api.telegram.org/bot%s/%s"
	DefaultTimeout     = 15 * time.Second
	// TokenEnvVar is read when no other token source is set.
	TokenEnvVar = "HERALD_TELEGRAM_TOKEN"
)

// ChatID is a chat's numeric id ("-1001234567890") or a public username ("@my_news"). In YAML
// it may be written as a number or a string.
type ChatID string

var usernameRE = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)

// UnmarshalYAML accepts a scalar: a number or a string.
func (c *ChatID) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: chat_id must be a number or an @username", n.Line)
	}
	*c = ChatID(strings.TrimSpace(n.Value))
	return nil
}

// Parse returns the numeric id, or the username (with its "@") when the id is a username.
func (c ChatID) Parse() (id int64, username string, err error) {
	s := string(c)
	if strings.HasPrefix(s, "@") {
		if !usernameRE.MatchString(s) {
			return 0, "", fmt.Errorf("%q is not a valid @username (5-32 letters, digits or _)", s)
		}
		return 0, s, nil
	}
	id, err = strconv.ParseInt(s, 10, 64)
	if err != nil || id == 0 {
		return 0, "", fmt.Errorf("%q is neither a numeric chat id nor an @username", s)
	}
	return id, "", nil
}

// PostURL is the public link to message id in this chat: https://t.me/<username>/<id> for a
// username, https://t.me/c/<id>/<id> for a supergroup or channel id (-100…), "" otherwise
// (private chats and basic groups have no links).
func (c ChatID) PostURL(messageID int) string {
	id, username, err := c.Parse()
	switch {
	case err != nil || messageID <= 0:
		return ""
	case username != "":
		return fmt.Sprintf("https://t.me/%s/%d", username[1:], messageID)
	}
	if s := strconv.FormatInt(id, 10); strings.HasPrefix(s, "-100") && len(s) > 4 {
		return fmt.Sprintf("https://t.me/c/%s/%d", s[4:], messageID)
	}
	return ""
}

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// token. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(os.Getenv, os.ReadFile); err != nil {
		return Config{}, fmt.Errorf("channel %q (telegram): %w", spec.Name, err)
	}
	return cfg, nil
}

// resolve applies defaults, reads the token and validates every setting.
func (c *Config) resolve(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	if c.APIEndpoint == "" {
		c.APIEndpoint = DefaultAPIEndpoint
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		return err
	}
	if err := c.parseBotRate(); err != nil {
		return err
	}
	switch c.BotAPI5xx {
	case "":
		c.BotAPI5xx = BotAPI5xxUnknown
	case BotAPI5xxUnknown, BotAPI5xxRetry:
	default:
		return fmt.Errorf("bot_api_5xx: %q is not unknown or retry", c.BotAPI5xx)
	}
	if c.PhotoMaxBytes == 0 {
		c.PhotoMaxBytes = MaxPhotoBytes
	}
	if c.PhotoMaxBytes < 0 || c.PhotoMaxBytes > MaxPhotoBytes {
		return fmt.Errorf("photo_max_bytes: %d is not in 1..%d", c.PhotoMaxBytes, MaxPhotoBytes)
	}
	if c.ChatID == "" {
		return errors.New("chat_id: required (a numeric id such as -1001234567890, or @username)")
	}
	if _, _, err := c.ChatID.Parse(); err != nil {
		return fmt.Errorf("chat_id: %w", err)
	}
	if err := checkEndpoint(c.APIEndpoint); err != nil {
		return fmt.Errorf("api_endpoint: %w", err)
	}
	return c.resolveToken(getenv, readFile)
}

func (c *Config) resolveToken(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	sec := channels.Secret{Setting: "token", Value: c.Token, File: c.TokenFile, Env: c.TokenEnv, FallbackEnv: TokenEnvVar}
	tok, err := sec.ResolveWith(getenv, readFile)
	source := sec.Source()
	if errors.Is(err, channels.ErrNoSecret) {
		return fmt.Errorf("%s: no bot token (set token, token_file, token_env or $%s)", source, TokenEnvVar)
	}
	if err != nil {
		return err
	}
	c.Token = tok
	if strings.ContainsAny(c.Token, " \t\r\n/?#%") {
		return fmt.Errorf("%s: the bot token contains characters a token cannot have", source)
	}
	return nil
}

// checkEndpoint checks api_endpoint. Errors show its scheme and host only: an endpoint copied
// from a working URL (https://api.telegram.org/bot123:AAH…/%s) holds the bot token.
func checkEndpoint(ep string) error {
	shown := channels.ShowURL(strings.ReplaceAll(ep, "%s", "x"))
	if strings.Count(ep, "%") != 2 || strings.Count(ep, "%s") != 2 {
		return fmt.Errorf("%s must contain exactly two %%s (token, then method)", shown)
	}
	u, err := url.Parse(fmt.Sprintf(ep, "TOKEN", "getMe"))
	if err != nil {
		return fmt.Errorf("%s is not a URL", shown)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s must be an http or https URL", shown)
	}
	return nil
}

var botRateRE = regexp.MustCompile(`^(\d+)\s*/\s*(s|min)$`)

// parseBotRate reads bot_rate into botCount per botPeriod (0 = unlimited).
func (c *Config) parseBotRate() error {
	if c.BotRate == "" {
		c.BotRate = "30/s"
	}
	if c.BotRate == "unlimited" {
		c.botCount = 0
		return nil
	}
	m := botRateRE.FindStringSubmatch(strings.TrimSpace(c.BotRate))
	n := 0
	if m != nil {
		n, _ = strconv.Atoi(m[1])
	}
	if n < 1 || n > 100_000 {
		return fmt.Errorf("bot_rate: %q is not a rate like 30/s, 600/min or unlimited", c.BotRate)
	}
	c.botCount, c.botPeriod = n, time.Second
	if m[2] == "min" {
		c.botPeriod = time.Minute
	}
	return nil
}
