package web

// A WordPress site's posts carry their language, so routes by language take them as they take
// the same stories from the site's feed (whose <language> is the site's).

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/channels/telegram/telegramfake"
	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

// newLanguageEnv: tg-a gets Arabic articles, tg-b English ones; nothing else is routed.
func newLanguageEnv(t *testing.T) *hookEnv {
	t.Helper()
	rdb, _ := redistest.Start(t)
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	cfg, err := config.Parse([]byte(fmt.Sprintf(`
channels:
  - {name: tg-a, kind: telegram, settings: &tg {token: %[1]q, chat_id: "@%[2]s", api_endpoint: %[3]q, timeout: 2s}}
  - {name: tg-b, kind: telegram, settings: *tg}
routes:
  - {channels: [tg-a], languages: [ar]}
  - {channels: [tg-b], languages: [en]}
webhooks:
  - {name: wordpress, secret: %[4]q, site: news.example.com}
`, telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint(), wpSecret)))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	e := &hookEnv{t: t, rdb: rdb, broker: b, fake: fake, cfg: cfg, now: time.Now()}
	api := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b, Redis: rdb}, Broker: b, Token: "tok", Logger: zap.NewNop(),
		Webhooks: &ingest.Verifier{Sources: cfg.Webhooks, Redis: rdb, Now: func() time.Time { return e.now }},
		Built:    builtChannels(t, cfg), Routes: testRoutes(t, cfg)}
	e.h = api.Handler()
	return e
}

func TestWordPressPostLanguageRoutesIt(t *testing.T) {
	e := newLanguageEnv(t)
	// The site language WordPress gives an English site: "en-US".
	post := []byte(`{"id":4780,"status":"publish","lang":"en-US","link":"https://news.example.com/en/story/","title":{"rendered":"A story"}}`)
	code, out := e.do("/v1/hooks/wordpress", post, signStandard(t, wpSecret, "msg_4780", e.now, post))
	if got := deliveredChannels(out); code != http.StatusAccepted || strings.Join(got, ",") != "tg-b" {
		t.Fatalf("an en-US post: %d %v, want 202 to tg-b", code, out)
	}

	// The plugin on an Arabic site without Polylang Pro: the REST post has no lang.
	outp := runPlugin(t, e, "cpt.php", cptHarness, "HERALD_SITE_LANG=ar")
	if !strings.Contains(string(outp), "status 202") || !strings.Contains(string(outp), `"channel":"tg-a"`) {
		t.Fatalf("the plugin's post on an Arabic site: %s, want 202 to tg-a (the Arabic route)", outp)
	}
}
