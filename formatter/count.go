package formatter

import (
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"herald/channels"
)

// Units a post's Length is measured in. Each platform counts in its own unit; counting bytes
// where a platform counts characters cuts an Arabic post at half its allowed length.
const (
	UnitUTF16     = "utf16"     // UTF-16 code units (Telegram, WhatsApp, Discord, Facebook, webhook)
	UnitWeighted  = "weighted"  // twitter-text v3 weighted length (X)
	UnitChars     = "chars"     // code points, every http(s) URL counting 23 (Mastodon)
	UnitGraphemes = "graphemes" // extended grapheme clusters (Bluesky; its byte cap is checked too)
	UnitBytes     = "bytes"     // UTF-8 bytes
	UnitThreads   = "threads"   // code points, an emoji as its UTF-8 bytes (Threads)
)

// CountUTF16 is the length of s in UTF-16 code units: what Telegram's entity offsets and
// JavaScript-based limits count. Invalid UTF-8 bytes count as U+FFFD, one unit each.
func CountUTF16(s string) int {
	if !utf8.ValidString(s) {
		n := 0
		for _, r := range s {
			n += utf16Len(r)
		}
		return n
	}
	n := 0
	for i := 0; i < len(s); i++ {
		// A lead byte starts one unit, a 4-byte sequence two, continuation bytes none.
		switch c := s[i]; {
		case c < 0x80 || (c >= 0xC0 && c < 0xF0):
			n++
		case c >= 0xF0:
			n += 2
		}
	}
	return n
}

// CountRunes is the number of code points in s.
func CountRunes(s string) int { return utf8.RuneCountInString(s) }

// CountBytes is the UTF-8 length of s.
func CountBytes(s string) int { return len(s) }

// CountGraphemes is the number of user-perceived characters (Unicode extended grapheme
// clusters, UAX #29) in s, as Bluesky counts them.
func CountGraphemes(s string) int {
	if n, ok := fastGraphemeCount(s); ok {
		return n
	}
	return uniseg.GraphemeClusterCount(s)
}

// fastGraphemeCount counts clusters without the full segmenter for the text herald mostly
// posts (ASCII, Latin-1, Arabic, general punctuation): there every code point starts a cluster
// except combining marks and joiners, and CR LF is one cluster. ok is false for anything else.
func fastGraphemeCount(s string) (n int, ok bool) {
	prevCR := false
	prevCtl := true // at the start, or after a control (CR, LF, a tab, a direction mark), a mark starts its own cluster
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '\n' && prevCR:
				// CR LF is one cluster.
			case (c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F:
				return 0, false
			default:
				n++
			}
			prevCR = c == '\r'
			prevCtl = c == '\r' || c == '\n' || c == '\t'
			continue
		}
		prevCR = false
		wasCtl := prevCtl
		prevCtl = false
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			return 0, false
		case r >= 0xA0 && r <= 0xFF && r != 0xAD:
			n++
		case r >= 0x0600 && r <= 0x06FF:
			if r <= 0x0605 || r == 0x06DD {
				return 0, false // Prepend characters join the next cluster
			}
			if !isArabicMark(r) || wasCtl {
				n++
			}
		case r == 0x200C || r == 0x200D:
			// joiners extend the previous cluster
			if wasCtl {
				n++
			}
		case r >= 0x2010 && r <= 0x2027, r >= 0x2030 && r <= 0x205E, r == 0x200E, r == 0x200F:
			n++
		default:
			return 0, false
		}
		// LRM, RLM and ALM are grapheme Controls: a mark or joiner after one starts a cluster.
		prevCtl = r == 0x200E || r == 0x200F || r == 0x061C
	}
	return n, true
}

// isArabicMark reports whether r is a combining mark of the Arabic block (harakat, Quranic
// annotation signs): it belongs to the letter before it.
func isArabicMark(r rune) bool {
	switch {
	case r >= 0x0610 && r <= 0x061A, r >= 0x064B && r <= 0x065F, r == 0x0670,
		r >= 0x06D6 && r <= 0x06DC, r >= 0x06DF && r <= 0x06E4, r == 0x06E7, r == 0x06E8,
		r >= 0x06EA && r <= 0x06ED:
		return true
	}
	return false
}

// CountMastodon counts like Mastodon's status length validator: every http(s) URL counts 23
// whatever its length, everything else per code point. Mastodon counts grapheme clusters,
// which are never more than code points, so this is the safe side of its count.
// Specs: https://docs.joinmastodon.org/user/posting/#text
func CountMastodon(s string) int {
	n := 0
	pos := 0
	for _, u := range extractURLs(s, false) {
		n += utf8.RuneCountInString(s[pos:u.start]) + xURLLength
		pos = u.end
	}
	return n + utf8.RuneCountInString(s[pos:])
}

// Counter returns the function that measures text in kind's unit, and the unit's name. Text
// is plain: for Telegram HTML, CheckTelegramHTML gives the length after entity parsing. An
// unknown kind returns nil.
func Counter(kind channels.Kind) (count func(string) int, unit string) {
	switch kind {
	case channels.KindTelegram, channels.KindWhatsApp, channels.KindDiscord, channels.KindFacebook, channels.KindWebhook, channels.KindLinkedIn:
		return CountUTF16, UnitUTF16
	case channels.KindX:
		return CountX, UnitWeighted
	case channels.KindMastodon:
		return CountMastodon, UnitChars
	case channels.KindBluesky:
		return CountGraphemes, UnitGraphemes
	case channels.KindThreads:
		return CountThreads, UnitThreads
	}
	return nil, ""
}
