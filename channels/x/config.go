package x

import (
	"errors"
	"fmt"
	"time"

	"herald/channels"
)

// Config is the settings block of a channel of kind "x":
//
//	channels:
//	  - name: x-main
//	    kind: x
//	    settings:
//	      consumer_key_env: X_API_KEY        # or consumer_key / consumer_key_file
//	      consumer_secret_file: /run/secrets/x-api-secret
//	      access_token: "1234-abc"           # or HERALD_CH_X_MAIN_ACCESS_TOKEN
//	      access_secret_env: X_ACCESS_SECRET
//	      api_base: https://api.x.com        # default; a fake in tests and the sandbox
//	      price_post: 0.015                  # USD per post without a URL (default)
//	      price_post_with_url: 0.20          # USD per post with a URL (default)
//	      monthly_budget: 50                 # USD; 0 = no budget. Reached → the channel pauses
//	      timeout: 15s                       # per request (default 15s)
//	      allow_private_hosts: false         # image downloads may reach private addresses
//
// Each of the four credentials may be given inline, as <setting>_file or <setting>_env, and
// like every setting as HERALD_CH_<NAME>_<SETTING>. They never appear in an error or a log line.
type Config struct {
	ConsumerKey        string `yaml:"consumer_key"`
	ConsumerKeyFile    string `yaml:"consumer_key_file"`
	ConsumerKeyEnv     string `yaml:"consumer_key_env"`
	ConsumerSecret     string `yaml:"consumer_secret"`
	ConsumerSecretFile string `yaml:"consumer_secret_file"`
	ConsumerSecretEnv  string `yaml:"consumer_secret_env"`
	AccessToken        string `yaml:"access_token"`
	AccessTokenFile    string `yaml:"access_token_file"`
	AccessTokenEnv     string `yaml:"access_token_env"`
	AccessSecret       string `yaml:"access_secret"`
	AccessSecretFile   string `yaml:"access_secret_file"`
	AccessSecretEnv    string `yaml:"access_secret_env"`

	APIBase string `yaml:"api_base"`
	// PricePost and PricePostWithURL are X's per-request prices for "Content: Create" and
	// "Content: Create with URL"; nil means the default.
	PricePost        *float64 `yaml:"price_post"`
	PricePostWithURL *float64 `yaml:"price_post_with_url"`
	// MonthlyBudget pauses the channel when this month's estimated spend would pass it (USD,
	// 0 = none). The month is the calendar month in UTC.
	MonthlyBudget     float64       `yaml:"monthly_budget"`
	Timeout           time.Duration `yaml:"timeout"`
	AllowPrivateHosts bool          `yaml:"allow_private_hosts"`
}

// Defaults for zero values. Prices: docs.x.com pricing (2026), per request.
const (
	DefaultAPIBase          = "https://api.x.com"
	DefaultTimeout          = 15 * time.Second
	DefaultPricePost        = 0.015
	DefaultPricePostWithURL = 0.20
	// MaxImageBytes is X's limit for an image uploaded in one request.
	// Specs: https://docs.x.com/x-api/media/quickstart/best-practices
	MaxImageBytes = 5 << 20
	// MaxImages is how many images one post may carry.
	MaxImages = 4
)

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// credentials. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (x): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve() error {
	if err := channels.BaseURL("api_base", &c.APIBase, DefaultAPIBase); err != nil {
		return err
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		v    **float64
		def  float64
	}{{"price_post", &c.PricePost, DefaultPricePost}, {"price_post_with_url", &c.PricePostWithURL, DefaultPricePostWithURL}} {
		if *p.v == nil {
			d := p.def
			*p.v = &d
		}
		if **p.v < 0 {
			return fmt.Errorf("%s: %v is negative", p.name, **p.v)
		}
	}
	if c.MonthlyBudget < 0 {
		return fmt.Errorf("monthly_budget: %v is negative (0 means no budget)", c.MonthlyBudget)
	}
	var errs []error
	for _, s := range []struct {
		sec channels.Secret
		dst *string
	}{
		{channels.Secret{Setting: "consumer_key", Value: c.ConsumerKey, File: c.ConsumerKeyFile, Env: c.ConsumerKeyEnv}, &c.ConsumerKey},
		{channels.Secret{Setting: "consumer_secret", Value: c.ConsumerSecret, File: c.ConsumerSecretFile, Env: c.ConsumerSecretEnv}, &c.ConsumerSecret},
		{channels.Secret{Setting: "access_token", Value: c.AccessToken, File: c.AccessTokenFile, Env: c.AccessTokenEnv}, &c.AccessToken},
		{channels.Secret{Setting: "access_secret", Value: c.AccessSecret, File: c.AccessSecretFile, Env: c.AccessSecretEnv}, &c.AccessSecret},
	} {
		v, err := s.sec.Resolve()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*s.dst = v
	}
	return errors.Join(errs...)
}

// secrets are the values redacted from every error.
func (c *Config) secrets() []string {
	return []string{c.ConsumerKey, c.ConsumerSecret, c.AccessToken, c.AccessSecret}
}
