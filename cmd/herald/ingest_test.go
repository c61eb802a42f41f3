package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
	api := httptest.NewServer((&web.Server{Publisher: pub, Broker: b, Token: testToken, Logger: zap.NewNop(), Feeds: p}).Handler())
	defer api.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)
	out, errOut, code = runCLI(t, "", "feeds", "--server", api.URL)
	var got struct{ Feeds []ingest.FeedStatus }
	if err := json.Unmarshal([]byte(out), &got); err != nil || code != 0 || len(got.Feeds) != 2 || got.Feeds[0].ItemsSeen != 2 || got.Feeds[0].LastSuccess == nil {
		t.Fatalf("feeds --server: exit %d %v\n%s\n%s", code, err, out, errOut)
	}
}
