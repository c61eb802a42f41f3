package article

import (
	"strings"

	"golang.org/x/net/html"
)

// PlainText is the text of an HTML fragment for matching and summaries: tags dropped (script
// and style with their content), entities decoded, whitespace collapsed to single spaces. Text
// without '<' or '&' passes through with its whitespace collapsed.
func PlainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.Join(strings.Fields(b.String()), " ")
		case html.SelfClosingTagToken:
			b.WriteByte(' ')
		case html.StartTagToken:
			if n, _ := z.TagName(); string(n) == "script" || string(n) == "style" {
				skip++
			}
			b.WriteByte(' ')
		case html.EndTagToken:
			if n, _ := z.TagName(); (string(n) == "script" || string(n) == "style") && skip > 0 {
				skip--
			}
			b.WriteByte(' ')
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text()) // Text() decodes entities
			}
		}
	}
}
