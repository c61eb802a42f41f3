package mastodon

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"time"

	"herald/channels"
)

// Config is the settings block of a channel of kind "mastodon":
//
//	channels:
//	  - name: masto-ar
//	    kind: mastodon
//	    settings:
//	      instance: https://mastodon.social          # required: the account's server
//	      access_token_file: /run/secrets/masto-ar  # or access_token / access_token_env
//	      visibility: public                        # public (default), unlisted, private, direct
//	      language: ar                              # optional: overrides the article's language
//	      timeout: 15s                              # per request (default 15s)
//	      allow_private_hosts: false                # image downloads may reach private addresses
//
// access_token is an application token of the account with the scopes write:statuses,
// write:media and read:accounts (Check); like every setting it may also come from
// HERALD_CH_<NAME>_ACCESS_TOKEN. It never appears in an error or a log line.
type Config struct {
	Instance          string        `yaml:"instance"`
	AccessToken       string        `yaml:"access_token"`
	AccessTokenFile   string        `yaml:"access_token_file"`
	AccessTokenEnv    string        `yaml:"access_token_env"`
	Visibility        Visibility    `yaml:"visibility"`
	Language          string        `yaml:"language"`
	Timeout           time.Duration `yaml:"timeout"`
	AllowPrivateHosts bool          `yaml:"allow_private_hosts"`
}

// Visibility is who sees a status.
// Specs: https://docs.joinmastodon.org/entities/Status/#visibility
type Visibility string

const (
	Public   Visibility = "public"
	Unlisted Visibility = "unlisted"
	Private  Visibility = "private" // followers only
	Direct   Visibility = "direct"  // mentioned accounts only
)

// Defaults for zero values.
const (
	DefaultVisibility = Public
	DefaultTimeout    = 15 * time.Second
	// MaxImageBytes caps an image herald downloads to upload (Mastodon's default image limit is
	// 16 MB; GET /api/v2/instance configuration.media_attachments.image_size_limit).
	MaxImageBytes = 16 << 20
	// MaxImages is how many media attachments one status may carry.
	MaxImages = 4
)

// languageRE is an ISO 639 code, optionally with a region (Mastodon knows zh-TW, pt-BR …).
var languageRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z]{2,4})?$`)

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// token. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (mastodon): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve() error {
	var errs []error
	if err := c.resolveInstance(); err != nil {
		errs = append(errs, err)
	}
	switch c.Visibility {
	case "":
		c.Visibility = DefaultVisibility
	case Public, Unlisted, Private, Direct:
	default:
		errs = append(errs, fmt.Errorf("visibility: %q is not one of public, unlisted, private, direct", c.Visibility))
	}
	c.Language = strings.TrimSpace(c.Language)
	if c.Language != "" && !languageRE.MatchString(c.Language) {
		errs = append(errs, fmt.Errorf("language: %q is not an ISO 639 code like ar or en", c.Language))
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		errs = append(errs, err)
	}
	tok, err := channels.Secret{Setting: "access_token", Value: c.AccessToken, File: c.AccessTokenFile, Env: c.AccessTokenEnv}.Resolve()
	if err != nil {
		errs = append(errs, err)
	}
	c.AccessToken = tok
	return errors.Join(errs...)
}

// resolveInstance checks the instance URL: https (http only for a loopback server, the fakes
// of tests and the sandbox), a host, no path beyond "/" (the API paths are fixed), no query.
func (c *Config) resolveInstance() error {
	c.Instance = strings.TrimRight(strings.TrimSpace(c.Instance), "/")
	if c.Instance == "" {
		return errors.New("instance: required, the account's server like https://mastodon.social")
	}
	u, err := url.Parse(c.Instance)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("instance: %s is not a server URL like https://mastodon.social", channels.ShowURL(c.Instance))
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return fmt.Errorf("instance: %s must be https (the access token would travel in clear)", channels.ShowURL(c.Instance))
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Path != "":
		return fmt.Errorf("instance: %s must be the server alone (scheme and host), without a path, query or credentials", channels.ShowURL(c.Instance))
	}
	return nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
