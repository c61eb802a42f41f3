package linkedin

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"herald/channels"
)

// Config is the settings block of a channel of kind "linkedin":
//
//	channels:
//	  - name: li-page
//	    kind: linkedin
//	    settings:
//	      organization_id: "2414183"               # required: the Page's organization id
//	      access_token_file: /run/secrets/li-page  # or access_token / access_token_env
//	      version: "202608"                        # LinkedIn-Version header, YYYYMM (default below)
//	      api_base: https://api.linkedin.com/rest  # default
//	      timeout: 15s                             # per request (default 15s)
//
// access_token is a 3-legged OAuth 2.0 token of a member who is an ADMINISTRATOR or
// CONTENT_ADMIN of the Page, with w_organization_social (posting, editing, deleting) and
// r_organization_social; like every setting it may also come from
// HERALD_CH_<NAME>_ACCESS_TOKEN. It lasts 60 days; it never appears in an error or a log line.
type Config struct {
	OrganizationID  string        `yaml:"organization_id"`
	AccessToken     string        `yaml:"access_token"`
	AccessTokenFile string        `yaml:"access_token_file"`
	AccessTokenEnv  string        `yaml:"access_token_env"`
	Version         string        `yaml:"version"`
	APIBase         string        `yaml:"api_base"`
	Timeout         time.Duration `yaml:"timeout"`
}

// Defaults for zero values.
const (
	DefaultAPIBase = "https://api.linkedin.com/rest"
	// DefaultVersion is the Marketing API version herald was written against. LinkedIn keeps a
	// version for about a year and refuses a sunset one (426 NONEXISTENT_VERSION): set version
	// to a newer active one then.
	// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/versioning
	DefaultVersion = "202608"
	DefaultTimeout = 15 * time.Second
)

var (
	orgIDRE   = regexp.MustCompile(`^[0-9]{1,20}$`)
	versionRE = regexp.MustCompile(`^20[0-9]{2}(0[1-9]|1[0-2])(\.[0-9]{2})?$`)
)

// LoadConfig decodes and validates a channel's settings, applies defaults and resolves the
// token. Errors name the setting or environment variable at fault.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (linkedin): %w", spec.Name, err)
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
	c.OrganizationID = strings.TrimPrefix(strings.TrimSpace(c.OrganizationID), "urn:li:organization:")
	if !orgIDRE.MatchString(c.OrganizationID) {
		errs = append(errs, errors.New("organization_id: required, the Page's numeric organization id (the number in urn:li:organization:<id>)"))
	}
	c.Version = strings.TrimSpace(c.Version)
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if !versionRE.MatchString(c.Version) {
		errs = append(errs, errors.New("version: must be a LinkedIn-Version like 202608 (YYYYMM)"))
	}
	tok, err := channels.Secret{Setting: "access_token", Value: c.AccessToken, File: c.AccessTokenFile, Env: c.AccessTokenEnv}.Resolve()
	if err != nil {
		errs = append(errs, err)
	}
	c.AccessToken = tok
	return errors.Join(errs...)
}

// author is the Page's URN, the author of every post.
func (c *Config) author() string { return "urn:li:organization:" + c.OrganizationID }
