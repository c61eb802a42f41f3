// Package config loads herald's YAML configuration, applies environment overrides for every
// secret and validates it once at start-up, with errors that name the setting at fault.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"herald/admin"
	"herald/article"
	"herald/channels"
	"herald/formatter"
	"herald/internal/yamlkeys"
	"herald/queue"
)

// Config is the whole file. Zero values take the defaults documented on each field and in
// herald.example.yaml.
type Config struct {
	Redis struct {
		// URL of the Redis primary, redis://[:password@]host:port/db. Env REDIS_URL overrides.
		// Empty means the embedded in-memory sandbox (demo and `make run` only).
		URL string `yaml:"url"`
	} `yaml:"redis"`
	HTTP struct {
		Addr string `yaml:"addr"` // listen address (default 127.0.0.1:8080); env HERALD_HTTP_ADDR
		// APIToken is the bearer token for /v1 (env HERALD_API_TOKEN, or api_token_file).
		APIToken     string `yaml:"api_token"`
		APITokenFile string `yaml:"api_token_file"`
		// PublicURL is where WebSub hubs reach this herald (https://herald.example.com); empty
		// means no WebSub subscriptions, polling only. Env HERALD_PUBLIC_URL.
		PublicURL string `yaml:"public_url"`
		// Tokens are more bearer tokens with a role each (admin, viewer, publisher); several may
		// share a role. api_token stays an admin token.
		Tokens []APIToken `yaml:"tokens"`
	} `yaml:"http"`
	Log struct {
		Level  string `yaml:"level"`  // debug, info (default), warn, error
		Format string `yaml:"format"` // json (default) or console
	} `yaml:"log"`
	Worker struct {
		Concurrency int      `yaml:"concurrency"`  // default 10
		SendTimeout Duration `yaml:"send_timeout"` // default 30s
		MaxAttempts int      `yaml:"max_attempts"` // default 5, per channel override
		// LeaseDuration protects a send in progress (default send_timeout + 30s); a lease that
		// runs out before the commit turns the delivery unknown instead of re-posting it.
		LeaseDuration Duration `yaml:"lease_duration"`
		// ShutdownTimeout is how long a stopping process waits for sends in flight (default
		// send_timeout + 5s).
		ShutdownTimeout Duration `yaml:"shutdown_timeout"`
		// PollInterval is how often an idle worker looks for work when no wake-up reaches it
		// (default 250ms); a publish wakes idle workers at once through Redis pub/sub.
		PollInterval Duration `yaml:"poll_interval"`
		// IdleWake is how often an idle channel looks at its queue for work that came without a
		// wake-up, such as retries that came due (default 5s).
		IdleWake Duration `yaml:"idle_wake"`
		// DelayedInterval is how often retries that came due are moved back to their queue
		// (default 5s; six small scripts per channel and process each time).
		DelayedInterval Duration `yaml:"delayed_interval"`
		// SenderLease is how long a process's hold on a paced channel lasts without renewal
		// (default 6s): a killed holder's channels move to another process after about that.
		SenderLease Duration `yaml:"sender_lease"`
		// UrgentPriority: articles with priority ≥ this (default 8) go ahead of every channel's
		// backlog, still within its rate limit.
		UrgentPriority int `yaml:"urgent_priority"`
	} `yaml:"worker"`
	// Retention keeps delivery records, dead letters included, this long (default 2160h = 90 d).
	Retention Duration  `yaml:"retention"`
	Channels  []Channel `yaml:"channels"`
	Routes    []Route   `yaml:"routes"`
	// Webhooks are the signed sources allowed to publish (config/sources.go).
	Webhooks []Webhook `yaml:"webhooks"`
	// Feeds are the RSS, Atom and RDF feeds polled (and followed by WebSub) by herald serve.
	Feeds []Feed `yaml:"feeds"`
	// Admin configures the Telegram admin bot (see the admin package); nil: no bot runs.
	Admin *admin.Config `yaml:"admin"`
}

// APIToken is one bearer token of the HTTP API: exactly one of token, token_file (a file holding
// it) and token_env (the variable holding it).
type APIToken struct {
	Role      string `yaml:"role"` // admin (everything), viewer (read only), publisher (publish only)
	Token     string `yaml:"token"`
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
}

// TokenRoles are the roles an API token may have.
var TokenRoles = []string{"admin", "viewer", "publisher"}

// resolveTokens reads http.tokens' files and variables and checks each entry. Errors name the
// entry, never its secret.
func (c *Config) resolveTokens() error {
	var errs []error
	for i := range c.HTTP.Tokens {
		t := &c.HTTP.Tokens[i]
		at := fmt.Sprintf("http.tokens[%d]", i)
		if !slices.Contains(TokenRoles, t.Role) {
			errs = append(errs, fmt.Errorf("%s.role: %q is not one of %s", at, t.Role, strings.Join(TokenRoles, ", ")))
		}
		set := 0
		for _, v := range []string{t.Token, t.TokenFile, t.TokenEnv} {
			if v != "" {
				set++
			}
		}
		switch {
		case set != 1:
			errs = append(errs, fmt.Errorf("%s: set exactly one of token, token_file, token_env", at))
			continue
		case t.Token != "":
			t.Token = strings.TrimSpace(t.Token) // as token_file's and token_env's are
		case t.TokenFile != "" || t.TokenEnv != "":
			// channels.Secret reads them: a token pasted into token_file or token_env is not
			// repeated in the error.
			src := channels.Secret{Setting: at + ".token", File: t.TokenFile, Env: t.TokenEnv}
			tok, err := src.Resolve()
			if err != nil && !errors.Is(err, channels.ErrNoSecret) {
				errs = append(errs, err)
				continue
			}
			t.Token = tok
		}
		if t.Token == "" {
			errs = append(errs, fmt.Errorf("%s: the token is empty (%s unset?)", at, channels.Secret{Setting: "token", File: t.TokenFile, Env: t.TokenEnv}.Source()))
		} else if why := weakToken(t.Token); why != "" {
			errs = append(errs, fmt.Errorf("%s: %s; use a long random one (openssl rand -hex 32)", at, why))
		}
	}
	return errors.Join(errs...)
}

// MinTokenLength is the shortest API token accepted: a token opens the API to whoever guesses
// it, and only the dashboard's login form counts wrong guesses, not the API.
const MinTokenLength = 16

// weakToken says why tok may not be an API token, "" when it may: too short to resist
// guessing, or still the placeholder of the deploy examples (CHANGE_ME…), which anyone can read.
func weakToken(tok string) string {
	switch {
	case len(tok) < MinTokenLength:
		return fmt.Sprintf("the token is shorter than %d characters", MinTokenLength)
	case strings.Contains(strings.ToUpper(tok), "CHANGE_ME"):
		return "the token is still the CHANGE_ME placeholder of the deploy examples, which anyone can read"
	}
	return ""
}

// CheckAPIToken refuses an http.api_token (HERALD_API_TOKEN, http.api_token_file) that is too
// short or still a placeholder, as http.tokens' are refused when the config loads. herald
// serve and herald doctor check it; the embedded sandbox (herald demo) keeps its short,
// documented token on loopback.
func (c *Config) CheckAPIToken() error {
	if c.HTTP.APIToken == "" {
		return nil
	}
	if why := weakToken(c.HTTP.APIToken); why != "" {
		return fmt.Errorf("http.api_token (env HERALD_API_TOKEN or http.api_token_file): %s; use a long random one (openssl rand -hex 32)", why)
	}
	return nil
}

// Channel is one configured destination.
type Channel struct {
	Spec        channels.Spec `yaml:",inline"`
	Rate        string        `yaml:"rate"`         // "20/min" (telegram default), "1/s", "unlimited"
	MaxAttempts int           `yaml:"max_attempts"` // default worker.max_attempts
	// Burst is how many posts may leave back to back before the rate's spacing applies
	// (default 1: evenly spaced, what Telegram channels want).
	Burst int `yaml:"burst"`
	// InFlight caps the channel's sends in progress per process (default 1 with a rate, so
	// posts leave one at a time in publish order; worker.concurrency when unlimited).
	InFlight int               `yaml:"in_flight"`
	Format   formatter.Options `yaml:"format"`
	// Route, when given, is this channel's own routing rule (a route without channels).
	Route *Route `yaml:"route"`

	// Limit is Rate parsed.
	Limit queue.Limit `yaml:"-"`
}

// Route sends matching articles to channels. An article matches when every non-empty condition
// holds (any listed category, any listed tag, any listed language, any keyword, any source,
// priority ≥ min_priority) and no condition of its exclude block holds. With no routes, every
// channel gets every article. Matching is in config/route.go.
type Route struct {
	Channels    []string `yaml:"channels"`
	Categories  []string `yaml:"categories"`
	Tags        []string `yaml:"tags"`
	Languages   []string `yaml:"languages"`
	MinPriority int      `yaml:"min_priority"`
	// Name labels the route in `herald route` output.
	Name     string   `yaml:"name"`
	Keywords []string `yaml:"keywords"`
	Sources  []string `yaml:"sources"`
	Exclude  *Match   `yaml:"exclude"`
}

// Duration reads "30s", "2h".
type Duration time.Duration

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30s or 2h", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// defaultRates are the per-kind defaults (PLATFORMS.md): Telegram ~20 msg/min per channel, X
// 100 posts / 15 min per user, Mastodon 300 requests / 5 min, Discord ~5 / 2 s per webhook.
// Bluesky: 5,000 write points an hour per account, a post costs 3; 100/5m (1,200 posts, 3,600
// points an hour) leaves room for deletes and the newsroom's own posts on the same account; a
// 429 (the daily 35,000 points, about 11,600 posts) waits for its RateLimit-Reset.
var defaultRates = map[channels.Kind]string{
	channels.KindTelegram: "20/min",
	channels.KindX:        "100/15m",
	channels.KindMastodon: "300/5m",
	channels.KindDiscord:  "5/2s",
	channels.KindWhatsApp: "20/min",
	channels.KindBluesky:  "100/5m",
	channels.KindFacebook: "200/h",
	channels.KindWebhook:  "unlimited",
	channels.KindWebSub:   "unlimited",
	// Threads: 250 API-published posts per profile in any 24 h; "250/24h" spaces them 5m46s
	// apart (burst 1). https://developers.facebook.com/docs/threads/overview#posts
	channels.KindThreads: "250/24h",
	// LinkedIn: daily call limits reset at midnight UTC and are not published (the app's
	// Developer Portal shows them); 150/24h is the long-standing member share quota, one post
	// every 9m36s. https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits
	channels.KindLinkedIn: "150/24h",
}

// Load reads a config file (path "" means no file: defaults and environment only).
func Load(path string) (*Config, error) {
	var data []byte
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
	}
	c, err := Parse(data)
	if err != nil && path != "" {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, err
}

// Parse reads a config document, applies the environment and validates.
func Parse(data []byte) (*Config, error) {
	var c Config
	// Unknown keys first, each named by its path and line (yaml.v3 would name the Go type).
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		// yaml.v3 often gives the line where the enclosing block starts, not the bad line.
		return nil, fmt.Errorf("%w (YAML syntax: check the indentation and quoting at or after that line; tabs are not allowed)", err)
	}
	if err := unknownKeys(&doc); err != nil {
		return nil, err
	}
	// Then values of the wrong type, named the same way (yaml.v3 names neither the key nor,
	// reading a channel's settings, the right line, and cuts 2.5 to 2 in silence).
	if err := yamlkeys.Types(&doc, reflect.TypeFor[Config](), ""); err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := c.applyEnv(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// channelKey is the path of a key of a channel entry itself: channels[2] (tg-main).chat_id.
var channelKey = regexp.MustCompile(`^channels\[\d+\][^.]*\.[^.]+$`)

// unknownKeys reports every key of the document herald does not read, with its path and line.
func unknownKeys(doc *yaml.Node) error {
	err := yamlkeys.Check(doc, reflect.TypeFor[Config](), "")
	if err == nil {
		return nil
	}
	var errs []error
	for _, e := range unjoin(err) {
		var u yamlkeys.Unknown
		if errors.As(e, &u) && channelKey.MatchString(u.Path) && u.Suggest() == "" {
			u.Hint = "a kind's own settings (chat_id, token, …) go under settings:"
			e = u
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// envName turns a channel name into its environment prefix: tg-main → HERALD_CH_TG_MAIN_.
func envName(name channels.Name) string {
	return "HERALD_CH_" + strings.ToUpper(nonWord.ReplaceAllString(string(name), "_")) + "_"
}

var nonWord = regexp.MustCompile(`[^A-Za-z0-9]`)

// applyEnv applies REDIS_URL, HERALD_API_TOKEN, HERALD_HTTP_ADDR, the *_file secrets, and for
// every channel HERALD_CH_<NAME>_<SETTING> (e.g. HERALD_CH_TG_MAIN_TOKEN), so no secret needs to
// be written in the file.
func (c *Config) applyEnv() error {
	// A variable set to "" counts as unset: an empty export must not wipe a configured value.
	// Surrounding white space goes, as a token_file's or token_env's does: a Kubernetes Secret
	// made with --from-file keeps the file's last newline, and an API token ending in one
	// matched no request (clients send it trimmed), so every call was 401.
	if v := strings.TrimSpace(os.Getenv("REDIS_URL")); v != "" {
		c.Redis.URL = v
	}
	if v := strings.TrimSpace(os.Getenv("HERALD_HTTP_ADDR")); v != "" {
		c.HTTP.Addr = v
	}
	if v := strings.TrimSpace(os.Getenv("HERALD_PUBLIC_URL")); v != "" {
		c.HTTP.PublicURL = v
	}
	c.HTTP.APIToken = strings.TrimSpace(c.HTTP.APIToken)
	if v := strings.TrimSpace(os.Getenv("HERALD_API_TOKEN")); v != "" {
		c.HTTP.APIToken = v
	} else if c.HTTP.APITokenFile != "" {
		// Read through channels.Secret: a token pasted into api_token_file is not repeated.
		tok, err := channels.Secret{Setting: "http.api_token", File: c.HTTP.APITokenFile}.Resolve()
		if err != nil && !errors.Is(err, channels.ErrNoSecret) {
			return fmt.Errorf("config: %w", err)
		}
		c.HTTP.APIToken = tok
	}
	if err := c.resolveTokens(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	// Each variable belongs to the channel with the longest matching prefix, so HERALD_CH_TG_MAIN_TOKEN
	// is tg-main's token even when a channel "tg" exists too.
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if v == "" {
			continue // unset, like the variables above: an empty export keeps the file's value
		}
		best := -1
		for i := range c.Channels {
			p := envName(c.Channels[i].Spec.Name)
			if strings.HasPrefix(k, p) && len(k) > len(p) && (best < 0 || len(p) > len(envName(c.Channels[best].Spec.Name))) {
				best = i
			}
		}
		if best >= 0 {
			ch := &c.Channels[best]
			setSetting(&ch.Spec.Settings, strings.ToLower(k[len(envName(ch.Spec.Name)):]), v, k)
		}
	}
	return nil
}

// setSetting sets key in a YAML mapping node (creating the mapping when absent). The value is
// left untagged so YAML resolves it as it would in the file (true → bool, 15s → duration
// string), except that a null-looking value stays the literal string.
func setSetting(n *yaml.Node, key, value, variable string) {
	if n.Kind == 0 {
		*n = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	val := &yaml.Node{Kind: yaml.ScalarNode, Value: value}
	switch value {
	case "", "~", "null", "Null", "NULL":
		val.Tag = "!!str"
	}
	// An error about the setting names the variable: the file does not hold it.
	yamlkeys.MarkEnv(val, variable)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			n.Content[i+1] = val
			return
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}
	yamlkeys.MarkEnv(k, variable)
	n.Content = append(n.Content, k, val)
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func (c *Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.HTTP.Addr == "" {
		c.HTTP.Addr = "127.0.0.1:8080"
	}
	if c.Worker.Concurrency < 0 {
		bad("worker.concurrency: %d is negative", c.Worker.Concurrency)
	}
	if c.Worker.MaxAttempts <= 0 {
		c.Worker.MaxAttempts = 5
	}
	switch {
	case c.Worker.UrgentPriority == 0:
		c.Worker.UrgentPriority = 8
	case c.Worker.UrgentPriority < 1 || c.Worker.UrgentPriority > 10:
		bad("worker.urgent_priority: %d is not in 1..10", c.Worker.UrgentPriority)
	}
	if c.Worker.SendTimeout <= 0 {
		c.Worker.SendTimeout = Duration(30 * time.Second)
	}
	// The worker would replace such a lease by send_timeout + 30s without a word: a lease that
	// can run out mid-send turns a delivery that may have posted unknown.
	if l := c.Worker.LeaseDuration; l != 0 && l <= c.Worker.SendTimeout {
		bad("worker.lease_duration: %s must be longer than worker.send_timeout (%s), or left out (send_timeout + 30s)",
			time.Duration(l), time.Duration(c.Worker.SendTimeout))
	}
	if c.Retention <= 0 {
		c.Retention = Duration(90 * 24 * time.Hour)
	}
	switch c.Log.Level {
	case "":
		c.Log.Level = "info"
	case "debug", "info", "warn", "error":
	default:
		bad("log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "":
		c.Log.Format = "json"
	case "json", "console":
	default:
		bad("log.format: %q is not json or console", c.Log.Format)
	}
	seen := map[channels.Name]bool{}
	envSeen := map[string]channels.Name{}
	for i := range c.Channels {
		ch := &c.Channels[i]
		at := fmt.Sprintf("channels[%d]", i)
		if ch.Spec.Name != "" {
			at += fmt.Sprintf(" (%s)", ch.Spec.Name)
		}
		if !namePattern.MatchString(string(ch.Spec.Name)) {
			bad("%s.name: %q must be 1-64 of a-z 0-9 _ . - starting with a letter or digit", at, ch.Spec.Name)
		}
		if seen[ch.Spec.Name] {
			bad("%s.name: %q is used twice", at, ch.Spec.Name)
		} else if other, dup := envSeen[envName(ch.Spec.Name)]; dup {
			bad("%s.name: %q and %q share the environment prefix %s; rename one", at, other, ch.Spec.Name, envName(ch.Spec.Name))
		}
		seen[ch.Spec.Name] = true
		envSeen[envName(ch.Spec.Name)] = ch.Spec.Name
		if !ch.Spec.Kind.Valid() {
			bad("%s.kind: %q is not one of %v", at, ch.Spec.Kind, channels.Kinds)
			continue
		}
		if ch.Rate == "" {
			ch.Rate = defaultRates[ch.Spec.Kind]
		}
		lim, err := ParseRate(ch.Rate)
		if err != nil {
			bad("%s.rate: %v", at, err)
		}
		if ch.Burst < 0 || ch.Burst > maxRateCount {
			bad("%s.burst: %d is not in 1..%d", at, ch.Burst, maxRateCount)
		}
		if ch.InFlight < 0 {
			bad("%s.in_flight: %d is negative", at, ch.InFlight)
		}
		lim.Burst = ch.Burst // 0 means 1 (queue.Limit)
		ch.Limit = lim
		if ch.MaxAttempts <= 0 {
			ch.MaxAttempts = c.Worker.MaxAttempts
		}
		if _, err := formatter.New(ch.Spec.Kind, ch.Format); err != nil {
			bad("%s.format: %v", at, err)
		}
	}
	if c.Admin != nil {
		if err := c.Admin.Resolve(os.Getenv, os.ReadFile); err != nil {
			for _, e := range unjoin(err) {
				bad("admin.%v", e)
			}
		}
	}
	isChannel := func(n string) bool { return seen[channels.Name(n)] }
	c.validateRoutes(bad, isChannel)
	c.validateSources(bad, isChannel)
	if c.HTTP.PublicURL != "" {
		if u, err := url.Parse(c.HTTP.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("http.public_url%s: %q is not an absolute http or https URL", fromEnv("HERALD_PUBLIC_URL"), c.HTTP.PublicURL)
		}
	}
	// A port alone (HERALD_HTTP_ADDR=8080) failed only when serve listened, after Redis and
	// every channel, as "listen tcp: address 8080: missing port in address".
	if _, port, err := net.SplitHostPort(c.HTTP.Addr); err != nil || port == "" {
		bad("http.addr%s: %q is not host:port (127.0.0.1:8080; :8080 listens on every interface)", fromEnv("HERALD_HTTP_ADDR"), c.HTTP.Addr)
	}
	return errors.Join(errs...)
}

// fromEnv is " (env NAME)" when the variable NAME is set: the value at fault came from it, not
// from the file.
func fromEnv(name string) string {
	if os.Getenv(name) != "" {
		return " (env " + name + ")"
	}
	return ""
}

// unjoin splits an errors.Join.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Bounds that keep a rate's arithmetic far from overflow; no platform limit comes near them.
const (
	maxRateCount      = 1_000_000
	maxRateMultiplier = 100_000
	maxRatePeriod     = 7 * 24 * time.Hour
)

var ratePattern = regexp.MustCompile(`^(\d+)\s*/\s*(\d*)\s*(ms|s|sec|m|min|h|hour)$`)

// ParseRate reads "20/min", "100/15m", "1/s", "unlimited" (or "0").
func ParseRate(s string) (queue.Limit, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "unlimited" || s == "0" || s == "none" {
		return queue.Limit{}, nil
	}
	m := ratePattern.FindStringSubmatch(s)
	if m == nil {
		return queue.Limit{}, fmt.Errorf("%q is not a rate like 20/min, 100/15m, 1/s or unlimited", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 || n > maxRateCount {
		return queue.Limit{}, fmt.Errorf("%q: the count must be 1..%d", s, maxRateCount)
	}
	mult := 1
	if m[2] != "" {
		if mult, err = strconv.Atoi(m[2]); err != nil || mult <= 0 || mult > maxRateMultiplier {
			return queue.Limit{}, fmt.Errorf("%q: the period multiplier must be 1..%d", s, maxRateMultiplier)
		}
	}
	unit := map[string]time.Duration{"ms": time.Millisecond, "s": time.Second, "sec": time.Second, "m": time.Minute, "min": time.Minute, "h": time.Hour, "hour": time.Hour}[m[3]]
	period := time.Duration(mult) * unit
	if period < time.Millisecond || period > maxRatePeriod {
		return queue.Limit{}, fmt.Errorf("%q: the period must be between 1ms and %s", s, maxRatePeriod)
	}
	return queue.Limit{Count: n, Period: period}, nil
}

// Channel finds a configured channel by name.
func (c *Config) Channel(name string) (Channel, bool) {
	for _, ch := range c.Channels {
		if string(ch.Spec.Name) == name {
			return ch, true
		}
	}
	return Channel{}, false
}

// UnknownChannel says that name is not a configured channel, and which ones are, so the
// fix is in the message: "tg-mian" is not a configured channel (configured: tg-main, tg-breaking).
func (c *Config) UnknownChannel(name string) string {
	if len(c.Channels) == 0 {
		return fmt.Sprintf("%q is not a configured channel (no channels are configured)", name)
	}
	const most = 20
	names := make([]string, 0, min(len(c.Channels), most))
	for _, ch := range c.Channels[:min(len(c.Channels), most)] {
		names = append(names, string(ch.Spec.Name))
	}
	list := strings.Join(names, ", ")
	if len(c.Channels) > most {
		list += fmt.Sprintf(", … %d more", len(c.Channels)-most)
	}
	return fmt.Sprintf("%q is not a configured channel (configured: %s)", name, list)
}

// Targets decides which channels get an article: its own `channels` list when given (every
// name must be configured), else the matching routes, else every channel. The source is "api";
// TargetsFrom names another.
func (c *Config) Targets(a *article.Article) ([]queue.Target, error) {
	return c.TargetsFrom(a, SourceAPI)
}
