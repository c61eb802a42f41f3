package facebook

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"herald/channels"
)

// Config is the settings block of a channel of kind "facebook":
//
//	channels:
//	  - name: fb-page
//	    kind: facebook
//	    settings:
//	      page_id: "123456789012345"                 # required
//	      page_token_file: /run/secrets/fb-page      # or page_token / page_token_env
//	      graph_base: https://graph.facebook.com/v21.0   # default; pins the Graph API version
//	      timeout: 15s                               # per request (default 15s)
//	      allow_private_hosts: false                 # photo downloads may reach private addresses
//
// page_token is a Page access token with pages_manage_posts; like every setting it may also
// come from HERALD_CH_<NAME>_PAGE_TOKEN. It never appears in an error or a log line.
type Config struct {
	PageID            string        `yaml:"page_id"`
	PageToken         string        `yaml:"page_token"`
	PageTokenFile     string        `yaml:"page_token_file"`
	PageTokenEnv      string        `yaml:"page_token_env"`
	GraphBase         string        `yaml:"graph_base"`
	Timeout           time.Duration `yaml:"timeout"`
	AllowPrivateHosts bool          `yaml:"allow_private_hosts"`
}

// Defaults for zero values.
const (
	DefaultGraphBase = "https://graph.facebook.com/v21.0"
	DefaultTimeout   = 15 * time.Second
	// MaxPhotoBytes caps a photo herald downloads to upload itself (Facebook takes up to 10 MB;
	// it recommends under 4 MB).
	// Specs: https://developers.facebook.com/docs/graph-api/reference/page/photos/#upload
	MaxPhotoBytes = 10 << 20
)

var pageIDRE = regexp.MustCompile(`^[0-9]{1,30}$`)

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// token. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (facebook): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve() error {
	var errs []error
	if err := channels.BaseURL("graph_base", &c.GraphBase, DefaultGraphBase); err != nil {
		errs = append(errs, err)
	}
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		errs = append(errs, err)
	}
	c.PageID = strings.TrimSpace(c.PageID)
	if !pageIDRE.MatchString(c.PageID) {
		errs = append(errs, errors.New("page_id: required, the Page's numeric id"))
	}
	tok, err := channels.Secret{Setting: "page_token", Value: c.PageToken, File: c.PageTokenFile, Env: c.PageTokenEnv}.Resolve()
	if err != nil {
		errs = append(errs, err)
	}
	c.PageToken = tok
	return errors.Join(errs...)
}
