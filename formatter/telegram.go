package formatter

import (
	"html"
	"strings"
	"unicode/utf16"

	"herald/article"
	"herald/channels"
)

// Telegram limits, counted in UTF-16 code units after entity parsing.
// Specs: https://core.telegram.org/bots/api#sendmessage
const (
	telegramTextLimit    = 4096
	telegramCaptionLimit = 1024
)

type telegramRenderer struct{ opts Options }

func newTelegram(opts Options) (*telegramRenderer, error) { return &telegramRenderer{opts: opts}, nil }

func (r *telegramRenderer) Kind() channels.Kind { return channels.KindTelegram }

func (r *telegramRenderer) Render(a *article.Article) ([]channels.Post, error) {
	var b strings.Builder
	b.WriteString("<b>" + html.EscapeString(a.Title) + "</b>")
	if a.Summary != "" {
		b.WriteString("\n\n" + html.EscapeString(a.Summary))
	}
	b.WriteString("\n\n" + html.EscapeString(a.URL))
	text := b.String()
	p := channels.Post{Text: text, ParseMode: channels.ParseHTML, Media: []channels.Media{}, Facets: []map[string]any{},
		Limit: telegramTextLimit, Unit: "utf16"}
	if a.ImageURL != "" {
		p.Media = []channels.Media{{URL: a.ImageURL}}
		p.Limit = telegramCaptionLimit
	}
	p.Length = len(utf16.Encode([]rune(html.UnescapeString(text))))
	return []channels.Post{p}, nil
}
