package telegram

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
)

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	var s channels.Spec
	doc := "name: tg-main\nkind: telegram\nsettings:\n"
	for _, line := range strings.Split(strings.TrimSpace(settings), "\n") {
		doc += "  " + strings.TrimSpace(line) + "\n"
	}
	if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
		t.Fatalf("spec %q: %v", doc, err)
	}
	return s
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("42:from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(TokenEnvVar, "42:from-default-env")
	t.Setenv("TG_MAIN_TOKEN", "42:from-named-env")
	t.Setenv("TG_EMPTY", "")

	tests := []struct {
		name     string
		settings string
		token    string
		wantErr  string
	}{
		{name: "defaults, token from HERALD_TELEGRAM_TOKEN", settings: "chat_id: -1001234567890", token: "42:from-default-env"},
		{name: "token setting", settings: "chat_id: \"@my_news\"\ntoken: \"42:inline\"", token: "42:inline"},
		{name: "token_file", settings: "chat_id: -100123\ntoken_file: " + tokenFile, token: "42:from-file"},
		{name: "token_env", settings: "chat_id: -100123\ntoken_env: TG_MAIN_TOKEN", token: "42:from-named-env"},
		{name: "token_env empty", settings: "chat_id: -100123\ntoken_env: TG_EMPTY", wantErr: "token_env: $TG_EMPTY: no bot token"},
		{name: "two token sources", settings: "chat_id: -100123\ntoken: a\ntoken_file: b", wantErr: "set only one"},
		{name: "missing token file", settings: "chat_id: -100123\ntoken_file: /nonexistent/tg", wantErr: "token_file:"},
		{name: "no chat", settings: "token: \"42:x\"", wantErr: "chat_id: required"},
		{name: "bad chat", settings: "chat_id: news", wantErr: "chat_id: \"news\" is neither"},
		{name: "bad username", settings: "chat_id: \"@ab\"", wantErr: "chat_id: \"@ab\" is not a valid @username"},
		{name: "bad endpoint", settings: "chat_id: -100123\napi_endpoint: http://x/bot%s", wantErr: "api_endpoint:"},
		{name: "endpoint scheme", settings: "chat_id: -100123\napi_endpoint: ftp://x/bot%s/%s", wantErr: "api_endpoint:"},
		{name: "negative timeout", settings: "chat_id: -100123\ntimeout: -1s", wantErr: "timeout: must be positive"},
		{name: "unknown key", settings: "chat_id: -100123\nchatid: 1", wantErr: "settings.chatid: unknown setting (did you mean chat_id?)"},
		{name: "token with space", settings: "chat_id: -100123\ntoken: \"42: x\"", wantErr: "token: the bot token contains"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(specFrom(t, tc.settings))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want containing %q", err, tc.wantErr)
				}
				if !strings.Contains(err.Error(), `channel "tg-main"`) {
					t.Errorf("error %q does not name the channel", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Token != tc.token {
				t.Errorf("token = %q, want %q", cfg.Token, tc.token)
			}
			if cfg.APIEndpoint != DefaultAPIEndpoint || cfg.Timeout != DefaultTimeout {
				t.Errorf("defaults not applied: %+v", cfg)
			}
		})
	}

	cfg, err := LoadConfig(specFrom(t, "chat_id: -100123\ntimeout: 3s\ndisable_web_page_preview: true"))
	if err != nil || cfg.Timeout != 3*time.Second || !cfg.DisableWebPagePreview || cfg.ChatID != "-100123" {
		t.Fatalf("cfg = %+v, %v", cfg, err)
	}
}

func TestLoadConfigErrorsNeverShowTheToken(t *testing.T) {
	_, err := LoadConfig(specFrom(t, "chat_id: -100123\ntoken: \"42:secret\tvalue\""))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error = %v", err)
	}
}

func TestPostURL(t *testing.T) {
	tests := []struct {
		chat ChatID
		id   int
		want string
	}{
		{"@my_news", 7, "https://t.me/my_news/7"},
		{"-1001234567890", 7, "https://t.me/c/1234567890/7"},
		{"-123456", 7, ""}, // basic group: no links
		{"123456", 7, ""},  // private chat
		{"@my_news", 0, ""},
	}
	for _, tc := range tests {
		if got := tc.chat.PostURL(tc.id); got != tc.want {
			t.Errorf("%s.PostURL(%d) = %q, want %q", tc.chat, tc.id, got, tc.want)
		}
	}
}

func TestRegistered(t *testing.T) {
	t.Setenv(TokenEnvVar, "42:x")
	ch, err := channels.New(specFrom(t, "chat_id: -100123"), channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Kind() != channels.KindTelegram || ch.Name() != "tg-main" {
		t.Fatalf("got %s %s", ch.Kind(), ch.Name())
	}
	_, err = channels.New(specFrom(t, "token: \"42:x\""), channels.Env{})
	if err == nil || !strings.Contains(err.Error(), "chat_id: required") {
		t.Fatalf("missing chat_id: %v", err)
	}
}
