package ingest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"golang.org/x/text/encoding/htmlindex"

	"herald/config"
)

// Feed polling: RSS 2.0, Atom and RDF through gofeed, with conditional GET, backoff, a Redis
// lease per feed shared by every herald process, and WebSub push (websub.go) where a feed
// advertises a hub.

const (
	// maxFeedBytes bounds one feed document.
	maxFeedBytes = 10 << 20
	// maxBackoff caps the wait after repeated failures (or the interval, if longer).
	maxBackoff = time.Hour
	userAgent  = "herald-feed-poller/1 (+https://github.com/)"
)

// Poller polls the configured feeds and follows them by WebSub. Create it with NewPoller.
type Poller struct {
	pub    *Publisher
	feeds  map[string]config.Feed
	order  []config.Feed
	client *http.Client
	log    *zap.Logger
	owner  string
	// publicURL is herald's base URL for WebSub callbacks; empty disables WebSub.
	publicURL string
	// tick is how often Run looks for due feeds.
	tick time.Duration
	now  func() time.Time
}

// PollerOptions tune a Poller; zero values take the defaults.
type PollerOptions struct {
	// Client fetches feeds and talks to hubs (default: 30s timeout).
	Client *http.Client
	Logger *zap.Logger
	// PublicURL is where hubs reach this herald (config http.public_url); empty: no WebSub.
	PublicURL string
	// Tick is how often Run checks for due feeds (default a tenth of the shortest interval,
	// between 50ms and 5s).
	Tick time.Duration
	Now  func() time.Time
}

// NewPoller builds a poller for the publisher's configured feeds.
func NewPoller(pub *Publisher, opts PollerOptions) *Poller {
	p := &Poller{pub: pub, feeds: map[string]config.Feed{}, order: pub.Config.Feeds, client: opts.Client, log: opts.Logger,
		publicURL: opts.PublicURL, tick: opts.Tick, now: opts.Now}
	if p.client == nil {
		p.client = &http.Client{Timeout: 30 * time.Second}
	}
	if p.log == nil {
		p.log = zap.NewNop()
	}
	if p.now == nil {
		p.now = time.Now
	}
	shortest := config.DefaultFeedInterval
	for _, f := range p.order {
		p.feeds[f.Name] = f
		shortest = min(shortest, time.Duration(f.Interval))
	}
	if p.tick <= 0 {
		p.tick = min(max(shortest/10, 50*time.Millisecond), 5*time.Second)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	p.owner = hex.EncodeToString(b[:])
	return p
}

// Feeds are the configured feeds, in config order.
func (p *Poller) Feeds() []config.Feed { return p.order }

// Statuses is FeedStatuses for this poller's feeds.
func (p *Poller) Statuses(ctx context.Context) ([]FeedStatus, error) {
	return FeedStatuses(ctx, p.pub.Redis, p.order)
}

// Run polls every feed when it is due, until ctx ends. Several processes may run it on one
// Redis: each feed is polled once per interval between them.
func (p *Poller) Run(ctx context.Context) error {
	if len(p.order) == 0 {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(p.tick)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		for _, f := range p.order {
			claimed, err := p.claim(ctx, f)
			if err != nil {
				if ctx.Err() == nil {
					p.log.Warn("feed: claiming a poll", zap.String("feed", f.Name), zap.Error(err))
				}
				continue
			}
			if claimed {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p.pollClaimed(ctx, f)
				}()
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// claim takes the feed's poll for this interval if it is due and nobody else has it.
func (p *Poller) claim(ctx context.Context, f config.Feed) (bool, error) {
	lease := p.client.Timeout + 30*time.Second
	if p.client.Timeout <= 0 {
		lease = 2 * time.Minute
	}
	got, err := claimPollScript.Run(ctx, p.pub.Redis, []string{feedKey(f.Name), feedLeaseKey(f.Name)},
		time.Duration(f.Interval).Milliseconds(), p.owner, lease.Milliseconds()).Int64()
	if err != nil {
		return false, fmt.Errorf("feed %s: claiming the poll: %w", f.Name, err)
	}
	return got > 0, nil
}

// PollNow polls one feed at once if no other process is polling it (a manual poll and tests);
// it does not move the schedule.
func (p *Poller) PollNow(ctx context.Context, name string) error {
	f, ok := p.feeds[name]
	if !ok {
		return fmt.Errorf("feed %q is not configured", name)
	}
	ok, err := p.pub.Redis.SetNX(ctx, feedLeaseKey(name), p.owner, 2*time.Minute).Result()
	if err != nil {
		return fmt.Errorf("feed %s: taking the lease: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("feed %s: another process is polling it", name)
	}
	return p.poll(ctx, f)
}

func (p *Poller) pollClaimed(ctx context.Context, f config.Feed) {
	if err := p.poll(ctx, f); err != nil && ctx.Err() == nil {
		p.log.Warn("feed poll failed", zap.String("feed", f.Name), zap.Error(err))
	}
}

// poll fetches the feed (conditional GET), posts its new items and records the outcome; a
// failure pushes the next poll back exponentially. The caller holds the lease; poll releases it.
func (p *Poller) poll(ctx context.Context, f config.Feed) error {
	rdb := p.pub.Redis
	defer releaseScript.Run(context.WithoutCancel(ctx), rdb, []string{feedLeaseKey(f.Name)}, p.owner)
	err := p.fetchAndIngest(ctx, f)
	if ctx.Err() != nil {
		return err
	}
	if err == nil {
		rdb.HSet(ctx, feedKey(f.Name), fLastSuccess, ms(p.now()), fFailures, 0)
		return nil
	}
	// The error and the failure count change together (MULTI): a reader never sees a failure
	// counted without its error.
	var incr *redis.IntCmd
	if _, herr := rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.HSet(ctx, feedKey(f.Name), fLastError, err.Error(), fLastErrorAt, ms(p.now()))
		incr = tx.HIncrBy(ctx, feedKey(f.Name), fFailures, 1)
		return nil
	}); herr != nil {
		return errors.Join(err, herr)
	}
	failures := incr.Val()
	wait := backoff(time.Duration(f.Interval), int(failures))
	deferScript.Run(ctx, rdb, []string{feedKey(f.Name)}, wait.Milliseconds())
	return fmt.Errorf("%w (failure %d, next poll in %s)", err, failures, wait)
}

// backoff is the wait before the next poll after n consecutive failures: the interval doubled
// per failure, capped at an hour (or the interval, when that is longer).
func backoff(interval time.Duration, n int) time.Duration {
	limit := max(maxBackoff, interval)
	d := interval
	for i := 0; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// fetchAndIngest does one conditional GET and processes a changed document.
func (p *Poller) fetchAndIngest(ctx context.Context, f config.Feed) error {
	rdb := p.pub.Redis
	state, err := rdb.HGetAll(ctx, feedKey(f.Name)).Result()
	if err != nil {
		return fmt.Errorf("feed %s: reading state: %w", f.Name, err)
	}
	if state[fURL] != f.URL {
		// A new feed, or its URL changed: forget validators, subscription and first-run state
		// (the items seen are kept, so a moved feed does not repost its old items).
		if err := rdb.HDel(ctx, feedKey(f.Name), fETag, fLastModified, fInitialized, fHub, fTopic, fWSState, fWSExpires, fWSError).Err(); err != nil {
			return fmt.Errorf("feed %s: resetting state: %w", f.Name, err)
		}
		rdb.HSet(ctx, feedKey(f.Name), fURL, f.URL)
		delete(state, fETag)
		delete(state, fLastModified)
		delete(state, fInitialized)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.URL, nil)
	if err != nil {
		return fmt.Errorf("feed %s: %w", f.Name, err)
	}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1")
	// Conditional GET: https://www.rfc-editor.org/rfc/rfc9110#name-conditional-requests
	if v := state[fETag]; v != "" {
		req.Header.Set("If-None-Match", v)
	}
	if v := state[fLastModified]; v != "" {
		req.Header.Set("If-Modified-Since", v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = redactURL(ue.URL)
		}
		return fmt.Errorf("feed %s: fetching: %w", f.Name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		// Unchanged, but a subscription still needs renewing before its lease ends.
		if p.publicURL != "" && state[fHub] != "" {
			p.ensureSubscription(ctx, f, hubLinks{hub: state[fHub], self: state[fTopic]})
		}
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("feed %s: fetching: HTTP %d", f.Name, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxFeedBytes+1))
	if err != nil {
		return fmt.Errorf("feed %s: reading: %w", f.Name, err)
	}
	if len(body) > maxFeedBytes {
		return fmt.Errorf("feed %s: the document is larger than %d MiB", f.Name, maxFeedBytes>>20)
	}
	if body, err = toUTF8(body, resp.Header.Get("Content-Type")); err != nil {
		return fmt.Errorf("feed %s: %w", f.Name, err)
	}
	parsed, err := parseFeed(body)
	if err != nil {
		return fmt.Errorf("feed %s: %w", f.Name, err)
	}
	resolveItemLinks(parsed, resp.Request.URL)
	if err := p.ingest(ctx, f, parsed); err != nil {
		return err
	}
	// Validators are saved only once the items are processed, so a failure refetches them.
	if err := rdb.HSet(ctx, feedKey(f.Name), fETag, resp.Header.Get("ETag"), fLastModified, resp.Header.Get("Last-Modified")).Err(); err != nil {
		return fmt.Errorf("feed %s: saving validators: %w", f.Name, err)
	}
	if p.publicURL != "" {
		p.ensureSubscription(ctx, f, discoverHub(body, resp.Header, f.URL))
	}
	return nil
}

// toUTF8 makes the document UTF-8 for gofeed, which reads only the XML declaration.
//
// A document whose charset only its Content-Type names (text/xml; charset=windows-1256 with no
// encoding in the XML declaration, as older Arabic CMSs serve feeds) is decoded: RFC 7303 makes
// that parameter authoritative, and gofeed refused such a feed on every poll as invalid UTF-8.
//
// A document that is valid UTF-8 is UTF-8, whatever a server's default header says, and whatever
// its own declaration says: a site moved to UTF-8 whose feed template still declares
// encoding="windows-1256" had every Arabic title read byte by byte as windows-1256 and posted as
// mojibake ("ط¹ظ†ظˆط§ظ†" for "عنوان"). Arabic text in a legacy single-byte charset is never valid
// UTF-8, so its declaration is replaced by UTF-8's. (A declared UTF-16 is left to the parser.)
// Specs: https://www.rfc-editor.org/rfc/rfc7303#section-3.2
func toUTF8(body []byte, contentType string) ([]byte, error) {
	declared, at, end := declEncoding(body)
	if utf8.Valid(body) {
		if declared == "" || !hasNonASCII(body) {
			return body, nil
		}
		if enc, err := htmlindex.Get(declared); err == nil {
			if name, _ := htmlindex.Name(enc); strings.HasPrefix(name, "utf-") {
				return body, nil
			}
		}
		return slices.Concat(body[:at], []byte("UTF-8"), body[end:]), nil
	}
	_, params, _ := mime.ParseMediaType(contentType)
	label := strings.TrimSpace(params["charset"])
	if label == "" || declared != "" {
		return body, nil
	}
	enc, err := htmlindex.Get(label)
	if err != nil {
		return nil, fmt.Errorf("reading the feed: unknown charset %q in its Content-Type", label)
	}
	out, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("reading the feed as %s: %w", label, err)
	}
	return out, nil
}

// xmlEncodingAttr is the encoding pseudo-attribute of an XML declaration.
var xmlEncodingAttr = regexp.MustCompile(`\sencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']`)

// declEncoding is the encoding the document's XML declaration names ("" when it names none)
// and where its value is in body.
func declEncoding(body []byte) (label string, at, end int) {
	start := len(body) - len(bytes.TrimLeft(bytes.TrimPrefix(body, []byte("\ufeff")), " \t\r\n"))
	if !bytes.HasPrefix(body[start:], []byte("<?xml")) {
		return "", 0, 0
	}
	decl, _, ok := bytes.Cut(body[start:], []byte("?>"))
	if !ok {
		return "", 0, 0
	}
	m := xmlEncodingAttr.FindSubmatchIndex(decl)
	if m == nil {
		return "", 0, 0
	}
	return string(decl[m[2]:m[3]]), start + m[2], start + m[3]
}

func hasNonASCII(b []byte) bool {
	return bytes.ContainsFunc(b, func(r rune) bool { return r >= utf8.RuneSelf })
}

// parseFeed reads RSS 0.9x/2.0, RSS 1.0 (RDF) or Atom. The content image scan is off: an item's
// image is its enclosure or media:content, never a guess from the body's first <img>.
func parseFeed(body []byte) (*gofeed.Feed, error) {
	fp := gofeed.NewParser()
	fp.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	parsed, err := fp.Parse(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("parsing the feed: %w", err)
	}
	return parsed, nil
}
