package formatter

import (
	"testing"

	"herald/article"
	"herald/channels"
)

// TestMastodonLanguage: Mastodon takes a status language only from its own list (ISO 639-1
// codes, a few ISO 639-3 ones, and zh-CN, zh-HK, zh-TW, zh-YUE, case as written) and otherwise
// silently falls back to the account's posting language or the server's default, usually
// English (PostStatusService: valid_locale_cascade). Feeds say "ar-EG", "ar-SA" or "ar_SA"
// (article.Normalize lower-cases them): an Egyptian paper's statuses were filed as English, hidden
// from readers who filter by language and offered for translation from the wrong language.
// The status language is the primary subtag ("ar"), Chinese keeping Mastodon's regions.
// Specs: https://docs.joinmastodon.org/methods/statuses/#create (language: ISO 639 code)
// and https://github.com/mastodon/mastodon/blob/main/app/helpers/languages_helper.rb
func TestMastodonLanguage(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ar", "ar"},
		{"ar-eg", "ar"},
		{"ar_sa", "ar"},
		{"AR-SA", "ar"},
		{"fa-ir", "fa"},
		{"ckb", "ckb"},
		{"zh-tw", "zh-TW"},
		{"zh-cn", "zh-CN"},
		{"zh-hk", "zh-HK"},
		{"zh-sg", "zh"},
		{"en-gb", "en"},
		{"", ""},
		{"arabic", ""}, // not a language code: no language rather than a refused one
	}
	r, _ := New(channels.KindMastodon, Options{})
	for _, tc := range tests {
		a := &article.Article{URL: "https://example.com/a", Title: "عنوان الخبر", Language: tc.in}
		p := mustRender(t, r, a)
		got, _ := p.Extra["language"].(string)
		if got != tc.want {
			t.Errorf("language %q: status language %q, want %q", tc.in, got, tc.want)
		}
		if _, set := p.Extra["language"]; set && tc.want == "" {
			t.Errorf("language %q: sent %v, want none", tc.in, p.Extra["language"])
		}
	}
}
