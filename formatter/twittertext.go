package formatter

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
	"golang.org/x/text/unicode/norm"
)

// X counts a post with twitter-text v3 (config v3.json): NFC first; every URL weighs 23; an
// emoji (a whole ZWJ sequence too) weighs 2; code points in the ranges below weigh 1 and all
// others 2; the limit is 280.
// Specs: https://github.com/twitter/twitter-text/blob/master/config/v3.json
// and https://developer.x.com/en/docs/counting-characters
const (
	xLimit        = 280
	xURLLength    = 23
	xMaxURLLength = 4096 // the extractor drops longer URLs (counted with an https:// prefix)
)

// xLightRanges weigh 1; every other code point weighs 2.
var xLightRanges = [][2]rune{{0, 4351}, {8192, 8205}, {8208, 8223}, {8242, 8247}}

func xWeight(r rune) int {
	for _, rg := range xLightRanges {
		if r >= rg[0] && r <= rg[1] {
			return 1
		}
	}
	return 2
}

// CountX is the twitter-text v3 weighted length of s: what X compares with its 280 limit.
func CountX(s string) int { return countWeighted(s, true) }

// countWeighted weighs s as twitter-text does; emojiParsing is v3's emojiParsingEnabled (v2,
// without it, weighs an emoji by its code points).
func countWeighted(s string, emojiParsing bool) int {
	s = nfc(s)
	urls := extractURLs(s, true)
	n := 0
	for i := 0; i < len(s); {
		if len(urls) > 0 && urls[0].start == i {
			n += xURLLength
			i = urls[0].end
			urls = urls[1:]
			continue
		}
		limit := len(s)
		if len(urls) > 0 {
			limit = urls[0].start
		}
		if emojiParsing {
			if size := emojiAt(s[i:limit]); size > 0 {
				n += max(2, twitterTextEmojiWeight(s[i:i+size]))
				i += size
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		n += xWeight(r)
		i += size
	}
	return n
}

// isExtendedPictographic reports the Unicode Extended_Pictographic property.
func isExtendedPictographic(r rune) bool {
	if r < 0xA9 {
		return false
	}
	i := sort.Search(len(extendedPictographic), func(i int) bool { return extendedPictographic[i][1] >= r })
	return i < len(extendedPictographic) && extendedPictographic[i][0] <= r
}

func isRegionalIndicator(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }
func isSkinTone(r rune) bool          { return r >= 0x1F3FB && r <= 0x1F3FF }
func isEmojiTag(r rune) bool          { return r >= 0xE0020 && r <= 0xE007F }

// emojiAt returns the byte length of the emoji sequence that starts s (a flag, a keycap, or a
// pictograph with its variation selector, skin tone, tags and ZWJ-joined followers), or 0.
// Pictographs in the weight-1 range (©, ®) count as emoji only with U+FE0F, as in twemoji.
func emojiAt(s string) int {
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case r == utf8.RuneError:
		return 0
	case isRegionalIndicator(r):
		if r2, s2 := utf8.DecodeRuneInString(s[size:]); isRegionalIndicator(r2) {
			return size + s2
		}
		return size
	case r == '#' || r == '*' || (r >= '0' && r <= '9'):
		i := size
		if r2, s2 := utf8.DecodeRuneInString(s[i:]); r2 == 0xFE0F {
			i += s2
		}
		if r2, s2 := utf8.DecodeRuneInString(s[i:]); r2 == 0x20E3 {
			return i + s2
		}
		return 0
	case !isExtendedPictographic(r):
		return 0
	}
	i := size
	if r < 4352 {
		if r2, s2 := utf8.DecodeRuneInString(s[i:]); r2 == 0xFE0F {
			i += s2
		} else {
			return 0
		}
	}
	for {
		for i < len(s) {
			r2, s2 := utf8.DecodeRuneInString(s[i:])
			if r2 == 0xFE0F || r2 == 0xFE0E || isSkinTone(r2) || isEmojiTag(r2) || r2 == 0x20E3 {
				i += s2
				continue
			}
			break
		}
		r2, s2 := utf8.DecodeRuneInString(s[i:])
		if r2 != 0x200D {
			return i
		}
		r3, s3 := utf8.DecodeRuneInString(s[i+s2:])
		if !isExtendedPictographic(r3) {
			return i
		}
		i += s2 + s3
	}
}

// urlSpan is the byte range [start, end) of a URL in a text.
type urlSpan struct{ start, end int }

// extractURLs finds URLs the way twitter-text's extractor does (a URL is a domain with a known
// top-level domain, optionally a protocol, port, path and query; a path ends on a character
// that cannot end a sentence). withoutProtocol=false keeps only http(s) URLs, as Mastodon does.
// Hosts whose IDNA form is invalid (a label over 63 characters) are not URLs.
func extractURLs(s string, withoutProtocol bool) []urlSpan {
	if !strings.ContainsRune(s, '.') {
		return nil
	}
	var out []urlSpan
	prev := rune(-1) // -1: start of text
	skipNext := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !skipNext && urlMayFollow(prev) && (r == 'h' || r == 'H' || isURLChar(r)) {
			if m, ok := matchURL(s, i); ok {
				valid := m.protocol || (withoutProtocol && !strings.ContainsRune("-_./", prev) && !shortCCTLDDomain(s, m))
				if valid && validURLHost(s[m.hostStart:m.hostEnd], m.end-i, m.protocol) {
					out = append(out, urlSpan{i, m.end})
				}
				// The text a match covered is consumed even when it is rejected, and the
				// character after it can only precede the next URL.
				i = m.end
				prev, _ = utf8.DecodeLastRuneInString(s[:i])
				skipNext = true
				continue
			}
		}
		skipNext = false
		prev = r
		i += size
	}
	return out
}

// shortCCTLDDomain reports a protocol-less match that twitter-text's extractor drops: one label
// and a country-code TLD with no path ("cnn.ae", not "www.cnn.ae", "spa.gov.sa" or "cnn.ae/x"),
// unless the TLD is co or tv ("t.co"). ASCII country-code TLDs are the two-letter ones.
// Specs: https://github.com/twitter/twitter-text/blob/master/js/src/extractUrlsWithIndices.js
// (invalidShortDomain, validSpecialShortDomain)
func shortCCTLDDomain(s string, m urlMatch) bool {
	host := s[m.hostStart:m.hostEnd]
	dot := strings.IndexByte(host, '.')
	if dot < 0 || strings.IndexByte(host[dot+1:], '.') >= 0 {
		return false
	}
	tld := strings.ToLower(host[dot+1:])
	if len(tld) != 2 || tld == "co" || tld == "tv" {
		return false
	}
	rest := strings.TrimLeft(strings.TrimPrefix(s[m.hostEnd:m.end], ":"), "0123456789")
	return !strings.HasPrefix(rest, "/")
}

// urlMayFollow reports whether a URL may start right after r.
func urlMayFollow(r rune) bool {
	switch {
	case r < 0:
		return true
	case isDirectionalMark(r):
		return true
	case r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || r == '@' || r == '$' || r == '#'):
		return false
	case r == '＠' || r == '＃' || r == 0xFFFE || r == 0xFEFF || r == 0xFFFF:
		return false
	}
	return true
}

func isDirectionalMark(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

func isASCIIAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}

// isLatinAccent is twitter-text's LATIN_ACCENTS_CHARS.
func isLatinAccent(r rune) bool {
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x24F,
		r >= 0x300 && r <= 0x36F, r >= 0x1E00 && r <= 0x1EFF, r == 0x2BB:
		return true
	}
	switch r {
	case 0x253, 0x254, 0x256, 0x257, 0x259, 0x25B, 0x263, 0x268, 0x26F, 0x272, 0x289, 0x28B:
		return true
	}
	return false
}

// isURLChar is a character of an ASCII-alternative domain label.
func isURLChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r))
	}
	return isLatinAccent(r)
}

func isPathChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r)) || strings.ContainsRune("!*';:=+,.$/%#[]-_~|&@", r)
	}
	return r == 0x2013 || isLatinAccent(r) || (r >= 0x400 && r <= 0x4FF)
}

func isPathEnding(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r)) || strings.ContainsRune("=_#/-+", r)
	}
	return isLatinAccent(r) || (r >= 0x400 && r <= 0x4FF)
}

func isQueryChar(r rune) bool {
	return r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || strings.ContainsRune("!?*'();:&=+$/%#[]-_.,~|@", r))
}

func isQueryEnding(r rune) bool {
	return r < utf8.RuneSelf && (isASCIIAlnum(byte(r)) || strings.ContainsRune("-_&=#/", r))
}

type urlMatch struct {
	protocol           bool
	hostStart, hostEnd int
	end                int
}

// matchURL matches a URL starting exactly at s[i:].
func matchURL(s string, i int) (urlMatch, bool) {
	m := urlMatch{}
	j := i
	if hasPrefixFold(s[j:], "https://") {
		j += 8
		m.protocol = true
	} else if hasPrefixFold(s[j:], "http://") {
		j += 7
		m.protocol = true
	}
	m.hostStart = j
	end, ok := matchASCIIDomain(s, j)
	if !ok && m.protocol {
		end, ok = matchUnicodeDomain(s, j)
	}
	if !ok {
		return m, false
	}
	m.hostEnd = end
	// port
	if end < len(s) && s[end] == ':' {
		k := end + 1
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k > end+1 {
			end = k
		}
	}
	// path: the longest run of path characters and balanced parentheses that ends on an
	// ending character
	if end < len(s) && s[end] == '/' {
		k := end + 1
		good := k
		for k < len(s) {
			r, size := utf8.DecodeRuneInString(s[k:])
			if r == '(' {
				if n := balancedParens(s[k:]); n > 0 {
					k += n
					good = k
					continue
				}
				break
			}
			if !isPathChar(r) {
				break
			}
			k += size
			if isPathEnding(r) {
				good = k
			}
		}
		end = good
	}
	// query: the longest run of query characters ending on a query-ending character
	if end < len(s) && s[end] == '?' {
		k := end + 1
		good := -1
		for k < len(s) && isQueryChar(rune(s[k])) {
			k++
			if isQueryEnding(rune(s[k-1])) {
				good = k
			}
		}
		if good > 0 {
			end = good
		}
	}
	m.end = end
	return m, true
}

// balancedParens matches "(" path-chars ")" with one nested level, as twitter-text allows in
// paths (Wikipedia's /Primer_(film)); it returns the length or 0.
func balancedParens(s string) int {
	depth := 0
	inner := 0
	for k := 0; k < len(s); {
		r, size := utf8.DecodeRuneInString(s[k:])
		switch {
		case r == '(':
			depth++
			if depth > 2 {
				return 0
			}
			inner = 0
		case r == ')':
			if depth == 0 || inner == 0 && depth == 2 {
				return 0
			}
			depth--
			if depth == 0 {
				if k == 1 {
					return 0
				}
				return k + size
			}
		case isPathChar(r):
			inner++
		default:
			return 0
		}
		k += size
	}
	return 0
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// matchASCIIDomain matches sub-domains, a domain name and a known TLD, all of Latin letters
// and digits, and returns the end of the TLD. With several candidate TLDs the longest domain
// wins, as the regex's greedy sub-domain repetition does.
func matchASCIIDomain(s string, j int) (int, bool) {
	var labels []urlSpan
	k := j
	for {
		e := k
		for e < len(s) {
			r, size := utf8.DecodeRuneInString(s[e:])
			if !isURLChar(r) && r != '-' && r != '_' {
				break
			}
			e += size
		}
		if e == k || e >= len(s) || s[e] != '.' {
			break
		}
		labels = append(labels, urlSpan{k, e})
		k = e + 1
	}
	// Try the text after the last dot as the TLD, then each earlier label.
	for n := len(labels); n >= 1; n-- {
		tldStart := k
		if n < len(labels) {
			tldStart = labels[n].start
		}
		tldEnd, ok := matchTLD(s, tldStart, true)
		if !ok {
			continue
		}
		if !validLabels(s, labels[:n]) {
			continue
		}
		return tldEnd, true
	}
	return 0, false
}

// validLabels checks the regex's shape of labels: no label starts or ends with '-' or '_', and
// the domain name (the last label) has no '_'.
func validLabels(s string, labels []urlSpan) bool {
	for i, l := range labels {
		t := s[l.start:l.end]
		if t[0] == '-' || t[0] == '_' || t[len(t)-1] == '-' || t[len(t)-1] == '_' {
			return false
		}
		if i == len(labels)-1 && strings.ContainsRune(t, '_') {
			return false
		}
	}
	return true
}

// matchUnicodeDomain matches one label of any letters (after a protocol only) and a TLD:
// http://مثال.com.
func matchUnicodeDomain(s string, j int) (int, bool) {
	e := j
	for e < len(s) {
		r, size := utf8.DecodeRuneInString(s[e:])
		if r == '-' || isUnicodeDomainChar(r) {
			e += size
			continue
		}
		break
	}
	if e == j || e >= len(s) || s[e] != '.' || s[j] == '-' || s[e-1] == '-' {
		return 0, false
	}
	return matchTLD(s, e+1, false)
}

func isUnicodeDomainChar(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(byte(r))
	}
	return !(unicode.IsSpace(r) || unicode.Is(unicode.Z, r) || unicode.IsPunct(r) || (r >= 0x2000 && r <= 0x206F) || r == utf8.RuneError)
}

// matchTLD matches a known top-level domain at s[k:] followed by a character that cannot
// continue a domain.
func matchTLD(s string, k int, allowPunycode bool) (int, bool) {
	e := k
	ascii := true
	asciiEnd := -1 // where ASCII letters gave way to others: "comاليوم"
	for e < len(s) {
		r, size := utf8.DecodeRuneInString(s[e:])
		if r < utf8.RuneSelf {
			if !isASCIIAlnum(byte(r)) && r != '-' {
				break
			}
		} else if unicode.IsLetter(r) || unicode.IsMark(r) {
			if ascii {
				asciiEnd = e
			}
			ascii = false
		} else {
			break
		}
		e += size
	}
	if e == k {
		return 0, false
	}
	if asciiEnd > k && !isTLD(s[k:e]) && isTLD(s[k:asciiEnd]) {
		// An ASCII TLD needs only no [a-z0-9@+-] after it: an Arabic letter glued to it (a
		// missing space) ends the URL there, as twitter-text's lookahead does.
		return asciiEnd, true
	}
	if e < len(s) && (s[e] == '@' || s[e] == '+') {
		return 0, false
	}
	tld := s[k:e]
	if ascii && allowPunycode && len(tld) > 4 && strings.EqualFold(tld[:4], "xn--") {
		return e, true
	}
	return e, isTLD(tld)
}

// isTLD reports whether tld is a top-level domain delegated by ICANN, from the public suffix
// list compiled into golang.org/x/net/publicsuffix; IDN TLDs are looked up in punycode.
func isTLD(tld string) bool {
	t := strings.ToLower(tld)
	if !isASCII(t) {
		a, err := idna.Punycode.ToASCII(t)
		if err != nil {
			return false
		}
		t = a
	}
	if strings.ContainsRune(t, '-') && !strings.HasPrefix(t, "xn--") {
		return false
	}
	_, icann := publicsuffix.PublicSuffix("example." + t)
	return icann
}

// hostProfile converts a host as Java's IDN.toASCII does for twitter-text: no STD3 rules, but
// every label 1 to 63 characters long.
var hostProfile = idna.New(idna.VerifyDNSLength(true), idna.MapForLookup(), idna.StrictDomainName(false))

func validURLHost(host string, urlLen int, protocol bool) bool {
	a, err := hostProfile.ToASCII(host)
	if err != nil || a == "" {
		return false
	}
	n := urlLen + len(a) - len(host)
	if !protocol {
		n += len("https://")
	}
	return n <= xMaxURLLength
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// nfc returns s in Unicode Normalization Form C. Most of herald's text (ASCII, Arabic letters
// with harakat in canonical order) already is, and checking that by hand is several times
// cheaper than the general quick check.
func nfc(s string) string {
	if isNFCFast(s) {
		return s
	}
	return norm.NFC.String(s)
}

func isNFCFast(s string) bool {
	var prevCCC uint8
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0xCC { // below U+0300: always NFC, canonical class 0
			i++
			if c < utf8.RuneSelf || c >= 0xC0 {
				prevCCC = 0
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		ccc, ok := nfcSafe(r)
		if !ok || (ccc != 0 && ccc < prevCCC) {
			return false
		}
		prevCCC = ccc
	}
	return true
}

// nfcSafe reports whether r (from U+0300 up) is known to be unchanged by NFC in any context but
// the ordering of marks, with its canonical combining class: Arabic letters and harakat,
// general punctuation, emoji. ok=false means "not known": use the full algorithm.
func nfcSafe(r rune) (ccc uint8, ok bool) {
	switch {
	case r >= 0x600 && r <= 0x6FF:
		if r >= 0x653 && r <= 0x655 { // maddah and hamza above/below compose with alef
			return 0, false
		}
		return arabicCCC(r), true
	case r >= 0x2000 && r <= 0x206F, r >= 0x1F300 && r <= 0x1FAFF, r == 0xFE0F, r == 0x20E3:
		return 0, true
	}
	return 0, false
}

// arabicCCC is the canonical combining class of the Arabic block's marks (UnicodeData.txt).
func arabicCCC(r rune) uint8 {
	switch {
	case r >= 0x0610 && r <= 0x0617:
		return 230
	case r >= 0x0618 && r <= 0x061A:
		return uint8(30 + r - 0x0618)
	case r >= 0x064B && r <= 0x0652:
		return uint8(27 + r - 0x064B)
	case r == 0x0670:
		return 35
	}
	switch r {
	case 0x0655, 0x0656, 0x065C, 0x065F, 0x06E3, 0x06EA, 0x06ED:
		return 220
	case 0x0653, 0x0654, 0x0657, 0x0658, 0x0659, 0x065A, 0x065B, 0x065D, 0x065E,
		0x06D6, 0x06D7, 0x06D8, 0x06D9, 0x06DA, 0x06DB, 0x06DC, 0x06DF, 0x06E0, 0x06E1, 0x06E2,
		0x06E4, 0x06E7, 0x06E8, 0x06EB, 0x06EC:
		return 230
	}
	return 0
}
