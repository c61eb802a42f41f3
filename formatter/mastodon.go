package formatter

import (
	"herald/article"
	"herald/channels"
)

// Mastodon's default status limit; instances may raise it (GET /api/v2/instance,
// configuration.statuses.max_characters), so `limit` may too. Every URL counts 23.
// Specs: https://docs.joinmastodon.org/methods/instance/#v2
const mastodonDefaultLimit = 500

// mastodon renders plain text: title, summary, hashtags (Mastodon links them), link. The
// article language goes to Extra["language"] for the status's language field.
// Specs: https://docs.joinmastodon.org/methods/statuses/#create
type mastodon struct{}

func (mastodon) layout(d *Data) string { return plainLayout(d, true) }

func (mastodon) escape(s string) string { return s }

func (mastodon) link(url, text string) string { return plainLink(url, text) }

func (mastodon) measure(text string) (int, error) { return CountMastodon(text), nil }

func (mastodon) markup() markup { return markupNone }

func (mastodon) finish(p *channels.Post, d, _ *Data, _ *article.Article) {
	if d.Language != "" {
		p.Extra = map[string]any{"language": d.Language}
	}
}
