package formatter

import (
	"bytes"
	"html"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// skippedElements are dropped with everything inside them: code, embeds, and page furniture
// that is never part of the story.
var skippedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Noscript: true,
	atom.Template: true, atom.Svg: true, atom.Math: true, atom.Head: true, atom.Object: true,
	atom.Select: true, atom.Button: true, atom.Form: true, atom.Nav: true, atom.Aside: true,
	atom.Figure: true, atom.Figcaption: true, atom.Video: true, atom.Audio: true,
	atom.Canvas: true, atom.Textarea: true, atom.Title: true,
}

// blockElements end a paragraph.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.H1: true, atom.H2: true, atom.H3: true,
	atom.H4: true, atom.H5: true, atom.H6: true, atom.Li: true, atom.Ul: true, atom.Ol: true,
	atom.Tr: true, atom.Td: true, atom.Th: true, atom.Table: true, atom.Blockquote: true,
	atom.Section: true, atom.Article: true, atom.Header: true, atom.Footer: true, atom.Main: true,
	atom.Pre: true, atom.Hr: true, atom.Dd: true, atom.Dt: true, atom.Dl: true, atom.Body: true,
	atom.Html: true, atom.Address: true, atom.Details: true, atom.Summary: true,
}

// maxParagraphBytes bounds one paragraph's buffer: a body without any break still costs no
// more than this.
const maxParagraphBytes = 16 << 10

// looksLikeHTML reports whether s holds real markup: a start or end tag of a known HTML element
// ("<p", "</div", "<br/>") or a comment or doctype ("<!"). Otherwise it is plain text whose line
// breaks are paragraph breaks; a '<' that opens nothing known ("x<y", "a < b", "<3") is text.
func looksLikeHTML(s string) bool {
	for i := strings.IndexByte(s, '<'); i >= 0; {
		if realTagAt(s, i) {
			return true
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// realTagAt reports whether the '<' at s[i] opens a comment, a doctype or a tag of a known
// HTML element, closed by a '>' later on.
func realTagAt(s string, i int) bool {
	j := i + 1
	if j < len(s) && s[j] == '!' {
		return strings.IndexByte(s[j:], '>') >= 0
	}
	if j < len(s) && s[j] == '/' {
		j++
	}
	k := j
	for k < len(s) && (s[k]|0x20 >= 'a' && s[k]|0x20 <= 'z' || k > j && (s[k] >= '0' && s[k] <= '9' || s[k] == '-')) {
		k++
	}
	if k == j || k-j > 12 {
		return false
	}
	if k < len(s) && !strings.ContainsRune(" \t\n\r\f/>", rune(s[k])) {
		return false
	}
	if atom.Lookup([]byte(strings.ToLower(s[j:k]))) == 0 {
		return false
	}
	return strings.IndexByte(s[k:], '>') >= 0
}

// escapeStrayLT writes every '<' that opens no real tag as "&lt;", so the HTML tokenizer keeps
// it, and what follows it, as text.
func escapeStrayLT(s string) string {
	var b strings.Builder
	last := 0
	for i := strings.IndexByte(s, '<'); i >= 0; {
		if !realTagAt(s, i) {
			if b.Len() == 0 {
				b.Grow(len(s) + 16)
			}
			b.WriteString(s[last:i])
			b.WriteString("&lt;")
			last = i + 1
		}
		j := strings.IndexByte(s[i+1:], '<')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// unescapeText decodes HTML character references, twice when the text was escaped twice
// ("&amp;quot;" from a feed that escapes its already escaped titles): a news text never means
// to show "&quot;".
func unescapeText(s string) string {
	if strings.IndexByte(s, '&') < 0 {
		return s
	}
	u := html.UnescapeString(s)
	if u != s && strings.IndexByte(u, '&') >= 0 && strings.IndexByte(u, ';') >= 0 {
		u = html.UnescapeString(u)
	}
	return u
}

// paragraphs turns an HTML or plain-text body into clean paragraphs, streaming: it stops as soon
// as keep has accepted `need` code points, so the cost does not grow with the body beyond what a
// summary can use. keep filters boilerplate and repeats of the title.
func paragraphs(body string, need int, keep func(string) bool) []string {
	out, _, _ := paragraphsOf(body, need, keep)
	return out
}

// paragraphsOf is paragraphs that also returns each one's length in code points and whether it
// read the body to its end.
func paragraphsOf(body string, need int, keep func(string) bool) (out []string, runes []int, complete bool) {
	c := collector{need: need, keep: keep}
	if looksLikeHTML(body) {
		complete = c.html(escapeStrayLT(body))
	} else {
		complete = c.plain(body)
	}
	return c.out, c.runes, complete
}

type collector struct {
	need    int
	keep    func(string) bool
	got     int
	out     []string
	runes   []int // code points of each paragraph in out
	cur     []byte
	scratch []byte
}

func (c *collector) full() bool { return c.need >= 0 && c.got >= c.need }

func (c *collector) flush() {
	if len(c.cur) == 0 {
		return
	}
	if cap(c.scratch) < len(c.cur) {
		c.scratch = make([]byte, 0, len(c.cur)+len(c.cur)/4)
	}
	p, n := cleanLineBuf(string(c.cur), c.scratch)
	if strings.Contains(p, "&") && strings.Contains(p, ";") {
		// Double-escaped text: the tokenizer decoded one level.
		if u := html.UnescapeString(p); u != p {
			p, n = cleanLineBuf(u, nil)
		}
	}
	c.cur = c.cur[:0]
	if p == "" || (c.keep != nil && !c.keep(p)) {
		return
	}
	c.out = append(c.out, p)
	c.runes = append(c.runes, n)
	c.got += n
}

func (c *collector) write(b []byte) {
	if room := maxParagraphBytes - len(c.cur); room > 0 {
		if len(b) > room {
			b = b[:room]
		}
		c.cur = append(c.cur, b...)
	}
}

func (c *collector) html(body string) (complete bool) {
	z := xhtml.NewTokenizer(strings.NewReader(body))
	var skip atom.Atom
	depth := 0
	for !c.full() {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			c.flush()
			return true
		case xhtml.TextToken:
			if depth == 0 {
				// Text() decodes entities into a new slice; most text has none.
				if raw := z.Raw(); bytes.IndexByte(raw, '&') < 0 {
					c.write(raw)
				} else {
					c.write(z.Text())
				}
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if depth > 0 {
				if a == skip && tt == xhtml.StartTagToken {
					depth++
				} else if a == skip && tt == xhtml.EndTagToken {
					depth--
				}
				continue
			}
			if skippedElements[a] && tt == xhtml.StartTagToken {
				c.flush()
				skip, depth = a, 1
				continue
			}
			if blockElements[a] {
				c.flush()
			}
		}
	}
	return false
}

func (c *collector) plain(body string) (complete bool) {
	for len(body) > 0 && !c.full() {
		line := body
		if i := strings.IndexByte(body, '\n'); i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = ""
		}
		c.write([]byte(unescapeText(line)))
		c.flush()
	}
	return len(body) == 0
}

// cleanLine normalises one paragraph: valid UTF-8, every space-like character (NBSP, tab, line
// and paragraph separators, CR) a single space, zero-width characters and controls dropped,
// stray direction marks stripped from both ends, explicit direction controls left without their
// partner dropped (balanceBidi), NFC. It runs on every paragraph of every body,
// so it decodes by hand and checks NFC on the way.
func cleanLine(s string) string {
	out, _ := cleanLineBuf(s, nil)
	return out
}

// cleanLineBuf is cleanLine using buf as scratch space; it also returns the result's length in
// code points.
func cleanLineBuf(s string, buf []byte) (string, int) {
	b := buf[:0]
	runes := 0
	space := false
	normal := true
	var prevCCC uint8
	for i := 0; i < len(s); {
		c := s[i]
		var r rune
		size := 1
		switch {
		case c < utf8.RuneSelf:
			r = rune(c)
		case c >= 0xC2 && c < 0xE0 && i+1 < len(s) && s[i+1]&0xC0 == 0x80:
			r, size = rune(c&0x1F)<<6|rune(s[i+1]&0x3F), 2
		default:
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		start := i
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			continue
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || r == 0x85 ||
			r == 0x2028 || r == 0x2029 || isSpaceSeparator(r):
			space = len(b) > 0
			prevCCC = 0
			continue
		case isInvisible(r):
			continue
		}
		if space {
			b = append(b, ' ')
			runes++
			space = false
		}
		b = append(b, s[start:i]...)
		runes++
		if normal && r >= 0x300 {
			ccc, ok := nfcSafe(r)
			if !ok || (ccc != 0 && ccc < prevCCC) {
				normal = false
			}
			prevCCC = ccc
		} else {
			prevCCC = 0
		}
	}
	// Stripping the ends may take a closer and leave its opener (or the reverse); the source may
	// hold unmatched ones too (Word's RLE without its PDF): they go, matched pairs stay.
	trimmed := trimMarks(string(b))
	if balanced := balanceBidi(trimmed); balanced != trimmed {
		// A control dropped between two spaces leaves two.
		for strings.Contains(balanced, "  ") {
			balanced = strings.ReplaceAll(balanced, "  ", " ")
		}
		trimmed = trimMarks(balanced)
	}
	if !normal {
		return norm.NFC.String(trimmed), utf8.RuneCountInString(norm.NFC.String(trimmed))
	}
	if len(trimmed) != len(b) {
		runes = utf8.RuneCountInString(trimmed)
	}
	return trimmed, runes
}

// isSpaceSeparator is unicode.Zs without the table lookup (this runs on every character).
func isSpaceSeparator(r rune) bool {
	return r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x202F || r == 0x205F || r == 0x3000
}

// isInvisible: zero-width characters and controls that carry nothing a reader sees. ZWJ and
// ZWNJ stay: they shape emoji sequences and Persian words.
func isInvisible(r rune) bool {
	switch r {
	case 0x200B, 0xFEFF, 0x2060, 0x00AD, 0x180E, 0xFFFE, 0xFFFF, 0xFFFC:
		return true
	}
	return r < 0x20 || (r >= 0x7F && r < 0xA0)
}

// trimMarks strips spaces and direction marks (LRM, RLM, ALM, embeddings, isolates) from both
// ends: at an end they direct nothing and only skew counts.
func trimMarks(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r == ' ' || isDirectionalMark(r) })
}

// inlineText cleans a one-line field (title, tag): tags removed only if it holds real HTML (a
// bare '<' or '&' is text), entities decoded (twice when escaped twice), whitespace normalised.
func inlineText(s string) string {
	if looksLikeHTML(s) {
		return strings.Join(paragraphs(s, -1, nil), " ")
	}
	return cleanLine(unescapeText(s))
}
