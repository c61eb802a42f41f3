package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/channels"
)

func formatRequests(t *testing.T, args ...string) ([]channels.Request, string) {
	t.Helper()
	out, stderr, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle, args...)
	if err != nil {
		t.Fatalf("format %v: %v\n%s", args, err, stderr)
	}
	var got formatOutput
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	return got.Requests, got.RequestsFrom
}

// TestFormatShowsTheRequestsOfEveryChannelKindThatSendsHTTP: herald format is what the channel
// sends, so for whatsapp, webhook and websub it prints the requests themselves.
func TestFormatShowsTheRequestsOfEveryChannelKindThatSendsHTTP(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	reqs, from := formatRequests(t, "--channel", "websub", "-")
	if len(reqs) != 1 || reqs[0].Body != "hub.mode=publish&hub.url=https%3A%2F%2Fexample.com%2Ffeed" || !strings.Contains(from, "example") {
		t.Fatalf("websub: %+v (%s)", reqs, from)
	}
	reqs, _ = formatRequests(t, "--channel", "webhook", "-")
	if len(reqs) != 1 || !strings.HasPrefix(reqs[0].Header["Webhook-Signature"], "v1,") || !strings.Contains(reqs[0].Body, `"article"`) {
		t.Fatalf("webhook: %+v", reqs)
	}
	reqs, _ = formatRequests(t, "--channel", "whatsapp", "-")
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].URL, "/api/sendText") || reqs[0].Header["X-Api-Key"] != "<redacted>" {
		t.Fatalf("whatsapp: %+v", reqs)
	}

	// A configured channel: its own settings, its credential hidden.
	dir := t.TempDir()
	cfg := filepath.Join(dir, "herald.yaml")
	doc := `channels:
  - name: wa-cloud
    kind: whatsapp
    settings: {provider: cloud, token: EAAG-secret-token-777, phone_number_id: "106540352242922", to: "966500000001", template: news_alert}
  - name: feeds
    kind: websub
    settings: {hubs: [https://hub.example.org/], topics: [https://site.example/feed, https://site.example/atom]}
`
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	reqs, from = formatRequests(t, "--config", cfg, "--channel", "wa-cloud", "-")
	b, _ := json.Marshal(reqs)
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].URL, "/106540352242922/messages") || !strings.Contains(reqs[0].Body, `"type":"template"`) ||
		strings.Contains(string(b), "EAAG-secret-token-777") || !strings.Contains(from, "wa-cloud") {
		t.Fatalf("configured cloud channel: %s (%s)", b, from)
	}
	reqs, _ = formatRequests(t, "--config", cfg, "--channel", "feeds", "-")
	if len(reqs) != 2 || reqs[1].URL != "https://hub.example.org/" || !strings.Contains(reqs[1].Body, "site.example%2Fatom") {
		t.Fatalf("configured websub channel: %+v", reqs)
	}
	// Kinds whose posts are the whole story print no requests.
	if reqs, _ := formatRequests(t, "--channel", "telegram", "-"); reqs != nil {
		t.Fatalf("telegram: %+v", reqs)
	}
}
