package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/zap"

	"herald/config"
)

// Every channel herald.example.yaml shows, its commented-out ones uncommented, loads and builds
// through the registry with the settings exactly as written: a setting renamed in a package (or
// misspelt in the example) fails here instead of at an operator's first start.
func TestExampleConfigChannelsAllBuild(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "herald.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start, end := strings.Index(text, "\nchannels:\n"), strings.Index(text, "\n# Routes ")
	if start < 0 || end < start {
		t.Fatal("herald.example.yaml: no channels: section followed by the routes comment")
	}
	// "  # - name: …" and "  #   kind: …" are a commented-out channel; "  # X (docs/x.md)…" is prose.
	block := regexp.MustCompile(`(?m)^  # (- |  )`)
	channelsPart := block.ReplaceAllString(text[start:end], "  $1")

	// The secrets the example points at: files under /run/secrets and environment variables.
	dir := t.TempDir()
	channelsPart = strings.ReplaceAll(channelsPart, "/run/secrets/", dir+"/")
	for _, m := range regexp.MustCompile(regexp.QuoteMeta(dir)+`/([\w.-]+)`).FindAllStringSubmatch(channelsPart, -1) {
		secret := "example-secret-value"
		if strings.Contains(m[1], "webhook") {
			secret = "https://discord.com/api/webhooks/123456789012345678/example-webhook-token-0123456789"
		}
		if strings.Contains(m[1], "partner-hook") {
			secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		}
		if err := os.WriteFile(filepath.Join(dir, m[1]), []byte(secret), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range regexp.MustCompile(`_env: ([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(channelsPart, -1) {
		t.Setenv(m[1], "example-secret-value")
	}
	t.Setenv("HERALD_CH_TG_MAIN_TOKEN", "123456:example")

	p := filepath.Join(dir, "herald.yaml")
	if err := os.WriteFile(p, []byte(text[:start]+channelsPart+text[end:]), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatalf("the example with every channel uncommented does not load: %v", err)
	}
	kinds := map[string]bool{}
	for _, c := range cfg.Channels {
		kinds[string(c.Spec.Kind)] = true
	}
	for _, k := range []string{"telegram", "x", "facebook", "threads", "linkedin", "discord", "bluesky", "mastodon", "whatsapp", "webhook", "websub"} {
		if !kinds[k] {
			t.Errorf("the example shows no %s channel (uncommented: %d channels)", k, len(cfg.Channels))
		}
	}
	routes, err := buildRoutes(cfg, zap.NewNop(), platformClient(cfg, 0))
	if err != nil {
		t.Fatalf("a channel of the example does not build: %v", err)
	}
	if len(routes) != len(cfg.Channels) {
		t.Fatalf("%d of %d channels built", len(routes), len(cfg.Channels))
	}
}

// The blocks herald.example.yaml leaves commented out at its end (webhooks, feeds, the admin bot)
// load once uncommented, with the variables they name set: what an operator uncomments first.
func TestExampleConfigCommentedBlocksLoad(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "herald.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "\n# webhooks:\n")
	if start < 0 {
		t.Fatal("herald.example.yaml: no commented-out webhooks: block")
	}
	tail := regexp.MustCompile(`(?m)^# ((?:webhooks|feeds|admin):.*)$`).ReplaceAllString(text[start:], "$1")
	tail = regexp.MustCompile(`(?m)^#   `).ReplaceAllString(tail, "  ")
	for _, m := range regexp.MustCompile(`_env: ([A-Z][A-Z0-9_]*)`).FindAllStringSubmatch(text, -1) {
		t.Setenv(m[1], "123456:example-secret-value-0123456789")
	}
	t.Setenv("HERALD_WP_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	cfg, err := config.Parse([]byte(text[:start] + tail))
	if err != nil {
		t.Fatalf("the example with its webhooks, feeds and admin blocks uncommented does not load: %v", err)
	}
	if len(cfg.Webhooks) == 0 || len(cfg.Feeds) == 0 || cfg.Admin == nil {
		t.Fatalf("uncommented: %d webhooks, %d feeds, admin %v", len(cfg.Webhooks), len(cfg.Feeds), cfg.Admin != nil)
	}
}
