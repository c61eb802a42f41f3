package formatter

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"herald/article"
	"herald/channels"
)

// Threads text posts take 500 characters; emoji count as their UTF-8 bytes.
// Specs: https://developers.facebook.com/docs/threads/posts#limitations
const threadsLimit = 500

// threads renders plain text: title, summary, one hashtag, link. Threads makes the first URL
// of a text post its link preview; the link also goes to Extra["link_attachment"], which the
// channel sends with TEXT posts so the card is the article's even when the title holds a URL.
// Threads takes one tag per post (the first in the text), so the kind's default is one hashtag
// and max_hashtags may not ask for more. Threads counts a URL in full, so a link too long for
// the text leaves it (linkOutside): the post is then text only, its link the link_attachment.
// Specs: https://developers.facebook.com/docs/threads/posts (link_attachment, tags)
type threads struct{ linkOutside bool }

func (t threads) layout(d *Data) string { return plainLayout(d, !t.linkOutside) }

func (threads) escape(s string) string { return s }

func (threads) unmention(s string) string { return unmentionThreads(s) }

func (threads) link(url, text string) string { return plainLink(url, text) }

func (threads) measure(text string) (int, error) { return CountThreads(text), nil }

func (threads) markup() markup { return markupNone }

func (t threads) finish(p *channels.Post, d, _ *Data, _ *article.Article) {
	if len(p.Media) == 0 || t.linkOutside {
		p.Extra = map[string]any{"link_attachment": d.URL}
	}
}

// threadsMaxHashtags: Threads turns only the first tag of a post into its topic.
const threadsMaxHashtags = 1

// CountThreads counts like Threads' 500-character limit: one per code point (a letter's
// harakat count too: the safe side, as Threads does not say it counts graphemes), a grapheme
// that is an emoji (a pictograph, a flag, a keycap, with its modifiers and joiners, or another
// symbol) as its UTF-8 bytes (😷 is 4, 👍🏽 8), and URLs in full (Threads does not shorten links).
func CountThreads(s string) int {
	emoji := false
	for _, r := range s {
		if isThreadsEmojiRune(r) {
			emoji = true
			break
		}
	}
	if !emoji {
		return utf8.RuneCountInString(s)
	}
	n := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := g.Str()
		if strings.ContainsFunc(c, isThreadsEmojiRune) {
			n += len(c)
		} else {
			n += utf8.RuneCountInString(c)
		}
	}
	return n
}

// isThreadsEmojiRune: a rune that makes its grapheme an emoji, or may (any other symbol from
// U+2000 up, ⌘ or ☂ without its emoji selector): counting those as bytes is the safe side.
func isThreadsEmojiRune(r rune) bool {
	return r >= 0xA9 && (isExtendedPictographic(r) || isRegionalIndicator(r) || r == 0x20E3 ||
		r >= 0x2000 && unicode.Is(unicode.So, r))
}
