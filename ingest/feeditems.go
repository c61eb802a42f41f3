package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/article"
	"herald/config"
	"herald/queue"
)

// ingest posts a parsed document's new items (oldest first). A feed's first document posts
// nothing (first_run: skip) or its newest N, and marks the rest seen. An item is the same
// article as one seen before when its GUID or its canonical URL matches. An item that cannot
// become an article (no link, no route) is logged and not retried; a Redis failure returns an
// error and leaves the item unseen, so the next poll retries it.
func (p *Poller) ingest(ctx context.Context, f config.Feed, parsed *gofeed.Feed) error {
	rdb := p.pub.Redis
	items := sortedItems(parsed.Items)
	first, err := rdb.HGet(ctx, feedKey(f.Name), fInitialized).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("feed %s: reading state: %w", f.Name, err)
	}
	initialized := err == nil
	post := len(items) // every new item
	if !initialized {
		post = min(f.Newest, len(items))
	}
	// The backlog is what the site published before herald followed the feed: the first poll
	// marks it seen. An item published well before that poll that shows up only later was outside
	// the document's window then, and slides into it when a newer item is removed (trashed,
	// unpublished) or the site lists more items; it is backlog too, not news.
	backlogBefore := time.UnixMilli(first).Add(-backlogSlack)
	var errs []error
	shared := sharedGUIDs(items)
	for i, it := range items {
		keys := itemKeys(it, shared)
		if len(keys) == 0 {
			p.log.Warn("feed item without guid or link skipped", zap.String("feed", f.Name), zap.String("title", it.Title))
			continue
		}
		args := append([]any{ms(p.now()), maxSeen}, anySlice(keys)...)
		fresh, err := markSeenScript.Run(ctx, rdb, []string{feedSeenKey(f.Name), feedKey(f.Name)}, args...).Int()
		if err != nil {
			return fmt.Errorf("feed %s: recording items: %w", f.Name, err)
		}
		if fresh == 0 || i < len(items)-post {
			continue // seen before, or older than the first run's newest N
		}
		if t := itemTime(it); initialized && !t.IsZero() && t.Before(backlogBefore) {
			p.log.Info("feed item from before the feed's first poll not posted", zap.String("feed", f.Name),
				zap.String("link", it.Link), zap.Time("published", t))
			continue
		}
		if err := p.publishItem(ctx, f, parsed, it, shared); err != nil {
			var ve *article.ValidationError
			if errors.As(err, &ve) {
				p.log.Warn("feed item not posted", zap.String("feed", f.Name), zap.String("link", it.Link), zap.Error(err))
				continue
			}
			// Not the item's fault: forget it, so the next poll tries again.
			rdb.ZRem(context.WithoutCancel(ctx), feedSeenKey(f.Name), anySlice(keys)...)
			rdb.HIncrBy(context.WithoutCancel(ctx), feedKey(f.Name), fItemsSeen, -1)
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("feed %s: %w", f.Name, err)
	}
	if !initialized {
		if err := rdb.HSet(ctx, feedKey(f.Name), fInitialized, ms(p.now())).Err(); err != nil {
			return fmt.Errorf("feed %s: recording the first run: %w", f.Name, err)
		}
	}
	return nil
}

func (p *Poller) publishItem(ctx context.Context, f config.Feed, parsed *gofeed.Feed, it *gofeed.Item, shared map[string]bool) error {
	a := ItemArticle(parsed, it)
	var guid string
	if g := strings.TrimSpace(it.GUID); !shared[g] {
		guid = GUIDAddress(g, a.URL)
	}
	// The story may be in herald already under an id of its own (the WordPress plugin or a CMS
	// webhook published it when it went live); the feed would post it again under its URL's id.
	// It is found by its link, or by its GUID when an editor changed the slug since.
	id, err := p.knownStory(ctx, a.URL, guid)
	if err != nil {
		return err
	}
	if id != "" {
		p.log.Info("feed item already published", zap.String("feed", f.Name), zap.String("article_id", id), zap.String("link", a.URL))
	} else {
		if len(f.Channels) > 0 {
			a.Channels = slices.Clone(f.Channels)
		}
		res, err := p.pub.Publish(WithSource(ctx, f.Name), &a)
		if err != nil {
			return err
		}
		id = res.ArticleID
		p.log.Info("feed item queued", zap.String("feed", f.Name), zap.String("article_id", id), zap.Int("channels", len(res.Deliveries)))
	}
	if guid == "" {
		return nil
	}
	// The WordPress plugin's event for a post whose slug an editor changed carries a link herald
	// never had, and the same GUID. A failure forgets the item: the next poll finds the article
	// by its link and indexes the GUID again.
	if err := p.pub.Broker.IndexURL(ctx, guid, id); err != nil {
		return fmt.Errorf("indexing %s: %w", a.URL, err)
	}
	return nil
}

// knownStory is the id of the article herald has for a feed item, found by its link or its GUID
// address (GUIDAddress), or "".
func (p *Poller) knownStory(ctx context.Context, addrs ...string) (string, error) {
	for _, addr := range addrs {
		if addr == "" {
			continue
		}
		switch id, err := p.pub.Broker.ArticleIDByURL(ctx, addr); {
		case err == nil:
			return id, nil
		case !errors.Is(err, queue.ErrNotFound) && !errors.Is(err, queue.ErrInvalidURL):
			return "", fmt.Errorf("looking up %s: %w", addr, err)
		}
	}
	return "", nil
}

// excerptText is a description as summary text without the "[…]" WordPress ends every excerpt
// with (its excerpt_more, " [&hellip;]"), as the WordPress hook reads excerpts: it showed in
// every post of a WordPress feed's items.
func excerptText(html string) string {
	s := strings.TrimSpace(article.PlainText(html))
	for _, more := range []string{"[…]", "[...]"} {
		s = strings.TrimSpace(strings.TrimSuffix(s, more))
	}
	return s
}

// backlogSlack: an item published up to this long before a feed's first poll but not in its
// document (a cache in front of the feed, a late publish) is still news when it shows up.
const backlogSlack = time.Hour

// sortedItems orders items oldest first by their published (else updated) time; items without
// a time keep the feed's order, which is newest first by convention.
func sortedItems(items []*gofeed.Item) []*gofeed.Item {
	out := slices.Clone(items)
	slices.Reverse(out)
	for _, it := range out {
		if itemTime(it).IsZero() {
			return out
		}
	}
	slices.SortStableFunc(out, func(a, b *gofeed.Item) int { return itemTime(a).Compare(itemTime(b)) })
	return out
}

func itemTime(it *gofeed.Item) time.Time {
	if it.PublishedParsed != nil {
		return *it.PublishedParsed
	}
	if it.UpdatedParsed != nil {
		return *it.UpdatedParsed
	}
	return time.Time{}
}

// itemKeys are the identities of an item: its GUID (unless the document gives it to other
// stories too: sharedGUIDs), its canonical URL, and that URL without its scheme and a leading
// www. — a site moving to https or to or from www. changes every link and, where the GUID is the
// permalink, every GUID at once, which reposted the whole feed. (The u: key stays so items
// recorded before the h: key are still known.)
func itemKeys(it *gofeed.Item, shared map[string]bool) []string {
	var keys []string
	if g := strings.TrimSpace(it.GUID); g != "" && !shared[g] {
		keys = append(keys, "g:"+g)
	}
	if canon, hostless := itemURL(it); canon != "" {
		keys = append(keys, "u:"+canon)
		if hostless != "" {
			keys = append(keys, "h:"+hostless)
		}
	}
	return keys
}

// itemURL is an item's canonical URL, and that URL without its scheme and a leading www.; ""
// when the item has no link that parses.
func itemURL(it *gofeed.Item) (canon, hostless string) {
	link := itemLink(it)
	if link == "" {
		return "", ""
	}
	canon, err := article.CanonicalURL(link)
	if err != nil {
		return "", ""
	}
	if u, err := url.Parse(canon); err == nil && u.Host != "" {
		u.Scheme, u.Host = "", strings.TrimPrefix(u.Host, "www.")
		hostless = u.String()
	}
	return canon, hostless
}

// sharedGUIDs are the GUIDs a document gives to different stories — another link and another
// title — as broken feed generators do (one GUID for every item: the site's address, "0"). Such
// a GUID names no item: as an identity it made every story after the first one it was seen on
// "seen before", and none was ever posted. The same GUID on the same story listed twice (one
// title, two links) still is one.
func sharedGUIDs(items []*gofeed.Item) map[string]bool {
	type story struct{ link, title string }
	first := map[string]story{}
	shared := map[string]bool{}
	for _, it := range items {
		g := strings.TrimSpace(it.GUID)
		if g == "" {
			continue
		}
		_, link := itemURL(it)
		s := story{link, strings.TrimSpace(article.PlainText(it.Title))}
		f, ok := first[g]
		switch {
		case !ok:
			first[g] = s
		case f.link != s.link && f.title != s.title:
			shared[g] = true
		}
	}
	return shared
}

func itemLink(it *gofeed.Item) string {
	if l := strings.TrimSpace(it.Link); l != "" {
		return l
	}
	for _, l := range it.Links {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	// RSS GUIDs are often the permalink.
	if g := strings.TrimSpace(it.GUID); strings.HasPrefix(g, "http://") || strings.HasPrefix(g, "https://") {
		return g
	}
	return ""
}

// ItemArticle maps a feed item to the article contract: link → url, title, description →
// summary, content:encoded (or Atom content; else the description) → body, the enclosure or
// media:content image → image_url, categories → tags (the first also the category), the feed's
// language → language.
func ItemArticle(feed *gofeed.Feed, it *gofeed.Item) article.Article {
	a := article.Article{
		URL:      itemLink(it),
		Title:    article.PlainText(it.Title),
		Body:     it.Content,
		ImageURL: itemImage(it),
		Tags:     []string{},
	}
	// Content or a description over the article's limits — an image pasted into the content as
	// a data: URI, the whole story in the description beside content:encoded, as some CMSs write
	// it — made the item an invalid article, which a feed skips for good: the story was never
	// posted. The description stands in for such content, and a summary that long is left to be
	// taken from the body.
	if len(a.Body) > article.MaxBodyBytes {
		a.Body = ""
	}
	if a.Body == "" {
		a.Body = it.Description
	} else if s := excerptText(it.Description); utf8.RuneCountInString(s) <= article.MaxSummaryChar {
		a.Summary = s
	}
	for _, c := range it.Categories {
		c = strings.TrimSpace(article.PlainText(c))
		if c != "" && !slices.Contains(a.Tags, c) && len(a.Tags) < article.MaxTags {
			a.Tags = append(a.Tags, c)
		}
	}
	// A feed does not tell categories from tags (WordPress lists both as <category>): a route
	// by category sees every one, not only the first.
	if len(a.Tags) > 1 {
		a.Categories = slices.Clone(a.Tags)
	}
	if len(a.Tags) > 0 {
		a.Category = a.Tags[0]
	}
	if feed != nil {
		lang, _, _ := strings.Cut(strings.TrimSpace(feed.Language), "-")
		a.Language = strings.ToLower(lang)
	}
	if it.DublinCoreExt != nil && len(it.DublinCoreExt.Language) > 0 {
		lang, _, _ := strings.Cut(it.DublinCoreExt.Language[0], "-")
		a.Language = strings.ToLower(lang)
	}
	if t := itemTime(it); !t.IsZero() {
		t = t.UTC()
		a.PublishedAt = &t
	}
	return a
}

// itemImage is the item's first image that is an absolute http(s) URL: the translator's image
// (RSS: itunes:image, media:content image, image enclosure), else an image enclosure (Atom
// rel="enclosure"), else media:content or media:thumbnail, also inside media:group. Any other
// (a data: URI, ftp:, a file name with a bare "%") is passed over: as the article's image_url it
// made the item an invalid article, which a feed skips for good, and the story was never posted
// for want of its picture.
func itemImage(it *gofeed.Item) string {
	for _, u := range imageCandidates(it) {
		if p, err := url.Parse(u); err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" {
			return u
		}
	}
	return ""
}

func imageCandidates(it *gofeed.Item) []string {
	var out []string
	if it.Image != nil && it.Image.URL != "" {
		out = append(out, it.Image.URL)
	}
	for _, e := range it.Enclosures {
		if strings.HasPrefix(e.Type, "image/") && e.URL != "" {
			out = append(out, e.URL)
		}
	}
	media := it.Extensions["media"]
	for _, group := range media["group"] {
		for _, c := range group.Children["content"] {
			if isImage(c.Attrs) {
				out = append(out, c.Attrs["url"])
			}
		}
	}
	for _, c := range media["content"] {
		if isImage(c.Attrs) {
			out = append(out, c.Attrs["url"])
		}
	}
	for _, c := range media["thumbnail"] {
		if c.Attrs["url"] != "" {
			out = append(out, c.Attrs["url"])
		}
	}
	return out
}

func isImage(attrs map[string]string) bool {
	return attrs["url"] != "" && (attrs["medium"] == "image" || strings.HasPrefix(attrs["type"], "image/") ||
		(attrs["medium"] == "" && attrs["type"] == ""))
}

// resolveItemLinks makes the items' links and images absolute. RSS requires absolute URLs, yet CMSs
// send "/world/a-1": resolved against the feed's site link (itself against the document's URL),
// else the URL the document came from (after redirects), the way feed readers do. gofeed already
// applies Atom's xml:base. A relative URL left as it was fails the article's validation, and the
// item was never posted.
func resolveItemLinks(parsed *gofeed.Feed, docURL *url.URL) {
	if docURL == nil {
		return
	}
	base := docURL
	if site, err := docURL.Parse(strings.TrimSpace(parsed.Link)); err == nil && parsed.Link != "" &&
		(site.Scheme == "http" || site.Scheme == "https") && site.Host != "" {
		base = site
	}
	abs := func(s *string) {
		if t := strings.TrimSpace(*s); t != "" {
			if u, err := base.Parse(t); err == nil {
				*s = u.String()
			}
		}
	}
	for _, it := range parsed.Items {
		abs(&it.Link)
		for i := range it.Links {
			abs(&it.Links[i])
		}
		if it.Image != nil {
			abs(&it.Image.URL)
		}
		for _, e := range it.Enclosures {
			abs(&e.URL)
		}
		media := it.Extensions["media"]
		for _, group := range media["group"] {
			for _, c := range group.Children["content"] {
				if v, ok := c.Attrs["url"]; ok {
					abs(&v)
					c.Attrs["url"] = v
				}
			}
		}
		for _, name := range []string{"content", "thumbnail"} {
			for _, c := range media[name] {
				if v, ok := c.Attrs["url"]; ok {
					abs(&v)
					c.Attrs["url"] = v
				}
			}
		}
	}
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
