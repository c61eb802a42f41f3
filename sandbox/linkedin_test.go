package sandbox

import (
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"herald/channels"
	_ "herald/channels/linkedin" // the sandbox's linkedin-demo channel
)

// TestSandboxLinkedInPostsTheSampleWhole: the sandbox's LinkedIn channel posts the Arabic sample
// as an article post of the Page whose little text LinkedIn shows whole, and herald demo shows it.
func TestSandboxLinkedInPostsTheSampleWhole(t *testing.T) {
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
	sendToEvery(t, sb, a, zapcore.WarnLevel)
	p := sb.LinkedIn.Posts()
	if len(p) != 1 || p[0].Truncated || !strings.HasPrefix(p[0].Shown, a.Title) || p[0].Source == "" {
		t.Fatalf("LinkedIn posts %+v, want the sample whole with its card", p)
	}
	if title, body, ok := sb.LinkedInReceived(channels.KindLinkedIn, p[0].URN); !ok || !strings.Contains(body, "[article card ") || !strings.Contains(title, "shown whole") {
		t.Fatalf("demo shows %q %q", title, body)
	}
	if sb.Duplicates() != 0 {
		t.Fatal("duplicates counted after one send")
	}
}
