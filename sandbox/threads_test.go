package sandbox

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"herald/channels"
	_ "herald/channels/threads" // the sandbox's threads-demo channel
)

// TestSandboxThreadsPostsTheSampleWithItsImage: the sandbox's Threads channel publishes the
// sample as an IMAGE post (its container polled until FINISHED), and herald demo shows it.
func TestSandboxThreadsPostsTheSampleWithItsImage(t *testing.T) {
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
	p := sb.Threads.Posts()
	if len(p) != 1 || p[0].MediaType != "IMAGE" || p[0].ImageURL != a.ImageURL || !strings.HasPrefix(p[0].Text, a.Title) {
		t.Fatalf("Threads posts %+v, want the sample with its image", p)
	}
	if title, body, ok := sb.ThreadsReceived(channels.KindThreads, p[0].ID); !ok || !strings.Contains(body, "[image "+a.ImageURL+"]") || !strings.Contains(title, "IMAGE") {
		t.Fatalf("demo shows %q %q", title, body)
	}
	if sb.Duplicates() != 0 {
		t.Fatal("duplicates counted after one send")
	}
}
