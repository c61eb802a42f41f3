package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/queue"
)

// cleanEnv removes every variable Parse reads, for the duration of the test, so the developer's or
// CI's environment cannot change the outcome.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == "REDIS_URL" || k == "HERALD_API_TOKEN" || k == "HERALD_HTTP_ADDR" || strings.HasPrefix(k, "HERALD_CH_") {
			unsetenv(t, k)
		}
	}
	for _, k := range []string{"REDIS_URL", "HERALD_API_TOKEN", "HERALD_HTTP_ADDR"} {
		unsetenv(t, k)
	}
}

// unsetenv unsets k for the test; t.Setenv restores the old value afterwards.
func unsetenv(t *testing.T, k string) {
	t.Helper()
	t.Setenv(k, "")
	if err := os.Unsetenv(k); err != nil {
		t.Fatal(err)
	}
}

func mustParse(t *testing.T, doc string) *Config {
	t.Helper()
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse:\n%s\nerror: %v", doc, err)
	}
	return c
}

// wantErr parses doc and checks the error mentions every substring.
func wantErr(t *testing.T, doc string, subs ...string) error {
	t.Helper()
	c, err := Parse([]byte(doc))
	if err == nil {
		t.Fatalf("Parse:\n%s\nno error (config %+v), want one mentioning %q", doc, c, subs)
	}
	if c != nil {
		t.Errorf("Parse returned a config with an error")
	}
	for _, s := range subs {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q\ndoes not mention %q", err, s)
		}
	}
	return err
}

func TestDefaults(t *testing.T) {
	cleanEnv(t)
	check := func(t *testing.T, c *Config) {
		t.Helper()
		if c.HTTP.Addr != "127.0.0.1:8080" {
			t.Errorf("http.addr = %q, want 127.0.0.1:8080", c.HTTP.Addr)
		}
		if c.Redis.URL != "" {
			t.Errorf("redis.url = %q, want empty (sandbox)", c.Redis.URL)
		}
		if c.HTTP.APIToken != "" {
			t.Errorf("http.api_token = %q, want empty", c.HTTP.APIToken)
		}
		if c.Log.Level != "info" || c.Log.Format != "json" {
			t.Errorf("log = %+v, want info/json", c.Log)
		}
		if c.Worker.MaxAttempts != 5 {
			t.Errorf("worker.max_attempts = %d, want 5", c.Worker.MaxAttempts)
		}
		if time.Duration(c.Worker.SendTimeout) != 30*time.Second {
			t.Errorf("worker.send_timeout = %v, want 30s", time.Duration(c.Worker.SendTimeout))
		}
		if time.Duration(c.Retention) != 2160*time.Hour {
			t.Errorf("retention = %v, want 2160h", time.Duration(c.Retention))
		}
	}
	t.Run("nil document", func(t *testing.T) { check(t, mustParse(t, "")) })
	t.Run("comment only", func(t *testing.T) { check(t, mustParse(t, "# nothing here\n")) })
	t.Run("empty sections", func(t *testing.T) { check(t, mustParse(t, "http: {}\nlog: {}\nworker: {}\n")) })
	t.Run("zero values", func(t *testing.T) {
		check(t, mustParse(t, "worker:\n  max_attempts: 0\n  send_timeout: 0s\nretention: 0s\nlog:\n  level: \"\"\n"))
	})
	t.Run("Load without a file", func(t *testing.T) {
		c, err := Load("")
		if err != nil {
			t.Fatal(err)
		}
		check(t, c)
	})

	t.Run("explicit values kept", func(t *testing.T) {
		c := mustParse(t, `
redis: {url: "redis://r:6379/2"}
http: {addr: "0.0.0.0:9090", api_token: "file-token"}
log: {level: debug, format: console}
worker: {concurrency: 3, send_timeout: 10s, max_attempts: 2, lease_duration: 1m, shutdown_timeout: 20s, poll_interval: 250ms}
retention: 24h
`)
		if c.Redis.URL != "redis://r:6379/2" || c.HTTP.Addr != "0.0.0.0:9090" || c.HTTP.APIToken != "file-token" {
			t.Errorf("redis/http = %+v %+v", c.Redis, c.HTTP)
		}
		if c.Log.Level != "debug" || c.Log.Format != "console" {
			t.Errorf("log = %+v", c.Log)
		}
		w := c.Worker
		if w.Concurrency != 3 || time.Duration(w.SendTimeout) != 10*time.Second || w.MaxAttempts != 2 ||
			time.Duration(w.LeaseDuration) != time.Minute || time.Duration(w.ShutdownTimeout) != 20*time.Second ||
			time.Duration(w.PollInterval) != 250*time.Millisecond {
			t.Errorf("worker = %+v", w)
		}
		if time.Duration(c.Retention) != 24*time.Hour {
			t.Errorf("retention = %v", time.Duration(c.Retention))
		}
	})

	t.Run("telegram channel", func(t *testing.T) {
		c := mustParse(t, `
worker: {max_attempts: 7}
channels:
  - {name: tg-main, kind: telegram}
  - {name: tg-slow, kind: telegram, rate: 1/s, max_attempts: 3}
`)
		if len(c.Channels) != 2 {
			t.Fatalf("%d channels", len(c.Channels))
		}
		main, slow := c.Channels[0], c.Channels[1]
		if main.Rate != "20/min" || main.Limit != (queue.Limit{Count: 20, Period: time.Minute}) {
			t.Errorf("tg-main rate %q limit %+v, want the telegram default 20/min", main.Rate, main.Limit)
		}
		if main.MaxAttempts != 7 {
			t.Errorf("tg-main max_attempts = %d, want worker.max_attempts 7", main.MaxAttempts)
		}
		if slow.Limit != (queue.Limit{Count: 1, Period: time.Second}) || slow.MaxAttempts != 3 {
			t.Errorf("tg-slow = limit %+v max_attempts %d, want 1/s and 3", slow.Limit, slow.MaxAttempts)
		}
		if got, ok := c.Channel("tg-slow"); !ok || got.Spec.Name != "tg-slow" {
			t.Errorf("Channel(tg-slow) = %+v, %v", got, ok)
		}
		if _, ok := c.Channel("nope"); ok {
			t.Errorf("Channel(nope) found")
		}
	})

	t.Run("channel max_attempts inherits the default 5", func(t *testing.T) {
		c := mustParse(t, "channels:\n  - {name: tg, kind: telegram}\n")
		if c.Channels[0].MaxAttempts != 5 {
			t.Errorf("max_attempts = %d, want 5", c.Channels[0].MaxAttempts)
		}
	})

	t.Run("webhook channel is unlimited", func(t *testing.T) {
		c, err := Parse([]byte("channels:\n  - {name: hook, kind: webhook}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if ch := c.Channels[0]; ch.Rate != "unlimited" || !ch.Limit.IsZero() {
			t.Errorf("webhook rate %q limit %+v, want unlimited", ch.Rate, ch.Limit)
		}
	})
}

// TestDefaultRates checks every kind has a default rate that parses, with the documented values.
func TestDefaultRates(t *testing.T) {
	want := map[channels.Kind]queue.Limit{
		channels.KindTelegram: {Count: 20, Period: time.Minute},
		channels.KindX:        {Count: 100, Period: 15 * time.Minute},
		channels.KindMastodon: {Count: 300, Period: 5 * time.Minute},
		channels.KindDiscord:  {Count: 5, Period: 2 * time.Second},
		channels.KindWebhook:  {},
	}
	for _, k := range channels.Kinds {
		s, ok := defaultRates[k]
		if !ok {
			t.Errorf("kind %s has no default rate", k)
			continue
		}
		lim, err := ParseRate(s)
		if err != nil {
			t.Errorf("kind %s: default rate %q: %v", k, s, err)
			continue
		}
		if w, ok := want[k]; ok && lim != w {
			t.Errorf("kind %s: default %+v, want %+v", k, lim, w)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	cleanEnv(t)
	// Each error names the key by its path in the file, its line, and the key it likely meant.
	tests := []struct{ name, doc, want string }{
		{"top level", "redis: {url: x}\nredus: {}\n", "line 2: redus: unknown setting (did you mean redis?)"},
		{"http", "http:\n  adr: 0.0.0.0:80\n", "line 2: http.adr: unknown setting (did you mean addr?)"},
		{"http token typo", "http:\n  api_tokn: x\n", "line 2: http.api_tokn: unknown setting (did you mean api_token?)"},
		{"worker", "worker:\n  concurency: 4\n", "line 2: worker.concurency: unknown setting (did you mean concurrency?)"},
		{"log", "log:\n  levle: debug\n", "line 2: log.levle: unknown setting (did you mean level?)"},
		{"channel rate", "channels:\n  - name: tg\n    kind: telegram\n    rate_limt: 20/min\n",
			"line 4: channels[0] (tg).rate_limt: unknown setting (did you mean rate?)"},
		{"channel", "channels:\n  - name: tg\n    kind: telegram\n    chat_id: 1\n",
			"line 4: channels[0] (tg).chat_id: unknown setting; a kind's own settings (chat_id, token, …) go under settings:"},
		{"channel format", "channels:\n  - name: tg\n    kind: telegram\n    format:\n      templat: x\n",
			"line 5: channels[0] (tg).format.templat: unknown setting (did you mean template?)"},
		{"channel format utm", "channels:\n  - name: tg\n    kind: telegram\n    format:\n      utm: {sorce: x}\n",
			"line 5: channels[0] (tg).format.utm.sorce: unknown setting (did you mean source?)"},
		{"route", "channels:\n  - {name: tg, kind: telegram}\nroutes:\n  - channels: [tg]\n    category: [a]\n",
			"line 5: routes[0].category: unknown setting (did you mean categories?)"},
		{"route exclude", "channels:\n  - {name: tg, kind: telegram}\nroutes:\n  - channels: [tg]\n    exclude: {keyword: [a]}\n",
			"line 5: routes[0].exclude.keyword: unknown setting (did you mean keywords?)"},
		{"feed", "feeds:\n  - name: site\n    url: https://news.example.com/feed\n    intervall: 5m\n",
			"line 4: feeds[0] (site).intervall: unknown setting (did you mean interval?)"},
		{"admin", "admin:\n  telegram:\n    allowed_users: [1]\n", "line 3: admin.telegram.allowed_users: unknown setting"},
		{"merged", "defaults: &d {rate: 1/s}\nchannels:\n  - {name: tg, kind: telegram, <<: *d}\n", "line 1: defaults: unknown setting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.doc, tc.want)
		})
	}
	// Every unknown key at once.
	_, err := Parse([]byte("redus: {}\nlog:\n  levle: debug\n"))
	if err == nil || !strings.Contains(err.Error(), "line 1: redus") || !strings.Contains(err.Error(), "line 3: log.levle") {
		t.Errorf("two unknown keys: %v", err)
	}
}

// Load names the file before the key: an operator sees where to look.
func TestLoadNamesFileAndKeyOfATypo(t *testing.T) {
	cleanEnv(t)
	p := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(p, []byte("channels:\n  - name: tg-main\n    kind: telegram\n    rate_limt: 20/min\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	want := "config " + p + ": line 4: channels[0] (tg-main).rate_limt: unknown setting (did you mean rate?)"
	if err == nil || err.Error() != want {
		t.Fatalf("Load: %v\nwant %s", err, want)
	}
}

func TestValidationErrors(t *testing.T) {
	cleanEnv(t)
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{"log.level", "log: {level: verbose}", []string{`log.level: "verbose"`}},
		{"log.format", "log: {format: xml}", []string{`log.format: "xml"`}},
		{"worker.concurrency", "worker: {concurrency: -1}", []string{"worker.concurrency: -1"}},
		{"bad duration", "worker:\n  send_timeout: 30\n", []string{"line 2: worker.send_timeout: ", `"30" is not a duration`}},
		{"lease not above the send timeout", "worker: {send_timeout: 60s, lease_duration: 60s}", []string{"worker.lease_duration: 1m0s must be longer than worker.send_timeout (1m0s)"}},
		{"lease under the default send timeout", "worker: {lease_duration: 20s}", []string{"worker.lease_duration: 20s", "worker.send_timeout (30s)"}},
		{"bad retention", "retention: 90d\n", []string{"retention: ", `"90d" is not a duration`}},
		{"bad rate", `
channels:
  - {name: tg-main, kind: telegram}
  - {name: x-main, kind: x, rate: 5/fortnight}
`, []string{`channels[1] (x-main).rate: "5/fortnight"`}},
		{"zero count rate", "channels:\n  - {name: tg, kind: telegram, rate: 0/min}\n", []string{"channels[0] (tg).rate"}},
		{"duplicate names", `
channels:
  - {name: tg-main, kind: telegram}
  - {name: tg-other, kind: telegram}
  - {name: tg-main, kind: telegram}
`, []string{`channels[2] (tg-main).name: "tg-main" is used twice`}},
		{"invalid kind", "channels:\n  - {name: tw, kind: twitter}\n", []string{`channels[0] (tw).kind: "twitter" is not one of`, "telegram"}},
		{"missing kind", "channels:\n  - {name: tw}\n", []string{`channels[0] (tw).kind: ""`}},
		{"missing name", "channels:\n  - {kind: telegram}\n", []string{`channels[0].name: ""`}},
		{"upper-case name", "channels:\n  - {name: TG-Main, kind: telegram}\n", []string{`channels[0] (TG-Main).name`}},
		{"name with space", "channels:\n  - {name: tg main, kind: telegram}\n", []string{`(tg main).name`}},
		{"name with colon", "channels:\n  - {name: \"tg:main\", kind: telegram}\n", []string{`(tg:main).name`}},
		{"name with brace", "channels:\n  - {name: \"{tg}\", kind: telegram}\n", []string{`({tg}).name`}},
		{"name starting with dash", "channels:\n  - {name: -tg, kind: telegram}\n", []string{`(-tg).name`}},
		{"name of 65 characters", "channels:\n  - {name: " + strings.Repeat("a", 65) + ", kind: telegram}\n", []string{`.name: "` + strings.Repeat("a", 65) + `"`}},
		{"route without channels", "channels:\n  - {name: tg, kind: telegram}\nroutes:\n  - categories: [a]\n", []string{"routes[0].channels: empty"}},
		{"route with unknown channel", `
channels:
  - {name: tg, kind: telegram}
routes:
  - channels: [tg]
  - channels: [tg, nope]
`, []string{`routes[1].channels: "nope" is not a configured channel (configured: tg)`}},
		{"every error at once", `
log: {level: loud}
channels:
  - {name: tg, kind: telegram, rate: fast}
  - {name: tg, kind: telegram}
routes:
  - channels: [missing]
`, []string{"log.level", "channels[0] (tg).rate", `channels[1] (tg).name: "tg" is used twice`, `routes[0].channels: "missing"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.doc, tc.want...) })
	}

	t.Run("valid names", func(t *testing.T) {
		for _, n := range []string{"tg", "0", "tg-main", "tg_main2", "mastodon.ar", strings.Repeat("a", 64)} {
			if _, err := Parse([]byte("channels:\n  - {name: \"" + n + "\", kind: telegram}\n")); err != nil {
				t.Errorf("name %q: %v", n, err)
			}
		}
	})
}

func TestLoad(t *testing.T) {
	cleanEnv(t)
	dir := t.TempDir()
	t.Run("file", func(t *testing.T) {
		p := filepath.Join(dir, "ok.yaml")
		writeFile(t, p, "http: {addr: \":7000\"}\nchannels:\n  - {name: tg, kind: telegram}\n")
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTP.Addr != ":7000" || len(c.Channels) != 1 {
			t.Fatalf("config %+v", c)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := Load(filepath.Join(dir, "nope.yaml"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("err = %v, want ErrNotExist", err)
		}
	})
	t.Run("error names the file and the setting", func(t *testing.T) {
		p := filepath.Join(dir, "bad.yaml")
		writeFile(t, p, "log: {level: loud}\n")
		_, err := Load(p)
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "log.level") {
			t.Fatalf("err = %v, want the path and log.level", err)
		}
	})
	t.Run("example config", func(t *testing.T) {
		// The example at the repository root must stay loadable (its token_file is only read by
		// the telegram channel, not here).
		p := filepath.Join("..", "herald.example.yaml")
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Channels) == 0 {
			t.Fatal("example has no channels")
		}
	})
}

func writeFile(t *testing.T, p, s string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want queue.Limit
	}{
		{"20/min", queue.Limit{Count: 20, Period: time.Minute}},
		{"100/15m", queue.Limit{Count: 100, Period: 15 * time.Minute}},
		{"1/s", queue.Limit{Count: 1, Period: time.Second}},
		{"5/2s", queue.Limit{Count: 5, Period: 2 * time.Second}},
		{"300/5m", queue.Limit{Count: 300, Period: 5 * time.Minute}},
		{"200/h", queue.Limit{Count: 200, Period: time.Hour}},
		{"10/hour", queue.Limit{Count: 10, Period: time.Hour}},
		{"3/sec", queue.Limit{Count: 3, Period: time.Second}},
		{"1/500ms", queue.Limit{Count: 1, Period: 500 * time.Millisecond}},
		{" 20 / min ", queue.Limit{Count: 20, Period: time.Minute}},
		{"20/MIN", queue.Limit{Count: 20, Period: time.Minute}},
		{"unlimited", queue.Limit{}},
		{"Unlimited", queue.Limit{}},
		{"none", queue.Limit{}},
		{"0", queue.Limit{}},
	}
	for _, tc := range tests {
		got, err := ParseRate(tc.in)
		if err != nil {
			t.Errorf("ParseRate(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseRate(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
	for _, bad := range []string{"", "20", "20/", "/min", "20/minute", "20/d", "20 per min", "-1/s", "0/min", "5/0s", "1.5/s", "20/min/2", "fast", "1/s;",
		"1/9999999999h", "99999999999999999999/s", "1/200000s", "1/8760h", "2000000/s"} {
		if got, err := ParseRate(bad); err == nil {
			t.Errorf("ParseRate(%q) = %+v, want an error", bad, got)
		}
	}
}

// telegramSettings is the part of telegram's settings the env tests look at.
type telegramSettings struct {
	Token  string `yaml:"token"`
	ChatID string `yaml:"chat_id"`
}

func settingsOf(t *testing.T, c *Config, name string) telegramSettings {
	t.Helper()
	ch, ok := c.Channel(name)
	if !ok {
		t.Fatalf("no channel %s", name)
	}
	var s telegramSettings
	if err := ch.Spec.Decode(&s); err != nil {
		t.Fatalf("channel %s: Decode: %v", name, err)
	}
	return s
}

func TestEnvOverrides(t *testing.T) {
	const doc = `
redis: {url: "redis://file:6379/0"}
http: {addr: "127.0.0.1:1111", api_token: "file-token"}
channels:
  - name: tg-main
    kind: telegram
    settings:
      chat_id: "@file_chat"
      token: file-token
  - name: tg-breaking
    kind: telegram
  - name: tg.ar
    kind: telegram
    settings: {chat_id: -100123}
`
	t.Run("none set", func(t *testing.T) {
		cleanEnv(t)
		c := mustParse(t, doc)
		if c.Redis.URL != "redis://file:6379/0" || c.HTTP.Addr != "127.0.0.1:1111" || c.HTTP.APIToken != "file-token" {
			t.Fatalf("redis %+v http %+v", c.Redis, c.HTTP)
		}
		if s := settingsOf(t, c, "tg-main"); s != (telegramSettings{Token: "file-token", ChatID: "@file_chat"}) {
			t.Fatalf("tg-main settings %+v", s)
		}
		if s := settingsOf(t, c, "tg-breaking"); s != (telegramSettings{}) {
			t.Fatalf("tg-breaking settings %+v", s)
		}
	})
	t.Run("process settings", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("REDIS_URL", "redis://:pw@redis:6379/3")
		t.Setenv("HERALD_HTTP_ADDR", "0.0.0.0:8080")
		t.Setenv("HERALD_API_TOKEN", "env-token")
		c := mustParse(t, doc)
		if c.Redis.URL != "redis://:pw@redis:6379/3" {
			t.Errorf("redis.url = %q", c.Redis.URL)
		}
		if c.HTTP.Addr != "0.0.0.0:8080" {
			t.Errorf("http.addr = %q", c.HTTP.Addr)
		}
		if c.HTTP.APIToken != "env-token" {
			t.Errorf("http.api_token = %q", c.HTTP.APIToken)
		}
	})
	t.Run("per channel", func(t *testing.T) {
		cleanEnv(t)
		// A real bot token has a colon; YAML re-encoding must keep it a string, verbatim.
		const tok = "123456789:AAH-bb_cc: #not-a-comment"
		t.Setenv("HERALD_CH_TG_MAIN_TOKEN", tok)
		t.Setenv("HERALD_CH_TG_MAIN_CHAT_ID", "-1001234567890")
		t.Setenv("HERALD_CH_TG_BREAKING_TOKEN", "breaking-token")
		t.Setenv("HERALD_CH_TG_AR_TOKEN", "ar-token")
		t.Setenv("HERALD_CH_TG_MAIN_", "ignored: no setting name")
		t.Setenv("HERALD_CH_NOT_CONFIGURED_TOKEN", "ignored")
		c := mustParse(t, doc)
		if s := settingsOf(t, c, "tg-main"); s != (telegramSettings{Token: tok, ChatID: "-1001234567890"}) {
			t.Errorf("tg-main settings %+v: env must override the file", s)
		}
		// tg-breaking has no settings block: the env creates it.
		if s := settingsOf(t, c, "tg-breaking"); s != (telegramSettings{Token: "breaking-token"}) {
			t.Errorf("tg-breaking settings %+v", s)
		}
		// tg.ar → HERALD_CH_TG_AR_; the file's chat_id stays.
		if s := settingsOf(t, c, "tg.ar"); s != (telegramSettings{Token: "ar-token", ChatID: "-100123"}) {
			t.Errorf("tg.ar settings %+v", s)
		}
	})
	t.Run("api_token_file", func(t *testing.T) {
		cleanEnv(t)
		p := filepath.Join(t.TempDir(), "token")
		writeFile(t, p, "  from-file\n")
		c := mustParse(t, "http:\n  api_token_file: "+p+"\n")
		if c.HTTP.APIToken != "from-file" {
			t.Fatalf("api token %q, want from-file (trimmed)", c.HTTP.APIToken)
		}
	})
	t.Run("api_token_file beats api_token", func(t *testing.T) {
		cleanEnv(t)
		p := filepath.Join(t.TempDir(), "token")
		writeFile(t, p, "from-file")
		c := mustParse(t, "http:\n  api_token: inline\n  api_token_file: "+p+"\n")
		if c.HTTP.APIToken != "from-file" {
			t.Fatalf("api token %q, want from-file", c.HTTP.APIToken)
		}
	})
	t.Run("HERALD_API_TOKEN beats api_token_file", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("HERALD_API_TOKEN", "env-token")
		// The file is not even read.
		c := mustParse(t, "http:\n  api_token_file: "+filepath.Join(t.TempDir(), "missing")+"\n")
		if c.HTTP.APIToken != "env-token" {
			t.Fatalf("api token %q, want env-token", c.HTTP.APIToken)
		}
	})
	t.Run("missing api_token_file", func(t *testing.T) {
		cleanEnv(t)
		err := wantErr(t, "http:\n  api_token_file: "+filepath.Join(t.TempDir(), "missing")+"\n", "http.api_token_file")
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v, want it to wrap ErrNotExist", err)
		}
	})
	t.Run("Load applies the environment", func(t *testing.T) {
		cleanEnv(t)
		t.Setenv("HERALD_CH_TG_MAIN_TOKEN", "via-load")
		p := filepath.Join(t.TempDir(), "herald.yaml")
		writeFile(t, p, doc)
		c, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if s := settingsOf(t, c, "tg-main"); s.Token != "via-load" {
			t.Fatalf("tg-main token %q", s.Token)
		}
	})
}

func TestEnvName(t *testing.T) {
	for name, want := range map[channels.Name]string{
		"tg-main":     "HERALD_CH_TG_MAIN_",
		"tg.ar":       "HERALD_CH_TG_AR_",
		"x_breaking2": "HERALD_CH_X_BREAKING2_",
	} {
		if got := envName(name); got != want {
			t.Errorf("envName(%q) = %q, want %q", name, got, want)
		}
	}
}

const targetsDoc = `
channels:
  - {name: tg-main, kind: telegram}
  - {name: tg-breaking, kind: telegram}
  - {name: tg-sport, kind: telegram}
routes:
  - channels: [tg-main]
    languages: [ar]
  - channels: [tg-breaking]
    min_priority: 8
  - channels: [tg-sport, tg-main]
    categories: [Sport, رياضة]
  - channels: [tg-sport]
    tags: [Football]
`

func TestTargets(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, targetsDoc)
	tests := []struct {
		name string
		a    article.Article
		want []string
	}{
		{"language route", article.Article{Language: "ar"}, []string{"tg-main"}},
		{"language case-insensitive", article.Article{Language: "AR"}, []string{"tg-main"}},
		{"min_priority reached", article.Article{Language: "en", Priority: 8}, []string{"tg-breaking"}},
		{"min_priority exceeded", article.Article{Language: "ar", Priority: 10}, []string{"tg-main", "tg-breaking"}},
		{"category case-insensitive, union without duplicates", article.Article{Language: "ar", Category: "SPORT"}, []string{"tg-main", "tg-sport"}},
		{"Arabic category", article.Article{Language: "en", Category: "رياضة"}, []string{"tg-sport", "tg-main"}},
		{"tag case-insensitive", article.Article{Language: "en", Tags: []string{"politics", "football"}}, []string{"tg-sport"}},
		{"everything", article.Article{Language: "ar", Category: "sport", Tags: []string{"FOOTBALL"}, Priority: 9}, []string{"tg-main", "tg-breaking", "tg-sport"}},
		{"own channels override routes", article.Article{Language: "ar", Priority: 10, Channels: []string{"tg-sport"}}, []string{"tg-sport"}},
		{"own channels deduplicated, order kept", article.Article{Channels: []string{"tg-sport", "tg-main", "tg-sport"}}, []string{"tg-sport", "tg-main"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Targets(&tc.a)
			if err != nil {
				t.Fatalf("Targets: %v", err)
			}
			var names []string
			for _, tg := range got {
				names = append(names, string(tg.Name))
				if tg.Kind != channels.KindTelegram {
					t.Errorf("target %s kind %q", tg.Name, tg.Kind)
				}
			}
			if !reflect.DeepEqual(names, tc.want) {
				t.Fatalf("targets %v, want %v", names, tc.want)
			}
		})
	}

	t.Run("unknown own channels", func(t *testing.T) {
		_, err := c.Targets(&article.Article{Channels: []string{"tg-main", "nope", "tg-sport", "x-main"}})
		var ve *article.ValidationError
		if !errors.As(err, &ve) {
			t.Fatalf("err = %v (%T), want *article.ValidationError", err, err)
		}
		var fields []string
		for _, fe := range ve.Errors {
			fields = append(fields, fe.Field)
		}
		if !reflect.DeepEqual(fields, []string{"channels[1]", "channels[3]"}) {
			t.Fatalf("fields %v, want channels[1] and channels[3] (%v)", fields, err)
		}
		// The message says which names would do.
		if !strings.Contains(err.Error(), `"nope" is not a configured channel (configured: `+names(c)+`)`) {
			t.Errorf("message %q", err)
		}
	})
	t.Run("no route matches", func(t *testing.T) {
		_, err := c.Targets(&article.Article{Language: "en", Category: "politics", Priority: 7})
		var ve *article.ValidationError
		if !errors.As(err, &ve) || len(ve.Errors) != 1 || ve.Errors[0].Field != "channels" {
			t.Fatalf("err = %v, want a ValidationError on channels", err)
		}
	})
}

func TestTargetsWithoutRoutes(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
channels:
  - {name: tg-b, kind: telegram}
  - {name: tg-a, kind: telegram}
`)
	got, err := c.Targets(&article.Article{Language: "ar"})
	if err != nil {
		t.Fatal(err)
	}
	want := []queue.Target{{Name: "tg-b", Kind: channels.KindTelegram}, {Name: "tg-a", Kind: channels.KindTelegram}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("targets %+v, want every channel in config order %+v", got, want)
	}

	empty := mustParse(t, "")
	if _, err := empty.Targets(&article.Article{}); err == nil {
		t.Fatal("no channels configured: no error")
	}
}

// TestRouteConditionsAreAnded: a route with several conditions needs all of them.
func TestRouteConditionsAreAnded(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, `
channels:
  - {name: tg, kind: telegram}
routes:
  - channels: [tg]
    categories: [sport]
    tags: [football, tennis]
    languages: [ar, en]
    min_priority: 3
`)
	match := article.Article{Category: "Sport", Tags: []string{"Tennis"}, Language: "en", Priority: 3}
	if _, err := c.Targets(&match); err != nil {
		t.Fatalf("all conditions hold: %v", err)
	}
	for name, mutate := range map[string]func(a *article.Article){
		"category": func(a *article.Article) { a.Category = "news" },
		"no tags":  func(a *article.Article) { a.Tags = nil },
		"tags":     func(a *article.Article) { a.Tags = []string{"golf"} },
		"language": func(a *article.Article) { a.Language = "fr" },
		"priority": func(a *article.Article) { a.Priority = 2 },
	} {
		a := match
		mutate(&a)
		if got, err := c.Targets(&a); err == nil {
			t.Errorf("%s does not hold, yet targets %v", name, got)
		}
	}
}

func TestEnvOverrideEdgeCases(t *testing.T) {
	cleanEnv(t)
	t.Run("longest channel prefix wins", func(t *testing.T) {
		t.Setenv("HERALD_CH_TG_MAIN_TOKEN", "1:main")
		t.Setenv("HERALD_CH_TG_TOKEN", "2:short")
		c := mustParse(t, `
channels:
  - {name: tg, kind: telegram, settings: {chat_id: "@short_chat"}}
  - {name: tg-main, kind: telegram, settings: {chat_id: "@main_chat"}}
`)
		if s := settingsOf(t, c, "tg-main"); s.Token != "1:main" {
			t.Fatalf("tg-main token %q", s.Token)
		}
		if s := settingsOf(t, c, "tg"); s.Token != "2:short" {
			t.Fatalf("tg token %q (HERALD_CH_TG_MAIN_TOKEN must not become tg's main_token)", s.Token)
		}
	})
	t.Run("names sharing an env prefix are rejected", func(t *testing.T) {
		wantErr(t, `
channels:
  - {name: tg-main, kind: telegram}
  - {name: tg_main, kind: telegram}
`, "channels[1] (tg_main).name", "HERALD_CH_TG_MAIN_")
	})
	t.Run("typed values resolve like YAML", func(t *testing.T) {
		t.Setenv("HERALD_CH_TG_DISABLE_WEB_PAGE_PREVIEW", "true")
		t.Setenv("HERALD_CH_TG_TOKEN", "null")
		c := mustParse(t, "channels:\n  - {name: tg, kind: telegram}\n")
		ch, _ := c.Channel("tg")
		var v struct {
			Token   string `yaml:"token"`
			Disable bool   `yaml:"disable_web_page_preview"`
		}
		if err := ch.Spec.Decode(&v); err != nil || !v.Disable || v.Token != "null" {
			t.Fatalf("decoded %+v, %v", v, err)
		}
	})
	t.Run("empty variables do not wipe configured values", func(t *testing.T) {
		t.Setenv("REDIS_URL", "")
		t.Setenv("HERALD_API_TOKEN", "")
		c := mustParse(t, `{redis: {url: "redis://file:6379/0"}, http: {api_token: file-token}}`)
		if c.Redis.URL != "redis://file:6379/0" || c.HTTP.APIToken != "file-token" {
			t.Fatalf("redis %q token %q", c.Redis.URL, c.HTTP.APIToken)
		}
	})
	// A compose file's `HERALD_CH_TG_TOKEN: ${TG_TOKEN}` or a Kubernetes Secret key left empty
	// passes the variable through set to "": it must not wipe the token in the file, nor make
	// a duration of "".
	t.Run("empty channel variables do not wipe configured settings", func(t *testing.T) {
		t.Setenv("HERALD_CH_TG_TOKEN", "")
		t.Setenv("HERALD_CH_TG_TIMEOUT", "")
		t.Setenv("HERALD_CH_TG_CHAT_ID", "")
		c := mustParse(t, "channels:\n  - {name: tg, kind: telegram, settings: {token: \"1:file\", chat_id: \"@file_chat\"}}\n")
		ch, _ := c.Channel("tg")
		var v struct {
			Token   string        `yaml:"token"`
			ChatID  string        `yaml:"chat_id"`
			Timeout time.Duration `yaml:"timeout"`
		}
		if err := ch.Spec.Decode(&v); err != nil || v.Token != "1:file" || v.ChatID != "@file_chat" || v.Timeout != 0 {
			t.Fatalf("decoded %+v, %v", v, err)
		}
	})
}

func TestUrgentPriority(t *testing.T) {
	cleanEnv(t)
	if c := mustParse(t, ""); c.Worker.UrgentPriority != 8 {
		t.Fatalf("default urgent_priority %d, want 8", c.Worker.UrgentPriority)
	}
	if c := mustParse(t, "worker: {urgent_priority: 5}"); c.Worker.UrgentPriority != 5 {
		t.Fatalf("urgent_priority %d, want 5", c.Worker.UrgentPriority)
	}
	wantErr(t, "worker: {urgent_priority: 11}", "worker.urgent_priority")
}

// burst and in_flight reach the channel; negative values are refused with the setting named.
func TestBurstAndInFlight(t *testing.T) {
	c := mustParse(t, "channels:\n  - {name: tg, kind: telegram, burst: 3, in_flight: 2}\n  - {name: tg2, kind: telegram}\n")
	if c.Channels[0].Limit.Burst != 3 || c.Channels[0].InFlight != 2 {
		t.Fatalf("tg: %+v", c.Channels[0])
	}
	if c.Channels[1].Limit.Burst != 0 || c.Channels[1].InFlight != 0 {
		t.Fatalf("tg2 defaults: %+v", c.Channels[1])
	}
	wantErr(t, "channels:\n  - {name: tg, kind: telegram, burst: -1}\n", "burst")
	wantErr(t, "channels:\n  - {name: tg, kind: telegram, in_flight: -1}\n", "in_flight")
}

// A misspelt setting of a channel's kind is named by its line in the config file (the settings
// block is decoded later, from a copy that numbers its lines from 1).
func TestChannelSettingTypoNamesTheFileLine(t *testing.T) {
	cleanEnv(t)
	p := filepath.Join(t.TempDir(), "herald.yaml")
	doc := "log: {level: info}\nchannels:\n  - name: tg-main\n    kind: telegram\n    settings:\n      chat_id: \"@news\"\n      chatid: 5\n"
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var settings struct {
		ChatID string `yaml:"chat_id"`
	}
	err = c.Channels[0].Spec.Decode(&settings)
	want := `channel "tg-main" (kind telegram): line 7: settings.chatid: unknown setting (did you mean chat_id?)`
	if err == nil || err.Error() != want {
		t.Fatalf("Decode: %v\nwant %s", err, want)
	}
}

// A value of the wrong type names its setting and line, in the file's keys and in a channel's
// settings, says what the setting takes, and does not repeat the value (it may be a secret typed
// under the wrong key). yaml.v3 said "line 4: cannot unmarshal !!str `abc` into int", "line 1:"
// for any channel setting, and took burst: 2.5 as 2.
func TestTypeErrorsNameTheSetting(t *testing.T) {
	cleanEnv(t)
	const secret = "123456:pastedBotToken0123456789"
	for doc, want := range map[string]string{
		"channels:\n  - name: tg-main\n    kind: telegram\n    max_attempts: " + secret + "\n":       "line 4: channels[0] (tg-main).max_attempts: want a whole number",
		"channels:\n  - {name: tg-main, kind: telegram, burst: 2.5}\n":                               "line 2: channels[0] (tg-main).burst: want a whole number",
		"channels:\n  name: tg-main\n":                                                               "line 2: channels: want a list ([a, b] or lines starting with -), not key: value pairs",
		"http:\n  api_token: [" + secret + "]\n":                                                     "line 2: http.api_token: want a single value, not a list",
		"admin:\n  telegram:\n    allowed_user_ids: [\"@" + secret + "\"]\n":                         "line 3: admin.telegram.allowed_user_ids[0]: want a whole number",
		"channels:\n  - {name: tg-main, kind: telegram, format: {utm: {enabled: " + secret + "}}}\n": "line 2: channels[0] (tg-main).format.utm.enabled: want true or false",
	} {
		_, err := Parse([]byte(doc))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v\nwant %s", doc, err, want)
		}
		if err != nil && (strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "config.") || strings.Contains(err.Error(), "!!")) {
			t.Errorf("%q: the error repeats the value or names a Go type: %v", doc, err)
		}
	}

	p := filepath.Join(t.TempDir(), "herald.yaml")
	doc := "log: {level: info}\nchannels:\n  - name: tg-main\n    kind: telegram\n    settings:\n      chat_id: \"@news\"\n      disable_web_page_preview: " + secret + "\n      timeout: 15\n"
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var settings struct {
		ChatID  string        `yaml:"chat_id"`
		Disable bool          `yaml:"disable_web_page_preview"`
		Timeout time.Duration `yaml:"timeout"`
	}
	err = c.Channels[0].Spec.Decode(&settings)
	want := "channel \"tg-main\" (kind telegram): line 7: settings.disable_web_page_preview: want true or false\n" +
		"line 8: settings.timeout: want a duration like 30s, 15m or 2h"
	if err == nil || err.Error() != want {
		t.Fatalf("Decode: %v\nwant %s", err, want)
	}
}

// A setting that came from HERALD_CH_<NAME>_<SETTING> and is refused names the variable, not a
// line: the file does not hold it (the error read "settings.tokn: unknown setting", and the
// operator searched the file for a "tokn" that was in the environment).
func TestEnvSettingErrorsNameTheVariable(t *testing.T) {
	cleanEnv(t)
	t.Setenv("HERALD_CH_TG_TOKN", "123:pastedTokenValue")
	t.Setenv("HERALD_CH_TG_TIMEOUT", "15")
	t.Setenv("HERALD_CH_TG_DISABLE_WEB_PAGE_PREVIEW", "2.5")
	c := mustParse(t, "channels:\n  - name: tg\n    kind: telegram\n    settings: {chat_id: \"@news\", timeout: 15s}\n")
	var settings struct {
		ChatID  string        `yaml:"chat_id"`
		Timeout time.Duration `yaml:"timeout"`
		Disable bool          `yaml:"disable_web_page_preview"`
	}
	err := c.Channels[0].Spec.Decode(&settings)
	want := `channel "tg" (kind telegram): $HERALD_CH_TG_TOKN: settings.tokn: unknown setting`
	if err == nil || !strings.HasPrefix(err.Error(), want) || strings.Contains(err.Error(), "pastedTokenValue") {
		t.Fatalf("Decode: %v\nwant %s…", err, want)
	}
	unsetenv(t, "HERALD_CH_TG_TOKN")
	c = mustParse(t, "channels:\n  - name: tg\n    kind: telegram\n    settings: {chat_id: \"@news\", timeout: 15s}\n")
	err = c.Channels[0].Spec.Decode(&settings)
	for _, want := range []string{"$HERALD_CH_TG_TIMEOUT: settings.timeout: want a duration", "$HERALD_CH_TG_DISABLE_WEB_PAGE_PREVIEW: settings.disable_web_page_preview: want true or false"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode: %v\nwant %s", err, want)
		}
	}
}

// http.addr must be host:port, and an error about it or http.public_url names the variable
// that set it: HERALD_HTTP_ADDR=8080 failed only when serve listened, after connecting to Redis
// and building every channel, and the operator looked for it in the file.
func TestHTTPSettingsNameTheirVariable(t *testing.T) {
	cleanEnv(t)
	wantErr(t, "http: {addr: \"8080\"}\n", `http.addr: "8080" is not host:port`)
	t.Setenv("HERALD_HTTP_ADDR", "8080")
	t.Setenv("HERALD_PUBLIC_URL", "herald.example.com")
	wantErr(t, "", `http.addr (env HERALD_HTTP_ADDR): "8080" is not host:port`, `http.public_url (env HERALD_PUBLIC_URL): "herald.example.com" is not an absolute http or https URL`)
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::1]:8080", "localhost:0"} {
		t.Setenv("HERALD_HTTP_ADDR", addr)
		t.Setenv("HERALD_PUBLIC_URL", "")
		if c := mustParse(t, ""); c.HTTP.Addr != addr {
			t.Errorf("http.addr %q, want %q", c.HTTP.Addr, addr)
		}
	}
}

// An API token ends at its last non-space character wherever it comes from, as a token_file's
// or token_env's always did: HERALD_API_TOKEN from a Kubernetes Secret made with --from-file
// kept the file's newline, no client sends one (herald's CLI trims its own), and every request
// was refused with 401. REDIS_URL with that newline was "not a valid URL".
func TestProcessVariablesAndInlineTokensAreTrimmed(t *testing.T) {
	cleanEnv(t)
	t.Setenv("HERALD_API_TOKEN", "0123456789abcdef0123456789abcdef\n")
	t.Setenv("REDIS_URL", "redis://redis:6379/0\r\n")
	t.Setenv("HERALD_HTTP_ADDR", " 0.0.0.0:8080\n")
	c := mustParse(t, "http:\n  tokens:\n    - {role: viewer, token: \"viewer-token-0123456789 \"}\n")
	if c.HTTP.APIToken != "0123456789abcdef0123456789abcdef" || c.Redis.URL != "redis://redis:6379/0" || c.HTTP.Addr != "0.0.0.0:8080" {
		t.Errorf("api token %q, redis.url %q, http.addr %q", c.HTTP.APIToken, c.Redis.URL, c.HTTP.Addr)
	}
	if got := c.HTTP.Tokens[0].Token; got != "viewer-token-0123456789" {
		t.Errorf("http.tokens[0].token %q", got)
	}
	unsetenv(t, "HERALD_API_TOKEN")
	if c := mustParse(t, "http: {api_token: \"admin-token-0123456789\\n\"}\n"); c.HTTP.APIToken != "admin-token-0123456789" {
		t.Errorf("http.api_token %q", c.HTTP.APIToken)
	}
}

func names(c *Config) string {
	var n []string
	for _, ch := range c.Channels {
		n = append(n, string(ch.Spec.Name))
	}
	return strings.Join(n, ", ")
}

func TestUnknownChannelListsTheConfiguredOnes(t *testing.T) {
	cleanEnv(t)
	if got := (&Config{}).UnknownChannel("tg"); got != `"tg" is not a configured channel (no channels are configured)` {
		t.Errorf("no channels: %s", got)
	}
	var doc strings.Builder
	doc.WriteString("channels:\n")
	for i := range 22 {
		fmt.Fprintf(&doc, "  - {name: c%02d, kind: webhook, settings: {url: https://h.example/x}}\n", i)
	}
	c := mustParse(t, doc.String())
	got := c.UnknownChannel("c99")
	if !strings.HasPrefix(got, `"c99" is not a configured channel (configured: c00, c01, `) || !strings.HasSuffix(got, ", c19, … 2 more)") {
		t.Errorf("22 channels: %s", got)
	}
}
