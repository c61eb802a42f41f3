package telegramfake

import (
	"fmt"
	"sort"
	"strconv"
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

// entityTypes maps the tags Telegram accepts in HTML parse mode to entity types.
var entityTypes = map[string]string{
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

// namedEntities are the only named character references Telegram decodes.
var namedEntities = map[string]string{"lt": "<", "gt": ">", "amp": "&", "quot": `"`}

// UTF16Len is the length of s in UTF-16 code units, the unit of Telegram's limits and offsets.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// ParseHTML checks s the way Telegram's HTML parse mode does and returns the plain text and its
// entities. A non-nil error's text is the detail after "Bad Request: can't parse entities: ".
//
// It is stricter than Telegram in one place, on purpose: a bare "&" that does not start a known
// character reference is rejected (Telegram shows it literally), because it almost always
// means text was put into HTML unescaped. A bare ">" is accepted, as Telegram does.
func ParseHTML(s string) (string, []Entity, error) {
	p := htmlParser{src: s}
	return p.parse()
}

type openTag struct {
	name   string
	start  int // UTF-16 offset in the plain text
	entity Entity
}

type htmlParser struct {
	src      string
	out      strings.Builder
	units    int // UTF-16 length of out
	stack    []openTag
	entities []Entity
}

func (p *htmlParser) emit(s string) {
	p.out.WriteString(s)
	p.units += UTF16Len(s)
}

func (p *htmlParser) parse() (string, []Entity, error) {
	s := p.src
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			n, err := p.tag(i)
			if err != nil {
				return "", nil, err
			}
			i = n
		case '&':
			text, n, err := entity(s, i)
			if err != nil {
				return "", nil, err
			}
			p.emit(text)
			i = n
		default:
			j := i + 1
			for j < len(s) && s[j] != '<' && s[j] != '&' {
				j++
			}
			p.emit(s[i:j])
			i = j
		}
	}
	if len(p.stack) > 0 {
		return "", nil, fmt.Errorf("Can't find end tag corresponding to start tag \"%s\"", p.stack[len(p.stack)-1].name)
	}
	sort.SliceStable(p.entities, func(a, b int) bool { return p.entities[a].Offset < p.entities[b].Offset })
	return p.out.String(), p.entities, nil
}

// entity decodes the character reference at s[i] == '&' and returns the index after it.
func entity(s string, i int) (string, int, error) {
	end := strings.IndexByte(s[i:], ';')
	if end < 0 || end > 12 {
		return "", 0, fmt.Errorf("Unescaped \"&\" at byte offset %d: write &amp;", i)
	}
	name := s[i+1 : i+end]
	next := i + end + 1
	if strings.HasPrefix(name, "#") {
		num, base := name[1:], 10
		if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
			num, base = num[1:], 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err != nil || v == 0 || v > utf8.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
			return "", 0, fmt.Errorf("Invalid character reference \"&%s;\" at byte offset %d", name, i)
		}
		return string(rune(v)), next, nil
	}
	if text, ok := namedEntities[name]; ok {
		return text, next, nil
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", 0, fmt.Errorf("Unescaped \"&\" at byte offset %d: write &amp;", i)
		}
	}
	return "", 0, fmt.Errorf("Unsupported HTML entity \"&%s;\" at byte offset %d: only &lt; &gt; &amp; &quot; and numeric references are allowed", name, i)
}

// tag handles the tag starting at s[i] == '<' and returns the index after it.
func (p *htmlParser) tag(i int) (int, error) {
	s := p.src
	end := strings.IndexByte(s[i:], '>')
	if end < 0 {
		return 0, fmt.Errorf("Unclosed start tag at byte offset %d", i)
	}
	body := s[i+1 : i+end]
	next := i + end + 1
	if strings.HasPrefix(body, "/") {
		return next, p.closeTag(strings.ToLower(strings.TrimSpace(body[1:])), i)
	}
	name, rest := body, ""
	if k := strings.IndexAny(body, " \t\n\r"); k >= 0 {
		name, rest = body[:k], body[k:]
	}
	name = strings.ToLower(name)
	typ, ok := entityTypes[name]
	if !ok || strings.HasSuffix(body, "/") {
		return 0, fmt.Errorf("Unsupported start tag \"%s\" at byte offset %d", strings.TrimSuffix(name, "/"), i)
	}
	attrs, err := parseAttrs(rest, i)
	if err != nil {
		return 0, err
	}
	if name == "span" && attrs["class"] != "tg-spoiler" {
		return 0, fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", i)
	}
	e := Entity{Type: typ}
	for k, v := range attrs {
		switch {
		case name == "a" && k == "href":
			e.URL = v
		case name == "span" && k == "class" && v == "tg-spoiler":
		case name == "code" && k == "class" && strings.HasPrefix(v, "language-"):
			e.Language = strings.TrimPrefix(v, "language-")
		case name == "tg-emoji" && k == "emoji-id":
			e.CustomEmojiID = v
		case name == "blockquote" && k == "expandable":
			e.Type = "expandable_blockquote"
		default:
			return 0, fmt.Errorf("Unsupported attribute \"%s\" in tag \"%s\" at byte offset %d", k, name, i)
		}
	}
	if name == "tg-emoji" && e.CustomEmojiID == "" {
		return 0, fmt.Errorf("Tag \"tg-emoji\" must have attribute \"emoji-id\" at byte offset %d", i)
	}
	p.stack = append(p.stack, openTag{name: name, start: p.units, entity: e})
	return next, nil
}

func (p *htmlParser) closeTag(name string, at int) error {
	if len(p.stack) == 0 {
		return fmt.Errorf("Unexpected end tag at byte offset %d", at)
	}
	top := p.stack[len(p.stack)-1]
	if top.name != name {
		return fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", at, top.name, name)
	}
	p.stack = p.stack[:len(p.stack)-1]
	if e := top.entity; p.units > top.start {
		e.Offset, e.Length = top.start, p.units-top.start
		if e.Type == "code" && len(p.stack) > 0 && p.stack[len(p.stack)-1].name == "pre" {
			// <pre><code class="language-go"> is one pre entity with a language.
			p.stack[len(p.stack)-1].entity.Language = e.Language
			return nil
		}
		if e.Type == "code" {
			e.Language = ""
		}
		p.entities = append(p.entities, e)
	}
	return nil
}

// parseAttrs reads ` name="value" name='v' name=v name` into a map, decoding entities.
func parseAttrs(s string, at int) (map[string]string, error) {
	attrs := map[string]string{}
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return attrs, nil
		}
		k := 0
		for k < len(s) && s[k] != '=' && s[k] != ' ' && s[k] != '\t' && s[k] != '\n' && s[k] != '\r' {
			k++
		}
		name := strings.ToLower(s[:k])
		s = strings.TrimLeft(s[k:], " \t\r\n")
		if !strings.HasPrefix(s, "=") {
			attrs[name] = ""
			continue
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
		var raw string
		switch {
		case s == "":
			return nil, fmt.Errorf("Expected attribute value at byte offset %d", at)
		case s[0] == '"' || s[0] == '\'':
			end := strings.IndexByte(s[1:], s[0])
			if end < 0 {
				return nil, fmt.Errorf("Unclosed attribute value at byte offset %d", at)
			}
			raw, s = s[1:1+end], s[2+end:]
		default:
			end := strings.IndexAny(s, " \t\r\n")
			if end < 0 {
				end = len(s)
			}
			raw, s = s[:end], s[end:]
		}
		val, err := decodeAttr(raw, at)
		if err != nil {
			return nil, err
		}
		attrs[name] = val
	}
}

func decodeAttr(raw string, at int) (string, error) {
	var b strings.Builder
	for i := 0; i < len(raw); {
		if raw[i] != '&' {
			b.WriteByte(raw[i])
			i++
			continue
		}
		text, n, err := entity(raw, i)
		if err != nil {
			return "", fmt.Errorf("in attribute at byte offset %d: %w", at, err)
		}
		b.WriteString(text)
		i = n
	}
	return b.String(), nil
}
