package sandbox

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	_ "herald/channels/bluesky" // the sandbox's bluesky-demo channel
)

// TestSandboxBlueskyPostsACardWithTheSampleThumbnail: the sandbox's Bluesky channel makes a
// post record whose card carries the loopback sample image as an uploaded thumbnail, with no
// warning, and herald demo shows the record with its facets.
func TestSandboxBlueskyPostsACardWithTheSampleThumbnail(t *testing.T) {
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
	logs := sendToEvery(t, sb, a, zapcore.WarnLevel)
	for _, e := range logs.All() {
		t.Errorf("warning: %s %v", e.Message, e.ContextMap())
	}
	p := sb.Bluesky.Posts()
	if len(p) != 1 || p[0].Card == nil || p[0].Card.Thumb == nil || p[0].Card.Thumb.MimeType != "image/jpeg" || len(p[0].Langs) != 1 {
		t.Fatalf("Bluesky posts %+v, want one with a card and its JPEG thumbnail", p)
	}
	if _, body, ok := sb.ReceivedBluesky(p[0].URI); !ok || !strings.Contains(body, "[tag facet, bytes ") || !strings.Contains(body, "thumbnail image/jpeg") {
		t.Fatalf("demo shows %q", body)
	}
}
