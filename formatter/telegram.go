package formatter

import (
	"html"
	"strings"

	"herald/article"
	"herald/channels"
)

// Telegram limits, counted in UTF-16 code units after entity parsing.
// Specs: https://core.telegram.org/bots/api#sendmessage
// and https://core.telegram.org/bots/api#sendphoto
const (
	telegramTextLimit    = 4096
	telegramCaptionLimit = 1024
)

// telegram renders HTML parse mode: the title bold, the summary, hashtags (Telegram links
// them), and the link as an <a href> so the whole URL is linked.
// Specs: https://core.telegram.org/bots/api#formatting-options
type telegram struct{}

func (telegram) layout(d *Data) string {
	var b strings.Builder
	if d.Title != "" {
		b.WriteString("<b>" + telegramEscape(d.Title) + "</b>\n\n")
	}
	if d.Summary != "" {
		b.WriteString(telegramEscape(d.Summary) + "\n\n")
	}
	if len(d.Hashtags) > 0 {
		b.WriteString(telegramEscape(strings.Join(d.Hashtags, " ")) + "\n\n")
	}
	b.WriteString(telegram{}.link(d.URL, ""))
	return b.String()
}

func (telegram) escape(s string) string { return telegramEscape(s) }

// telegramEscape escapes < > & and quotes. html.EscapeString's &#39; and &#34; are numeric
// entities, which Telegram accepts.
func telegramEscape(s string) string { return html.EscapeString(s) }

func (telegram) link(url, text string) string {
	if text == "" {
		text = url
	}
	return `<a href="` + telegramEscape(url) + `">` + telegramEscape(text) + "</a>"
}

func (telegram) measure(text string) (int, error) { return CheckTelegramHTML(text) }

func (telegram) markup() markup { return markupHTML }

func (telegram) finish(p *channels.Post, _, _ *Data, _ *article.Article) {
	p.ParseMode = channels.ParseHTML
}
