package config

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"herald/channels"
)

// Secret holds a credential. It prints as "[redacted]" so a config dumped with %v or %+v in a
// log, an error or a test failure never shows it.
type Secret string

func (Secret) String() string   { return "[redacted]" }
func (Secret) GoString() string { return "[redacted]" }

// Webhook is one signed source allowed to publish through POST /v1/articles and
// POST /v1/hooks/wordpress. The name is the article's source in routing.
type Webhook struct {
	Name string `yaml:"name"`
	// Secret is a Standard Webhooks secret ("whsec_" + base64 of the key; without the prefix
	// the bytes as written are the key). The same secret, exactly as written, is the HMAC key of
	// X-Hub-Signature-256. Or secret_file / secret_env.
	Secret     Secret `yaml:"secret"`
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
	// Site is the WordPress site name in article ids (wp-<site>-<post id>); default the
	// webhook's name.
	Site string `yaml:"site"`

	// SigningKey is the Standard Webhooks HMAC key (Secret decoded).
	SigningKey Secret `yaml:"-"`
}

// Feed is one RSS, Atom or RDF feed herald polls (and follows by WebSub when it advertises a
// hub). The name is the article's source in routing.
type Feed struct {
	Name     string   `yaml:"name"`
	URL      string   `yaml:"url"`
	Interval Duration `yaml:"interval"` // default 5m
	// FirstRun: "skip" (default) posts nothing from a feed's first poll; "newest:N" posts the
	// newest N items.
	FirstRun string   `yaml:"first_run"`
	Channels []string `yaml:"channels"` // optional; else the routes decide

	// Newest is FirstRun parsed: how many items the first poll posts.
	Newest int `yaml:"-"`
}

// DefaultFeedInterval is a feed's poll interval when none is given.
const DefaultFeedInterval = 5 * time.Minute

// SourceAPI is the routing source of articles sent with a bearer token or the CLI.
const SourceAPI = "api"

func (c *Config) validateSources(bad func(string, ...any), channelSeen func(string) bool) {
	names := map[string]string{SourceAPI: "a reserved name (bearer-token and CLI publishes)"}
	useName := func(at, name string) {
		if !namePattern.MatchString(name) {
			bad("%s.name: %q must be 1-64 of a-z 0-9 _ . - starting with a letter or digit", at, name)
			return
		}
		if prev, dup := names[name]; dup {
			bad("%s.name: %q is already %s; webhook and feed names are routing sources and must be unique", at, name, prev)
		}
		names[name] = at
	}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		at := fmt.Sprintf("webhooks[%d]", i)
		if w.Name != "" {
			at += fmt.Sprintf(" (%s)", w.Name)
		}
		useName(at, w.Name)
		if err := w.loadSecret(); err != nil {
			bad("%s.%v", at, err)
		}
		if w.Site == "" {
			w.Site = w.Name
		}
		if strings.ContainsFunc(w.Site, func(r rune) bool { return strings.ContainsRune(":{}/ ", r) || r < 0x21 }) {
			bad("%s.site: %q must not contain ':', '{', '}', '/' or spaces (it becomes part of article ids)", at, w.Site)
		}
	}
	for i := range c.Feeds {
		f := &c.Feeds[i]
		at := fmt.Sprintf("feeds[%d]", i)
		if f.Name != "" {
			at += fmt.Sprintf(" (%s)", f.Name)
		}
		useName(at, f.Name)
		if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("%s.url: %s is not an absolute http or https URL", at, channels.ShowURL(f.URL))
		}
		switch {
		case f.Interval == 0:
			f.Interval = Duration(DefaultFeedInterval)
		case f.Interval < Duration(time.Second):
			bad("%s.interval: %s is shorter than 1s", at, time.Duration(f.Interval))
		}
		n, err := parseFirstRun(f.FirstRun)
		if err != nil {
			bad("%s.first_run: %v", at, err)
		}
		f.Newest = n
		for _, ch := range f.Channels {
			if !channelSeen(ch) {
				bad("%s.channels: %s", at, c.UnknownChannel(ch))
			}
		}
	}
}

func parseFirstRun(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "skip" {
		return 0, nil
	}
	if v, ok := strings.CutPrefix(s, "newest:"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= 100 {
			return n, nil
		}
	}
	return 0, fmt.Errorf("%q is not skip or newest:N with N in 1..100", s)
}

// loadSecret fills Secret from secret_file or secret_env and derives SigningKey. Errors name the
// setting but never the value.
func (w *Webhook) loadSecret() error {
	set := 0
	for _, v := range []string{string(w.Secret), w.SecretFile, w.SecretEnv} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("secret: give exactly one of secret, secret_file, secret_env")
	}
	if w.SecretFile != "" || w.SecretEnv != "" {
		// channels.Secret reads them: a secret pasted into secret_file or secret_env is not
		// repeated in the error.
		v, err := channels.Secret{Setting: "secret", File: w.SecretFile, Env: w.SecretEnv}.Resolve()
		if err != nil {
			return err
		}
		w.Secret = Secret(v)
	}
	if w.Secret == "" {
		return fmt.Errorf("secret: empty")
	}
	key := []byte(w.Secret)
	if b64, ok := strings.CutPrefix(string(w.Secret), "whsec_"); ok {
		k, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return fmt.Errorf("secret: whsec_ must be followed by standard base64 (the Standard Webhooks format)")
		}
		key = k
	}
	if len(key) < 16 {
		return fmt.Errorf("secret: the key is %d bytes, at least 16 needed", len(key))
	}
	w.SigningKey = Secret(key)
	return nil
}

// Webhook finds a configured webhook source by name.
func (c *Config) Webhook(name string) (Webhook, bool) {
	for _, w := range c.Webhooks {
		if w.Name == name {
			return w, true
		}
	}
	return Webhook{}, false
}

// Feed finds a configured feed by name.
func (c *Config) Feed(name string) (Feed, bool) {
	for _, f := range c.Feeds {
		if f.Name == name {
			return f, true
		}
	}
	return Feed{}, false
}
