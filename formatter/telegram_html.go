package formatter

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// telegramTags are the tags Telegram's HTML parse mode accepts, with the attributes each may
// carry. Anything else is rejected with "Bad Request: can't parse entities".
// Specs: https://core.telegram.org/bots/api#html-style
var telegramTags = map[string]map[string]bool{
	"b": nil, "strong": nil, "i": nil, "em": nil, "u": nil, "ins": nil, "s": nil, "strike": nil,
	"del": nil, "tg-spoiler": nil, "pre": nil,
	"a":          {"href": true},
	"code":       {"class": true},
	"blockquote": {"expandable": true},
	"span":       {"class": true},
	"tg-emoji":   {"emoji-id": true},
}

// telegramEntities are the only named entities Telegram decodes; numeric ones are fine.
var telegramEntities = map[string]rune{"lt": '<', "gt": '>', "amp": '&', "quot": '"'}

// CheckTelegramHTML validates text as Telegram's HTML parse mode would: only the allowed tags
// and attributes (a needs href, span only class="tg-spoiler"), balanced and properly nested, no
// bare < > or &, only the named entities &lt; &gt; &amp; &quot;. It returns the length of the
// visible text (tags removed, entities decoded) in UTF-16 code units, the unit Telegram's
// 4096/1024 limits count.
func CheckTelegramHTML(text string) (int, error) {
	if !utf8.ValidString(text) {
		return 0, fmt.Errorf("telegram html: invalid UTF-8")
	}
	n := 0
	var stack []string
	for i := 0; i < len(text); {
		c := text[i]
		switch c {
		case '<':
			end := strings.IndexByte(text[i:], '>')
			if end < 0 {
				return 0, fmt.Errorf("telegram html: unclosed tag at byte %d", i)
			}
			tag := text[i+1 : i+end]
			if strings.HasPrefix(tag, "/") {
				name := strings.ToLower(strings.TrimSpace(tag[1:]))
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return 0, fmt.Errorf("telegram html: unexpected end tag </%s> at byte %d", name, i)
				}
				stack = stack[:len(stack)-1]
			} else {
				name, err := checkTelegramStartTag(tag)
				if err != nil {
					return 0, fmt.Errorf("telegram html: %w at byte %d", err, i)
				}
				stack = append(stack, name)
			}
			i += end + 1
		case '>':
			return 0, fmt.Errorf("telegram html: bare '>' at byte %d", i)
		case '&':
			end := strings.IndexByte(text[i:], ';')
			if end < 0 || end > 12 {
				return 0, fmt.Errorf("telegram html: bare '&' at byte %d", i)
			}
			r, err := decodeTelegramEntity(text[i+1 : i+end])
			if err != nil {
				return 0, fmt.Errorf("telegram html: %w at byte %d", err, i)
			}
			n += utf16Len(r)
			i += end + 1
		default:
			// Valid UTF-8 (checked above): a lead byte starts one UTF-16 unit, a 4-byte
			// sequence two, continuation bytes none.
			switch {
			case c < 0x80 || (c >= 0xC0 && c < 0xF0):
				n++
			case c >= 0xF0:
				n += 2
			}
			i++
		}
	}
	if len(stack) > 0 {
		return 0, fmt.Errorf("telegram html: <%s> is never closed", stack[len(stack)-1])
	}
	return n, nil
}

func utf16Len(r rune) int {
	if r >= 0x10000 {
		return 2
	}
	return 1
}

func decodeTelegramEntity(name string) (rune, error) {
	if r, ok := telegramEntities[name]; ok {
		return r, nil
	}
	if strings.HasPrefix(name, "#") {
		num := name[1:]
		base := 10
		if strings.HasPrefix(num, "x") || strings.HasPrefix(num, "X") {
			num, base = num[1:], 16
		}
		v, err := strconv.ParseUint(num, base, 32)
		if err == nil && v > 0 && v <= utf8.MaxRune && !(v >= 0xD800 && v <= 0xDFFF) {
			return rune(v), nil
		}
	}
	return 0, fmt.Errorf("unsupported entity &%s;", name)
}

// checkTelegramStartTag checks "<name attr="v" …>" content and returns the tag name.
func checkTelegramStartTag(tag string) (string, error) {
	name, rest, _ := strings.Cut(tag, " ")
	name = strings.ToLower(name)
	allowed, ok := telegramTags[name]
	if !ok || name == "" {
		return "", fmt.Errorf("unsupported tag <%s>", name)
	}
	attrs := map[string]string{}
	rest = strings.TrimSpace(rest)
	for rest != "" {
		k, v, quoted := rest, "", false
		if eq := strings.IndexAny(rest, "= "); eq >= 0 && rest[eq] == '=' {
			k = rest[:eq]
			rest = rest[eq+1:]
			if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
				return "", fmt.Errorf("unquoted attribute %s in <%s>", k, name)
			}
			q := rest[0]
			close := strings.IndexByte(rest[1:], q)
			if close < 0 {
				return "", fmt.Errorf("unterminated attribute %s in <%s>", k, name)
			}
			v, rest, quoted = rest[1:1+close], strings.TrimSpace(rest[close+2:]), true
		} else if eq >= 0 {
			k, rest = rest[:eq], strings.TrimSpace(rest[eq:])
		} else {
			rest = ""
		}
		k = strings.ToLower(k)
		if !allowed[k] {
			return "", fmt.Errorf("unsupported attribute %s in <%s>", k, name)
		}
		if quoted && strings.ContainsAny(v, "<>") {
			return "", fmt.Errorf("unescaped < or > in attribute %s of <%s>", k, name)
		}
		attrs[k] = v
	}
	switch {
	case name == "a" && attrs["href"] == "":
		return "", fmt.Errorf("<a> without href")
	case name == "span" && attrs["class"] != "tg-spoiler":
		return "", fmt.Errorf(`<span> must be class="tg-spoiler"`)
	case name == "tg-emoji" && attrs["emoji-id"] == "":
		return "", fmt.Errorf("<tg-emoji> without emoji-id")
	}
	return name, nil
}
