package mastodonfake

import (
	"math/rand/v2"
	"strings"
	"testing"

	"herald/formatter"
)

func TestCountLikeMastodon(t *testing.T) {
	for text, want := range map[string]int{
		"":             0,
		"hello":        5,
		"كِتَابٌ":      4, // letters with their harakat are one each
		"👩‍👩‍👧 family": 8, // a ZWJ sequence is one
		"see https://example.com/" + strings.Repeat("x", 80):     27,
		"(https://example.com/a).":                               26, // the brackets and full stop are not the link
		"https://en.wikipedia.org/wiki/Foo_(bar)":                23, // a bracket the link opened is its own
		"https://a.example https://b.example":                    47,
		"رابط: https://news.example.com/%D8%AE%D8%A8%D8%B1 عاجل": 6 + 23 + 5,
		"https://news.example.com/خبر":                           23 + 3, // an Arabic path is not part of the link
		"xhttps://example.com/a":                                 22,     // a link does not start inside a word
		"cc @herald@news.example.social":                         10,     // a remote mention counts as its local part
		"mail: desk@news.example":                                23,     // an address is no mention
	} {
		if got := Count(text); got != want {
			t.Errorf("Count(%q) = %d, want %d", text, got, want)
		}
	}
}

// TestCountNeverOverTheFormatters: a post herald's renderer measured within the limit must be
// within the server's: the fake never counts more than formatter.CountMastodon (code points,
// every URL 23), on generated Arabic text with harakat, emoji sequences, links and mentions.
// Links start after a space, as herald renders them: a link glued to a Latin word is where
// twitter-text's extractor (which the formatter follows to the letter) and the fake's simpler
// one may differ.
func TestCountNeverOverTheFormatters(t *testing.T) {
	parts := []string{
		"عاجل", "كِتَابٌ", " ", "\n", "، ", ". ", "👩‍👩‍👧", "🫶🏿", "#غزة", "@herald@news.example.social", "@desk", "@\u200ddesk", "(@\u200dUN)", "@\u200dahmad@mastodon.social",
		" https://news.example.com/world/2026/11/story?utm_source=mastodon&utm_medium=social",
		" https://news.example.com/%D8%AE%D8%A8%D8%B1", " (https://example.com/a)", " https://en.wikipedia.org/wiki/Foo_(bar)",
		"example.com", "e\u0301", "\u200f", "«Gateway»", "2027", ")", ".", "x",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		var b strings.Builder
		for range 1 + r.IntN(12) {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s := b.String()
		if fake, ours := Count(s), formatter.CountMastodon(s); fake > ours {
			t.Fatalf("Count(%q) = %d, over the formatter's %d", s, fake, ours)
		}
	}
}
