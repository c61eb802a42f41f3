package telegramfake

import (
	"fmt"
	"net"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is a formatting span of parsed text, as the Bot API reports it: offsets and lengths
// in UTF-16 code units.
type Entity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

// htmlTags are the tags Telegram's HTML parse mode knows, with the Bot API entity type each
// makes. Any other tag is refused.
// Specs: https://core.telegram.org/bots/api#html-style
var htmlTags = map[string]string{
	"b": "bold", "strong": "bold",
	"i": "italic", "em": "italic",
	"u": "underline", "ins": "underline",
	"s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
	"a":          "text_link",
	"code":       "code",
	"pre":        "pre",
	"blockquote": "blockquote",
	"tg-spoiler": "spoiler",
	"span":       "spoiler",
	"tg-emoji":   "custom_emoji",
}

// entityPriority orders entities that start at the same offset with the same length, as
// Telegram lists them (a link before the bold inside it).
var entityPriority = map[string]int{
	"blockquote": 0, "expandable_blockquote": 0, "pre": 11, "code": 20, "text_link": 49,
	"text_mention": 49, "bold": 90, "italic": 91, "underline": 92, "strikethrough": 93,
	"spoiler": 94, "custom_emoji": 99,
}

// UTF16Len is the length of s in UTF-16 code units, the unit of Telegram's limits and offsets.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// ParseHTML parses s as Telegram's HTML parse mode does (TDLib's parse_html, the parser behind
// the Bot API) and returns the visible text and its entities. A non-nil error's text is what
// Telegram answers after "Bad Request: can't parse entities: ".
//
// What it accepts and refuses, and the text it makes, agree with Telegram on every case of
// testdata/telegram-html/cases.json: only &lt; &gt; &amp; &quot; and numeric references are
// decoded (the ';' is optional); anything else after '&' (&nbsp;, &apos;, a bare &) stays as
// written; a '<' always opens a tag, so a bare '<' is an error; attributes a tag does not use
// are ignored; quoted attribute values may hold any character, unquoted ones only letters,
// digits, '.' and '-'; an <a> whose href is not a valid link is plain text.
func ParseHTML(s string) (string, []Entity, error) {
	p := htmlParser{src: s}
	return p.parse()
}

type openTag struct {
	name     string
	arg      string // href, code language, span class after "tg-", tg-emoji id, "1" for expandable
	start    int    // UTF-16 offset in the visible text
	startPos int    // byte offset in the visible text
}

type htmlParser struct {
	src       string
	out       strings.Builder
	units     int // UTF-16 length of out
	stack     []openTag
	entities  []Entity
	surrogate bool // an entity decoded to a UTF-16 surrogate
}

// at is the byte at i, 0 past the end (TDLib reads a NUL-terminated string).
func (p *htmlParser) at(i int) byte {
	if i < len(p.src) {
		return p.src[i]
	}
	return 0
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 || c == '\v'
}

func isAlpha(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (p *htmlParser) emitRune(r rune) {
	p.out.WriteRune(r)
	p.units += utf16.RuneLen(r)
}

func (p *htmlParser) parse() (string, []Entity, error) {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		if c == '&' {
			if r, next := decodeEntity(s, i); r != 0 {
				if r >= 0xD800 && r <= 0xDFFF {
					p.surrogate = true
					r = utf8.RuneError
				}
				p.emitRune(r)
				i = next
				continue
			}
		}
		if c != '<' {
			p.out.WriteByte(c)
			// A lead byte starts one UTF-16 unit, a 4-byte sequence two; continuation bytes none.
			switch {
			case c < 0x80 || (c >= 0xC0 && c < 0xF0):
				p.units++
			case c >= 0xF0:
				p.units += 2
			}
			i++
			continue
		}
		var err error
		if p.at(i+1) == '/' {
			i, err = p.endTag(i)
		} else {
			i, err = p.startTag(i)
		}
		if err != nil {
			return "", nil, err
		}
	}
	if len(p.stack) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", p.stack[len(p.stack)-1].name)
	}
	if p.surrogate || !utf8.ValidString(p.out.String()) {
		return "", nil, fmt.Errorf("Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units")
	}
	sort.SliceStable(p.entities, func(a, b int) bool {
		x, y := p.entities[a], p.entities[b]
		if x.Offset != y.Offset {
			return x.Offset < y.Offset
		}
		if x.Length != y.Length {
			return x.Length > y.Length
		}
		return entityPriority[x.Type] < entityPriority[y.Type]
	})
	return p.out.String(), p.entities, nil
}

// decodeEntity decodes the character reference at s[i] == '&' and returns the code point and
// the index after it, or 0 when Telegram leaves the '&' as text: only lt, gt, amp, quot and
// numeric references below U+10FFFF, the ';' optional.
func decodeEntity(s string, i int) (rune, int) {
	at := func(k int) byte {
		if k < len(s) {
			return s[k]
		}
		return 0
	}
	end := i + 1
	var r uint32
	if at(i+1) == '#' {
		end++
		if at(i+2) == 'x' {
			end++
			for ; isHexDigit(at(end)); end++ {
				r = r*16 + hexValue(at(end))
			}
		} else {
			for ; isDigit(at(end)); end++ {
				r = r*10 + uint32(at(end)-'0')
			}
		}
		if r == 0 || r >= 0x10FFFF || end-i >= 10 {
			return 0, i
		}
	} else {
		for isAlpha(at(end)) {
			end++
		}
		switch s[i+1 : end] {
		case "lt":
			r = '<'
		case "gt":
			r = '>'
		case "amp":
			r = '&'
		case "quot":
			r = '"'
		default:
			return 0, i
		}
	}
	if at(end) == ';' {
		end++
	}
	return rune(r), end
}

func isHexDigit(c byte) bool { return isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f') }

func hexValue(c byte) uint32 {
	if isDigit(c) {
		return uint32(c - '0')
	}
	return uint32(c|0x20-'a') + 10
}

// startTag reads the start tag at s[begin] == '<' and returns the index after its '>'.
func (p *htmlParser) startTag(begin int) (int, error) {
	i := begin + 1
	for !isHTMLSpace(p.at(i)) && p.at(i) != '>' {
		i++
	}
	if i >= len(p.src) {
		return 0, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
	}
	name := strings.ToLower(p.src[begin+1 : i])
	if _, ok := htmlTags[name]; !ok {
		return 0, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", name, begin)
	}
	arg := ""
	for p.at(i) != '>' {
		for i < len(p.src) && isHTMLSpace(p.at(i)) {
			i++
		}
		if p.at(i) == '>' {
			break
		}
		if i >= len(p.src) {
			return 0, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
		}
		attrBegin := i
		for !isHTMLSpace(p.at(i)) && p.at(i) != '=' && p.at(i) != '>' {
			i++
		}
		attr := strings.ToLower(p.src[attrBegin:i])
		if attr == "" {
			return 0, fmt.Errorf("Empty attribute name in the tag \"%s\" at byte offset %d", name, begin)
		}
		for i < len(p.src) && isHTMLSpace(p.at(i)) {
			i++
		}
		if p.at(i) != '=' {
			// An attribute without a value: only <blockquote expandable> means something.
			if name == "blockquote" && attr == "expandable" {
				arg = "1"
			}
			continue
		}
		i++
		for i < len(p.src) && isHTMLSpace(p.at(i)) {
			i++
		}
		if i >= len(p.src) {
			return 0, fmt.Errorf("Unclosed start tag \"%s\" at byte offset %d", name, begin)
		}
		var value string
		if q := p.at(i); q != '\'' && q != '"' {
			// A name token: letters, digits, '.' and '-', case-insensitive.
			tokenBegin := i
			for isAlpha(p.at(i)) || isDigit(p.at(i)) || p.at(i) == '.' || p.at(i) == '-' {
				i++
			}
			value = strings.ToLower(p.src[tokenBegin:i])
			if !isHTMLSpace(p.at(i)) && p.at(i) != '>' {
				return 0, fmt.Errorf("Unexpected end of name token at byte offset %d", tokenBegin)
			}
		} else {
			i++
			var b strings.Builder
			for i < len(p.src) && p.src[i] != q {
				if p.src[i] == '&' {
					if r, next := decodeEntity(p.src, i); r != 0 {
						b.WriteRune(r)
						i = next
						continue
					}
				}
				b.WriteByte(p.src[i])
				i++
			}
			if p.at(i) == q {
				i++
			}
			value = b.String()
		}
		if i >= len(p.src) {
			return 0, fmt.Errorf("Unclosed start tag at byte offset %d", begin)
		}
		switch {
		case name == "a" && attr == "href":
			arg = value
		case name == "code" && attr == "class" && strings.HasPrefix(value, "language-"):
			arg = value[len("language-"):]
		case name == "span" && attr == "class" && strings.HasPrefix(value, "tg-"):
			arg = value[len("tg-"):]
		case name == "tg-emoji" && attr == "emoji-id":
			arg = value
		}
	}
	if name == "span" && arg != "spoiler" {
		return 0, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
	}
	p.stack = append(p.stack, openTag{name: name, arg: arg, start: p.units, startPos: p.out.Len()})
	return i + 1, nil
}

// endTag reads the end tag at s[begin:] == "</" and returns the index after its '>'.
func (p *htmlParser) endTag(begin int) (int, error) {
	if len(p.stack) == 0 {
		return 0, fmt.Errorf("Unexpected end tag at byte offset %d", begin)
	}
	i := begin + 2
	for !isHTMLSpace(p.at(i)) && p.at(i) != '>' {
		i++
	}
	endName := strings.ToLower(p.src[begin+2 : i])
	for i < len(p.src) && isHTMLSpace(p.at(i)) {
		i++
	}
	if p.at(i) != '>' {
		return 0, fmt.Errorf("Unclosed end tag at byte offset %d", begin)
	}
	top := p.stack[len(p.stack)-1]
	if endName != "" && endName != top.name {
		return 0, fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, top.name, endName)
	}
	p.stack = p.stack[:len(p.stack)-1]
	if p.units > top.start {
		if err := p.addEntity(top); err != nil {
			return 0, err
		}
	}
	return i + 1, nil
}

// addEntity records the entity of a closed, non-empty tag.
func (p *htmlParser) addEntity(top openTag) error {
	e := Entity{Type: htmlTags[top.name], Offset: top.start, Length: p.units - top.start}
	switch top.name {
	case "a":
		url := top.arg
		if url == "" {
			url = p.out.String()[top.startPos:]
		}
		link, mention, ok := checkLink(url)
		if !ok {
			return nil // not a link: the text stays, unformatted
		}
		if mention {
			e.Type = "text_mention"
		} else {
			e.URL = link
		}
	case "blockquote":
		if top.arg != "" {
			e.Type = "expandable_blockquote"
		}
	case "code":
		e.Language = top.arg
	case "pre":
		// <pre><code class="language-go"> is one pre entity with a language.
		if n := len(p.entities); n > 0 {
			last := &p.entities[n-1]
			if last.Type == "code" && last.Offset == e.Offset && last.Length == e.Length && last.Language != "" {
				last.Type = "pre"
				return nil
			}
		}
	case "tg-emoji":
		if !validEmojiID(top.arg) {
			return fmt.Errorf("Invalid custom emoji identifier specified")
		}
		e.CustomEmojiID = top.arg
	}
	p.entities = append(p.entities, e)
	return nil
}

func validEmojiID(s string) bool {
	if s == "" || len(s) > 19 {
		return false
	}
	nonzero := false
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
		nonzero = nonzero || s[i] != '0'
	}
	return nonzero
}

// checkLink is what Telegram makes of an href: a URL without a scheme gets http://, a host
// needs a dot (or is an IP address), a URL with only a host gets a "/" path; tg://user?id=N
// mentions a user. Anything else (javascript:, words, spaces) is no link.
func checkLink(raw string) (link string, mention, ok bool) {
	if strings.ContainsAny(raw, " \t\r\n") || raw == "" {
		return "", false, false
	}
	scheme, rest, found := strings.Cut(raw, "://")
	if !found {
		scheme, rest = "http", raw
	}
	scheme = strings.ToLower(scheme)
	if scheme == "tg" {
		return raw, strings.HasPrefix(strings.ToLower(rest), "user?id="), true
	}
	if scheme != "http" && scheme != "https" {
		return raw, false, scheme != "" && isAlpha(scheme[0])
	}
	hostport, tail := rest, ""
	if k := strings.IndexAny(rest, "/?#"); k >= 0 {
		hostport, tail = rest[:k], rest[k:]
	}
	host := hostport
	if h, port, err := net.SplitHostPort(hostport); err == nil {
		for i := 0; i < len(port); i++ {
			if !isDigit(port[i]) {
				return "", false, false
			}
		}
		host = h
	}
	if !validHost(host) {
		return "", false, false
	}
	if !strings.HasPrefix(tail, "/") {
		tail = "/" + tail
	}
	return scheme + "://" + hostport + tail, false, true
}

// validHost: an IP address, or dot-separated labels of letters (any script), digits and '-'.
func validHost(host string) bool {
	if net.ParseIP(strings.Trim(host, "[]")) != nil {
		return true
	}
	if !strings.Contains(host, ".") || strings.HasPrefix(host, ".") {
		return false
	}
	for _, r := range host {
		if r < utf8.RuneSelf && !(isAlpha(byte(r)) || isDigit(byte(r)) || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}
