package config

import (
	"os"
	"strings"
	"testing"
)

func TestAdminBlock(t *testing.T) {
	c, err := Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil || c.Admin != nil {
		t.Fatalf("no admin block: %+v %v", c.Admin, err)
	}
	t.Setenv("HERALD_ADMIN_BOT_TOKEN", "")
	_, err = Parse([]byte("admin:\n  telegram:\n    allowed_user_ids: [1]\n"))
	if err == nil || !strings.Contains(err.Error(), "admin.telegram.token_env: $HERALD_ADMIN_BOT_TOKEN: no admin bot token") {
		t.Fatalf("missing token: %v", err)
	}
	t.Setenv("MY_ADMIN_TOKEN", "55:admin-secret")
	c, err = Parse([]byte(`admin:
  telegram:
    token_env: MY_ADMIN_TOKEN
    allowed_user_ids: [123456789]
    alert_chat_id: -1001234567890
    language: en
  alerts:
    delay: 5s
`))
	if err != nil {
		t.Fatal(err)
	}
	tg := c.Admin.Telegram
	if tg.Token != "55:admin-secret" || tg.Mode != "polling" || tg.AlertChatID != -1001234567890 || tg.Language != "en" ||
		c.Admin.Alerts.Delay.Seconds() != 5 || c.Admin.Alerts.Interval.Minutes() != 10 {
		t.Fatalf("admin config %+v", c.Admin)
	}
	_, err = Parse([]byte("admin:\n  telegram:\n    token: \"1:x\"\n    language: fr\n    mode: carrier-pigeon\n"))
	for _, want := range []string{"admin.telegram.allowed_user_ids", "admin.telegram.language", "admin.telegram.mode"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %s", err, want)
		}
	}
	_, err = Parse([]byte("admin:\n  telegram:\n    token: \"1:x\"\n    allowed_user_ids: [1]\n    mode: webhook\n    webhook_url: https://h.example.com/tg\n"))
	if err == nil || !strings.Contains(err.Error(), "admin.telegram.webhook_secret") {
		t.Fatalf("webhook without a secret: %v", err)
	}
}

// The commented-out admin block of herald.example.yaml, uncommented, is a valid config.
func TestExampleAdminBlockLoads(t *testing.T) {
	data, err := os.ReadFile("../herald.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(data), "\n# admin:\n")
	if !ok {
		t.Fatal("herald.example.yaml has no commented admin block")
	}
	var doc strings.Builder
	doc.WriteString("admin:\n")
	for _, l := range strings.Split(block, "\n") {
		if !strings.HasPrefix(l, "#  ") {
			break
		}
		doc.WriteString(strings.TrimPrefix(l, "#") + "\n")
	}
	t.Setenv("HERALD_ADMIN_BOT_TOKEN", "55:example")
	c, err := Parse([]byte(doc.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, doc.String())
	}
	if c.Admin.Telegram.Token != "55:example" || c.Admin.Telegram.AlertChatID == 0 || c.Admin.Alerts.ButtonTTL.Hours() != 24 {
		t.Fatalf("example admin block %+v", c.Admin)
	}
}
