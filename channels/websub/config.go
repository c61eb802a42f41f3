package websub

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
)

// Config is the settings block of a channel of kind "websub":
//
//	channels:
//	  - name: feeds
//	    kind: websub
//	    settings:
//	      hubs: [https://pubsubhubbub.appspot.com/]   # default: Google's public hub
//	      topics:                                     # the site's feed URLs (required)
//	        - https://news.example.com/feed
//	        - https://news.example.com/feed/atom
//	      timeout: 15s
//
// Each topic must be a feed that names the hub (<link rel="hub" href="…"/> or the HTTP Link
// header): hubs only deliver to subscribers who found them there. HERALD_CH_<NAME>_HUBS and
// HERALD_CH_<NAME>_TOPICS take space- or comma-separated lists.
type Config struct {
	Hubs    List          `yaml:"hubs"`
	Topics  List          `yaml:"topics"`
	Timeout time.Duration `yaml:"timeout"`
	// AllowPrivateHosts is accepted for symmetry with the other kinds: a ping downloads
	// nothing, and the hubs are the operator's choice (a self-hosted hub may be local).
	AllowPrivateHosts bool `yaml:"allow_private_hosts"`
}

// List is a YAML sequence of URLs, or one string of them separated by spaces or commas (the
// form an environment variable gives).
type List []string

// UnmarshalYAML accepts a sequence or a scalar.
func (l *List) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		var s []string
		if err := n.Decode(&s); err != nil {
			return err
		}
		*l = s
	case yaml.ScalarNode:
		*l = strings.FieldsFunc(n.Value, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
	default:
		return fmt.Errorf("line %d: want a list of URLs", n.Line)
	}
	return nil
}

// Defaults.
const (
	// DefaultHub is Google's public WebSub hub, which Google News and most feed readers follow.
	DefaultHub     = "https://pubsubhubbub.appspot.com/"
	DefaultTimeout = 15 * time.Second
	// MaxPings bounds hubs × topics: every publish sends that many requests.
	MaxPings = 50
)

// LoadConfig decodes and validates a channel's settings and applies defaults.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(); err != nil {
		return Config{}, fmt.Errorf("channel %q (websub): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve() error {
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		return err
	}
	if len(c.Hubs) == 0 {
		c.Hubs = List{DefaultHub}
	}
	if len(c.Topics) == 0 {
		return errors.New("topics: required, the site's feed URLs (e.g. https://news.example.com/feed)")
	}
	var err error
	if c.Hubs, err = absURLs("hubs", c.Hubs); err != nil {
		return err
	}
	if c.Topics, err = absURLs("topics", c.Topics); err != nil {
		return err
	}
	if n := len(c.Hubs) * len(c.Topics); n > MaxPings {
		return fmt.Errorf("hubs, topics: %d × %d = %d pings per article, more than %d", len(c.Hubs), len(c.Topics), n, MaxPings)
	}
	return nil
}

// absURLs checks and de-duplicates a list of absolute http(s) URLs.
func absURLs(setting string, in []string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for i, s := range in {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return nil, fmt.Errorf("%s[%d]: %s is not an absolute http or https URL", setting, i, channels.ShowURL(s))
		}
		if v := u.String(); !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out, nil
}
