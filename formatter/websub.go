package formatter

import (
	"herald/article"
	"herald/channels"
)

// websubLimit bounds the text of a websub post: the article link, which is all it carries.
const websubLimit = 8192

// websub renders the article's link. A WebSub ping carries no text: it tells the hubs that the
// site's feeds (the channel's topics) changed, and the aggregators re-fetch them and find this
// link. The post is what herald format shows; the websub channel sends the pings.
// Specs: https://www.w3.org/TR/websub/#publishing
type websub struct{}

func (websub) layout(d *Data) string { return d.URL }

func (websub) escape(s string) string { return s }

func (websub) link(url, _ string) string { return url }

func (websub) measure(text string) (int, error) { return CountUTF16(text), nil }

func (websub) markup() markup { return markupNone }

func (websub) finish(p *channels.Post, _, _ *Data, a *article.Article) {
	p.Extra = map[string]any{"hub.mode": "publish", "article_url": a.URL}
}
