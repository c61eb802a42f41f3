package queue

// How an article is stored: herald:art:{<id>} is one string (one key per article; a set of
// channel names beside it cost about 190 bytes, and a hash holding a value over 64 bytes is not
// a compact listpack):
//
//	<channel>,<channel>,…  NUL  <article>
//
// the names of the channels it was routed to, then the article: its JSON, or articleDeflate
// followed by the JSON compressed with DEFLATE (compress/flate, preset dictionary articleDict)
// when that is smaller. Every reader goes through readStoredArticle. A plain JSON value (an
// article stored by a herald from before this layout) still reads; its channels are then the
// old set beside it (herald:art:{<id>}:ch).

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"herald/article"
)

// articleDeflate marks a compressed article; JSON always starts with '{'.
const articleDeflate = 0x01

// articleDict primes the compressor with what most articles share: the JSON field names in the
// order encoding/json writes them, and common Arabic words. Changing it makes stored articles
// unreadable: a new dictionary needs a new marker byte.
var articleDict = []byte(`{"id":"","url":"https://www.","title":"","summary":"","body":"","image_url":"https://",` +
	`"tags":[""],"category":"","language":"ar","published_at":"2026-","priority":,"channels":[""]}` +
	` في من على إلى أن التي الذي عن مع هذا`)

// Compressors and decompressors are pooled: a DEFLATE writer at BestCompression allocates about
// a megabyte of state and a reader about 40 KB, which per publish and per claim would cost more
// CPU (and worker memory) than the compression itself.
var (
	articleWriters = sync.Pool{New: func() any {
		w, _ := flate.NewWriterDict(io.Discard, flate.BestCompression, articleDict)
		return w
	}}
	articleReaders = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), articleDict) }}
	articleBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// encodeArticle is the stored form of an article's JSON: compressed when that is smaller.
func encodeArticle(data []byte) []byte {
	var buf bytes.Buffer
	buf.WriteByte(articleDeflate)
	w := articleWriters.Get().(*flate.Writer)
	defer articleWriters.Put(w)
	w.Reset(&buf) // keeps the level and the dictionary
	if _, err := w.Write(data); err != nil || w.Close() != nil || buf.Len() >= len(data) {
		return data
	}
	return buf.Bytes()
}

// splitStoredArticle splits an article's stored value into its channel names and the article's
// stored form; names is nil for a value without them (written before this layout).
func splitStoredArticle(v []byte) (names []string, art []byte) {
	if len(v) == 0 || v[0] == '{' || v[0] == articleDeflate {
		return nil, v
	}
	head, art, ok := bytes.Cut(v, []byte{0})
	if !ok {
		return nil, v
	}
	for n := range strings.SplitSeq(string(head), ",") {
		if n != "" {
			names = append(names, n)
		}
	}
	return names, art
}

// storedArticleData is splitStoredArticle's article part, without building the names.
func storedArticleData(v []byte) []byte {
	if len(v) == 0 || v[0] == '{' || v[0] == articleDeflate {
		return v
	}
	if i := bytes.IndexByte(v, 0); i >= 0 {
		return v[i+1:]
	}
	return v
}

// decodeStoredArticle reads an article's stored value, with or without its channel names,
// compressed or plain JSON: the one decoder of every reader (Article, titles in the log, the
// worker's claim).
func decodeStoredArticle(id string, v []byte) (*article.Article, error) {
	data := storedArticleData(v)
	if len(data) > 0 && data[0] == articleDeflate {
		r := articleReaders.Get().(io.ReadCloser)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(data[1:]), articleDict); err != nil {
			return nil, fmt.Errorf("queue: decompressing stored article %s: %w", id, err)
		}
		// The JSON is read into a pooled buffer: Unmarshal copies what it keeps.
		buf := articleBuffers.Get().(*bytes.Buffer)
		defer func() {
			if buf.Cap() <= 64<<10 { // a rare long article's buffer is not kept
				articleBuffers.Put(buf)
			}
		}()
		buf.Reset()
		_, err := buf.ReadFrom(r)
		articleReaders.Put(r)
		if err != nil {
			return nil, fmt.Errorf("queue: decompressing stored article %s: %w", id, err)
		}
		data = buf.Bytes()
	}
	var a article.Article
	if err := json.Unmarshal(data, &a); err != nil {
		return nil, fmt.Errorf("queue: decoding stored article %s: %w", id, err)
	}
	return &a, nil
}

// storedArticleValue is the whole stored value of an article routed to names (SeedFinal; Publish
// builds it in recordScript, merging the names already stored).
func storedArticleValue(data []byte, names []string) []byte {
	return append(append([]byte(strings.Join(names, ",")), 0), encodeArticle(data)...)
}

// storedArticle reads an article's value: the channels it was routed to, sorted, and the
// value itself; ErrNotFound when it is not stored.
func (b *Broker) storedArticle(ctx context.Context, id string) ([]string, []byte, error) {
	v, err := b.rdb.Get(ctx, articleKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("queue: article %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("queue: reading article %s: %w", id, err)
	}
	names, _ := splitStoredArticle(v)
	if names == nil {
		// Stored before this layout: the channels are a set beside it.
		if names, err = b.rdb.SMembers(ctx, articleKey(id)+":ch").Result(); err != nil {
			return nil, nil, fmt.Errorf("queue: reading article %s: %w", id, err)
		}
	}
	sort.Strings(names)
	return names, v, nil
}

// articleChannels lists the channels an article was routed to, sorted; ErrNotFound when the
// article is not stored or was routed nowhere.
func (b *Broker) articleChannels(ctx context.Context, id string) ([]string, error) {
	names, _, err := b.storedArticle(ctx, id)
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("queue: article %s: %w", id, ErrNotFound)
	}
	return names, err
}

// HasArticle reports whether an article with this id is stored.
func (b *Broker) HasArticle(ctx context.Context, id string) (bool, error) {
	n, err := b.rdb.Exists(ctx, articleKey(id)).Result()
	if err != nil {
		return false, fmt.Errorf("queue: reading article %s: %w", id, err)
	}
	return n == 1, nil
}

// Article returns the stored article.
func (b *Broker) Article(ctx context.Context, id string) (*article.Article, error) {
	_, v, err := b.storedArticle(ctx, id)
	if err != nil {
		return nil, err
	}
	return decodeStoredArticle(id, v)
}
