package formatter

import (
	"herald/article"
	"herald/channels"
)

// Facebook Page posts take a message of up to 63,206 characters.
// Specs: https://developers.facebook.com/docs/graph-api/reference/page/feed/#publish
const facebookLimit = 63206

// facebook renders the message (title, summary, hashtags, link) and puts the link in
// Extra["link"] for the feed call's link parameter, which makes the preview card.
type facebook struct{}

func (facebook) layout(d *Data) string { return plainLayout(d, true) }

func (facebook) escape(s string) string { return s }

func (facebook) link(url, text string) string { return plainLink(url, text) }

func (facebook) measure(text string) (int, error) { return CountUTF16(text), nil }

func (facebook) markup() markup { return markupNone }

func (facebook) finish(p *channels.Post, d, _ *Data, _ *article.Article) {
	p.Extra = map[string]any{"link": d.URL}
}
