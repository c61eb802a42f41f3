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

// whatsapp renders WhatsApp markup: *bold* title, summary, link. WhatsApp has no escape
// character, so markup characters in the text are replaced by look-alikes that do not format.
// Specs: https://faq.whatsapp.com/539178204879377
type whatsapp struct{}

func (whatsapp) layout(d *Data) string {
	t := *d
	if t.Title != "" {
		t.Title = "*" + whatsappEscape(d.Title) + "*"
	}
	t.Summary = whatsappEscape(d.Summary)
	return plainLayout(&t, true)
}

var whatsappReplacer = strings.NewReplacer("*", "∗", "_", "＿", "~", "∼", "`", "ˋ")

func whatsappEscape(s string) string { return whatsappReplacer.Replace(s) }

func (whatsapp) escape(s string) string { return whatsappEscape(s) }

func (whatsapp) link(url, text string) string {
	if text == "" {
		return url
	}
	return whatsappEscape(text) + "\n" + url
}

func (whatsapp) measure(text string) (int, error) { return CountUTF16(text), nil }

func (whatsapp) markup() markup { return markupStars }

func (whatsapp) finish(p *channels.Post, _, _ *Data, _ *article.Article) {
	p.ParseMode = channels.ParseNone
}
