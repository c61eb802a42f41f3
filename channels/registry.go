package channels

import (
	"bytes"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"
	"gopkg.in/yaml.v3"

	"herald/internal/yamlkeys"
)

// Spec is one configured channel as read from the config file.
type Spec struct {
	Name Name `yaml:"name"`
	Kind Kind `yaml:"kind"`
	// Settings holds the kind's own settings (chat id, endpoints, …); decode with Decode.
	Settings yaml.Node `yaml:"settings"`
}

// Decode reads the kind's settings into v (a pointer to the package's Config struct), rejecting
// unknown keys so a misspelt setting is an error at start-up.
func (s Spec) Decode(v any) error {
	if s.Settings.Kind == 0 {
		return nil
	}
	// Named by path and by line in the config file (re-encoding below renumbers the lines).
	if err := yamlkeys.Check(&s.Settings, reflect.TypeOf(v), "settings"); err != nil {
		return fmt.Errorf("channel %q (kind %s): %w", s.Name, s.Kind, err)
	}
	if err := yamlkeys.Types(&s.Settings, reflect.TypeOf(v), "settings"); err != nil {
		return fmt.Errorf("channel %q (kind %s): %w", s.Name, s.Kind, err)
	}
	// Re-encoding loses anchors, so aliases (settings: *common) are expanded first.
	b, err := yaml.Marshal(expandAliases(&s.Settings))
	if err != nil {
		return fmt.Errorf("channel %q: re-encoding settings: %w", s.Name, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("channel %q: settings: %w", s.Name, err)
	}
	return nil
}

// expandAliases returns a copy of n with every alias replaced by what it refers to.
func expandAliases(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return expandAliases(n.Alias)
	}
	c := *n
	c.Anchor = ""
	c.Content = make([]*yaml.Node, len(n.Content))
	for i, k := range n.Content {
		c.Content[i] = expandAliases(k)
	}
	return &c
}

// Env is what constructors get from the process: the logger and an HTTP client to use (tests
// and the sandbox swap it). New gives the constructor Logger with the channel's name as the
// field "channel", so a channel never adds it to a line itself (it would appear twice).
type Env struct {
	Logger     *zap.Logger
	HTTPClient *http.Client
	// Retention is how long herald keeps a delivery's record (the config's retention; 0 =
	// DefaultRetention). Past it an article published again starts at revision 1 once more, so
	// Message.Key comes back: a channel that names its posts after the key (Bluesky's record
	// keys) reads it to tell an earlier delivery's post from its own.
	Retention time.Duration
}

// Factory builds a Channel from its spec.
type Factory func(spec Spec, env Env) (Channel, error)

var (
	regMu    sync.RWMutex
	registry = map[Kind]Factory{}
)

// Register adds a constructor for a kind; platform packages call it from an init function of
// their own and cmd imports them, so the registry is one explicit map.
func Register(kind Kind, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[kind]; dup {
		panic("channels: kind registered twice: " + string(kind))
	}
	registry[kind] = f
}

// New builds the channel a spec describes.
func New(spec Spec, env Env) (Channel, error) {
	regMu.RLock()
	f, ok := registry[spec.Kind]
	regMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("channel %q: kind %q cannot deliver yet (deliverable kinds: %v)", spec.Name, spec.Kind, Registered())
	}
	env = env.WithDefaults()
	env.Logger = env.Logger.With(zap.String("channel", string(spec.Name)))
	return f(spec, env)
}

// DefaultRetention is the config's default retention (config.Config.Retention).
const DefaultRetention = 90 * 24 * time.Hour

// WithDefaults is env with a no-op logger, http.DefaultClient and DefaultRetention where they
// are not set; platform packages built directly (tests) call it too.
func (env Env) WithDefaults() Env {
	if env.Retention <= 0 {
		env.Retention = DefaultRetention
	}
	if env.Logger == nil {
		env.Logger = zap.NewNop()
	}
	if env.HTTPClient == nil {
		env.HTTPClient = http.DefaultClient
	}
	return env
}

// Registered lists kinds that can deliver.
func Registered() []Kind {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Kind, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}
