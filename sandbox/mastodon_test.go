package sandbox

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"herald/channels"
	_ "herald/channels/mastodon" // the sandbox's mastodon-demo channel
)

// TestSandboxMastodonPostsTheStatusWithTheSampleImage: the sandbox's Mastodon channel posts the
// sample in Arabic with its loopback image uploaded, and herald demo shows it.
func TestSandboxMastodonPostsTheStatusWithTheSampleImage(t *testing.T) {
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
	st := sb.Mastodon.Statuses()
	if len(st) != 1 || len(st[0].MediaIDs) != 1 || st[0].Language != "ar" || !strings.Contains(st[0].Text, a.Title) {
		t.Fatalf("statuses %+v, want one Arabic status with the image", st)
	}
	if _, body, ok := sb.MastodonReceived(channels.KindMastodon, st[0].ID); !ok || !strings.Contains(body, "[image gateway.jpg") {
		t.Fatalf("demo shows %q", body)
	}
	if sb.Duplicates() != 0 {
		t.Fatal("duplicates counted after one send")
	}
}
