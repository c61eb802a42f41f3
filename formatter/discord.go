package formatter

import (
	"strings"
	"time"

	"herald/article"
	"herald/channels"
)

// Discord webhook messages: content at most 2000 characters; an embed's title 256, its
// description 4096, all embeds together 6000. Counted in UTF-16 units to stay on the safe side.
// Specs: https://discord.com/developers/docs/resources/webhook#execute-webhook
// and https://discord.com/developers/docs/resources/message#embed-object-embed-limits
const (
	discordContentLimit     = 2000
	discordEmbedTitle       = 256
	discordEmbedDescription = 4096
	discordEmbedFooter      = 2048
)

// discord renders markdown content (**title**, summary, link, which Discord unfurls) or, with
// embed: true, an empty content and Extra["embeds"]: [{title, description, url, image,
// timestamp, footer}].
type discord struct{ embed bool }

func (p discord) layout(d *Data) string {
	if p.embed {
		return ""
	}
	t := *d
	if t.Title != "" {
		t.Title = "**" + discordEscape(d.Title) + "**"
	}
	t.Summary = discordEscape(d.Summary)
	return plainLayout(&t, true)
}

var discordReplacer = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "|", `\|`, ">", `\>`, "#", `\#`, "[", `\[`, "]", `\]`, "<", `\<`, "@", "@\u200b")

// discordEscape backslash-escapes markdown characters and breaks @everyone-style mentions,
// except inside URLs (Discord would link the backslash; allowed_mentions keeps a URL's "@" silent).
func discordEscape(s string) string { return escapeOutsideURLs(s, discordReplacer.Replace) }

func (discord) escape(s string) string { return discordEscape(s) }

func (discord) link(url, text string) string {
	if text == "" {
		return url
	}
	return "[" + discordLinkText(text) + "](" + url + ")"
}

// discordLinkTextReplacer: Discord shows a masked link's escapes as written ("escaping is
// disabled in masked links"), so its text gets look-alikes instead: no bracket ends the link
// early, no markup, no backslash on show, no mention.
// Specs: https://github.com/discord/discord-api-docs/issues/6185
var discordLinkTextReplacer = strings.NewReplacer("[", "［", "]", "］", "*", "∗", "_", "＿", "~", "∼",
	"`", "ˋ", "|", "│", "\\", "⧵", "@", "@\u200b")

func discordLinkText(s string) string { return discordLinkTextReplacer.Replace(s) }

func (discord) measure(text string) (int, error) { return CountUTF16(text), nil }

func (discord) markup() markup { return markupStars }

func (p discord) finish(post *channels.Post, d, full *Data, a *article.Article) {
	if !p.embed {
		return
	}
	embed := map[string]any{
		"title":       cutUTF16(full.Title, discordEmbedTitle),
		"description": cutUTF16(full.Summary, discordEmbedDescription),
		"url":         d.URL,
	}
	if d.ImageURL != "" {
		embed["image"] = map[string]any{"url": d.ImageURL}
	}
	if a.PublishedAt != nil {
		embed["timestamp"] = a.PublishedAt.UTC().Format(time.RFC3339)
	}
	if full.Category != "" {
		embed["footer"] = map[string]any{"text": cutUTF16(full.Category, 100)}
	}
	post.Extra = map[string]any{"embeds": []any{embed}}
}

// cutUTF16 cuts s at a word boundary until it is at most n UTF-16 units.
func cutUTF16(s string, n int) string {
	for m := n; CountUTF16(s) > n && m > 1; m -= max(1, m/10) {
		s = cutText(s, m, true)
	}
	return s
}
