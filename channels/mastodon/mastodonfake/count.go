package mastodonfake

import (
	"regexp"
	"strings"

	"github.com/rivo/uniseg"
)

// urlLength is what every URL counts, whatever its length (characters_reserved_per_url).
const urlLength = 23

// urlRE finds the http(s) links Mastodon's extractor turns into 23 characters. Written apart
// from herald's formatter on purpose, so the fake can catch a formatter that counts wrong.
var urlRE = regexp.MustCompile(`(?i)https?://[^\s<>"]+`)

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
	for _, loc := range urlRE.FindAllStringIndex(text, -1) {
		end := loc[1]
		// Trailing punctuation ends a sentence, not the link.
		for end > loc[0] && strings.ContainsRune(".,:;!?)]}'", rune(text[end-1])) {
			end--
		}
		n += countPlain(text[len(text)-len(rest) : loc[0]])
		n += urlLength
		n += countPlain(text[end:loc[1]])
		rest = text[loc[1]:]
	}
	return n + countPlain(rest)
}

func countPlain(s string) int {
	return uniseg.GraphemeClusterCount(remoteMentionRE.ReplaceAllString(s, "$1$2"))
}
