package formatter

import (
	"strings"

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

func (mastodon) unmention(s string) string { return unmentionMastodon(s) }

func (mastodon) link(url, text string) string { return plainLink(url, text) }

func (mastodon) measure(text string) (int, error) { return CountMastodon(text), nil }

func (mastodon) markup() markup { return markupNone }

func (mastodon) finish(p *channels.Post, d, _ *Data, _ *article.Article) {
	if lang := mastodonLanguage(d.Language); lang != "" {
		p.Extra = map[string]any{"language": lang}
	}
}

// mastodonRegions are the regional codes Mastodon knows (ISO_639_1_REGIONAL), spelt its way.
var mastodonRegions = map[string]string{"zh-cn": "zh-CN", "zh-hk": "zh-HK", "zh-tw": "zh-TW", "zh-yue": "zh-YUE"}

// mastodonLanguage is the article's language as Mastodon takes it: an ISO 639 code ("ar" for
// "ar-EG" or "ar_SA"), Chinese with its regions. Mastodon files a status whose language is not
// on its list under the account's or server's default language instead, usually English.
// Specs: https://github.com/mastodon/mastodon/blob/main/app/helpers/languages_helper.rb
func mastodonLanguage(lang string) string {
	lang = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(lang)), "_", "-")
	if r, ok := mastodonRegions[lang]; ok {
		return r
	}
	base, _, _ := strings.Cut(lang, "-")
	if len(base) < 2 || len(base) > 3 || strings.ContainsFunc(base, func(r rune) bool { return r < 'a' || r > 'z' }) {
		return ""
	}
	return base
}
