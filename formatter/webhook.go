package formatter

import (
	"herald/article"
	"herald/channels"
)

// webhookDefaultLimit bounds the rendered text a webhook payload carries; `limit` may raise it.
const webhookDefaultLimit = 4096

// webhook renders plain text and Extra["payload"]: the JSON object the webhook channel sends,
// carrying the article as received and what herald made of it.
type webhook struct{}

func (webhook) layout(d *Data) string { return plainLayout(d, true) }

func (webhook) escape(s string) string { return s }

func (webhook) link(url, text string) string { return plainLink(url, text) }

func (webhook) measure(text string) (int, error) { return CountUTF16(text), nil }

func (webhook) markup() markup { return markupNone }

func (webhook) finish(p *channels.Post, d, full *Data, a *article.Article) {
	hashtags := full.Hashtags
	if hashtags == nil {
		hashtags = []string{}
	}
	p.Extra = map[string]any{"payload": map[string]any{
		"article":  a,
		"text":     p.Text,
		"title":    full.Title,
		"summary":  full.Summary,
		"link":     d.URL,
		"hashtags": hashtags,
		"rtl":      d.RTL,
	}}
}
