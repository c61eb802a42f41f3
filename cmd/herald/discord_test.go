package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/channels/discord/discordfake"
	"herald/internal/redistest"
)

// A discord channel whose webhook URL comes from HERALD_CH_DC_NEWS_WEBHOOK_URL works with
// herald doctor (GET the webhook, no post), herald channels and herald format --channel, and
// none of them prints the webhook's token; a deleted webhook is a doctor failure with advice.
func TestDiscordChannelInDoctorChannelsAndFormat(t *testing.T) {
	rdb, srv := redistest.Start(t)
	fake := discordfake.New()
	defer fake.Close()
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	doc := fmt.Sprintf(`redis:
  url: "redis://%s/%d"
http:
  api_token: a-test-token-of-sixteen-chars
channels:
  - name: dc-news
    kind: discord
    format: {embed: true}
    settings: {username: "Herald"}
`, srv.Addr, rdb.Options().DB)
	if err := os.WriteFile(cfg, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_CH_DC_NEWS_WEBHOOK_URL", fake.WebhookURL())

	out, errOut, code := runCLI(t, "", "doctor", "--config", cfg)
	if code != 0 || !strings.Contains(out, "OK    channel dc-news") || strings.Contains(out+errOut, discordfake.DefaultToken) {
		t.Fatalf("doctor: exit %d\n%s%s", code, out, errOut)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("doctor posted %d messages", n)
	}
	out, errOut, code = runCLI(t, "", "channels", "--config", cfg)
	if code != 0 || !strings.Contains(out, "dc-news") || !strings.Contains(out, "discord") || !strings.Contains(out, "5/2s") {
		t.Fatalf("channels: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, formatSampleArticle, "format", "--config", cfg, "--channel", "dc-news", "-")
	if code != 0 || !strings.Contains(out, `"embeds"`) || !strings.Contains(out, "/webhooks/"+discordfake.DefaultID+"/***?wait=true") ||
		!strings.Contains(out, "allowed_mentions") || strings.Contains(out, discordfake.DefaultToken) || !strings.Contains(out, "channel dc-news in") {
		t.Fatalf("format: exit %d\n%s%s", code, out, errOut)
	}

	// Without a config: the example settings, token hidden all the same.
	t.Setenv("HERALD_CONFIG", "")
	out, errOut, code = runCLI(t, formatSampleArticle, "format", "--channel", "discord", "-")
	if code != 0 || !strings.Contains(out, "https://discord.com/api/v10/webhooks/1300000000000000001/***?wait=true") ||
		strings.Contains(out, "example-webhook-token") || !strings.Contains(out, `\"allowed_mentions\":{\"parse\":[]}`) {
		t.Fatalf("format --channel discord: exit %d\n%s%s", code, out, errOut)
	}

	fake.DeleteWebhook()
	out, _, code = runCLI(t, "", "doctor", "--config", cfg)
	if code != 1 || !strings.Contains(out, "FAIL  channel dc-news") || !strings.Contains(out, "Unknown Webhook") ||
		!strings.Contains(out, "Integrations → Webhooks") || strings.Contains(out, discordfake.DefaultToken) {
		t.Fatalf("doctor with a deleted webhook: exit %d\n%s", code, out)
	}
}
