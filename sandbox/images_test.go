package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/article"
	"herald/channels"
	_ "herald/channels/facebook"
	_ "herald/channels/telegram"
	_ "herald/channels/x"
	"herald/formatter"
)

// TestSandboxPostsSampleImagesFromLoopback: every sandbox channel whose platform takes an image
// posts the sample's image, and that image is on loopback: the X channel downloads and uploads
// it, the others hand its loopback URL over. No warning is logged (an image left out, a host
// refused). Before the image host, X logged "image left out ... no such host" after a DNS
// lookup of news.example.com, and WhatsApp sent text only.
func TestSandboxPostsSampleImagesFromLoopback(t *testing.T) {
	sb, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	arts, err := sb.Samples()
	if err != nil {
		t.Fatal(err)
	}
	var a *article.Article
	for i := range arts {
		if arts[i].ImageURL != "" {
			a = &arts[i]
		}
	}
	if a == nil {
		t.Fatal("no sample article has an image")
	}
	u, err := url.Parse(a.ImageURL)
	if err != nil || u.Hostname() != "127.0.0.1" {
		t.Fatalf("sample image %q is not on loopback", a.ImageURL)
	}

	logs := sendToEvery(t, sb, a, zapcore.WarnLevel)
	for _, e := range logs.All() {
		t.Errorf("warning: %s %v", e.Message, e.ContextMap())
	}

	photos := 0
	for _, m := range sb.Telegram.Messages() {
		if m.Method == "sendPhoto" && m.PhotoURL == a.ImageURL {
			photos++
		}
	}
	if photos != 1 {
		t.Errorf("Telegram received %d photos of %s, want 1: %+v", photos, a.ImageURL, sb.Telegram.Messages())
	}
	xPosts := sb.X.Posts()
	if len(xPosts) != 1 || len(xPosts[0].MediaIDs) != 1 {
		t.Fatalf("X posts %+v, want one with the uploaded image", xPosts)
	}
	if m, ok := sb.X.MediaByID(xPosts[0].MediaIDs[0]); !ok || m.Type != "image/jpeg" || m.Size == 0 {
		t.Errorf("X media %+v, want the sample JPEG", m)
	}
	fb := sb.Facebook.Posts()
	if len(fb) != 1 || fb[0].Kind != "photo" || fb[0].PhotoURL != a.ImageURL {
		t.Errorf("Facebook posts %+v, want one photo of %s", fb, a.ImageURL)
	}
	images := map[string]bool{}
	for _, m := range sb.fakes.WhatsApp.Messages() {
		if m.Type == "image" && m.ImageURL == a.ImageURL {
			images[string(m.Provider)] = true
			// herald demo shows the image above the caption.
			if _, body, ok := sb.Received(channels.KindWhatsApp, m.ID); !ok || !strings.HasPrefix(body, "[image "+a.ImageURL+"]\n") {
				t.Errorf("demo shows the WhatsApp image message as %q", body)
			}
		}
	}
	if len(images) != 2 {
		t.Errorf("WhatsApp image messages from %v, want WAHA and Whapi: %+v", images, sb.fakes.WhatsApp.Messages())
	}
}

// sendToEvery renders a for each sandbox channel and sends it, through channels.New as
// cmd/herald builds them; it returns what the channels logged at level and above.
func sendToEvery(t *testing.T, sb *Sandbox, a *article.Article, level zapcore.Level) *observer.ObservedLogs {
	t.Helper()
	core, logs := observer.New(level)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, c := range sb.Config.Channels {
		ch, err := channels.New(c.Spec, channels.Env{Logger: zap.New(core), HTTPClient: sb.HTTPClient()})
		if err != nil {
			t.Fatalf("%s: %v", c.Spec.Name, err)
		}
		r, err := formatter.New(c.Spec.Kind, c.Format)
		if err != nil {
			t.Fatalf("%s: %v", c.Spec.Name, err)
		}
		posts, err := r.Render(a)
		if err != nil {
			t.Fatalf("%s: rendering: %v", c.Spec.Name, err)
		}
		if _, err := ch.Send(ctx, channels.Message{ArticleID: "a1", Key: "a1:" + string(c.Spec.Name), Attempt: 1, Posts: posts}); err != nil {
			t.Fatalf("%s: %v", c.Spec.Name, err)
		}
	}
	return logs
}

// TestSandboxImageHost: the image host serves a JPEG at the samples' paths and nothing else.
func TestSandboxImageHost(t *testing.T) {
	sb, err := Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	img := sb.images.localURL("https://news.example.com/media/2026/11/gateway.jpg")
	resp, err := sb.HTTPClient().Get(img)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/jpeg" || resp.ContentLength < 100 {
		t.Fatalf("%s: %s %q %d bytes", img, resp.Status, resp.Header.Get("Content-Type"), resp.ContentLength)
	}
	resp, err = sb.HTTPClient().Get(strings.TrimSuffix(img, "gateway.jpg") + "../../secret.txt")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("a path that is not a sample image: %s, want 404", resp.Status)
	}
}

// TestSandboxClientRefusesTheOutside: the sandbox's HTTP client refuses any host that is not a
// loopback address, before resolving or dialling it.
func TestSandboxClientRefusesTheOutside(t *testing.T) {
	c := loopbackClient()
	for _, u := range []string{"https://api.telegram.org/botX/getMe", "http://192.0.2.1/", "http://[2001:db8::1]/", "http://10.0.0.1:8080/"} {
		resp, err := c.Get(u)
		if err == nil {
			resp.Body.Close()
			t.Errorf("%s: reached", u)
			continue
		}
		if !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: %v, want ErrNotLoopback", u, err)
		}
	}
}
