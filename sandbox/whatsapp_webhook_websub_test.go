package sandbox

import (
	"testing"

	"herald/channels"
	_ "herald/channels/webhook"
	_ "herald/channels/websub"
	_ "herald/channels/whatsapp"
)

// TestSandboxHasEveryHTTPKind: the embedded default configures WhatsApp through each provider,
// a webhook and WebSub against their fakes, and every one of them can be built.
func TestSandboxHasEveryHTTPKind(t *testing.T) {
	sb, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	want := map[string]channels.Kind{WhatsAppCloudChannel: channels.KindWhatsApp, WhatsAppWAHAChannel: channels.KindWhatsApp,
		WhatsAppWhapiChannel: channels.KindWhatsApp, WebhookChannel: channels.KindWebhook, WebSubChannel: channels.KindWebSub}
	for name, kind := range want {
		ch, ok := sb.Config.Channel(name)
		if !ok || ch.Spec.Kind != kind {
			t.Errorf("sandbox channel %s: %+v, want kind %s", name, ch.Spec, kind)
			continue
		}
		if _, err := channels.New(ch.Spec, channels.Env{}); err != nil {
			t.Errorf("sandbox channel %s: %v", name, err)
		}
	}
	if sb.Duplicates() != 0 {
		t.Fatal("duplicates before anything was sent")
	}
	if _, _, ok := sb.Received(channels.KindWebhook, "nothing"); ok {
		t.Fatal("Received found a delivery that was never sent")
	}
}
