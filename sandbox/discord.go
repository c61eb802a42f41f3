package sandbox

import (
	"fmt"
	"strings"

	"herald/channels"
	"herald/channels/discord/discordfake"
)

// DiscordChannel is the sandbox's Discord channel, a webhook of the fake Discord on loopback.
const DiscordChannel = "discord-demo"

// discordYAML is the channels: entry for the fake Discord webhook. It posts embeds, so the demo
// shows the title, summary, link and the sample image as Discord would lay them out.
func discordYAML(dc *discordfake.Server) string {
	return fmt.Sprintf(`
  - name: %s
    kind: discord
    format:
      embed: true
    settings:
      webhook_url: %q
      username: "Herald Demo"
`, DiscordChannel, dc.WebhookURL())
}

// DiscordReceived is what the fake Discord received for a delivery's message id, for the demo
// to print.
func (s *Sandbox) DiscordReceived(kind channels.Kind, remoteID string) (title, body string, ok bool) {
	if kind != channels.KindDiscord || s.Discord == nil {
		return "", "", false
	}
	for _, m := range s.Discord.Messages() {
		if m.ID != remoteID {
			continue
		}
		var b strings.Builder
		if m.Content != "" {
			b.WriteString(m.Content + "\n")
		}
		for _, e := range m.Embeds {
			fmt.Fprintf(&b, "[embed] %v\n%v\n%v\n", e["title"], e["description"], e["url"])
			if img, ok := e["image"].(map[string]any); ok {
				fmt.Fprintf(&b, "[image %v]\n", img["url"])
			}
		}
		fmt.Fprintf(&b, "allowed_mentions: %s, as %q", m.AllowedMentions, m.Username)
		return "Discord received (POST /api/webhooks/{id}/{token}?wait=true)", strings.TrimRight(b.String(), "\n"), true
	}
	return "", "", false
}

// discordDuplicates counts messages the fake Discord received twice with the same content and
// embeds.
func (s *Sandbox) discordDuplicates() int {
	seen := map[string]int{}
	dups := 0
	for _, m := range s.Discord.Messages() {
		k := fmt.Sprintf("%s\x00%v", m.Content, m.Embeds)
		seen[k]++
		if seen[k] > 1 {
			dups++
		}
	}
	return dups
}
