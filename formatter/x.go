package formatter

import (
	"strings"

	"herald/article"
	"herald/channels"
)

// xPlatform renders plain text: the title, an optional summary (off by default: 280 weighted
// characters hold a headline), hashtags and the link, which X counts as 23 whatever its length.
// Specs: https://docs.x.com/x-api/posts/creation-of-a-post
// and https://docs.x.com/resources/fundamentals/counting-characters
type xPlatform struct{}

func (xPlatform) layout(d *Data) string { return plainLayout(d, true) }

func (xPlatform) escape(s string) string { return s }

func (xPlatform) unmention(s string) string { return unmentionX(s) }

func (xPlatform) link(url, text string) string { return plainLink(url, text) }

func (xPlatform) measure(text string) (int, error) { return CountX(text), nil }

func (xPlatform) markup() markup { return markupNone }

func (xPlatform) finish(*channels.Post, *Data, *Data, *article.Article) {}

// plainLayout is title, summary, hashtags and link, separated by blank lines.
func plainLayout(d *Data, withLink bool) string {
	parts := make([]string, 0, 4)
	for _, p := range []string{d.Title, d.Summary, strings.Join(d.Hashtags, " ")} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if withLink {
		parts = append(parts, d.URL)
	}
	return strings.Join(parts, "\n\n")
}

func plainLink(url, text string) string {
	if text == "" {
		return url
	}
	return text + " " + url
}
