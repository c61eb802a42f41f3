package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
	"herald/web"
)

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// herald route prints each channel with the rule that chose it, and exits 2 when none does.
func TestRouteCommand(t *testing.T) {
	cfg := writeTemp(t, "herald.yaml", `
channels: [{name: tg-main, kind: telegram}, {name: tg-gaza, kind: telegram}]
routes:
  - {name: gaza, channels: [tg-gaza], keywords: [غزة]}
  - {channels: [tg-main], languages: [ar], exclude: {keywords: [إعلان]}}
`)
	art := writeTemp(t, "a.json", `{"url":"https://e.com/a","title":"قصف على غَزّة","language":"ar"}`)
	out, errOut, code := runCLI(t, "", "route", "--config", cfg, art)
	if code != 0 || !strings.Contains(out, "tg-gaza") || !strings.Contains(out, "routes[0] (gaza)") || !strings.Contains(out, "keyword غزة") ||
		!strings.Contains(out, "tg-main") || !strings.Contains(out, "language ar") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = runCLI(t, `{"url":"https://e.com/b","title":"إعلان","language":"ar"}`, "route", "--config", cfg, "--json", "-")
	var d config.Decision
	if err := json.Unmarshal([]byte(out), &d); err != nil || code != 2 || len(d.Channels) != 0 || len(d.Excluded) != 1 || d.Excluded[0].Why != "exclude keyword إعلان" {
		t.Fatalf("excluded article: exit %d %+v %v\n%s", code, d, err, out)
	}
}

// herald route --json prints {"channels":[…],"excluded":[…]} as documented, with empty lists
// rather than null when nothing matched, nothing was excluded, or the article named a channel
// that does not exist (it printed null for all three).
func TestRouteJSONListsAreNeverNull(t *testing.T) {
	cfg := writeTemp(t, "herald.yaml", `
channels: [{name: tg-main, kind: telegram}]
routes:
  - {channels: [tg-main], exclude: {keywords: [إعلان]}}
`)
	for stdin, want := range map[string]string{
		`{"url":"https://e.com/a","title":"خبر"}`:                        `"excluded": []`,
		`{"url":"https://e.com/b","title":"إعلان"}`:                      `"channels": []`,
		`{"url":"https://e.com/c","title":"خبر","channels":["tg-mian"]}`: `"channels": []`,
	} {
		out, errOut, _ := runCLI(t, stdin, "route", "--config", cfg, "--json", "-")
		var d map[string][]config.Choice
		if err := json.Unmarshal([]byte(out), &d); err != nil || d["channels"] == nil || d["excluded"] == nil || !strings.Contains(out, want) {
			t.Errorf("%s: %v\n%s\n%s", stdin, err, out, errOut)
		}
	}
}

// herald route --source with a name that is no webhook or feed is refused (exit 2, naming the
// sources there are): a misspelt source matched no route's sources, and the decision printed
// was one the real source never gets.
func TestRouteRefusesAnUnknownSource(t *testing.T) {
	cfg := writeTemp(t, "herald.yaml", `
channels: [{name: tg-main, kind: telegram}, {name: tg-site, kind: telegram}]
webhooks: [{name: wordpress, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}]
routes:
  - {channels: [tg-site], sources: [wordpress]}
  - {channels: [tg-main]}
`)
	art := writeTemp(t, "a.json", `{"url":"https://e.com/a","title":"خبر"}`)
	out, errOut, code := runCLI(t, "", "route", "--config", cfg, "--source", "wordpres", art)
	if code != 2 || !strings.Contains(errOut, `--source "wordpres" is not a configured webhook or feed name (sources: api, wordpress)`) || out != "" {
		t.Fatalf("misspelt source: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "", "route", "--config", cfg, "--source", "wordpress", art)
	if code != 0 || !strings.Contains(out, "tg-site") {
		t.Fatalf("wordpress: exit %d\n%s\n%s", code, out, errOut)
	}
}

// herald feeds shows each feed's state from Redis, and through --server from GET /v1/feeds.
func TestFeedsCommand(t *testing.T) {
	rdb, srv := redistest.Start(t)
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>t</title><item><title>a</title><link>https://e.com/a</link></item><item><title>b</title><link>https://e.com/b</link></item></channel></rss>`)
	}))
	defer feed.Close()
	doc := fmt.Sprintf("redis: {url: %q}\nchannels: [{name: tg, kind: telegram}]\nfeeds: [{name: site, url: %q}, {name: idle, url: \"https://idle.example.com/feed\"}]\n",
		fmt.Sprintf("redis://%s/%d", srv.Addr, rdb.Options().DB), feed.URL)
	path := writeTemp(t, "herald.yaml", doc)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	pub := &ingest.Publisher{Config: cfg, Broker: b, Redis: rdb}
	p := ingest.NewPoller(pub, ingest.PollerOptions{})
	if err := p.PollNow(context.Background(), "site"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REDIS_URL", "")
	out, errOut, code := runCLI(t, "", "feeds", "--config", path)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[1], "site") || !strings.Contains(lines[1], "  2  ") || !strings.HasPrefix(lines[2], "idle") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// herald stats carries the same feed state, after the channels (issue 10: feeds in stats).
	out, errOut, code = runCLI(t, "", "stats", "--json", "--config", path)
	var st struct{ Feeds []ingest.FeedStatus }
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || len(st.Feeds) != 2 || st.Feeds[0].Name != "site" || st.Feeds[0].ItemsSeen != 2 {
		t.Fatalf("stats --json: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	if out, errOut, code = runCLI(t, "", "stats", "--config", path); code != 0 || !strings.Contains(out, "FEED") || !strings.Contains(out, "\nsite ") {
		t.Fatalf("stats table: exit %d\n%s\n%s", code, out, errOut)
	}
	api := httptest.NewServer((&web.Server{Publisher: pub, Broker: b, Token: testToken, Logger: zap.NewNop(), Feeds: p}).Handler())
	defer api.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)
	out, errOut, code = runCLI(t, "", "feeds", "--json", "--server", api.URL)
	var got struct{ Feeds []ingest.FeedStatus }
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || len(got.Feeds) != 2 || got.Feeds[0].ItemsSeen != 2 || got.Feeds[0].LastSuccess == nil {
		t.Fatalf("feeds --server: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
	out, errOut, code = runCLI(t, "", "stats", "--json", "--server", api.URL)
	st.Feeds = nil
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != 0 || len(st.Feeds) != 2 || st.Feeds[0].ItemsSeen != 2 {
		t.Fatalf("stats --server: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
}

// herald serve polls its feeds and takes signed webhooks: a feed item and a signed article each
// reach Telegram once; a replayed webhook is refused.
func TestServePollsFeedsAndTakesSignedWebhooks(t *testing.T) {
	s := newStack(t)
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>t</title><language>ar</language>
<item><title>خبر من الموقع</title><link>https://news.example.com/feed-item</link><guid>f-2</guid><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate></item>
<item><title>older</title><link>https://news.example.com/older</link><guid>f-1</guid><pubDate>Tue, 24 Nov 2026 08:00:00 GMT</pubDate></item>
</channel></rss>`)
	}))
	defer feed.Close()
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f, err := os.OpenFile(s.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "webhooks:\n  - {name: cms, secret: %q}\nfeeds:\n  - {name: site, url: %q, interval: 1s, first_run: \"newest:1\"}\n", secret, feed.URL)
	f.Close()
	p := s.serve()

	waitUntil(t, 15*time.Second, "the feed's newest item posted", func() bool {
		for _, m := range s.fake.Messages() {
			if strings.Contains(m.Plain, "خبر من الموقع") {
				return true
			}
		}
		return false
	})

	body := `{"url":"https://news.example.com/signed","title":"خبر موقّع"}`
	ts := fmt.Sprint(time.Now().Unix())
	mac := hmac.New(sha256.New, mustDecode(t, strings.TrimPrefix(secret, "whsec_")))
	mac.Write([]byte("msg_e2e." + ts + "." + body))
	headers := map[string]string{"Authorization": "", "webhook-id": "msg_e2e", "webhook-timestamp": ts,
		"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))}
	if code, out := s.request(http.MethodPost, "/v1/articles", body, headers); code != http.StatusAccepted {
		t.Fatalf("signed publish: %d %v", code, out)
	}
	// Sent again (the sender's retry): answered as processed, nothing queued again.
	if code, out := s.request(http.MethodPost, "/v1/articles", body, headers); code != http.StatusOK || out["duplicate"] != true {
		t.Fatalf("replayed webhook: %d %v, want 200 duplicate", code, out)
	}
	waitUntil(t, 15*time.Second, "the signed article posted", func() bool { return len(s.fake.Messages()) == 2 })
	// More polls go by; nothing else is posted.
	waitUntil(t, 10*time.Second, "two more polls", func() bool {
		sts, err := ingest.FeedStatuses(context.Background(), s.rdb, []config.Feed{{Name: "site"}})
		return err == nil && sts[0].LastPoll != nil && time.Since(*sts[0].LastPoll) < time.Second && sts[0].ItemsSeen == 2
	})
	if n := len(s.fake.Messages()); n != 2 {
		t.Fatalf("%d messages, want 2\n%s", n, p.output())
	}
	if strings.Contains(p.output(), "MfKQ9r8") {
		t.Fatal("the webhook secret is in the serve log")
	}
}

func mustDecode(t *testing.T, b64 string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
