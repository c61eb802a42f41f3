package mastodonfake

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// urlLength is what every URL counts, whatever its length (characters_reserved_per_url).
const urlLength = 23

// urlRE finds the http(s) links Mastodon's extractor (twitter-text's) turns into 23
// characters: one starts anywhere but after a Latin letter, a digit, @, $ or #; its path takes
// the URI characters, Latin and Cyrillic letters (twitter-text 3.1, Mastodon's), not Arabic ones (a link with an Arabic path
// counts 23 up to where the letters start, then each letter). Written apart from herald's
// formatter on purpose, so the fake can catch a formatter that counts wrong.
var urlRE = regexp.MustCompile(`(?i)(^|[^a-z0-9@$#＠＃])(https?://[a-z0-9\-._~:/?#\[\]@!$&'()*+,;=%|\x{2013}\p{Latin}\p{Cyrillic}\x{0300}-\x{036F}]+)`)

// remoteMentionRE finds a mention of an account on another server (@user@example.social);
// Mastodon counts it as its local part (@user).
var remoteMentionRE = regexp.MustCompile(`(^|[^\pL\pN_/])(@[\pL\pN_]+(?:[\pL\pN_.-]*[\pL\pN_])?)@[\pL\pN.-]*[\pL\pN]`)

// Count measures text as Mastodon's StatusLengthValidator does: each URL is replaced by 23
// characters, each remote mention by its local part, then grapheme clusters are counted (a
// letter with its harakat, a whole emoji sequence, is one).
// Specs: https://docs.joinmastodon.org/user/posting/#text
func Count(text string) int {
	n := 0
	rest := text
	for _, m := range urlRE.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[4], trimURL(text[m[4]:m[5]])+m[4]
		n += countPlain(text[len(text)-len(rest) : start])
		n += urlLength
		n += countPlain(text[end:m[5]])
		rest = text[m[5]:]
	}
	return n + countPlain(rest)
}

// trimURL is the length of u without what ends a sentence rather than the link: a link ends on
// a letter, a digit, one of = _ # / - +, or a closing bracket the link opened (Foo_(bar)).
func trimURL(u string) int {
	end := len(u)
	for end > 0 {
		r, size := utf8.DecodeLastRuneInString(u[:end])
		switch {
		case r >= utf8.RuneSelf, r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)), strings.ContainsRune("=_#/-+", r):
			return end
		case r == ')' && strings.Count(u[:end], "(") >= strings.Count(u[:end], ")"):
			return end
		}
		end -= size
	}
	return end
}

func countPlain(s string) int {
	return uniseg.GraphemeClusterCount(remoteMentionRE.ReplaceAllString(s, "$1$2"))
}
