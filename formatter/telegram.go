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

// telegram renders HTML parse mode in one of the style presets. The link is always an
// <a href> whose visible text is short (the title itself, or "اقرأ المزيد" in the article's
// language): only visible text counts toward Telegram's limits, so the full tracked URL costs
// nothing, however long. Hashtags are plain text (Telegram links them).
// Specs: https://core.telegram.org/bots/api#formatting-options
type telegram struct{ style string }

func (t telegram) layout(d *Data) string {
	var b strings.Builder
	linkedTitle := t.style == StyleTitleLink || t.style == StyleHeadlineOnly
	if d.Title != "" {
		title := telegramEscape(d.Title)
		if linkedTitle {
			title = t.link(d.URL, d.Title)
		}
		b.WriteString("<b>" + title + "</b>\n\n")
	}
	if t.style != StyleHeadlineOnly {
		if d.Summary != "" {
			b.WriteString(telegramEscape(d.Summary) + "\n\n")
		}
		if len(d.Hashtags) > 0 {
			b.WriteString(telegramEscape(strings.Join(d.Hashtags, " ")) + "\n\n")
		}
	}
	if !linkedTitle || d.Title == "" {
		// A title cut away entirely takes its link with it: the link line stays.
		b.WriteString(t.link(d.URL, d.LinkText))
	}
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
