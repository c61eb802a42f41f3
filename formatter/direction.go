package formatter

import (
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/bidi"
)

// Clients choose a paragraph's direction from its first strong character, so in an Arabic
// post a line that starts with a Latin word, a number or a URL renders left-to-right. An RLM
// (U+200F) first keeps it right-to-left.
// Specs: https://www.unicode.org/reports/tr9/#P2
const rlm = "\u200f"

var rtlLanguages = map[string]bool{
	"ar": true, "fa": true, "ur": true, "he": true, "iw": true, "ps": true, "ckb": true, "ku": true,
	"sd": true, "ug": true, "yi": true, "dv": true, "syr": true,
}

// isRTL reports whether an article is right-to-left: by its language, else by its title's
// letters, right-to-left ones at least as many as left-to-right ones. Not by the title's first
// strong character: an Arabic headline often opens with a brand or an acronym ("NASA تعلن …"),
// and that line is the one that needs the RLM.
func isRTL(lang, title string) bool {
	if lang != "" {
		base, _, _ := strings.Cut(strings.ToLower(lang), "-")
		base, _, _ = strings.Cut(base, "_")
		return rtlLanguages[base]
	}
	rtl, ltr := 0, 0
	for _, r := range title {
		switch bidiClass(r) {
		case bidi.R, bidi.AL:
			rtl++
		case bidi.L:
			ltr++
		}
	}
	return rtl > 0 && rtl >= ltr
}

func bidiClass(r rune) bidi.Class {
	p, _ := bidi.LookupRune(r)
	return p.Class()
}

// markup tells lineNeedsRLM which characters are formatting, not text.
type markup int

const (
	markupNone  markup = iota
	markupHTML         // Telegram: skip <tags>; entities are text
	markupStars        // WhatsApp and Discord: skip * _ ~ ` and markdown escapes
)

// lineNeedsRLM reports whether a line's first strong character (ignoring markup, spaces and
// punctuation) is left-to-right or a European digit.
func lineNeedsRLM(line string, m markup) bool {
	for i := 0; i < len(line); {
		c := line[i]
		if m == markupHTML && c == '<' {
			if j := strings.IndexByte(line[i:], '>'); j > 0 {
				i += j + 1
				continue
			}
		}
		if m == markupHTML && c == '&' {
			if j := strings.IndexByte(line[i:], ';'); j > 0 && j < 10 {
				i += j + 1
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(line[i:])
		i += size
		if r == 0x200F || r == 0x061C {
			return false // already marked
		}
		switch bidiClass(r) {
		case bidi.L, bidi.EN:
			return true
		case bidi.R, bidi.AL, bidi.AN:
			return false
		}
	}
	return false
}

// bareURLEndingNeutral reports whether a line (its visible text, markup aside) is one URL
// whose last character is neutral for direction ("/", "=", "-"): in a right-to-left paragraph
// that character would show at the far left, before "https" (UAX #9 N1/N2), so the line must
// stay left-to-right.
// Specs: https://www.unicode.org/reports/tr9/#Resolving_Neutral_Types
func bareURLEndingNeutral(line string, m markup) bool {
	visible := line
	if m == markupHTML {
		var b strings.Builder
		for i := 0; i < len(line); i++ {
			if line[i] == '<' {
				if j := strings.IndexByte(line[i:], '>'); j > 0 {
					i += j
					continue
				}
			}
			b.WriteByte(line[i])
		}
		visible = html.UnescapeString(b.String())
	}
	visible = strings.TrimSpace(visible)
	urls := extractURLs(visible, true)
	if len(urls) != 1 || urls[0].start != 0 || urls[0].end != len(visible) {
		return false
	}
	last, _ := utf8.DecodeLastRuneInString(visible)
	c := bidiClass(last)
	return c != bidi.L && c != bidi.EN
}

// lrm is LEFT-TO-RIGHT MARK.
const lrm = "\u200e"

// markURLEnds puts an LRM after every URL of right-to-left text whose last character is neutral
// ("…/news/", "?id="): between the URL's Latin and the Arabic after it (or the line's end) that
// character would take the line's direction and show on the wrong side of the URL (UAX #9 N1/N2).
// For Telegram and X only, whose link detectors end a URL at U+200E (TDLib takes no General
// Punctuation but ZWJ and ZWNJ into a URL; twitter-text's URL characters exclude it); others'
// (Android's, Mastodon's) may take the mark into the link.
func markURLEnds(s string) string {
	urls := extractURLs(s, true)
	if len(urls) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, u := range urls {
		r, _ := utf8.DecodeLastRuneInString(s[u.start:u.end])
		if c := bidiClass(r); c == bidi.L || c == bidi.EN || strings.HasPrefix(s[u.end:], lrm) {
			continue
		}
		b.WriteString(s[last:u.end])
		b.WriteString(lrm)
		last = u.end
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// addRLMs starts every line that needs it with an RLM.
func addRLMs(text string, m markup) string {
	if !strings.ContainsFunc(text, func(r rune) bool { return r < utf8.RuneSelf && (r >= 'A' && r <= 'z' || r >= '0' && r <= '9') }) {
		return text
	}
	lines := strings.Split(text, "\n")
	changed := false
	for i, l := range lines {
		if lineNeedsRLM(l, m) && !bareURLEndingNeutral(l, m) {
			lines[i] = rlm + l
			changed = true
		}
	}
	if !changed {
		return text
	}
	return strings.Join(lines, "\n")
}
