package channels

import (
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"
)

func specs(t *testing.T, doc string) []Spec {
	t.Helper()
	var out struct {
		Channels []Spec `yaml:"channels"`
	}
	if err := yaml.Unmarshal([]byte(doc), &out); err != nil {
		t.Fatal(err)
	}
	return out.Channels
}

type settings struct {
	Token  string `yaml:"token"`
	ChatID string `yaml:"chat_id"`
}

func TestSpecDecodeExpandsAliases(t *testing.T) {
	ss := specs(t, `
channels:
  - name: a
    kind: telegram
    settings: &common {token: "1:x", chat_id: "@one"}
  - name: b
    kind: telegram
    settings: *common
  - name: c
    kind: telegram
    settings: {<<: *common, chat_id: "@three"}
`)
	want := []settings{{"1:x", "@one"}, {"1:x", "@one"}, {"1:x", "@three"}}
	for i, s := range ss {
		var got settings
		if err := s.Decode(&got); err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if got != want[i] {
			t.Fatalf("%s: %+v, want %+v", s.Name, got, want[i])
		}
	}
}

func TestSpecDecodeRejectsUnknownSettings(t *testing.T) {
	ss := specs(t, "channels:\n  - {name: a, kind: telegram, settings: {chat_idd: 1}}\n")
	var got settings
	err := ss[0].Decode(&got)
	if err == nil || !strings.Contains(err.Error(), "chat_idd") || !strings.Contains(err.Error(), `channel "a"`) {
		t.Fatalf("error %v should name the channel and the unknown key", err)
	}
}

// TestNewNamesTheChannelInItsLogger: the logger a constructor gets carries the channel's name
// once, so no channel package adds it to a line itself.
func TestNewNamesTheChannelInItsLogger(t *testing.T) {
	const kind Kind = "logger-test"
	Register(kind, func(spec Spec, env Env) (Channel, error) {
		env.Logger.Info("built")
		return nil, nil
	})
	defer func() { regMu.Lock(); delete(registry, kind); regMu.Unlock() }()
	core, logs := observer.New(zapcore.InfoLevel)
	if _, err := New(Spec{Name: "tg-main", Kind: kind}, Env{Logger: zap.New(core)}); err != nil {
		t.Fatal(err)
	}
	e := logs.All()
	if len(e) != 1 || len(e[0].Context) != 1 || e[0].Context[0].Key != "channel" || e[0].Context[0].String != "tg-main" {
		t.Fatalf("logged %+v, want one line with channel=tg-main only", e)
	}
}

func TestEnvWithDefaults(t *testing.T) {
	env := Env{}.WithDefaults()
	if env.Logger == nil || env.HTTPClient != http.DefaultClient {
		t.Fatalf("defaults %+v", env)
	}
	l := zap.NewExample()
	if got := (Env{Logger: l}).WithDefaults(); got.Logger != l {
		t.Fatal("a given logger was replaced")
	}
}
