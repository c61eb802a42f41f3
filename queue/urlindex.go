package queue

// The URL index finds an article by its URL when it was published with an id of its own (a
// CMS's post id): an article without one has its canonical URL's id (article.IDFromURL), found
// without any index.
//
// It costs about 30 bytes per article, not a key each (a string key with a TTL costs about
// 150): entries are fields of small hashes, which Redis keeps as compact listpacks while they
// hold at most 128 entries (hash-max-listpack-entries) of at most 64 bytes each:
//
//	herald:url:<day>:<shard>   field: 8 bytes of the SHA-256 of the canonical URL → the article id
//
// <day> is the day of the publish (days since the Unix epoch, UTC), <shard> one of urlShards
// picked by the same hash, so a day of up to 64×128 = 8,192 articles with their own id stays
// compact. Each bucket expires Retention after the end of its day, so an entry outlives its
// article (whose TTL is Retention from its last publish) by at most a day; a
// lookup checks that the article still exists. Publish writes the entry in recordScript, with
// the article, so neither is ever written without the other; Correct writes the corrected
// URL's entry with the corrected article (the old URL keeps finding it).

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"herald/article"
)

const (
	// urlShards buckets a day's entries; a power of two, at most 256 (one byte of the hash).
	urlShards = 64
	// urlPeriod is the span of one bucket.
	urlPeriod = 24 * time.Hour
)

// urlIndexKey is the bucket of one day and shard.
func urlIndexKey(day int64, shard int) string {
	return keyPrefix + "url:" + itoa(int(day)) + ":" + itoa(shard)
}

// urlHash is the shard and the field of a canonical URL.
func urlHash(canonical string) (shard int, field string) {
	sum := sha256.Sum256([]byte(canonical))
	return int(sum[0]) % urlShards, string(sum[1:9])
}

func urlDay(t time.Time) int64 { return t.UnixMilli() / urlPeriod.Milliseconds() }

// urlBucketLife is the TTL, in seconds, of the bucket written at now: until the end of its day
// plus Retention, so each entry outlives its write by Retention and at most a day more.
func (b *Broker) urlBucketLife(now time.Time) int64 {
	end := time.UnixMilli((urlDay(now) + 1) * urlPeriod.Milliseconds())
	return int64((end.Sub(now) + b.opts.Retention + time.Second - 1) / time.Second)
}

// urlBucketTTL is the TTL, in seconds, a publish gives the bucket it writes to (urlBucketLife).
// It ends at the same time for every write of the day, so only one write needs to set it:
// 0 (set nothing) once this process has set it today, except on one write in 16 (a bucket that
// lost its TTL — restored from a backup without it — gets it back). A publish so saves a Redis
// command; a day costs at most one EXPIRE per bucket and process.
func (b *Broker) urlBucketTTL(key string, now time.Time) int64 {
	day := urlDay(now)
	c := b.urlTTLs
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.day != day {
		c.day, c.set = day, map[string]bool{}
	}
	if c.set[key] && rand.IntN(16) != 0 {
		return 0
	}
	c.set[key] = true
	return b.urlBucketLife(now)
}

// urlTTLCache remembers the buckets of the day this process has given their TTL.
type urlTTLCache struct {
	mu  sync.Mutex
	day int64
	set map[string]bool
}

// urlIndex is where article a's URL is indexed: the bucket key and the field, or field "" when
// the article's id is its URL's own id (the key is then the article's, only so that the
// scripts' KEYS stay fixed).
func (b *Broker) urlIndex(a *article.Article) (key, field string) {
	canon, err := article.CanonicalURL(a.URL)
	if err != nil || article.IDFromURL(canon) == a.ID {
		return articleKey(a.ID), ""
	}
	shard, field := urlHash(canon)
	return urlIndexKey(urlDay(b.opts.Now()), shard), field
}

// IndexURL records rawURL as another address of the stored article id, in the same index
// Publish writes its URL to, so ArticleIDByURL(rawURL) finds it: a WordPress post's GUID
// (https://news.example.com/?p=4711), which stays when an editor changes the post's slug and
// with it the link the article was published under. Nothing is written when rawURL's own id is
// the article's. A URL that does not parse is ErrInvalidURL.
func (b *Broker) IndexURL(ctx context.Context, rawURL, id string) error {
	canon, err := article.CanonicalURL(rawURL)
	if err != nil {
		return fmt.Errorf("queue: indexing %q: %w (%w)", rawURL, ErrInvalidURL, err)
	}
	if article.IDFromURL(canon) == id {
		return nil
	}
	now := b.opts.Now()
	shard, field := urlHash(canon)
	key := urlIndexKey(urlDay(now), shard)
	pipe := b.rdb.TxPipeline()
	pipe.HSet(ctx, key, field, id)
	pipe.Expire(ctx, key, time.Duration(b.urlBucketLife(now))*time.Second)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("queue: indexing %s for article %s: %w", canon, id, err)
	}
	return nil
}

// ErrInvalidURL: a URL to look an article up by does not parse.
var ErrInvalidURL = errors.New("not a valid URL")

// ArticleIDByURL finds the article published with rawURL, written any way its canonical form
// forgives (host case, default port, fragment, tracking parameters, query order, trailing
// slash, the case of a path's percent-escapes or Arabic letters in their place): the newest
// article indexed under that URL with an id of its own that is still stored, else the article
// whose id is the URL's own (article.IDFromURL). ErrNotFound when neither is stored;
// ErrInvalidURL when rawURL does not parse.
func (b *Broker) ArticleIDByURL(ctx context.Context, rawURL string) (string, error) {
	canon, err := article.CanonicalURL(rawURL)
	if err != nil {
		return "", fmt.Errorf("queue: finding the article of %q: %w (%w)", rawURL, ErrInvalidURL, err)
	}
	spellings := pathSpellings(canon)
	today := urlDay(b.opts.Now())
	days := int64(b.opts.Retention/urlPeriod) + 2 // the buckets that may still exist
	pipe := b.rdb.Pipeline()
	var gets []*redis.StringCmd
	for _, sp := range spellings {
		shard, field := urlHash(sp)
		for i := range days {
			gets = append(gets, pipe.HGet(ctx, urlIndexKey(today-i, shard), field))
		}
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("queue: reading the URL index: %w", err)
	}
	var ids []string
	for _, g := range gets {
		if id, err := g.Result(); err == nil && id != "" {
			ids = append(ids, id)
		}
	}
	for _, sp := range spellings {
		ids = append(ids, article.IDFromURL(sp))
	}
	for _, id := range ids {
		n, err := b.rdb.Exists(ctx, articleKey(id)).Result()
		if err != nil {
			return "", fmt.Errorf("queue: reading article %s: %w", id, err)
		}
		if n == 1 {
			return id, nil
		}
	}
	return "", fmt.Errorf("queue: no article with URL %s: %w", canon, ErrNotFound)
}

// pathSpellings are the canonical URLs a page with percent-escapes in its path may have been
// published under. CanonicalURL keeps valid escapes as written, so an Arabic slug sent by a
// CMS in lower case (WordPress writes %d8%b2…) and the same slug pasted as Arabic letters or
// with upper-case escapes (%D8%B2…, what browsers and Go write) have different canonical
// forms and ids; a lookup tries each. canon comes first.
func pathSpellings(canon string) []string {
	out := []string{canon}
	u, err := url.Parse(canon)
	if err != nil || !strings.Contains(u.EscapedPath(), "%") {
		return out
	}
	upper := *u
	upper.RawPath = "" // Go's own escaping: upper case
	lower := upper
	lower.RawPath = lowerEscapes(upper.EscapedPath())
	for _, sp := range []string{upper.String(), lower.String()} {
		if !slices.Contains(out, sp) {
			out = append(out, sp)
		}
	}
	return out
}

// lowerEscapes writes the hex digits of every %XX escape in s in lower case.
func lowerEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = toLowerHex(b[i+1]), toLowerHex(b[i+2])
			i += 2
		}
	}
	return string(b)
}

func toLowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + 'a' - 'A'
	}
	return c
}

// ArticleID is the id an admin's reference names: a URL (anything with "://") is looked up
// with ArticleIDByURL, anything else is the id itself.
func (b *Broker) ArticleID(ctx context.Context, ref string) (string, error) {
	if !isURLRef(ref) {
		return ref, nil
	}
	return b.ArticleIDByURL(ctx, ref)
}

func isURLRef(ref string) bool { return strings.Contains(ref, "://") }
