package formatter

import (
	"strings"

	"herald/article"
	"herald/channels"
)

// WhatsApp text bodies (Cloud API and the Channel gateways) are at most 4096 characters;
// counted in UTF-16 units to stay on the safe side.
// Specs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#text-object
const whatsappLimit = 4096

// whatsapp renders WhatsApp markup: *bold* title, summary, hashtags, then a short label line
// ("🔗 اقرأ المزيد") and the tracked URL once, last, where WhatsApp's link preview picks it up.
// WhatsApp cannot hide a URL behind text, so the label tells the reader what the long line is.
// WhatsApp has no escape character: markup characters in the text become look-alikes.
// Specs: https://faq.whatsapp.com/539178204879377
type whatsapp struct{}

func (whatsapp) layout(d *Data) string {
	parts := make([]string, 0, 4)
	if d.Title != "" {
		parts = append(parts, "*"+whatsappEscape(d.Title)+"*")
	}
	if d.Summary != "" {
		parts = append(parts, whatsappEscape(d.Summary))
	}
	if len(d.Hashtags) > 0 {
		parts = append(parts, strings.Join(d.Hashtags, " "))
	}
	link := d.URL
	if d.LinkText != "" {
		link = "🔗 " + whatsappEscape(d.LinkText) + "\n" + d.URL
	}
	return strings.Join(append(parts, link), "\n\n")
}

var whatsappReplacer = strings.NewReplacer("*", "∗", "_", "＿", "~", "∼", "`", "ˋ")

// whatsappEscape replaces the markup characters of s by look-alikes, except inside its URLs.
func whatsappEscape(s string) string { return escapeOutsideURLs(s, whatsappReplacer.Replace) }

func (whatsapp) escape(s string) string { return whatsappEscape(s) }

func (whatsapp) link(url, text string) string {
	if text == "" {
		return url
	}
	return whatsappEscape(text) + "\n" + url
}

func (whatsapp) measure(text string) (int, error) { return CountUTF16(text), nil }

func (whatsapp) markup() markup { return markupStars }

// finish asks for the link preview (Cloud API preview_url, WAHA linkPreview) of the URL.
func (whatsapp) finish(p *channels.Post, d, _ *Data, _ *article.Article) {
	p.ParseMode = channels.ParseNone
	p.LinkPreview = &channels.LinkPreview{URL: d.URL}
}
