package formatter

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxHashtagRunes drops tags that are sentences rather than topics.
const maxHashtagRunes = 50

// Hashtag turns a tag or category into a hashtag body without the '#': spaces and punctuation
// that separates words (، ؛ ؟ , ; : / « » …) become '_' (#كوريا_الشمالية, "مصر،السودان" →
// #مصر_السودان), other punctuation (- . ' &) and symbols are dropped, letters, marks, digits,
// '_' and ZWNJ are kept. Arabic harakat and tatweel are dropped: Telegram ends a hashtag at the
// first mark, and "#عـاجـل" or "#مِصر" is not the "#عاجل" or "#مصر" readers follow. It returns ""
// when no letter is left, since a hashtag of digits alone is not a hashtag on X.
// Specs: https://github.com/twitter/twitter-text/blob/master/rb/lib/twitter-text/regex.rb (hashtag)
// and https://github.com/tdlib/td/blob/master/td/telegram/MessageEntity.cpp (match_hashtags)
func Hashtag(s string) string {
	s = joinWa(nfc(arabicBaseForms(strings.TrimLeft(strings.TrimSpace(s), "#＃"))))
	var b strings.Builder
	letter := false
	under := false
	base := false // the last rune kept can carry a mark
	n := 0
	// Arabic words hold no punctuation: a hyphen, a dot or a symbol beside an Arabic letter
	// separates two words ("الروسية-الأوكرانية"); between Latin letters or digits it joins them
	// ("COVID-19" → COVID19, "U.S." → US).
	next := func(i int) rune {
		_, size := utf8.DecodeRuneInString(s[i:])
		r, _ := utf8.DecodeRuneInString(s[i+size:])
		return r
	}
	last := rune(-1)
	for i, r := range s {
		prev := last
		last = r
		switch {
		case r == tatweel || isArabicScriptMark(r):
			continue
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsMark(r):
			// A mark needs its letter: one left after a dropped symbol (©️, 1️⃣'s keycap) or at
			// a word's start would stand alone, a cut grapheme. Emoji selectors never belong.
			if !base || under || r == 0xFE0F || r == 0xFE0E || r == 0x20E3 {
				continue
			}
		case unicode.IsDigit(r) || r == 0x200C:
		case r == '_' || unicode.IsSpace(r) || unicode.Is(unicode.Zs, r) || isWordSeparator(r) ||
			(unicode.IsPunct(r) || unicode.IsSymbol(r)) && (unicode.Is(unicode.Arabic, prev) || unicode.Is(unicode.Arabic, next(i))):
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
	return dropLooseZWNJ(b.String())
}

// dropLooseZWNJ removes a ZWNJ that separates no two letters: at the hashtag's start or end,
// beside '_' or beside another ZWNJ (a Persian keyboard leaves one at a word's end). It is
// invisible there, and "#السعودية\u200c" would be another tag than "#السعودية" on every platform.
func dropLooseZWNJ(h string) string {
	const zwnj = '\u200c'
	if !strings.ContainsRune(h, zwnj) {
		return h
	}
	rs := []rune(h)
	out := rs[:0]
	for i, r := range rs {
		if r == zwnj {
			prev := rune(-1)
			if len(out) > 0 {
				prev = out[len(out)-1]
			}
			if prev < 0 || prev == '_' || prev == zwnj || i+1 == len(rs) || rs[i+1] == '_' || rs[i+1] == zwnj {
				continue
			}
		}
		out = append(out, r)
	}
	return string(out)
}

// arabicBaseForms replaces Arabic presentation forms (U+FB50–FDFF, U+FE70–FEFE: the shaped
// glyphs text pasted from a PDF carries, ﻻ for lam-alef) by the letters they show (their
// compatibility decomposition, NFKC): the same word to a reader, the tag everyone else types.
func arabicBaseForms(s string) string {
	if !strings.ContainsFunc(s, isArabicPresentationForm) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isArabicPresentationForm(r) {
			b.WriteString(norm.NFKC.String(string(r)))
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isArabicPresentationForm(r rune) bool {
	return (r >= 0xFB50 && r <= 0xFDFF) || (r >= 0xFE70 && r <= 0xFEFE)
}

// joinWa joins the conjunction و, spaced off as a word of its own ("الدفاع و الامن"), to the
// word after it, as Arabic writes it ("والامن").
func joinWa(s string) string {
	if !strings.Contains(s, "و ") {
		return s
	}
	words := strings.Fields(s)
	out := words[:0]
	for i := 0; i < len(words); i++ {
		if words[i] == "و" && i+1 < len(words) {
			words[i+1] = "و" + words[i+1]
			continue
		}
		out = append(out, words[i])
	}
	return strings.Join(out, " ")
}

// tatweel (U+0640) stretches a letter's joining stroke; it carries no meaning.
const tatweel = '\u0640'

// isArabicScriptMark reports the combining marks of the Arabic script (harakat, tanween, shadda,
// sukun, the dagger alef, Quranic signs), in the Arabic and Arabic Extended-A blocks.
func isArabicScriptMark(r rune) bool {
	return isArabicMark(r) || (r >= 0x08D3 && r <= 0x08FF && r != 0x08E2)
}

// isWordSeparator: punctuation that stands between two words, so the hashtag joins them with '_'
// rather than gluing them into one: the Arabic comma, semicolon and question mark, their Latin
// forms, colons, slashes, brackets and quotes. Hyphens, dots and apostrophes join ("COVID-19",
// "U.S.", "Women's").
func isWordSeparator(r rune) bool {
	return strings.ContainsRune("،؛؟۔,;:!?/\\|()[]{}«»‹›\"“”„…•·", r)
}

// defaultCategories are WordPress's name for its default category in the languages of herald's
// users, as hashtags: a post filed in no category is in it, and its feed lists it like any other
// category. It names no topic: no "#غير_مصنف" under a story.
var defaultCategories = map[string]bool{
	"uncategorized": true, "uncategorised": true, "غير_مصنف": true, "غير_مصنفة": true,
	"بدون_تصنيف": true, "دسته\u200cبندی_نشده": true, "دستهبندی_نشده": true, "non_classé": true,
	"sin_categoría": true, "allgemein": true, "kategorisiz": true,
}

// hashtags builds up to max hashtags (with '#') from the tags, then the category, dropping
// empties and duplicates (case-insensitive), and those the title already carries ("#عاجل | …").
func hashtags(tags []string, category string, max int, title string) []string {
	if max <= 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, w := range strings.Fields(title) {
		if h := strings.TrimLeft(w, "#＃"); h != w {
			seen[hashtagKey(Hashtag(h))] = true
		}
	}
	add := func(s string) {
		h := Hashtag(inlineText(s))
		if h == "" || len(out) >= max {
			return
		}
		k := hashtagKey(h)
		if seen[k] || defaultCategories[strings.ToLower(h)] {
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

// hashtagKey is what two hashtags share when they are one word to a reader: case aside, and the
// Arabic letter variants newsroom tag lists carry side by side (أ إ آ ٱ and ا, ة and ه, ى and
// ي: "إيران" and "ايران") folded, as the boilerplate check folds them.
func hashtagKey(h string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case 'أ', 'إ', 'آ', 'ٱ':
			return 'ا'
		case 'ة':
			return 'ه'
		case 'ى':
			return 'ي'
		}
		return unicode.ToLower(r)
	}, h)
}
