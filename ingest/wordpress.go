package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"herald/article"
)

// wpPost is the part of a WordPress REST API post object herald reads; every other field is
// ignored.
// Specs: https://developer.wordpress.org/rest-api/reference/posts/#schema
// and https://developer.wordpress.org/rest-api/using-the-rest-api/linking-and-embedding/#embedding
type wpPost struct {
	ID            int64      `json:"id"`
	Link          string     `json:"link"`
	GUID          wpRendered `json:"guid"`
	Status        string     `json:"status"`
	DateGMT       string     `json:"date_gmt"`
	Title         wpRendered `json:"title"`
	Excerpt       wpRendered `json:"excerpt"`
	Content       wpRendered `json:"content"`
	FeaturedMedia int64      `json:"featured_media"`
	Lang          string     `json:"lang"` // Polylang and WPML add it
	// BlogID: the plugin adds it on a multisite network's sites other than the main one, whose
	// post ids are their own.
	BlogID int64 `json:"blog_id"`
	// The REST API's answer to DELETE /wp/v2/posts/<id>?force=true: the post deleted for good,
	// as it was.
	// Specs: https://developer.wordpress.org/rest-api/reference/posts/#delete-a-post
	Deleted  bool    `json:"deleted"`
	Previous *wpPost `json:"previous"`
	Embedded struct {
		FeaturedMedia []struct {
			ID        int64  `json:"id"`
			SourceURL string `json:"source_url"`
		} `json:"wp:featuredmedia"`
		Terms [][]struct {
			Name     string `json:"name"`
			Taxonomy string `json:"taxonomy"`
		} `json:"wp:term"`
	} `json:"_embedded"`
}

type wpRendered struct {
	Rendered string `json:"rendered"`
	// Protected: the post has a password (content and excerpt say so).
	Protected bool `json:"protected"`
}

// WordPressPost is a WordPress REST post mapped to the article contract.
type WordPressPost struct {
	Article article.Article
	// Status is the post's status: only "publish" is published; "trash", "draft", "future",
	// "private" and "pending" are acknowledged and ignored.
	Status string
	// GUID is the post's guid.rendered (https://news.example.com/?p=4711): set when the post is
	// created, it stays when an editor changes the slug, so it names the story when the link
	// does not. The site's feed gives items the same GUID.
	GUID string
	// Deleted: the post was deleted for good ({"deleted":true,"previous":<post>}, as the REST API
	// answers a forced delete; the plugin sends it when a site with EMPTY_TRASH_DAYS 0 deletes
	// instead of trashing): herald takes it back as a trashed post.
	Deleted bool
	// Protected: a password-protected post ("protected": true on its content or excerpt), which
	// is never published, whatever its status.
	Protected bool
}

// WordPressArticle maps a WordPress REST post (as GET /wp-json/wp/v2/posts/<id>?_embed returns
// it) to an article with id wp-<site>-<post id> (wp-<site>-<blog_id>-<post id> for a multisite
// network's site other than the main one, which the plugin marks with blog_id): title and excerpt as text, content as the
// body, the featured image's URL, the first category as the category, tags (and any further
// categories) as tags.
func WordPressArticle(body []byte, site string) (*WordPressPost, error) {
	var p wpPost
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("wordpress: decoding the post JSON: %w", err)
	}
	deleted := p.Deleted && p.Previous != nil
	if deleted {
		p = *p.Previous
	}
	if p.ID <= 0 {
		return nil, &article.ValidationError{Errors: []article.FieldError{{Field: "id", Message: "the WordPress post id is missing"}}}
	}
	id := fmt.Sprintf("wp-%s-%d", site, p.ID)
	if p.BlogID > 0 {
		id = fmt.Sprintf("wp-%s-%d-%d", site, p.BlogID, p.ID)
	}
	a := article.Article{
		ID:       id,
		URL:      p.Link,
		Title:    article.PlainText(p.Title.Rendered),
		Summary:  strings.TrimSpace(strings.TrimSuffix(article.PlainText(p.Excerpt.Rendered), "[…]")),
		Body:     p.Content.Rendered,
		Language: primaryLanguage(p.Lang),
		Tags:     []string{},
	}
	// Content over the body limit — a photo pasted from a word processor stays in the post as a
	// data: URI of megabytes — made the post an invalid article (422), which the plugin does not
	// send again: the story was never posted. It goes out without the body; the excerpt is
	// its summary (as a feed item's description stands in for such content).
	if len(a.Body) > article.MaxBodyBytes {
		a.Body = ""
	}
	for _, m := range p.Embedded.FeaturedMedia {
		if m.SourceURL != "" && (p.FeaturedMedia == 0 || m.ID == p.FeaturedMedia) {
			a.ImageURL = m.SourceURL
			break
		}
	}
	for _, group := range p.Embedded.Terms {
		for _, t := range group {
			name := article.PlainText(t.Name)
			switch {
			case name == "":
			case t.Taxonomy == "category" && a.Category == "":
				a.Category = name
				a.Categories = append(a.Categories, name)
			case t.Taxonomy == "category":
				// WordPress lists a post's categories by name, not by the editor's choice: a
				// route by category must see them all (article.AllCategories).
				a.Categories = append(a.Categories, name)
				a.Tags = append(a.Tags, name)
			case t.Taxonomy == "post_tag":
				a.Tags = append(a.Tags, name)
			}
		}
	}
	// date_gmt has no zone: it is UTC by definition.
	if ts, err := time.Parse("2006-01-02T15:04:05", p.DateGMT); err == nil {
		ts = ts.UTC()
		a.PublishedAt = &ts
	}
	return &WordPressPost{Article: a, Status: p.Status, GUID: strings.TrimSpace(p.GUID.Rendered), Deleted: deleted,
		Protected: p.Content.Protected || p.Excerpt.Protected}, nil
}

// GUIDAddress is a GUID that is another address of the story besides its link: an absolute
// http(s) URL whose canonical form is not the link's, as WordPress gives every post
// (https://news.example.com/?p=4711, which redirects to the post). herald indexes the article
// under it (queue.Broker.IndexURL), so the story is found by it when its link has changed: an
// editor's new slug is a new link under the same GUID. "" for any other GUID (a tag URI, a bare
// id, the link itself).
func GUIDAddress(guid, link string) string {
	guid = strings.TrimSpace(guid)
	if !strings.HasPrefix(guid, "http://") && !strings.HasPrefix(guid, "https://") {
		return ""
	}
	g, err := article.CanonicalURL(guid)
	if err != nil {
		return ""
	}
	if u, err := url.Parse(g); err != nil || u.Host == "" {
		return ""
	}
	if l, err := article.CanonicalURL(link); err == nil && l == g {
		return ""
	}
	return guid
}

// primaryLanguage is a language tag's primary subtag, as a feed's language is read: the site
// language WordPress gives is "en-US" or "fa-IR" as often as "ar", and a route's languages
// name the language ("en").
func primaryLanguage(tag string) string {
	lang, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
	lang, _, _ = strings.Cut(lang, "_")
	return strings.ToLower(lang)
}
