package whatsapp

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
)

// Provider is how herald reaches WhatsApp.
type Provider string

const (
	// Cloud is Meta's WhatsApp Cloud API: messages to a phone number (not to Channels).
	Cloud Provider = "cloud"
	// WAHA is a self-hosted WAHA gateway (a linked WhatsApp device): posts to a Channel.
	WAHA Provider = "waha"
	// Whapi is the Whapi.Cloud gateway: posts to a Channel.
	Whapi Provider = "whapi"
)

// Config is the settings block of a channel of kind "whatsapp":
//
//	channels:
//	  - name: wa-cloud
//	    kind: whatsapp
//	    settings:
//	      provider: cloud                     # cloud, waha or whapi (required)
//	      api_base: https://graph.facebook.com/v21.0   # default per provider (below)
//	      # cloud
//	      token_file: /run/secrets/wa         # or token, token_env, $HERALD_CH_<NAME>_TOKEN
//	      phone_number_id: "106540352242922"  # the sending number's id (required)
//	      to: "966500000000"                  # the recipient, digits with country code (required)
//	      template: {name: news_alert, language: ar}   # optional; see below
//	      # waha
//	      api_key_file: /run/secrets/waha     # X-Api-Key (optional when WAHA runs without one)
//	      session: default                    # default "default"
//	      chat_id: "120363000000000000@newsletter"     # the Channel (required)
//	      # whapi
//	      token: …                            # Bearer token (required)
//	      to: "120363000000000000@newsletter" # the Channel (required)
//	      # all
//	      timeout: 15s
//
// Defaults for api_base: cloud https://graph.facebook.com/v21.0, waha http://localhost:3000,
// whapi https://gate.whapi.cloud. A setting of another provider is an error, so a channel
// switched from waha to whapi cannot keep a stale chat_id unnoticed.
//
// template (cloud only): outside the 24-hour customer-service window the Cloud API refuses free
// text (error 131047) and takes only approved templates. With a template set every post is
// sent as that template, its one body variable {{1}} filled with the post text on one line.
// `template: news_alert` is short for {name: news_alert, language: ar}.
type Config struct {
	Provider Provider `yaml:"provider"`
	APIBase  string   `yaml:"api_base"`

	Token         string   `yaml:"token"`
	TokenFile     string   `yaml:"token_file"`
	TokenEnv      string   `yaml:"token_env"`
	PhoneNumberID string   `yaml:"phone_number_id"`
	To            string   `yaml:"to"`
	Template      Template `yaml:"template"`

	APIKey     string `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	APIKeyEnv  string `yaml:"api_key_env"`
	Session    string `yaml:"session"`
	ChatID     string `yaml:"chat_id"`

	Timeout time.Duration `yaml:"timeout"`
	// AllowPrivateHosts lets an image URL name a loopback or private host (image.go refuses
	// them otherwise: the provider fetches the URL). api_base is never checked: it is the
	// operator's own (a WAHA on the same host is normal).
	AllowPrivateHosts bool `yaml:"allow_private_hosts"`
}

// Template is an approved Cloud API message template with one body variable.
type Template struct {
	Name     string `yaml:"name"`
	Language string `yaml:"language"`
}

// UnmarshalYAML accepts a name alone or {name, language}.
func (t *Template) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		t.Name = strings.TrimSpace(n.Value)
		return nil
	}
	type plain Template
	return n.Decode((*plain)(t))
}

// Defaults.
const (
	DefaultTimeout          = 15 * time.Second
	DefaultCloudBase        = "https://graph.facebook.com/v21.0"
	DefaultWAHABase         = "http://localhost:3000"
	DefaultWhapiBase        = "https://gate.whapi.cloud"
	DefaultSession          = "default"
	DefaultTemplateLanguage = "ar"
)

var (
	digitsRE  = regexp.MustCompile(`^[0-9]{5,20}$`)
	sessionRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	langRE    = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
)

// LoadConfig decodes and validates a channel's settings, applies defaults and reads the
// secrets. Errors name the setting at fault, never a secret's value.
func LoadConfig(spec channels.Spec) (Config, error) {
	var cfg Config
	if err := spec.Decode(&cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.resolve(os.Getenv, os.ReadFile); err != nil {
		return Config{}, fmt.Errorf("channel %q (whatsapp): %w", spec.Name, err)
	}
	return cfg, nil
}

func (c *Config) resolve(getenv func(string) string, readFile func(string) ([]byte, error)) error {
	if err := channels.Duration("timeout", &c.Timeout, DefaultTimeout); err != nil {
		return err
	}
	c.Provider = Provider(strings.ToLower(strings.TrimSpace(string(c.Provider))))
	var base string
	var foreign map[string]bool // settings that belong to other providers
	switch c.Provider {
	case Cloud:
		base = DefaultCloudBase
		foreign = map[string]bool{"api_key": c.APIKey+c.APIKeyFile+c.APIKeyEnv != "", "session": c.Session != "", "chat_id": c.ChatID != ""}
	case WAHA:
		base = DefaultWAHABase
		foreign = map[string]bool{"token": c.Token+c.TokenFile+c.TokenEnv != "", "phone_number_id": c.PhoneNumberID != "", "to": c.To != "", "template": c.Template != Template{}}
	case Whapi:
		base = DefaultWhapiBase
		foreign = map[string]bool{"api_key": c.APIKey+c.APIKeyFile+c.APIKeyEnv != "", "session": c.Session != "", "chat_id": c.ChatID != "", "phone_number_id": c.PhoneNumberID != "", "template": c.Template != Template{}}
	case "":
		return errors.New("provider: required (cloud, waha or whapi)")
	default:
		return fmt.Errorf("provider: %q is not cloud, waha or whapi", c.Provider)
	}
	for _, s := range []string{"token", "phone_number_id", "to", "template", "api_key", "session", "chat_id"} {
		if foreign[s] {
			return fmt.Errorf("%s: not a setting of provider %s", s, c.Provider)
		}
	}
	if c.APIBase == "" {
		c.APIBase = base
	}
	c.APIBase = strings.TrimRight(strings.TrimSpace(c.APIBase), "/")
	if u, err := url.Parse(c.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("api_base: %s must be an http or https URL without a query", channels.ShowURL(c.APIBase))
	}
	var err error
	switch c.Provider {
	case Cloud:
		if c.Token, err = (channels.Secret{Setting: "token", Value: c.Token, File: c.TokenFile, Env: c.TokenEnv}).ResolveWith(getenv, readFile); err != nil {
			return err
		}
		c.PhoneNumberID = strings.TrimSpace(c.PhoneNumberID)
		if !digitsRE.MatchString(c.PhoneNumberID) {
			return errors.New("phone_number_id: required, the digits of the sending number's id (WhatsApp Manager → API setup)")
		}
		c.To = strings.NewReplacer("+", "", " ", "", "-", "").Replace(strings.TrimSpace(c.To))
		if !digitsRE.MatchString(c.To) {
			return errors.New("to: required, the recipient's number with country code, digits only (the Cloud API cannot post to Channels)")
		}
		if c.Template.Name != "" {
			if c.Template.Language == "" {
				c.Template.Language = DefaultTemplateLanguage
			}
			if !langRE.MatchString(c.Template.Language) {
				return fmt.Errorf("template.language: %q is not a language code such as ar or en_US", c.Template.Language)
			}
		} else if c.Template.Language != "" {
			return errors.New("template.name: required when template.language is set")
		}
	case WAHA:
		c.APIKey, err = (channels.Secret{Setting: "api_key", Value: c.APIKey, File: c.APIKeyFile, Env: c.APIKeyEnv}).ResolveWith(getenv, readFile)
		if err != nil && !(errors.Is(err, channels.ErrNoSecret) && c.APIKeyFile == "" && c.APIKeyEnv == "") {
			return err
		}
		if c.Session == "" {
			c.Session = DefaultSession
		}
		if !sessionRE.MatchString(c.Session) {
			return fmt.Errorf("session: %q is not a WAHA session name", c.Session)
		}
		if c.ChatID, err = channelID("chat_id", c.ChatID); err != nil {
			return err
		}
	case Whapi:
		if c.Token, err = (channels.Secret{Setting: "token", Value: c.Token, File: c.TokenFile, Env: c.TokenEnv}).ResolveWith(getenv, readFile); err != nil {
			return err
		}
		if c.To, err = channelID("to", c.To); err != nil {
			return err
		}
	}
	for _, s := range []string{c.Token, c.APIKey} {
		if strings.ContainsAny(s, " \t\r\n") {
			return errors.New("token, api_key: a credential cannot contain white space")
		}
	}
	return nil
}

// channelID reads a Channel (newsletter) id: "120363…@newsletter", or the digits alone, to
// which "@newsletter" is added. Other WhatsApp ids (…@g.us groups, …@c.us chats) pass as given.
func channelID(setting, v string) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", fmt.Errorf("%s: required, the Channel id such as 120363000000000000@newsletter", setting)
	case digitsRE.MatchString(v):
		return v + "@newsletter", nil
	case strings.Count(v, "@") == 1 && !strings.ContainsAny(v, " /?#"):
		return v, nil
	}
	return "", fmt.Errorf("%s: %q is not a WhatsApp id such as 120363000000000000@newsletter", setting, v)
}

// secrets are the values to keep out of errors and logs.
func (c *Config) secrets() []string { return []string{c.Token, c.APIKey} }
