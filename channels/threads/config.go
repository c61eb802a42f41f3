package threads

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"herald/channels"
)

// Config is the settings block of a channel of kind "threads":
//
//	channels:
//	  - name: threads-main
//	    kind: threads
//	    settings:
//	      user_id: "17841400000000000"                 # required: the Threads profile's id
//	      access_token_file: /run/secrets/threads      # or access_token / access_token_env
//	      api_base: https://graph.threads.net/v1.0     # default; pins the API version
//	      timeout: 15s                                 # per request (default 15s)
//	      image_wait: 20s                              # how long an image container may take (default 20s)
//
// access_token is a Threads user access token with threads_basic and threads_content_publish
// (threads_delete for corrections); like every setting it may also come from
// HERALD_CH_<NAME>_ACCESS_TOKEN. It never appears in an error or a log line.
type Config struct {
	UserID          string        `yaml:"user_id"`
	AccessToken     string        `yaml:"access_token"`
	AccessTokenFile string        `yaml:"access_token_file"`
	AccessTokenEnv  string        `yaml:"access_token_env"`
	APIBase         string        `yaml:"api_base"`
	Timeout         time.Duration `yaml:"timeout"`
	// ImageWait bounds how long Send waits for an image container to be FINISHED before
	// publishing it (Meta asks to publish only then); the send timeout bounds it too.
	ImageWait time.Duration `yaml:"image_wait"`
}

// Defaults for zero values.
const (
	DefaultAPIBase   = "https://graph.threads.net/v1.0"
	DefaultTimeout   = 15 * time.Second
	DefaultImageWait = 20 * time.Second
)

var userIDRE = regexp.MustCompile(`^[0-9]{1,30}$`)

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// token. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (threads): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve() error {
	var errs []error
	if err := channels.BaseURL("api_base", &c.APIBase, DefaultAPIBase); err != nil {
		errs = append(errs, err)
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		errs = append(errs, err)
	}
	if err := channels.Duration("image_wait", &c.ImageWait, DefaultImageWait); err != nil {
		errs = append(errs, err)
	}
	c.UserID = strings.TrimSpace(c.UserID)
	if !userIDRE.MatchString(c.UserID) {
		errs = append(errs, errors.New("user_id: required, the Threads profile's numeric id (GET /me?fields=id)"))
	}
	tok, err := channels.Secret{Setting: "access_token", Value: c.AccessToken, File: c.AccessTokenFile, Env: c.AccessTokenEnv}.Resolve()
	if err != nil {
		errs = append(errs, err)
	}
	c.AccessToken = tok
	return errors.Join(errs...)
}
