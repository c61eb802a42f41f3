package formatter

import (
	"strings"

	"herald/article"
	"herald/channels"
)

// LinkedIn post commentary is at most 3000 characters; counted in UTF-16 units of the escaped
// text (the backslashes included), which is the safe side of any way LinkedIn counts.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
const linkedinLimit = 3000

// linkedin renders the commentary of an article post in LinkedIn's "little" text format: the
// title, the summary and the hashtags, every reserved character backslash-escaped. The link is
// not in the text: it is the post's article card (content.article.source), which Extra["article"]
// carries with the card's title and description as plain strings (they are not little text).
// Unescaped, a reserved character is read as markup: "(" or "[" starts a mention template and
// LinkedIn silently cuts the post there, "#" starts a hashtag.
// Specs: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format
type linkedin struct{}

func (linkedin) layout(d *Data) string {
	t := *d
	t.Title, t.Summary = linkedinEscape(d.Title), linkedinEscape(d.Summary)
	t.Hashtags = make([]string, len(d.Hashtags))
	for i, h := range d.Hashtags {
		t.Hashtags[i] = linkedinHashtag(h)
	}
	return plainLayout(&t, false)
}

// linkedinReplacer escapes little's reserved characters: | { } @ [ ] ( ) < > # \ * _ ~
var linkedinReplacer = strings.NewReplacer(
	`\`, `\\`, "|", `\|`, "{", `\{`, "}", `\}`, "@", `\@`, "[", `\[`, "]", `\]`,
	"(", `\(`, ")", `\)`, "<", `\<`, ">", `\>`, "#", `\#`, "*", `\*`, "_", `\_`, "~", `\~`)

// linkedinEscape makes plain text a little TextElement: each reserved character escaped.
func linkedinEscape(s string) string { return linkedinReplacer.Replace(s) }

// linkedinHashtag writes a hashtag as little's HashtagElement "#tag": the "#" bare, so LinkedIn
// makes it a hashtag, the tag's own characters escaped (the "_" that joins Arabic words).
func linkedinHashtag(h string) string {
	if tag, ok := strings.CutPrefix(h, "#"); ok {
		return "#" + linkedinEscape(tag)
	}
	return linkedinEscape(h)
}

func (linkedin) escape(s string) string { return linkedinEscape(s) }

// link renders a link inside the commentary (templates only): the URL escaped too, so its "_"
// (utm_source) and parentheses stay text; LinkedIn reads the unescaped URL and links it.
func (linkedin) link(url, text string) string {
	return plainLink(linkedinEscape(url), linkedinEscape(text))
}

func (linkedin) measure(text string) (int, error) { return CountUTF16(text), nil }

func (linkedin) markup() markup { return markupNone }

// finish puts the article card in Extra["article"]: source (the tracked link), title and
// description, unescaped, for the Posts API's content.article.
func (linkedin) finish(p *channels.Post, d, full *Data, _ *article.Article) {
	card := map[string]any{"source": d.URL, "title": full.Title}
	if full.Summary != "" {
		card["description"] = full.Summary
	}
	p.Extra = map[string]any{"article": card}
}
