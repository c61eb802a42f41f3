package webhook

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/template"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
)

// Config is the settings block of a channel of kind "webhook":
//
//	channels:
//	  - name: partner-hook
//	    kind: webhook
//	    settings:
//	      url: https://partner.example.com/herald      # required; http or https
//	      secret_file: /run/secrets/partner-hook       # or secret: whsec_…, or secret_env: VAR
//	      secrets: [whsec_…]                           # more secrets during a rotation
//	      headers: {X-Source: herald}                  # extra request headers
//	      body_template: ""                            # Go text/template; default: the JSON payload
//	      timeout: 15s                                 # per request; default 15s
//
// Every secret is Standard Webhooks' `whsec_<base64>` (the prefix may be left out); each gives
// one signature. HERALD_CH_<NAME>_SECRET sets `secret`, HERALD_CH_<NAME>_SECRETS `secrets`
// (space- or comma-separated). No secret appears in an error or a log line.
type Config struct {
	URL        string     `yaml:"url"`
	Secret     string     `yaml:"secret"`
	SecretFile string     `yaml:"secret_file"`
	SecretEnv  string     `yaml:"secret_env"`
	Secrets    SecretList `yaml:"secrets"`
	// Headers are added to every request; they may not replace the webhook-* headers.
	Headers map[string]string `yaml:"headers"`
	// BodyTemplate is a Go text/template producing the body (see TemplateData). Empty sends
	// the webhook renderer's JSON payload.
	BodyTemplate string        `yaml:"body_template"`
	Timeout      time.Duration `yaml:"timeout"`
	// AllowPrivateHosts is accepted for symmetry with the other kinds; a webhook downloads
	// nothing, and its URL is the operator's own, so it may be local.
	AllowPrivateHosts bool `yaml:"allow_private_hosts"`

	keys [][]byte           // decoded secrets, in signing order
	tmpl *template.Template // parsed BodyTemplate
}

// SecretList is a YAML sequence of secrets, or one string of them separated by spaces or
// commas (the form an environment variable gives).
type SecretList []string

// UnmarshalYAML accepts a sequence or a scalar.
func (s *SecretList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*s = list
	case yaml.ScalarNode:
		*s = strings.FieldsFunc(n.Value, func(r rune) bool { return r == ' ' || r == ',' || r == '\n' || r == '\t' })
	default:
		return fmt.Errorf("line %d: secrets must be a list of whsec_ secrets", n.Line)
	}
	return nil
}

// DefaultTimeout is per request; Standard Webhooks suggests 15-30 s.
const DefaultTimeout = 15 * time.Second

// reserved headers are herald's to set.
var reserved = map[string]bool{"Webhook-Id": true, "Webhook-Timestamp": true, "Webhook-Signature": true,
	"Content-Length": true, "Host": true, "Transfer-Encoding": true}

// LoadConfig decodes and validates a channel's settings, reading the secrets. Errors name the
// setting at fault, never a secret's value.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(os.Getenv, os.ReadFile); err != nil {
		return Config{}, fmt.Errorf("channel %q (webhook): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		return err
	}
	if strings.TrimSpace(c.URL) == "" {
		return errors.New("url: required (the receiver's http or https address)")
	}
	u, err := url.Parse(strings.TrimSpace(c.URL))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("url: must be an absolute http or https URL")
	}
	c.URL = u.String()
	first, err := channels.Secret{Setting: "secret", Value: c.Secret, File: c.SecretFile, Env: c.SecretEnv}.ResolveWith(getenv, readFile)
	if err != nil && !(errors.Is(err, channels.ErrNoSecret) && c.SecretFile == "" && c.SecretEnv == "") {
		return err
	}
	c.Secret = first
	all := append([]string{}, c.Secrets...)
	if first != "" {
		all = append([]string{first}, all...)
	}
	if len(all) == 0 {
		return errors.New("secret: required (whsec_<base64>; also secret_file, secret_env, secrets or $HERALD_CH_<NAME>_SECRET)")
	}
	seen := map[string]bool{}
	c.keys = nil
	for i, s := range all {
		key, err := DecodeSecret(s)
		if err != nil {
			where := "secret"
			if first == "" || i > 0 {
				where = fmt.Sprintf("secrets[%d]", i-btoi(first != ""))
			}
			return fmt.Errorf("%s: %w", where, err)
		}
		if !seen[string(key)] {
			seen[string(key)] = true
			c.keys = append(c.keys, key)
		}
	}
	for k := range c.Headers {
		if reserved[http.CanonicalHeaderKey(k)] {
			return fmt.Errorf("headers: %s is set by herald and cannot be configured", k)
		}
		if strings.ContainsAny(k, " :\r\n") || strings.ContainsAny(c.Headers[k], "\r\n") {
			return fmt.Errorf("headers: %q is not a valid header", k)
		}
	}
	if strings.TrimSpace(c.BodyTemplate) != "" {
		t, err := template.New("body_template").Funcs(templateFuncs).Parse(c.BodyTemplate)
		if err != nil {
			return fmt.Errorf("body_template: %w", err)
		}
		// Tried once on a sample, so a field TemplateData lacks ({{.Titel}}) fails at start-up,
		// not on every delivery.
		sample := TemplateData{Article: map[string]any{"url": "https://example.com/a", "title": "t"}, Text: "t",
			Payload: map[string]any{"text": "t"}, ID: "a:hook:1", Timestamp: 1}
		if err := t.Execute(io.Discard, sample); err != nil {
			return fmt.Errorf("body_template: %w", err)
		}
		c.tmpl = t
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// secretValues are the strings to keep out of errors: the URL's path and query, the secrets as
// written and decoded, and the configured header values (an Authorization header is a secret
// too). A receiver's error may quote a credential alone, without the rest of the path, query
// or header it came in ("invalid token XXXX"), so the parts that can be a credential are kept
// out on their own as well: each path segment, query value and word of a header value of
// minPart characters or more, and the URL's password.
func (c *Config) secretValues() []string {
	out := []string{c.URL}
	parts := func(ss ...string) {
		for _, s := range ss {
			if len(s) >= minPart {
				out = append(out, s)
			}
		}
	}
	if u, err := url.Parse(c.URL); err == nil {
		// The path and query of a webhook URL are often its credential (…/hooks/T0/B0/XXXX).
		if len(u.Path) > 1 {
			out = append(out, u.Path, u.EscapedPath())
			parts(strings.Split(u.Path, "/")...)
		}
		if u.RawQuery != "" {
			out = append(out, u.RawQuery)
			for _, vs := range u.Query() {
				parts(vs...)
			}
		}
		if p, ok := u.User.Password(); ok {
			out = append(out, p)
		}
	}
	out = append(out, c.Secret)
	out = append(out, c.Secrets...)
	for _, k := range c.keys {
		out = append(out, string(k))
	}
	for _, v := range c.Headers {
		out = append(out, v)
		parts(strings.Fields(v)...)
	}
	return out
}

// minPart is the shortest part of a URL or header value redacted on its own: credentials are
// longer, and shorter parts (hooks, services, Bearer) are ordinary words.
const minPart = 12
