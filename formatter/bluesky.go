package formatter

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"herald/article"
	"herald/channels"
)

// Bluesky post text: at most 300 graphemes and 3000 bytes. Links are not detected in the
// text: a link facet with UTF-8 byte offsets (byteStart inclusive, byteEnd exclusive) makes one.
// Specs: https://docs.bsky.app/docs/advanced-guides/post-richtext
// and https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/feed/post.json
const (
	blueskyLimit     = 300
	blueskyByteLimit = 3000
	// blueskyFullLink: a link up to this many graphemes is shown whole; a longer one is shown as
	// host/path… the way the Bluesky app shows links, its facet still carrying the full URI.
	blueskyFullLink    = 64
	blueskyShortLink   = 40
	blueskyCardSummary = 300
)

var errOverBytes = errors.New("over Bluesky's 3000-byte limit")

// bluesky renders the title, hashtags (with tag facets) and the link (with a link facet), and
// an external link card in Extra["external"] {uri, title, description, thumb_url} for
// app.bsky.embed.external (the channel uploads thumb_url as the card's blob), plus
// Extra["langs"].
type bluesky struct{}

func (bluesky) layout(d *Data) string {
	t := *d
	t.Summary = "" // the summary goes to the card
	t.URL = blueskyDisplay(d.URL)
	return plainLayout(&t, true)
}

func (bluesky) escape(s string) string { return s }

func (bluesky) link(u, text string) string {
	if text != "" {
		return text
	}
	return blueskyDisplay(u)
}

func (bluesky) measure(text string) (int, error) {
	n := CountGraphemes(text)
	if len(text) > blueskyByteLimit {
		return n, errOverBytes
	}
	return n, nil
}

func (bluesky) markup() markup { return markupNone }

// blueskyDisplay is the link text: the URI when short, else host and readable path, cut.
func blueskyDisplay(link string) string {
	if CountGraphemes(link) <= blueskyFullLink {
		return link
	}
	u, err := url.Parse(link)
	if err != nil {
		return link
	}
	host := u.Host
	if h, err := idna.Display.ToUnicode(host); err == nil {
		host = h // an Arabic domain as readers know it, not its punycode
	}
	show := host + u.EscapedPath()
	if p, err := url.PathUnescape(u.EscapedPath()); err == nil && utf8.ValidString(p) && !strings.ContainsAny(p, " \n") {
		show = host + p
	}
	show = strings.TrimSuffix(show, "/")
	if utf8.RuneCountInString(show) <= blueskyShortLink {
		return show
	}
	i := graphemeFloor(show, runePrefix(show, blueskyShortLink-1))
	return show[:i] + ellipsis
}

func (bluesky) finish(p *channels.Post, d, full *Data, a *article.Article) {
	p.Facets = blueskyFacets(p.Text, d)
	desc := full.Summary
	if desc != "" {
		desc = cutText(desc, blueskyCardSummary, true)
	}
	external := map[string]any{"uri": d.URL, "title": full.Title, "description": desc}
	if d.ImageURL != "" {
		external["thumb_url"] = d.ImageURL
	}
	p.Extra = map[string]any{"external": external}
	if lang := blueskyLang(d.Language); lang != "" {
		p.Extra["langs"] = []string{lang}
	}
	p.Media = []channels.Media{} // the image is the card's thumbnail, not an attachment
}

// blueskyFacets annotates the link (its display text, last occurrence) and each hashtag.
func blueskyFacets(text string, d *Data) []map[string]any {
	facets := []map[string]any{}
	if show := blueskyDisplay(d.URL); show != "" {
		if i := strings.LastIndex(text, show); i >= 0 {
			facets = append(facets, facet(i, i+len(show), map[string]any{"$type": "app.bsky.richtext.facet#link", "uri": d.URL}))
		}
	}
	for _, h := range d.Hashtags {
		for from := 0; from < len(text); {
			i := strings.Index(text[from:], h)
			if i < 0 {
				break
			}
			start, end := from+i, from+i+len(h)
			from = end
			before, _ := utf8.DecodeLastRuneInString(text[:start])
			after, _ := utf8.DecodeRuneInString(text[end:])
			// A line of an RTL post may start with an RLM (rtl_marks): the tag follows it.
			if (start == 0 || before == ' ' || before == '\n' || isDirectionalMark(before)) && (end == len(text) || after == ' ' || after == '\n') {
				facets = append(facets, facet(start, end, map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": strings.TrimPrefix(h, "#")}))
				break
			}
		}
	}
	return appendTextFacets(facets, text)
}

// appendTextFacets adds a tag facet for every hashtag of the text and a link facet for every
// http(s) URL not already covered (a hashtag or URL in the title: "#عاجل | …"), as the Bluesky
// app detects them: a '#' after the start or a space (or a direction mark herald put there),
// then anything but spaces and invisible separators, not ASCII digits (JavaScript's \d) or
// punctuation alone, trailing
// punctuation off, at most 64 UTF-16 units.
// Specs: https://github.com/bluesky-social/atproto/blob/main/packages/api/src/rich-text/detection.ts
func appendTextFacets(facets []map[string]any, text string) []map[string]any {
	covered := func(start, end int) bool {
		for _, f := range facets {
			idx := f["index"].(map[string]any)
			if start < idx["byteEnd"].(int) && idx["byteStart"].(int) < end {
				return true
			}
		}
		return false
	}
	for _, u := range extractURLs(text, false) {
		if !covered(u.start, u.end) {
			facets = append(facets, facet(u.start, u.end, map[string]any{"$type": "app.bsky.richtext.facet#link", "uri": text[u.start:u.end]}))
		}
	}
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r != '#' && r != '＃' {
			i += size
			continue
		}
		before, _ := utf8.DecodeLastRuneInString(text[:i])
		start := i
		i += size
		if start > 0 && !unicode.IsSpace(before) && !isDirectionalMark(before) {
			continue
		}
		if next, _ := utf8.DecodeRuneInString(text[i:]); next == 0xFE0F {
			continue
		}
		end := i
		for end < len(text) {
			c, n := utf8.DecodeRuneInString(text[end:])
			if unicode.IsSpace(c) || c == 0x00AD || c == 0x2060 || c == 0x200A || c == 0x200B || c == 0x200C || c == 0x200D || c == 0x20E2 {
				break
			}
			end += n
		}
		tag := strings.TrimRightFunc(text[i:end], unicode.IsPunct)
		if tag == "" || CountUTF16(tag) > 64 || !strings.ContainsFunc(tag, func(c rune) bool { return (c < '0' || c > '9') && !unicode.IsPunct(c) }) {
			continue
		}
		if stop := i + len(tag); !covered(start, stop) {
			facets = append(facets, facet(start, stop, map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": tag}))
		}
	}
	return facets
}

func facet(start, end int, feature map[string]any) map[string]any {
	return map[string]any{
		"index":    map[string]any{"byteStart": start, "byteEnd": end},
		"features": []any{feature},
	}
}

// bcp47 is the shape of a language tag: a 2–3 letter language, then subtags of 1–8 letters or
// digits. A post whose langs hold anything else is refused whole (400 InvalidRecord).
var bcp47 = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`)

// blueskyLang is the article's language as a BCP 47 tag for the post's langs: a CMS locale
// "ar_SA" becomes "ar-SA", a trailing "-" goes, and anything else not a tag ("Arabic") is left
// out rather than have the post refused.
// Specs: https://atproto.com/specs/lexicon#string-formats (language)
func blueskyLang(lang string) string {
	lang = strings.Trim(strings.ReplaceAll(strings.TrimSpace(lang), "_", "-"), "-")
	if bcp47.MatchString(lang) {
		return lang
	}
	if base, _, _ := strings.Cut(lang, "-"); bcp47.MatchString(base) {
		return base
	}
	return ""
}
