package whatsapp

import (
	"context"
	"net"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/channels/whatsapp/whatsappfake"
	"herald/formatter"
)

const (
	publicImage  = "https://img.news.example/2026/11/story.jpg"
	privateImage = "http://cms.internal.example/uploads/story.png"
)

// fakeDNS answers for the two image hosts without a network.
func fakeDNS(t *testing.T) {
	old := lookupIP
	lookupIP = func(_ context.Context, _, host string) ([]net.IP, error) {
		switch host {
		case "img.news.example":
			return []net.IP{net.ParseIP("203.0.113.10")}, nil
		case "cms.internal.example":
			return []net.IP{net.ParseIP("10.1.2.3")}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	t.Cleanup(func() { lookupIP = old })
}

func imageMessage(t *testing.T, imageURL string, summaryMax int) channels.Message {
	t.Helper()
	a := &article.Article{
		URL:      "https://news.example.com/world/2026/11/story",
		Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary:  strings.Repeat("قال الرئيس الأوكراني إن هناك تحالفًا متزايدًا بين روسيا وكوريا الشمالية. ", 20),
		ImageURL: imageURL,
		Language: "ar",
	}
	a.Normalize()
	on := true
	r, err := formatter.New(channels.KindWhatsApp, formatter.Options{Image: &on, SummaryMax: summaryMax})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	return channels.Message{ArticleID: "a1", Key: "a1:wa:1", Attempt: 1, Posts: posts}
}

func TestImagePostEachProvider(t *testing.T) {
	fakeDNS(t)
	fake := whatsappfake.New()
	defer fake.Close()
	fake.OpenWindow(whatsappfake.CloudTo)
	msg := imageMessage(t, publicImage, 200)
	for _, p := range []Provider{Cloud, WAHA, Whapi} {
		ch := newTest(t, settings(fake, p, ""), channels.Env{})
		rcpt, err := ch.Send(context.Background(), msg)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		msgs := fake.Messages()
		m := msgs[len(msgs)-1]
		if m.Type != "image" || m.ImageURL != publicImage || m.Text != msg.Posts[0].Text || rcpt.RemoteID != m.ID {
			t.Fatalf("%s: fake got %+v, receipt %+v; want the image with the post as caption", p, m, rcpt)
		}
	}
}

func TestImageFallsBackToText(t *testing.T) {
	fakeDNS(t)
	fake := whatsappfake.New()
	defer fake.Close()
	fake.OpenWindow(whatsappfake.CloudTo)
	last := func() whatsappfake.Message { m := fake.Messages(); return m[len(m)-1] }

	// A post longer than a caption goes out as text (its link preview shows the image).
	long := imageMessage(t, publicImage, 2000)
	ch := newTest(t, settings(fake, Whapi, ""), channels.Env{})
	if _, err := ch.Send(context.Background(), long); err != nil || last().Type != "text" {
		t.Fatalf("long post: %v, %+v", err, last())
	}
	// An image on a private address is not handed to the gateway, unless allowed.
	private := imageMessage(t, privateImage, 200)
	if _, err := ch.Send(context.Background(), private); err != nil || last().Type != "text" {
		t.Fatalf("private image: %v, %+v; want the text alone", err, last())
	}
	allowed := newTest(t, settings(fake, Whapi, "allow_private_hosts: true\n"), channels.Env{})
	if _, err := allowed.Send(context.Background(), private); err != nil || last().Type != "image" {
		t.Fatalf("private image, allowed: %v, %+v", err, last())
	}
	// The provider cannot fetch the image: the text follows, so the story still goes out.
	fake.RejectImage(publicImage)
	msg := imageMessage(t, publicImage, 200)
	for _, p := range []Provider{Cloud, WAHA, Whapi} {
		n := len(fake.Requests())
		rcpt, err := newTest(t, settings(fake, p, ""), channels.Env{}).Send(context.Background(), msg)
		if err != nil || last().Type != "text" || rcpt.RemoteID != last().ID || len(fake.Requests()) != n+2 {
			t.Fatalf("%s rejected image: %v, %+v; want the image refused, then the text", p, err, last())
		}
	}
	// A template carries text only.
	tmpl := newTest(t, settings(fake, Cloud, "template: "+whatsappfake.Template+"\n"), channels.Env{})
	if _, err := tmpl.Send(context.Background(), imageMessage(t, "https://img.news.example/other.jpg", 200)); err != nil || last().Type != "template" {
		t.Fatalf("template with an image: %v, %+v", err, last())
	}
}

// WAHA Core sends text only: it answers sendImage 422 "available only in Plus version". That
// concerns the image, not the session: the text goes out alone and the channel does not pause.
func TestWAHACoreImageFallsBackToText(t *testing.T) {
	fakeDNS(t)
	fake := whatsappfake.New()
	defer fake.Close()
	fake.SetWAHAPlus(false)
	msg := imageMessage(t, publicImage, 200)
	ch := newTest(t, settings(fake, WAHA, ""), channels.Env{})
	rcpt, err := ch.Send(context.Background(), msg)
	msgs := fake.Messages()
	if err != nil || len(msgs) != 1 || msgs[0].Type != "text" || msgs[0].Text != msg.Posts[0].Text || rcpt.RemoteID != msgs[0].ID {
		t.Fatalf("image on WAHA Core: %v, %+v; want the image refused, then the text", err, msgs)
	}
	if reqs := fake.Requests(); len(reqs) != 2 || reqs[0].Path != "/api/sendImage" || reqs[0].Status != 422 {
		t.Fatalf("requests %+v, want sendImage refused (422), then sendText", reqs)
	}
}
