package queue

// The URL index on a real Redis: an article with an id of its own is found by its URL written
// any way the canonical form forgives, the newest publish of a URL wins, a correction's new URL
// finds the article, entries live as long as their article (and a day more at most), and the
// index costs a few dozen bytes per article.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/internal/redistest"
)

func publishArticle(t *testing.T, b *Broker, a *article.Article) {
	t.Helper()
	a.Normalize()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Publish(context.Background(), a, []Target{{Name: "tg", Kind: channels.KindTelegram}}); err != nil {
		t.Fatal(err)
	}
}

func TestArticleIDByURL(t *testing.T) {
	ctx := context.Background()
	rdb, _ := redistest.Start(t)
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	b := NewBroker(rdb, Options{Now: func() time.Time { return now }})

	publishArticle(t, b, &article.Article{ID: "wp-1", URL: "https://news.example.com/world/story?id=7&utm_source=x", Title: "خبر"})
	for _, u := range []string{
		"https://news.example.com/world/story?id=7",
		"HTTPS://News.Example.com:443/world/story/?utm_campaign=y&id=7#comments",
		"https://news.example.com/world/story?fbclid=abc&id=7",
	} {
		if id, err := b.ArticleIDByURL(ctx, u); err != nil || id != "wp-1" {
			t.Errorf("ArticleIDByURL(%s) = %q, %v; want wp-1", u, id, err)
		}
	}
	// ArticleID: a URL is looked up, anything else is the id.
	if id, err := b.ArticleID(ctx, "https://news.example.com/world/story?id=7"); err != nil || id != "wp-1" {
		t.Errorf("ArticleID(url) = %q, %v", id, err)
	}
	if id, err := b.ArticleID(ctx, "wp-1"); err != nil || id != "wp-1" {
		t.Errorf("ArticleID(id) = %q, %v", id, err)
	}

	// An article without an id of its own has its URL's id, and no index entry.
	plain := &article.Article{URL: "https://news.example.com/plain", Title: "بلا معرّف"}
	before := indexEntries(t, b)
	publishArticle(t, b, plain)
	if after := indexEntries(t, b); after != before {
		t.Errorf("index entries %d → %d for an article whose id is its URL's", before, after)
	}
	if id, err := b.ArticleIDByURL(ctx, "https://news.example.com/plain/#x"); err != nil || id != plain.ID {
		t.Errorf("ArticleIDByURL(plain) = %q, %v; want %s", id, err, plain.ID)
	}

	if _, err := b.ArticleIDByURL(ctx, "https://news.example.com/never"); !errors.Is(err, ErrNotFound) {
		t.Errorf("an unknown URL: %v, want ErrNotFound", err)
	}
	if _, err := b.ArticleIDByURL(ctx, "https://news.example.com/%zz"); !errors.Is(err, ErrInvalidURL) || errors.Is(err, ErrNotFound) {
		t.Errorf("a malformed URL: %v, want an error saying so", err)
	}

	// The same URL published again under another id, a day later: the newest publish wins.
	now = now.Add(25 * time.Hour)
	publishArticle(t, b, &article.Article{ID: "wp-2", URL: "https://news.example.com/world/story?id=7", Title: "خبر ٢"})
	if id, err := b.ArticleIDByURL(ctx, "https://news.example.com/world/story?id=7"); err != nil || id != "wp-2" {
		t.Errorf("after a second publish: %q, %v; want wp-2", id, err)
	}
	// Its entry gone with its article (retention), the older one is found again.
	rdb.Del(ctx, articleKey("wp-2"))
	if id, err := b.ArticleIDByURL(ctx, "https://news.example.com/world/story?id=7"); err != nil || id != "wp-1" {
		t.Errorf("wp-2 expired: %q, %v; want wp-1", id, err)
	}

	// A correction that changes the URL indexes the new one; the old one still finds it.
	routes := map[channels.Name]Route{}
	fixed := &article.Article{ID: "wp-1", URL: "https://news.example.com/world/story-fixed", Title: "خبر مصحح"}
	if _, err := b.Correct(ctx, fixed, "", "desk", routes); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"https://news.example.com/world/story-fixed/", "https://news.example.com/world/story?id=7"} {
		if id, err := b.ArticleIDByURL(ctx, u); err != nil || id != "wp-1" {
			t.Errorf("after the correction, ArticleIDByURL(%s) = %q, %v; want wp-1", u, id, err)
		}
	}

	// Another address of the article (a WordPress GUID, IndexURL) finds it too; the URL's own
	// article needs no entry.
	if err := b.IndexURL(ctx, "https://news.example.com/?p=4711", "wp-1"); err != nil {
		t.Fatal(err)
	}
	if id, err := b.ArticleIDByURL(ctx, "https://news.example.com/?p=4711"); err != nil || id != "wp-1" {
		t.Errorf("ArticleIDByURL(GUID) = %q, %v; want wp-1", id, err)
	}
	before = indexEntries(t, b)
	if err := b.IndexURL(ctx, "https://news.example.com/plain", plain.ID); err != nil || indexEntries(t, b) != before {
		t.Errorf("IndexURL of an article's own URL: %v, entries %d → %d", err, before, indexEntries(t, b))
	}

	// Buckets live Retention plus a day, renewed by each write; past that a lookup does not
	// look (and Redis has dropped them).
	keys, err := rdb.Keys(ctx, keyPrefix+"url:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("no index buckets: %v", err)
	}
	for _, k := range keys {
		ttl := rdb.TTL(ctx, k).Val()
		if ttl <= b.opts.Retention || ttl > b.opts.Retention+urlPeriod {
			t.Errorf("bucket %s TTL %s, want in (retention, retention + 1 day]", k, ttl)
		}
	}
	now = now.Add(b.opts.Retention + 3*urlPeriod)
	if id, err := b.ArticleIDByURL(ctx, "https://news.example.com/world/story-fixed"); !errors.Is(err, ErrNotFound) {
		t.Errorf("past retention: %q, %v; want ErrNotFound", id, err)
	}
}

// TestURLIndexCostsLittle measures the index as `make bench` would: its fast phases publish
// 4,150 articles with their own ids (h-<phase>-<n>) in one day. The Redis bytes per article
// (MEMORY USAGE of the buckets) stay a few dozen, inside the 1 KB per delivery budget.
func TestURLIndexCostsLittle(t *testing.T) {
	ctx := context.Background()
	rdb, _ := redistest.Start(t)
	b := NewBroker(rdb, Options{})
	const n = 4150
	recs := make([]SeedRecord, n)
	for i := range recs {
		a := &article.Article{ID: fmt.Sprintf("h-fast-%06d", i), URL: fmt.Sprintf("https://news.example.com/world/2026/11/bench-fast-%d", i), Title: "t"}
		recs[i] = SeedRecord{Article: a, Channels: []channels.Name{"fast"}, Kind: channels.KindTelegram}
	}
	if err := b.SeedFinal(ctx, recs); err != nil {
		t.Fatal(err)
	}
	// Publish writes what SeedFinal writes.
	publishArticle(t, b, &article.Article{ID: "h-fast-999999", URL: "https://news.example.com/world/2026/11/bench-fast-999999", Title: "t"})
	for _, i := range []int{0, 17, n - 1} {
		if id, err := b.ArticleIDByURL(ctx, recs[i].Article.URL); err != nil || id != recs[i].Article.ID {
			t.Fatalf("%s: %q, %v", recs[i].Article.URL, id, err)
		}
	}
	keys, err := rdb.Keys(ctx, keyPrefix+"url:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var bytes int64
	for _, k := range keys {
		bytes += rdb.MemoryUsage(ctx, k, 0).Val()
		if enc := rdb.ObjectEncoding(ctx, k).Val(); enc != "listpack" && enc != "ziplist" {
			t.Errorf("bucket %s is %s, not a compact listpack", k, enc)
		}
	}
	per := float64(bytes) / float64(n+1)
	t.Logf("URL index: %d buckets, %d bytes, %.1f bytes per article", len(keys), bytes, per)
	if per > 48 || indexEntries(t, b) != n+1 {
		t.Errorf("%.1f bytes per article, %d entries; want ≤ 48 bytes and one entry each", per, indexEntries(t, b))
	}
}

// indexEntries counts the entries of every URL index bucket.
func indexEntries(t *testing.T, b *Broker) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	keys, err := b.rdb.Keys(ctx, keyPrefix+"url:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, keyPrefix+"url:") {
			continue
		}
		n += b.rdb.HLen(ctx, k).Val()
	}
	return n
}

// TestURLBucketTTLSetOncePerDay: a day's publishes give each bucket its TTL once (a second
// write in the bucket sends none, except the sampled one write in 16), and the TTL runs to the
// end of the bucket's day plus Retention whichever write sets it. (Fails with the TTL sent on
// every write: the second write's TTL is not 0.)
func TestURLBucketTTLSetOncePerDay(t *testing.T) {
	b := NewBroker(nil, Options{})
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	early, late := day.Add(time.Hour), day.Add(23*time.Hour)
	if got, want := b.urlBucketTTL("k1", early), int64((23*time.Hour+b.opts.Retention)/time.Second); got != want {
		t.Fatalf("first write's TTL %d, want %d (to the end of the day plus retention)", got, want)
	}
	zero := 0
	for range 200 {
		if b.urlBucketTTL("k1", late) == 0 {
			zero++
		}
	}
	if zero < 150 {
		t.Fatalf("%d of 200 later writes sent no TTL, want about 15 in 16", zero)
	}
	if got, want := b.urlBucketTTL("k2", late), int64((time.Hour+b.opts.Retention)/time.Second); got != want {
		t.Fatalf("another bucket's first write: TTL %d, want %d", got, want)
	}
	if got := b.urlBucketTTL("k1", day.Add(25*time.Hour)); got == 0 {
		t.Fatal("the next day's first write to a bucket of that name sent no TTL")
	}
}

// TestArticleIDByURLWithArabicPath: an Arabic slug is one page whichever way it is written —
// lower-case escapes as WordPress and many CMSs send it (%d8%b2…), upper-case ones as a browser
// or Go encodes it, or the Arabic letters an editor pastes — and is found by any of them, for
// an article with its URL's id and for one with an id of its own.
func TestArticleIDByURLWithArabicPath(t *testing.T) {
	ctx := context.Background()
	rdb, _ := redistest.Start(t)
	b := NewBroker(rdb, Options{})
	const slug = "زيلينسكي-يقول"
	lower := "https://news.example.com/news/%d8%b2%d9%8a%d9%84%d9%8a%d9%86%d8%b3%d9%83%d9%8a-%d9%8a%d9%82%d9%88%d9%84.html"
	spellings := func(path string) []string {
		return []string{
			"https://news.example.com" + path,
			"https://news.example.com" + strings.ReplaceAll(path, slug, "%D8%B2%D9%8A%D9%84%D9%8A%D9%86%D8%B3%D9%83%D9%8A-%D9%8A%D9%82%D9%88%D9%84"),
			"https://news.example.com" + strings.ReplaceAll(path, slug, "%d8%b2%d9%8a%d9%84%d9%8a%d9%86%d8%b3%d9%83%d9%8a-%d9%8a%d9%82%d9%88%d9%84") + "?utm_source=tg",
		}
	}
	// The URL's own id, published with lower-case escapes.
	plain := &article.Article{URL: lower, Title: "خبر"}
	publishArticle(t, b, plain)
	// An id of its own, published with the Arabic letters.
	own := &article.Article{ID: "cms-4711", URL: "https://news.example.com/ar/" + slug + ".html", Title: "خبر آخر"}
	publishArticle(t, b, own)
	for want, path := range map[string]string{plain.ID: "/news/" + slug + ".html", own.ID: "/ar/" + slug + ".html"} {
		for _, u := range spellings(path) {
			if id, err := b.ArticleIDByURL(ctx, u); err != nil || id != want {
				t.Errorf("ArticleIDByURL(%s) = %q, %v; want %s", u, id, err, want)
			}
		}
	}
	if _, err := b.ArticleIDByURL(ctx, "https://news.example.com/news/%d8%b2.html"); !errors.Is(err, ErrNotFound) {
		t.Errorf("another Arabic path: %v, want ErrNotFound", err)
	}
}
