package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/text/encoding/charmap"

	"herald/article"
	"herald/config"
	"herald/internal/redistest"
	"herald/queue"
)

// feedServer serves a fixture with {{ITEMS}} replaced by the items added so far, an ETag and
// Last-Modified, and answers 304 to a matching conditional GET, like a CMS behind a cache.
type feedServer struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	fixture  string
	items    []string
	vars     map[string]string
	status   int // forced status (0: normal)
	requests []feedRequest
}

type feedRequest struct {
	at     time.Time
	status int
}

func newFeedServer(t *testing.T, fixture string) *feedServer {
	t.Helper()
	b, err := os.ReadFile("testdata/" + fixture)
	if err != nil {
		t.Fatal(err)
	}
	fs := &feedServer{t: t, fixture: string(b), vars: map[string]string{}}
	fs.srv = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.srv.Close)
	return fs
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	code := fs.status
	defer func() { fs.requests = append(fs.requests, feedRequest{time.Now(), code}) }()
	if code != 0 {
		http.Error(w, "down", code)
		return
	}
	body := strings.Replace(fs.fixture, "{{ITEMS}}", strings.Join(fs.items, "\n"), 1)
	for k, v := range fs.vars {
		body = strings.ReplaceAll(body, k, v)
	}
	sum := sha256.Sum256([]byte(body))
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	w.Header().Set("Last-Modified", "Tue, 24 Nov 2026 12:00:00 GMT")
	if r.Header.Get("If-None-Match") == etag {
		code = http.StatusNotModified
		w.WriteHeader(code)
		return
	}
	code = http.StatusOK
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

func (fs *feedServer) addItem(xml string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.items = append([]string{xml}, fs.items...)
}

func (fs *feedServer) setItems(xml ...string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.items = xml
}

func (fs *feedServer) setStatus(code int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.status = code
}

func (fs *feedServer) setFixture(name string) {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		fs.t.Fatal(err)
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.fixture = string(b)
}

func (fs *feedServer) reqs() []feedRequest {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return slices.Clone(fs.requests)
}

type feedEnv struct {
	t      *testing.T
	rdb    *redis.Client
	cfg    *config.Config
	broker *queue.Broker
}

// newFeedEnv parses a config whose feed URLs are given as %s arguments.
func newFeedEnv(t *testing.T, doc string, args ...any) *feedEnv {
	t.Helper()
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte(fmt.Sprintf(doc, args...)))
	if err != nil {
		t.Fatal(err)
	}
	return &feedEnv{t: t, rdb: rdb, cfg: cfg, broker: queue.NewBroker(rdb, queue.Options{})}
}

// feedClock is the test feeds' time unless a test sets its own: after the fixtures' items,
// before those the tests add (an item dated well before a feed's first poll is its backlog).
var feedClock = time.Date(2026, 11, 24, 12, 30, 0, 0, time.UTC)

func (e *feedEnv) poller(opts PollerOptions) *Poller {
	if opts.Now == nil {
		opts.Now = func() time.Time { return feedClock }
	}
	return NewPoller(&Publisher{Config: e.cfg, Broker: e.broker, Redis: e.rdb}, opts)
}

// articles are the queued articles, by title.
func (e *feedEnv) articles() map[string]*article.Article {
	e.t.Helper()
	ctx := context.Background()
	keys, err := e.rdb.Keys(ctx, "herald:art:{*}").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]*article.Article{}
	for _, k := range keys {
		if strings.HasSuffix(k, ":ch") {
			continue
		}
		id := strings.TrimSuffix(strings.TrimPrefix(k, "herald:art:{"), "}")
		a, err := e.broker.Article(ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		out[a.Title] = a
	}
	return out
}

func (e *feedEnv) channels(id string) []string {
	e.t.Helper()
	ds, err := e.broker.Deliveries(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, string(d.Channel))
	}
	slices.Sort(out)
	return out
}

func (e *feedEnv) status(name string) FeedStatus {
	e.t.Helper()
	sts, err := FeedStatuses(context.Background(), e.rdb, e.cfg.Feeds)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, s := range sts {
		if s.Name == name {
			return s
		}
	}
	e.t.Fatalf("no status for feed %s", name)
	return FeedStatus{}
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

const rssNewItem = `<item>
    <title>New item: talks collapse</title>
    <link>https://news.example.com/world/talks-collapse</link>
    <guid isPermaLink="false">news-1004</guid>
    <pubDate>Tue, 24 Nov 2026 13:00:00 GMT</pubDate>
    <description>Talks collapsed late on Tuesday.</description>
    <content:encoded><![CDATA[<p>Talks <i>collapsed</i> late on Tuesday.</p>]]></content:encoded>
    <category>World</category>
    <enclosure url="https://news.example.com/img/talks.jpg" length="1" type="image/jpeg"/>
  </item>`

// RSS 2.0: the first poll posts nothing, a new item posts once, a 304 is honoured, and neither a
// GUID change nor a tracking parameter reposts.
func TestFeedRSSFirstPollNewItemOnce(t *testing.T) {
	fs := newFeedServer(t, "rss2.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: news, url: %q, interval: 1s}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{})
	ctx := context.Background()
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.articles()); n != 0 {
		t.Fatalf("first poll queued %d articles, want none (first_run: skip)", n)
	}
	if st := e.status("news"); st.ItemsSeen != 3 || st.LastSuccess == nil || st.LastError != "" {
		t.Fatalf("status after the first poll %+v", st)
	}

	// Unchanged: the conditional GET gets a 304 and nothing happens.
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if r := fs.reqs(); r[len(r)-1].status != http.StatusNotModified {
		t.Fatalf("second poll answered %d, want 304 (If-None-Match sent)", r[len(r)-1].status)
	}

	fs.addItem(rssNewItem)
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	a := arts["New item: talks collapse"]
	if len(arts) != 1 || a == nil {
		t.Fatalf("after a new item: %v", arts)
	}
	if a.URL != "https://news.example.com/world/talks-collapse" || a.Body != "<p>Talks <i>collapsed</i> late on Tuesday.</p>" ||
		a.Summary != "Talks collapsed late on Tuesday." || a.ImageURL != "https://news.example.com/img/talks.jpg" ||
		a.Language != "en" || a.Category != "World" || !slices.Equal(a.Tags, []string{"World"}) ||
		a.PublishedAt == nil || !a.PublishedAt.Equal(time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("mapped article %+v", a)
	}
	if ch := e.channels(a.ID); !slices.Equal(ch, []string{"tg"}) {
		t.Fatalf("deliveries %v", ch)
	}

	// The CMS changes the GUID; then adds a tracking parameter to the link with yet another GUID.
	fs.setItems(strings.Replace(rssNewItem, "news-1004", "news-1004-v2", 1))
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	fs.setItems(strings.NewReplacer("news-1004", "news-1004-v3", "talks-collapse", "talks-collapse?utm_source=feed&amp;utm_medium=rss").Replace(rssNewItem))
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	// The same GUID under a new link (a slug edit) is the same item too.
	fs.setItems(strings.Replace(rssNewItem, "talks-collapse", "talks-collapse-updated", 1))
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	if n := len(e.articles()); n != 1 {
		t.Fatalf("%d articles after GUID and URL changes, want 1", n)
	}
	if st := e.status("news"); st.ItemsSeen != 4 {
		t.Fatalf("items seen %d, want 4", st.ItemsSeen)
	}
}

// A WordPress feed with Arabic items, first_run newest:2: the two newest post, routed by an
// Arabic keyword; the older one does not.
func TestFeedWordPressArabicNewest(t *testing.T) {
	fs := newFeedServer(t, "wordpress-ar.xml")
	e := newFeedEnv(t, `
channels: [{name: tg-main, kind: telegram}, {name: tg-gaza, kind: telegram}]
routes:
  - {channels: [tg-main], sources: [ar-site]}
  - {channels: [tg-gaza], keywords: [غزة]}
feeds: [{name: ar-site, url: %q, first_run: "newest:2"}]
`, fs.srv.URL)
	if err := e.poller(PollerOptions{}).PollNow(context.Background(), "ar-site"); err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	z := arts["زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي"]
	g := arts["قصف على غَزَّة والاحتلال يواصل عملياته"]
	if len(arts) != 2 || z == nil || g == nil {
		t.Fatalf("articles %v, want the two newest", arts)
	}
	if z.Language != "ar" || z.Category != "الدفاع و الامن" || !slices.Equal(z.Tags, []string{"الدفاع و الامن", "أوكرانيا"}) ||
		!slices.Equal(z.Categories, []string{"الدفاع و الامن", "أوكرانيا"}) ||
		z.Summary != "قال الرئيس الأوكراني إن كوريا الشمالية أرسلت قوات" || !strings.Contains(z.Body, "فولوديمير زيلينسكي") ||
		z.ImageURL != "" || z.URL != "https://ar.example.com/2026/11/25/%d8%b2%d9%8a%d9%84%d9%8a%d9%86%d8%b3%d9%83%d9%8a/" {
		t.Fatalf("mapped %+v (the tracking pixel in the body is not the image)", z)
	}
	if ch := e.channels(g.ID); !slices.Equal(ch, []string{"tg-gaza", "tg-main"}) {
		t.Fatalf("gaza article channels %v", ch)
	}
	if ch := e.channels(z.ID); !slices.Equal(ch, []string{"tg-main"}) {
		t.Fatalf("other article channels %v", ch)
	}
}

// Atom (image from rel="enclosure", html title decoded) and RSS 1.0 (RDF, dc:language,
// dc:subject) map to articles.
func TestFeedAtomAndRDF(t *testing.T) {
	atom := newFeedServer(t, "atom.xml")
	atom.vars["{{HUB}}"] = ""
	atom.vars["{{SELF}}"] = atom.srv.URL
	rdf := newFeedServer(t, "rdf.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds:
  - {name: atom, url: %q, first_run: "newest:5"}
  - {name: rdf, url: %q, first_run: "newest:5"}
`, atom.srv.URL, rdf.srv.URL)
	p := e.poller(PollerOptions{})
	for _, name := range []string{"atom", "rdf"} {
		if err := p.PollNow(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	}
	arts := e.articles()
	el, pr, fr := arts["Elections & results"], arts["Science prize awarded"], arts["Première nouvelle"]
	if len(arts) != 3 || el == nil || pr == nil || fr == nil {
		t.Fatalf("articles %v", arts)
	}
	if el.ImageURL != "https://atom.example.com/img/elections.jpg" || el.URL != "https://atom.example.com/2026/11/elections" ||
		el.Body != "<p>Counting continues in every district.</p>" || el.Category != "Politics" {
		t.Fatalf("atom entry %+v", el)
	}
	if pr.URL != "https://atom.example.com/2026/11/prize" || pr.Body != "A physics prize." {
		t.Fatalf("atom entry without content %+v", pr)
	}
	if fr.URL != "https://rdf.example.com/a/1" || fr.Language != "fr" || fr.Category != "Culture" {
		t.Fatalf("rdf item %+v", fr)
	}
}

// A broken feed records the error and backs off (interval × 2 per failure), then recovers.
func TestFeedFailureBacksOff(t *testing.T) {
	fs := newFeedServer(t, "broken.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: flaky, url: %q, interval: 1s}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{Tick: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = p.Run(ctx) }()
	defer func() { cancel(); <-done }()

	waitFor(t, 5*time.Second, "a first failed poll", func() bool { return e.status("flaky").Failures >= 1 })
	st := e.status("flaky")
	if !strings.Contains(st.LastError, "parsing the feed") || st.LastErrorAt == nil || st.LastSuccess != nil {
		t.Fatalf("status after a broken document %+v", st)
	}
	fs.setFixture("rss2.xml") // only takes effect on the next poll
	fs.setStatus(http.StatusInternalServerError)
	waitFor(t, 10*time.Second, "a second failed poll", func() bool { return len(fs.reqs()) >= 2 })
	waitFor(t, 10*time.Second, "a third failed poll", func() bool { return len(fs.reqs()) >= 3 })
	r := fs.reqs()
	if gap := r[1].at.Sub(r[0].at); gap < 1900*time.Millisecond {
		t.Fatalf("second poll %s after the first failure, want ≥ 2s (interval doubled)", gap)
	}
	if gap := r[2].at.Sub(r[1].at); gap < 3900*time.Millisecond {
		t.Fatalf("third poll %s after the second failure, want ≥ 4s", gap)
	}
	// The fake counts a request when it arrives; the poller records the failure after the
	// answer, so wait for the record rather than read it at once.
	waitFor(t, 5*time.Second, "the third failure recorded", func() bool { return e.status("flaky").Failures >= 3 })
	if st := e.status("flaky"); st.Failures != 3 || !strings.Contains(st.LastError, "HTTP 500") {
		t.Fatalf("status %+v", st)
	}
	fs.setStatus(0)
	waitFor(t, 15*time.Second, "recovery", func() bool { st := e.status("flaky"); return st.Failures == 0 && st.LastSuccess != nil })
}

// Two herald processes on one Redis poll a feed once per interval between them.
func TestFeedTwoProcessesPollOnceBetweenThem(t *testing.T) {
	fs := newFeedServer(t, "rss2.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: shared, url: %q, interval: 1s}]
`, fs.srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		p := e.poller(PollerOptions{Tick: 10 * time.Millisecond})
		wg.Add(1)
		go func() { defer wg.Done(); _ = p.Run(ctx) }()
	}
	waitFor(t, 10*time.Second, "four polls", func() bool { return len(fs.reqs()) >= 4 })
	cancel()
	wg.Wait()
	r := fs.reqs()
	for i := 1; i < len(r); i++ {
		if gap := r[i].at.Sub(r[i-1].at); gap < 900*time.Millisecond {
			t.Fatalf("polls %d and %d only %s apart: two processes polled in one interval (%d polls)", i-1, i, gap, len(r))
		}
	}
}

// A password in a feed URL stays out of the status and the recorded error.
func TestFeedURLPasswordRedacted(t *testing.T) {
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: private, url: "http://reader:s3cr3t-pw@127.0.0.1:1/feed"}]
`)
	err := e.poller(PollerOptions{}).PollNow(context.Background(), "private")
	st := e.status("private")
	if err == nil || st.Failures != 1 || st.LastError == "" {
		t.Fatalf("poll of a closed port: %v, status %+v", err, st)
	}
	if s := fmt.Sprint(err, st); strings.Contains(s, "s3cr3t-pw") {
		t.Fatalf("the feed password shows: %s", s)
	}
}

// Relative item links and images (which RSS does not allow but CMSs send) are resolved against
// the feed's site link, else against the URL the feed was finally fetched from (after a
// redirect), instead of failing validation: such an item was never posted, and one with only a
// relative enclosure lost its absolute link too.
func TestFeedRelativeLinksResolved(t *testing.T) {
	const site = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>https://news.example.com/ar/</link>
<item><title>Relative link</title><link>/world/a-1</link><guid>rel-1</guid>
  <enclosure url="../img/a.jpg" type="image/jpeg" length="1"/></item>
<item><title>Absolute link, relative image</title><link>https://news.example.com/world/a-2</link><guid>rel-2</guid>
  <enclosure url="/img/b.jpg" type="image/jpeg" length="1"/></item>
</channel></rss>`
	const bare = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Bare</title>
<item><title>Relative to the feed</title><link>posts/3</link><guid>rel-3</guid></item>
</channel></rss>`
	mux := http.NewServeMux()
	mux.HandleFunc("/site.xml", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, site) })
	mux.HandleFunc("/old-feed", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/feeds/bare/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/feeds/bare/", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, bare) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds:
  - {name: site, url: %q, first_run: "newest:5"}
  - {name: bare, url: %q, first_run: "newest:5"}
`, srv.URL+"/site.xml", srv.URL+"/old-feed")
	p := e.poller(PollerOptions{})
	for _, name := range []string{"site", "bare"} {
		if err := p.PollNow(context.Background(), name); err != nil {
			t.Fatal(err)
		}
	}
	arts := e.articles()
	a1, a2, a3 := arts["Relative link"], arts["Absolute link, relative image"], arts["Relative to the feed"]
	if len(arts) != 3 || a1 == nil || a2 == nil || a3 == nil {
		t.Fatalf("articles %v, want all three items posted", arts)
	}
	if a1.URL != "https://news.example.com/world/a-1" || a1.ImageURL != "https://news.example.com/img/a.jpg" {
		t.Fatalf("relative item %+v", a1)
	}
	if a2.URL != "https://news.example.com/world/a-2" || a2.ImageURL != "https://news.example.com/img/b.jpg" {
		t.Fatalf("relative image %+v", a2)
	}
	if a3.URL != srv.URL+"/feeds/bare/posts/3" {
		t.Fatalf("item of a feed without a site link %+v, want it resolved against the redirected feed URL", a3)
	}
}

// An Arabic feed in windows-1256 whose charset only the Content-Type names (no encoding in the
// XML declaration, as older Arabic CMSs serve it) is read in that charset (RFC 7303: the
// charset parameter is authoritative) instead of failing every poll with "invalid UTF-8"; a
// UTF-8 document under a wrong header charset is still read as UTF-8.
func TestFeedCharsetFromContentType(t *testing.T) {
	const doc = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>أخبار</title><link>https://ar.example.com/</link><language>ar</language>
<item><title>%s</title><link>https://ar.example.com/a/%s</link><guid>%s</guid></item>
</channel></rss>`
	cp1256, err := charmap.Windows1256.NewEncoder().String(fmt.Sprintf(doc, "قصف على غزة", "1", "cp-1"))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/cp1256.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml; charset=windows-1256")
		_, _ = io.WriteString(w, cp1256)
	})
	mux.HandleFunc("/utf8.xml", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml; charset=iso-8859-1") // a server default, wrong
		_, _ = fmt.Fprintf(w, doc, "مصر والسودان", "2", "u-2")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds:
  - {name: cp1256, url: %q, first_run: "newest:5"}
  - {name: utf8, url: %q, first_run: "newest:5"}
`, srv.URL+"/cp1256.xml", srv.URL+"/utf8.xml")
	p := e.poller(PollerOptions{})
	for _, name := range []string{"cp1256", "utf8"} {
		if err := p.PollNow(context.Background(), name); err != nil {
			t.Fatalf("poll %s: %v", name, err)
		}
	}
	arts := e.articles()
	if a := arts["قصف على غزة"]; len(arts) != 2 || a == nil || a.Language != "ar" || arts["مصر والسودان"] == nil {
		t.Fatalf("articles %v, want both Arabic titles read", arts)
	}
}

// A private feed's key in its query (?api_key=, ?token=) is hidden like a password: in the
// poll error, the status (GET /v1/feeds, herald feeds) and the config error of a refused URL.
func TestFeedURLQueryKeyRedacted(t *testing.T) {
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: private, url: "http://127.0.0.1:1/feed?format=rss2&api_key=K3yFromTheCms0123&token=T0kenFromTheCms0123"}]
`)
	err := e.poller(PollerOptions{}).PollNow(context.Background(), "private")
	st := e.status("private")
	if err == nil || st.Failures != 1 || st.LastError == "" {
		t.Fatalf("poll of a closed port: %v, status %+v", err, st)
	}
	s := fmt.Sprint(err, st)
	if strings.Contains(s, "K3yFromTheCms0123") || strings.Contains(s, "T0kenFromTheCms0123") || !strings.Contains(s, "format=rss2") {
		t.Fatalf("the feed's key shows, or the rest of its query is gone: %s", s)
	}
}

// A story already in herald under an id of its own — the WordPress plugin (wp-<site>-<id>) or a
// CMS webhook published it the moment it went live — is not posted again when the site's feed
// later lists it: the feed's article id is its URL's, so the queue took it for a new article
// and every channel got the story twice.
func TestFeedItemAlreadyPublishedByWebhookNotPostedAgain(t *testing.T) {
	fs := newFeedServer(t, "rss2.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: news, url: %q}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{})
	ctx := context.Background()
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	pub := &Publisher{Config: e.cfg, Broker: e.broker, Redis: e.rdb}
	wp := &article.Article{ID: "wp-news.example.com-1004", URL: "https://news.example.com/world/talks-collapse/", Title: "Talks collapse (from WordPress)"}
	if _, err := pub.Publish(WithSource(ctx, "wordpress"), wp); err != nil {
		t.Fatal(err)
	}
	fs.addItem(rssNewItem) // the same story, link https://news.example.com/world/talks-collapse
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	if len(arts) != 1 || arts["Talks collapse (from WordPress)"] == nil {
		t.Fatalf("articles %v, want only the one WordPress published", arts)
	}
	if st := e.status("news"); st.ItemsSeen != 4 {
		t.Fatalf("items seen %d, want the item recorded as seen (4)", st.ItemsSeen)
	}
}

// A site moving to https (or adding or dropping www.) changes every item's link and, where the
// GUID is the permalink, its GUID too: both identities changed at once, so the whole feed was
// posted again. The scheme and a leading www. are not part of an item's identity; a new item
// still posts.
func TestFeedSchemeOrWWWMoveDoesNotRepost(t *testing.T) {
	const item = `<item><title>%s</title><link>%s/world/%s</link><guid isPermaLink="true">%s/world/%s</guid></item>`
	items := func(base string, slugs ...string) []string {
		var out []string
		for _, s := range slugs {
			out = append(out, fmt.Sprintf(item, "Story "+s, base, s, base, s))
		}
		return out
	}
	fs := newFeedServer(t, "rss2.xml")
	fs.mu.Lock()
	fs.fixture = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Moves</title>{{ITEMS}}</channel></rss>`
	fs.mu.Unlock()
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: moves, url: %q}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{})
	ctx := context.Background()
	fs.setItems(items("http://news.example.com", "b", "a")...)
	if err := p.PollNow(ctx, "moves"); err != nil {
		t.Fatal(err)
	}
	fs.setItems(items("https://www.news.example.com", "b", "a")...)
	if err := p.PollNow(ctx, "moves"); err != nil {
		t.Fatal(err)
	}
	if arts := e.articles(); len(arts) != 0 {
		t.Fatalf("after the move to https://www.: %v, want nothing reposted", arts)
	}
	fs.setItems(items("https://news.example.com", "c", "b", "a")...)
	if err := p.PollNow(ctx, "moves"); err != nil {
		t.Fatal(err)
	}
	if arts := e.articles(); len(arts) != 1 || arts["Story c"] == nil {
		t.Fatalf("after dropping www. and a new item: %v, want only the new item", arts)
	}
}

// A story whose description is the whole text (as some CMSs write it beside content:encoded)
// and one with a photo pasted into its content as a data: URI are over the article's summary and
// body limits as they come; each still posts, its summary then taken from the body, its body
// from the description. They were invalid articles, which a feed skips for good: never posted.
func TestFeedItemOverTheArticleLimitsStillPosts(t *testing.T) {
	seed, err := os.ReadFile("../formatter/testdata/seed-article-ar.txt")
	if err != nil {
		t.Fatal(err)
	}
	story := "<p>" + strings.Repeat(strings.ReplaceAll(strings.TrimSpace(string(seed)), "\n\n", "</p><p>"), 4) + "</p>"
	if n := len([]rune(article.PlainText(story))); n <= article.MaxSummaryChar {
		t.Fatalf("the long story is %d characters, want more than %d", n, article.MaxSummaryChar)
	}
	photo := `<img src="data:image/jpeg;base64,` + strings.Repeat("/9j/4AAQSkZJRgABAQ", 64<<10) + `">`
	fs := newFeedServer(t, "wordpress-ar.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: ar-site, url: %q}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{})
	ctx := context.Background()
	if err := p.PollNow(ctx, "ar-site"); err != nil {
		t.Fatal(err)
	}
	fs.addItem(`<item><title>تحليل: تحالف روسيا وكوريا الشمالية</title><link>https://ar.example.com/2026/11/26/analysis/</link>
<guid isPermaLink="false">https://ar.example.com/?p=4720</guid><pubDate>Thu, 26 Nov 2026 08:00:00 +0000</pubDate>
<description><![CDATA[` + story + `]]></description><content:encoded><![CDATA[` + story + `]]></content:encoded></item>`)
	fs.addItem(`<item><title>صورة اليوم</title><link>https://ar.example.com/2026/11/26/photo/</link>
<guid isPermaLink="false">https://ar.example.com/?p=4721</guid><pubDate>Thu, 26 Nov 2026 09:00:00 +0000</pubDate>
<description><![CDATA[<p>صورة اليوم من كييف</p>]]></description><content:encoded><![CDATA[<p>صورة اليوم من كييف</p>` + photo + `]]></content:encoded></item>`)
	if err := p.PollNow(ctx, "ar-site"); err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	long, pic := arts["تحليل: تحالف روسيا وكوريا الشمالية"], arts["صورة اليوم"]
	if long == nil || pic == nil {
		t.Fatalf("articles %v, want both new stories", arts)
	}
	if long.Summary != "" || long.Body != story {
		t.Fatalf("long story: summary of %d characters, body of %d bytes; want no summary (taken from the body) and the body", len([]rune(long.Summary)), len(long.Body))
	}
	if pic.Body != "<p>صورة اليوم من كييف</p>" {
		t.Fatalf("photo story body of %d bytes, want the description", len(pic.Body))
	}
}

// A feed generator that writes one GUID for every item (the site's address): the GUID names no
// story, so each new item still posts, once; one story listed twice under one GUID of its own
// (one title, two links) is still one item.
func TestFeedOneGUIDForEveryItemStillPostsEachStory(t *testing.T) {
	item := func(n int, link, guid, title string) string {
		return fmt.Sprintf(`<item><title>%s</title><link>https://news.example.com/%s</link>
<guid>%s</guid><pubDate>Tue, 24 Nov 2026 1%d:00:00 GMT</pubDate></item>`, title, link, guid, n)
	}
	const site = "https://news.example.com/"
	fs := newFeedServer(t, "rss2.xml")
	fs.mu.Lock()
	fs.fixture = `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>أخبار</title>
<link>https://news.example.com/</link><language>ar</language>{{ITEMS}}</channel></rss>`
	fs.mu.Unlock()
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: news, url: %q}]
`, fs.srv.URL)
	fs.setItems(item(2, "a/2", site, "الخبر الثاني"), item(1, "a/1", site, "الخبر الأول"))
	p := e.poller(PollerOptions{})
	ctx := context.Background()
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	fs.setItems(item(5, "a/5", site, "غارات على غزة"), item(4, "a/4", site, "اجتماع وزراء الخارجية"),
		item(3, "gaza/a-3", "p-3", "قمة القاهرة"), item(3, "world/a-3", "p-3", "قمة القاهرة"),
		item(2, "a/2", site, "الخبر الثاني"), item(1, "a/1", site, "الخبر الأول"))
	for range 2 {
		if err := p.PollNow(ctx, "news"); err != nil {
			t.Fatal(err)
		}
	}
	keys, err := e.rdb.Keys(ctx, "herald:art:{*}").Result()
	if err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	if len(keys) != 3 || arts["غارات على غزة"] == nil || arts["اجتماع وزراء الخارجية"] == nil || arts["قمة القاهرة"] == nil {
		t.Fatalf("%d articles %v, want the three new stories, each once", len(keys), arts)
	}
}

// A site moved to UTF-8 whose feed template still declares encoding="windows-1256": the
// document is UTF-8 (Arabic in windows-1256 is never valid UTF-8), so its titles are read as
// such, not as windows-1256 bytes, which posted every title as mojibake ("ط¹ظ†ظˆط§ظ†"). A pushed
// document is read the same way (toUTF8 serves both).
func TestFeedUTF8DeclaredAsWindows1256IsReadAsUTF8(t *testing.T) {
	const doc = `
<?xml version="1.0" encoding="windows-1256"?>
<rss version="2.0"><channel><title>أخبار</title><link>https://ar.example.com/</link><language>ar</language>
<item><title>قصف على غزة</title><link>https://ar.example.com/a/1</link><guid>g-1</guid></item>
</channel></rss>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = io.WriteString(w, doc)
	}))
	t.Cleanup(srv.Close)
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: ar, url: %q, first_run: "newest:5"}]
`, srv.URL)
	if err := e.poller(PollerOptions{}).PollNow(context.Background(), "ar"); err != nil {
		t.Fatal(err)
	}
	if arts := e.articles(); len(arts) != 1 || arts["قصف على غزة"] == nil {
		t.Fatalf("articles %v, want the Arabic title as written", arts)
	}
	// A real windows-1256 document keeps its declaration, and a declared UTF-16 is the parser's.
	cp1256, err := charmap.Windows1256.NewEncoder().String(strings.TrimSpace(doc))
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{cp1256, strings.Replace(doc, "windows-1256", "UTF-16", 1)} {
		if out, err := toUTF8([]byte(in), "text/xml"); err != nil || string(out) != in {
			t.Errorf("toUTF8 changed a document it should leave: %q %v", out, err)
		}
	}
}

// An item whose image URL is no absolute http(s) URL (a file name with a bare "%", a data: URI)
// still posts: with the next image it offers, else without one. It was an invalid article
// (image_url), which a feed skips for good.
func TestFeedItemWithABrokenImageURLStillPosts(t *testing.T) {
	fs := newFeedServer(t, "rss2.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: news, url: %q}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{})
	ctx := context.Background()
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	fs.addItem(`<item><title>غزة: ارتفاع الأسعار 100%</title><link>https://news.example.com/a/prices</link><guid>g-prices</guid>
<enclosure url="https://news.example.com/img/أسعار 100%.jpg" type="image/jpeg" length="1"/>
<media:thumbnail url="https://news.example.com/img/prices-thumb.jpg"/></item>`)
	fs.addItem(`<item><title>صورة اليوم</title><link>https://news.example.com/a/photo</link><guid>g-photo</guid>
<media:content url="data:image/gif;base64,R0lGODlhAQABAAAAACw=" medium="image"/></item>`)
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	prices, photo := arts["غزة: ارتفاع الأسعار 100%"], arts["صورة اليوم"]
	if prices == nil || photo == nil {
		t.Fatalf("articles %v, want both stories", arts)
	}
	if prices.ImageURL != "https://news.example.com/img/prices-thumb.jpg" || photo.ImageURL != "" {
		t.Fatalf("images %q and %q, want the thumbnail and none", prices.ImageURL, photo.ImageURL)
	}
}

// An item published well before the feed's first poll that shows up only later — the site's
// feed lists its newest items, and when a newer one is trashed or unpublished, or the site lists
// more, an older one slides in — is the backlog the first poll skipped, not news; an item
// published shortly before that poll but missing from its document (a cache in front of the
// feed) still posts, as does every item published since.
func TestFeedItemFromBeforeTheFirstPollIsBacklog(t *testing.T) {
	fs := newFeedServer(t, "rss2.xml")
	e := newFeedEnv(t, `
channels: [{name: tg, kind: telegram}]
feeds: [{name: news, url: %q}]
`, fs.srv.URL)
	p := e.poller(PollerOptions{}) // the first poll at feedClock, 24 Nov 12:30
	ctx := context.Background()
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	item := func(slug, title, date string) string {
		return fmt.Sprintf(`<item><title>%s</title><link>https://news.example.com/a/%s</link><guid>%s</guid><pubDate>%s</pubDate></item>`, title, slug, slug, date)
	}
	fs.setItems(rssNewItem,
		item("cached", "خبر نشر قبل أول قراءة بقليل", "Tue, 24 Nov 2026 11:45:00 GMT"),
		item("old", "خبر من الأسبوع الماضي", "Tue, 17 Nov 2026 09:00:00 GMT"))
	if err := p.PollNow(ctx, "news"); err != nil {
		t.Fatal(err)
	}
	arts := e.articles()
	if len(arts) != 2 || arts["New item: talks collapse"] == nil || arts["خبر نشر قبل أول قراءة بقليل"] == nil {
		t.Fatalf("articles %v, want the new item and the one just before the first poll, not last week's", arts)
	}
	if st := e.status("news"); st.ItemsSeen != 6 {
		t.Fatalf("items seen %d, want 6 (last week's item is seen, not posted)", st.ItemsSeen)
	}
}
