package bluesky

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"herald/channels"
)

// Config is the settings block of a channel of kind "bluesky":
//
//	channels:
//	  - name: bsky
//	    kind: bluesky
//	    settings:
//	      identifier: news.example.com          # the account's handle or DID (required)
//	      app_password_file: /run/secrets/bsky  # or app_password / app_password_env
//	      service: https://bsky.social          # the account's PDS or entryway (default)
//	      timeout: 15s                          # per request (default 15s)
//	      allow_private_hosts: false            # card thumbnails may come from private addresses
//
// app_password is an App Password (Settings → Privacy and security → App passwords), never the
// account password; like every setting it may also come from HERALD_CH_<NAME>_APP_PASSWORD. It
// and the session tokens it buys never appear in an error, a log line or a preview.
type Config struct {
	Service           string        `yaml:"service"`
	Identifier        string        `yaml:"identifier"`
	AppPassword       string        `yaml:"app_password"`
	AppPasswordFile   string        `yaml:"app_password_file"`
	AppPasswordEnv    string        `yaml:"app_password_env"`
	Timeout           time.Duration `yaml:"timeout"`
	AllowPrivateHosts bool          `yaml:"allow_private_hosts"`
}

// Defaults for zero values, and the platform's limits.
const (
	DefaultService = "https://bsky.social"
	DefaultTimeout = 15 * time.Second
	// MaxThumbBytes is the card thumbnail's limit (app.bsky.embed.external#external.thumb
	// maxSize); a larger image would make the PDS refuse the whole post.
	// Specs: https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/embed/external.json
	MaxThumbBytes = 1_000_000
)

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the app
// password. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (bluesky): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve() error {
	var errs []error
	if c.Service == "" {
		c.Service = DefaultService
	}
	c.Service = strings.TrimRight(c.Service, "/")
	if u, err := url.Parse(c.Service); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		errs = append(errs, fmt.Errorf("service: %s is not an http(s) URL without a query", channels.ShowURL(c.Service)))
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		errs = append(errs, err)
	}
	c.Identifier = strings.TrimPrefix(strings.TrimSpace(c.Identifier), "@")
	if c.Identifier == "" || strings.ContainsAny(c.Identifier, " /?#") {
		errs = append(errs, errors.New("identifier: required, the account's handle (news.example.com) or DID (did:plc:…)"))
	}
	pw, err := channels.Secret{Setting: "app_password", Value: c.AppPassword, File: c.AppPasswordFile, Env: c.AppPasswordEnv}.Resolve()
	if err != nil {
		errs = append(errs, err)
	}
	c.AppPassword = pw
	return errors.Join(errs...)
}
