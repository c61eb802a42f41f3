package web

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/channels/telegram/telegramfake"
	"herald/config"
	"herald/ingest"
	"herald/ingest/websubfake"
	"herald/internal/redistest"
	"herald/queue"
)

type websubEnv struct {
	hub    *websubfake.Hub
	feed   *httptest.Server
	herald *httptest.Server
	poller *ingest.Poller
	broker *queue.Broker
	fake   *telegramfake.Server
	cfg    *config.Config
	items  func(string)
	doc    func() string
}

// newWebSubEnv: an Atom feed advertising the fake hub, and herald's API on a real listener so
// the hub can call back.
func newWebSubEnv(t *testing.T, lease int) *websubEnv {
	t.Helper()
	rdb, _ := redistest.Start(t)
	hub := websubfake.New()
	t.Cleanup(hub.Close)
	hub.SetLease(lease)
	tmpl, err := os.ReadFile("../ingest/testdata/atom.xml")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	extra := ""
	var feedURL string
	doc := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.NewReplacer("{{HUB}}", hub.URL(), "{{SELF}}", feedURL, "{{ITEMS}}", extra).Replace(string(tmpl))
	}
	// The feed answers conditional GETs, so an unchanged feed is a 304 (and the lease must still
	// be renewed then).
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := doc()
		etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/atom+xml")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(feed.Close)
	feedURL = feed.URL + "/atom"

	var h http.Handler
	herald := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(herald.Close)
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
channels: [{name: tg, kind: telegram, settings: {token: %q, chat_id: "@%s", api_endpoint: %q}}]
feeds: [{name: atom, url: %q, interval: 1s}]
`, telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint(), feedURL)))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	pub := &ingest.Publisher{Config: cfg, Broker: b, Redis: rdb}
	p := ingest.NewPoller(pub, ingest.PollerOptions{PublicURL: herald.URL, Tick: 20 * time.Millisecond})
	h = (&Server{Publisher: pub, Broker: b, Token: "tok", Logger: zap.NewNop(), Feeds: p}).Handler()
	return &websubEnv{hub: hub, feed: feed, herald: herald, poller: p, broker: b, doc: doc, fake: fake, cfg: cfg,
		items: func(s string) { mu.Lock(); extra = s; mu.Unlock() }}
}

func (e *websubEnv) verified(topic string) (websubfake.Subscription, bool) {
	for _, s := range e.hub.Subscriptions() {
		if s.Topic == topic && s.Verified {
			return s, true
		}
	}
	return websubfake.Subscription{}, false
}

// pushedEntry is news: dated now, after the feed's first poll (an entry dated well before it
// would be the feed's backlog).
var pushedEntry = `<entry>
    <title>Pushed: breaking story</title>
    <id>urn:example:entry:3</id>
    <link href="https://atom.example.com/2026/11/pushed"/>
    <updated>` + time.Now().UTC().Format(time.RFC3339) + `</updated>
    <summary>Pushed by the hub.</summary>
  </entry>`

// WebSub: herald subscribes when the feed advertises a hub, answers the verification, takes a
// signed push at once and refuses a badly signed one.
func TestWebSubSubscribeVerifyPush(t *testing.T) {
	e := newWebSubEnv(t, 864000)
	startWorker(t, e.cfg, e.broker)
	ctx := context.Background()
	topic := e.feed.URL + "/atom"
	if err := e.poller.PollNow(ctx, "atom"); err != nil {
		t.Fatal(err)
	}
	waitUntilT(t, 5*time.Second, "the hub verified herald's subscription", func() bool { _, ok := e.verified(topic); return ok })
	sub, _ := e.verified(topic)
	if sub.Callback != e.herald.URL+"/websub/atom" || len(sub.Secret) < 32 {
		t.Fatalf("subscription %+v", sub)
	}
	sts, err := e.poller.Statuses(ctx)
	if err != nil || sts[0].WebSub == nil || sts[0].WebSub.State != "verified" || sts[0].WebSub.Expires == nil {
		t.Fatalf("status %+v %v", sts, err)
	}
	if d := time.Until(*sts[0].WebSub.Expires); d < 239*time.Hour || d > 241*time.Hour {
		t.Fatalf("lease expires in %s, want the granted 10 days", d)
	}

	// GET /v1/feeds shows it, behind the bearer token.
	for token, want := range map[string]int{"": http.StatusUnauthorized, "tok": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, e.herald.URL+"/v1/feeds", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || (want == 200 && (!strings.Contains(string(b), `"state":"verified"`) || strings.Contains(string(b), sub.Secret))) {
			t.Fatalf("GET /v1/feeds with token %q: %d %s", token, resp.StatusCode, b)
		}
	}

	// A hub's denial is recorded; an unsubscribe for a feed herald no longer has is confirmed.
	get := func(feed string, q url.Values) (int, string) {
		resp, err := http.Get(e.herald.URL + "/websub/" + feed + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("gone", url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {"x"}, "hub.challenge": {"c1"}}); code != 200 || body != "c1" {
		t.Fatalf("unsubscribe for a removed feed: %d %q", code, body)
	}
	if code, _ := get("atom", url.Values{"hub.mode": {"unsubscribe"}, "hub.topic": {topic}, "hub.challenge": {"c2"}}); code != http.StatusNotFound {
		t.Fatalf("unsubscribe for a configured feed: %d, want 404 (herald never asked)", code)
	}

	// A verification herald did not ask for is not confirmed.
	resp, err := http.Get(e.herald.URL + "/websub/atom?" + url.Values{"hub.mode": {"subscribe"}, "hub.topic": {"https://evil.example/feed"}, "hub.challenge": {"x"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unrequested verification answered %d, want 404", resp.StatusCode)
	}

	// A badly signed push is refused and queues nothing.
	e.items(pushedEntry)
	codes, err := e.hub.PublishWithSignature(topic, "application/atom+xml", []byte(e.doc()), "sha256=00"+strings.Repeat("ab", 31))
	if err != nil || len(codes) != 1 || codes[0] != http.StatusForbidden {
		t.Fatalf("forged push: %v %v, want [403]", codes, err)
	}
	codes, err = e.hub.PublishWithSignature(topic, "application/atom+xml", []byte(e.doc()), "")
	if err != nil || len(codes) != 1 || codes[0] != http.StatusForbidden {
		t.Fatalf("unsigned push: %v %v, want [403]", codes, err)
	}
	if _, err := e.broker.Status(ctx, mustID(t, "https://atom.example.com/2026/11/pushed")); err == nil {
		t.Fatal("a badly signed push was queued")
	}

	// A signed push is processed at once: queued before the hub's request returns.
	start := time.Now()
	codes, err = e.hub.Publish(topic, "application/atom+xml", []byte(e.doc()))
	if err != nil || len(codes) != 1 || codes[0] != http.StatusNoContent {
		t.Fatalf("push: %v %v", codes, err)
	}
	st, err := e.broker.Status(ctx, mustID(t, "https://atom.example.com/2026/11/pushed"))
	if elapsed := time.Since(start); err != nil || elapsed > time.Second {
		t.Fatalf("pushed entry: %v after %s, want queued within a second", err, elapsed)
	}
	// And on the channel: typically well within the second too, but the worker's pickup is
	// scheduling, so the bound here is loose enough for a loaded CI machine.
	waitUntilT(t, 5*time.Second, "the pushed entry posted", func() bool {
		for _, m := range e.fake.Messages() {
			if strings.Contains(m.Plain, "Pushed: breaking story") {
				return true
			}
		}
		return false
	})
	t.Logf("push to post: %s", time.Since(start))
	if n := len(e.fake.Messages()); n != 1 {
		t.Fatalf("%d messages, want only the pushed entry (the first poll posts nothing, the forged push nothing)", n)
	}
	if st.Title != "Pushed: breaking story" || len(st.Deliveries) != 1 {
		t.Fatalf("pushed article %+v", st)
	}
	// The next poll sees the same entry and does not queue it again.
	if err := e.poller.PollNow(ctx, "atom"); err != nil {
		t.Fatal(err)
	}
	if sts, _ := e.poller.Statuses(ctx); sts[0].ItemsSeen != 3 || sts[0].WebSub.LastPush == nil {
		t.Fatalf("status after push and poll %+v", sts[0])
	}
}

// A short lease is renewed before it runs out, while polling carries on as the fallback.
func TestWebSubRenewsLease(t *testing.T) {
	e := newWebSubEnv(t, 3)
	topic := e.feed.URL + "/atom"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.poller.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitUntilT(t, 5*time.Second, "a verified subscription", func() bool { _, ok := e.verified(topic); return ok })
	waitUntilT(t, 6*time.Second, "a renewal before the 3s lease ends", func() bool { s, ok := e.verified(topic); return ok && s.Requests >= 2 })
	// Polling goes on: a new entry appears without any push.
	e.items(pushedEntry)
	waitUntilT(t, 5*time.Second, "the polled entry", func() bool {
		_, err := e.broker.Status(context.Background(), mustID(t, "https://atom.example.com/2026/11/pushed"))
		return err == nil
	})
}

func waitUntilT(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: not yet %s", within, what)
		}
		time.Sleep(20 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

// GET /websub/<feed> has no credentials: anyone who knows the (public) topic can send a
// "verification". Once the subscription is verified, such a request with a year's lease must not
// move the recorded expiry, or herald stops renewing and the hub's real lease lapses (pushes stop
// silently). A hub's repeated verification is still answered.
func TestWebSubForgedVerificationKeepsTheLease(t *testing.T) {
	e := newWebSubEnv(t, 864000)
	ctx := context.Background()
	topic := e.feed.URL + "/atom"
	if err := e.poller.PollNow(ctx, "atom"); err != nil {
		t.Fatal(err)
	}
	expires := func() time.Time {
		sts, err := e.poller.Statuses(ctx)
		if err != nil || sts[0].WebSub == nil || sts[0].WebSub.Expires == nil {
			return time.Time{}
		}
		return *sts[0].WebSub.Expires
	}
	waitUntilT(t, 5*time.Second, "herald recorded the verified lease", func() bool { return !expires().IsZero() })
	before := expires()
	q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c-again"}, "hub.lease_seconds": {"31536000"}}
	resp, err := http.Get(e.herald.URL + "/websub/atom?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "c-again" {
		t.Fatalf("a repeated verification answered %d %q, want the challenge", resp.StatusCode, b)
	}
	if after := expires(); !after.Equal(before) {
		t.Fatalf("an unsolicited verification moved the lease's end from %s to %s", before, after)
	}
}

// TestWebSubVerifyWithRedisDownIsDocumented503: the hub's verification of intent answers 503
// when Redis cannot say whether herald asked for the subscription — an answer web/openapi.yaml
// did not list for GET /websub/{feed} — and, like every other 503, with Retry-After.
func TestWebSubVerifyWithRedisDownIsDocumented503(t *testing.T) {
	e := newWebSubEnv(t, 3600)
	_ = e.broker.Client().Shutdown(context.Background()).Err() // the server stops; the reply is lost
	resp, err := http.Get(e.herald.URL + "/websub/atom?hub.mode=subscribe&hub.topic=" + url.QueryEscape(e.feed.URL+"/atom") + "&hub.challenge=c1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != RetryAfter {
		t.Fatalf("verification with Redis down: %d Retry-After %q; want 503 with Retry-After %s", resp.StatusCode, resp.Header.Get("Retry-After"), RetryAfter)
	}
	if _, ok := loadOpenAPI(t).Paths["/websub/{feed}"]["get"].Responses["503"]; !ok {
		t.Error("web/openapi.yaml does not list GET /websub/{feed}'s 503")
	}
}
