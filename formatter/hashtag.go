package formatter

import (
	"strings"
	"unicode"
)

// maxHashtagRunes drops tags that are sentences rather than topics.
const maxHashtagRunes = 50

// Hashtag turns a tag or category into a hashtag body without the '#': spaces become '_'
// (#كوريا_الشمالية), punctuation (Arabic too) and symbols are dropped, letters, marks, digits,
// '_' and ZWNJ are kept. It returns "" when no letter is left, since a hashtag of digits alone
// is not a hashtag on X.
// Specs: https://github.com/twitter/twitter-text/blob/master/rb/lib/twitter-text/regex.rb (hashtag)
func Hashtag(s string) string {
	s = nfc(strings.TrimLeft(strings.TrimSpace(s), "#＃"))
	var b strings.Builder
	letter := false
	under := false
	base := false // the last rune kept can carry a mark
	n := 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsMark(r):
			// A mark needs its letter: one left after a dropped symbol (©️, 1️⃣'s keycap) or at
			// a word's start would stand alone, a cut grapheme. Emoji selectors never belong.
			if !base || under || r == 0xFE0F || r == 0xFE0E || r == 0x20E3 {
				continue
			}
		case unicode.IsDigit(r) || r == 0x200C:
		case r == '_' || unicode.IsSpace(r) || unicode.Is(unicode.Zs, r):
			under = b.Len() > 0
			base = false
			continue
		default:
			base = false
			continue
		}
		base = r != 0x200C
		if under {
			b.WriteByte('_')
			under = false
			n++
		}
		b.WriteRune(r)
		n++
	}
	if !letter || n > maxHashtagRunes {
		return ""
	}
	return b.String()
}

// hashtags builds up to max hashtags (with '#') from the tags, then the category, dropping
// empties and duplicates (case-insensitive).
func hashtags(tags []string, category string, max int) []string {
	if max <= 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		h := Hashtag(inlineText(s))
		if h == "" || len(out) >= max {
			return
		}
		k := strings.ToLower(h)
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, "#"+h)
	}
	for _, t := range tags {
		add(t)
	}
	add(category)
	return out
}
