package telegram

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/channels/telegram/telegramfake"
	"herald/formatter"
)

// TestSendWithLinkPreview: a post whose photo caption could not hold it arrives as a text
// message whose link_preview_options show the image, large and above the text — sent through
// the raw parameter, since tgbotapi v5.5.1 has no field for it.
func TestSendWithLinkPreview(t *testing.T) {
	for _, chat := range []string{"", `chat_id: "@herald_fake"`} {
		fake := telegramfake.New()
		t.Cleanup(fake.Close)
		fake.SetToken(token)
		var settings []string
		if chat != "" {
			settings = append(settings, chat)
		}
		h := newHarnessAt(t, fake, fake.Endpoint(), http.DefaultClient, settings...)
		post := htmlPost(`<b>عنوان</b> <a href="https://e.com/a">اقرأ المزيد</a>`)
		post.LinkPreview = &channels.LinkPreview{URL: "https://e.com/i.jpg", PreferLargeMedia: true, ShowAboveText: true}
		rcpt, err := h.ch.Send(testCtx(t), msgOf(post))
		if err != nil {
			t.Fatal(err)
		}
		if rcpt.RemoteID != "1" {
			t.Fatalf("receipt = %+v", rcpt)
		}
		m := fake.Messages()[0]
		var opts map[string]any
		if err := json.Unmarshal([]byte(m.LinkPreviewOptions), &opts); err != nil {
			t.Fatalf("link_preview_options %q: %v", m.LinkPreviewOptions, err)
		}
		if m.Method != "sendMessage" || m.Plain != "عنوان اقرأ المزيد" || m.ParseMode != "HTML" ||
			opts["url"] != "https://e.com/i.jpg" || opts["prefer_large_media"] != true || opts["show_above_text"] != true {
			t.Fatalf("message = %+v, options %v", m, opts)
		}
	}
}

// TestSendWithLinkPreviewDisabled: disable_web_page_preview wins over the post's wish.
func TestSendWithLinkPreviewDisabled(t *testing.T) {
	h := newHarness(t, "disable_web_page_preview: true")
	post := htmlPost("x")
	post.LinkPreview = &channels.LinkPreview{URL: "https://e.com/i.jpg"}
	if _, err := h.ch.Send(testCtx(t), msgOf(post)); err != nil {
		t.Fatal(err)
	}
	if m := h.fake.Messages()[0]; m.LinkPreviewOptions != "" || !m.DisableWebPagePreview {
		t.Fatalf("message = %+v", m)
	}
}

// TestSendWithLinkPreviewErrors: errors through the raw request are classified like bot.Send's.
func TestSendWithLinkPreviewErrors(t *testing.T) {
	h := newHarness(t)
	post := htmlPost("x<y") // a bare '<': Telegram refuses it
	post.LinkPreview = &channels.LinkPreview{URL: "https://e.com/i.jpg"}
	_, err := h.ch.Send(testCtx(t), msgOf(post))
	if err == nil || classOf(err) != permanent || !strings.Contains(err.Error(), "telegram: sending message: 400 Bad Request: can't parse entities") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Fatal("token in the error")
	}
	h.fake.RateLimitNext(1, 7)
	_, err = h.ch.Send(testCtx(t), msgOf(htmlPostWithPreview("ok")))
	if classOf(err) != rateLimited {
		t.Fatalf("err = %v, want rate limited", err)
	}
}

func htmlPostWithPreview(text string) channels.Post {
	p := htmlPost(text)
	p.LinkPreview = &channels.LinkPreview{URL: "https://e.com/i.jpg"}
	return p
}

// TestFormattedHostileArticleIsAccepted: the formatter's post for an article with an image, a
// title too long for a caption and a long percent-encoded Arabic URL goes out as a text message
// with the image as its preview, and the fake Telegram (exact HTML checking) accepts it.
func TestFormattedHostileArticleIsAccepted(t *testing.T) {
	h := newHarness(t)
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := &article.Article{URL: "https://example.com/" + strings.Repeat("ع", 600), Language: "ar",
		Title: strings.Repeat("x<y & عنوان طويل ", 80), ImageURL: "https://example.com/i.jpg"}
	posts, err := r.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	m := h.fake.Messages()[0]
	if m.Method != "sendMessage" || !strings.Contains(m.LinkPreviewOptions, "https://example.com/i.jpg") {
		t.Fatalf("message = %+v", m)
	}
}
