package sandbox

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"herald/channels"
	_ "herald/channels/discord" // the sandbox's discord-demo channel
)

// TestSandboxDiscordPostsAnEmbedWithTheSampleImage: the sandbox's Discord channel posts the
// sample as an embed carrying its loopback image, pinging nobody, and herald demo shows it.
func TestSandboxDiscordPostsAnEmbedWithTheSampleImage(t *testing.T) {
	sb, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	arts, err := sb.Samples()
	if err != nil {
		t.Fatal(err)
	}
	a := &arts[len(arts)-1]
	if a.ImageURL == "" {
		t.Fatal("the last sample has no image")
	}
	sendToEvery(t, sb, a, zapcore.WarnLevel)
	m := sb.Discord.Messages()
	if len(m) != 1 || len(m[0].Embeds) != 1 || m[0].Pinged || string(m[0].AllowedMentions) != `{"parse":[]}` {
		t.Fatalf("Discord messages %+v, want one embed pinging nobody", m)
	}
	img, _ := m[0].Embeds[0]["image"].(map[string]any)
	if img["url"] != a.ImageURL || m[0].Embeds[0]["title"] != a.Title {
		t.Fatalf("embed %+v, want %q with the image %s", m[0].Embeds[0], a.Title, a.ImageURL)
	}
	if _, body, ok := sb.DiscordReceived(channels.KindDiscord, m[0].ID); !ok || !strings.Contains(body, "[image "+a.ImageURL+"]") {
		t.Fatalf("demo shows %q", body)
	}
	if sb.Duplicates() != 0 {
		t.Fatal("duplicates counted after one send")
	}
}
