package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"herald/channels"
	"herald/channels/webhook/webhookfake"
	"herald/channels/websub/hubfake"
	"herald/channels/whatsapp/whatsappfake"
)

// The sandbox's WhatsApp (one channel per provider), webhook and WebSub channels, against
// their fakes.
const (
	WhatsAppCloudChannel = "whatsapp-cloud-demo"
	WhatsAppWAHAChannel  = "whatsapp-waha-demo"
	WhatsAppWhapiChannel = "whatsapp-whapi-demo"
	WebhookChannel       = "webhook-demo"
	WebSubChannel        = "websub-demo"
	// WebSubTopic is the sample site's feed the hub is pinged about.
	WebSubTopic = "https://news.example.com/feed"
)

// httpFakes are the fakes of the HTTP channels beside Telegram.
type httpFakes struct {
	WhatsApp *whatsappfake.Server
	Webhook  *webhookfake.Server
	Hub      *hubfake.Server
}

func startHTTPFakes() httpFakes {
	return httpFakes{WhatsApp: whatsappfake.New(), Webhook: webhookfake.New(webhookfake.DefaultSecret), Hub: hubfake.New()}
}

// channelsYAML is their entries in the sandbox's channels: list. The Cloud API recipient has
// not written in 24 hours, as a news audience never has, so that channel sends the template
// (text only); the gateways send the sample image, which is on loopback (allow_private_hosts).
func (f httpFakes) channelsYAML() string {
	return fmt.Sprintf(`
  - name: %s
    kind: whatsapp
    settings: {provider: cloud, api_base: %q, token: %q, phone_number_id: %q, to: %q, template: %s}
  - name: %s
    kind: whatsapp
    format: {image: true}
    settings: {provider: waha, api_base: %q, api_key: %q, chat_id: %q, allow_private_hosts: true}
  - name: %s
    kind: whatsapp
    format: {image: true}
    settings: {provider: whapi, api_base: %q, token: %q, to: %q, allow_private_hosts: true}
  - name: %s
    kind: webhook
    settings: {url: %q, secret: %q}
  - name: %s
    kind: websub
    settings: {hubs: [%q], topics: [%q]}
`, WhatsAppCloudChannel, f.WhatsApp.CloudBase(), whatsappfake.CloudToken, whatsappfake.PhoneNumberID, whatsappfake.CloudTo, whatsappfake.Template,
		WhatsAppWAHAChannel, f.WhatsApp.URL(), whatsappfake.WAHAKey, whatsappfake.ChannelID,
		WhatsAppWhapiChannel, f.WhatsApp.URL(), whatsappfake.WhapiToken, whatsappfake.ChannelID,
		WebhookChannel, f.Webhook.URL(), webhookfake.DefaultSecret,
		WebSubChannel, f.Hub.HubURL("hub"), WebSubTopic)
}

func (f httpFakes) close() {
	f.WhatsApp.Close()
	f.Webhook.Close()
	f.Hub.Close()
}

// duplicates counts visible repeats: a WhatsApp text received twice by one chat, a webhook
// body delivered under two ids, or a webhook id sent again (the receiver drops it, but herald
// should not have needed to). Pings are not counted: every article pings the same feed.
func (f httpFakes) duplicates() int {
	seen := map[string]int{}
	dups := 0
	for _, m := range f.WhatsApp.Messages() {
		k := fmt.Sprintf("%s\x00%s\x00%s", m.Provider, m.To, m.Text)
		if seen[k]++; seen[k] > 1 {
			dups++
		}
	}
	for _, d := range f.Webhook.Deliveries() {
		dups += d.Repeats
		if seen[string(d.Body)]++; seen[string(d.Body)] > 1 {
			dups++
		}
	}
	return dups
}

// Received describes what the fake platform received for a delivery of kind with remoteID,
// as `herald demo` prints it: a title line and the body; false when the kind is not one of
// these fakes' or nothing matches.
func (s *Sandbox) Received(kind channels.Kind, remoteID string) (title, body string, ok bool) {
	f := s.fakes
	switch kind {
	case channels.KindWhatsApp:
		for _, m := range f.WhatsApp.Messages() {
			if m.ID == remoteID {
				title = fmt.Sprintf("WhatsApp (%s) received, to %s", m.Provider, m.To)
				body := m.Text
				switch m.Type {
				case "template":
					title += fmt.Sprintf(", as template %s/%s", m.Template, m.Language)
				case "image":
					body = fmt.Sprintf("[image %s]\n%s", m.ImageURL, m.Text)
				}
				return title, body, true
			}
		}
	case channels.KindWebhook:
		for _, d := range f.Webhook.Deliveries() {
			if d.ID == remoteID {
				return "the webhook receiver verified the signature and received",
					fmt.Sprintf("webhook-id: %s\nwebhook-timestamp: %s\nwebhook-signature: %s\n\n%s", d.ID, d.Timestamp, d.Signature, readable(d.Body)), true
			}
		}
	case channels.KindWebSub:
		var lines []string
		for _, p := range f.Hub.Pings() {
			lines = append(lines, fmt.Sprintf("POST %s  hub.mode=publish&hub.url=%s", p.Hub, p.Topic))
		}
		if len(lines) > 0 {
			return fmt.Sprintf("the WebSub hub has received %d ping(s)", len(lines)), strings.Join(lines, "\n"), true
		}
	}
	return "", "", false
}

// readable re-indents a JSON body for the terminal, without \u escapes.
func readable(body []byte) string {
	var v any
	if json.Unmarshal(body, &v) != nil {
		return string(body)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if enc.Encode(v) != nil {
		return string(body)
	}
	return strings.TrimSpace(b.String())
}
