package web

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"herald/article"
	"herald/channels"
	_ "herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
	"herald/channels/webhook"
	"herald/config"
	"herald/formatter"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
)

const (
	wpSecret  = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	cmsSecret = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
)

var secondChat = telegramfake.Chat{ID: -1001000000002, Type: "channel", Title: "second", Username: "herald_second"}

type hookEnv struct {
	t      *testing.T
	h      http.Handler
	rdb    *redis.Client
	broker *queue.Broker
	fake   *telegramfake.Server
	cfg    *config.Config
	logs   *observer.ObservedLogs
	now    time.Time
}

// newHookEnv: tg-a and tg-b get what the signed sources send, tg-c what bearer clients send;
// tg-a and tg-c post to one fake chat, tg-b to another.
func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	rdb, _ := redistest.Start(t)
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	fake.AddChat(secondChat)
	doc := fmt.Sprintf(`
channels:
  - {name: tg-a, kind: telegram, settings: &tg {token: %[1]q, chat_id: "@%[2]s", api_endpoint: %[3]q, timeout: 2s}}
  - {name: tg-b, kind: telegram, settings: {token: %[1]q, chat_id: "@%[4]s", api_endpoint: %[3]q, timeout: 2s}}
  - {name: tg-c, kind: telegram, settings: *tg}
routes:
  - {channels: [tg-a, tg-b], sources: [wordpress, cms]}
  - {channels: [tg-c], sources: [api]}
webhooks:
  - {name: wordpress, secret: %[5]q, site: news.example.com}
  - {name: cms, secret: %[6]q}
`, telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint(), secondChat.Username, wpSecret, cmsSecret)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	b := queue.NewBroker(rdb, queue.Options{})
	e := &hookEnv{t: t, rdb: rdb, broker: b, fake: fake, cfg: cfg, logs: logs, now: time.Now()}
	api := &Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b, Redis: rdb}, Broker: b, Token: "tok", Logger: log,
		Webhooks: &ingest.Verifier{Sources: cfg.Webhooks, Redis: rdb, Now: func() time.Time { return e.now }},
		Built:    builtChannels(t, cfg), Routes: testRoutes(t, cfg)}
	e.h = api.Handler()
	return e
}

// startWorker delivers to the fake until the test ends.
func (e *hookEnv) startWorker() { startWorker(e.t, e.cfg, e.broker) }

// startWorker runs a delivery worker for cfg's channels until the test ends.
func startWorker(t *testing.T, cfg *config.Config, b *queue.Broker) {
	t.Helper()
	w := queue.NewWorker(b, testRoutes(t, cfg), queue.WorkerOptions{Concurrency: 2, PollInterval: 50 * time.Millisecond, Logger: zap.NewNop()})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// testRoutes builds cfg's channels and renderers as serve does.
func testRoutes(t *testing.T, cfg *config.Config) map[channels.Name]queue.Route {
	t.Helper()
	routes := map[channels.Name]queue.Route{}
	for _, c := range cfg.Channels {
		ch, err := channels.New(c.Spec, channels.Env{Logger: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		r, err := formatter.New(c.Spec.Kind, c.Format)
		if err != nil {
			t.Fatal(err)
		}
		routes[c.Spec.Name] = queue.Route{Channel: ch, Renderer: r, Limit: c.Limit, MaxAttempts: 3}
	}
	return routes
}

func (e *hookEnv) do(path string, body []byte, h http.Header) (int, map[string]any) {
	e.t.Helper()
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func signStandard(t *testing.T, secret, id string, ts time.Time, body []byte) http.Header {
	t.Helper()
	key, err := webhook.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {strconv.FormatInt(ts.Unix(), 10)},
		"Webhook-Signature": {webhook.Sign(key, id, ts.Unix(), body)}}
}

func deliveredChannels(out map[string]any) []string {
	var names []string
	ds, _ := out["deliveries"].([]any)
	for _, d := range ds {
		names = append(names, fmt.Sprint(d.(map[string]any)["channel"]))
	}
	return names
}

// waitMessages waits until the fake has exactly n messages and stays there briefly.
func (e *hookEnv) waitMessages(n int) []telegramfake.Message {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for len(e.fake.Messages()) < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d messages after 15s, want %d", len(e.fake.Messages()), n)
		}
		time.Sleep(20 * time.Millisecond) // polling the fake, bounded by deadline
	}
	return e.fake.Messages()
}

func (e *hookEnv) articleExists(id string) bool {
	_, err := e.broker.Status(context.Background(), id)
	if err != nil && !errors.Is(err, queue.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

// A WordPress payload and a signed article each produce one delivery per routed channel; an
// update of the same post and a replayed or expired message post nothing more.
func TestSignedWebhooksDeliverOncePerRoutedChannel(t *testing.T) {
	e := newHookEnv(t)
	e.startWorker()
	wp, err := os.ReadFile("../ingest/testdata/wordpress-post.json")
	if err != nil {
		t.Fatal(err)
	}
	code, out := e.do("/v1/hooks/wordpress", wp, signStandard(t, wpSecret, "msg_wp_1", e.now, wp))
	if code != http.StatusAccepted || out["id"] != "wp-news.example.com-4711" || fmt.Sprint(deliveredChannels(out)) != "[tg-a tg-b]" {
		t.Fatalf("wordpress: %d %v", code, out)
	}
	msgs := e.waitMessages(2)
	chats := map[int64]int{}
	for _, m := range msgs {
		chats[m.Chat.ID]++
		if !strings.Contains(m.Caption, "زيلينسكي") || m.PhotoURL != "https://news.example.com/wp-content/uploads/2026/11/zelensky.jpg" {
			t.Errorf("post %q photo %q", m.Caption, m.PhotoURL)
		}
	}
	if chats[telegramfake.DefaultChat.ID] != 1 || chats[secondChat.ID] != 1 {
		t.Fatalf("messages per chat %v, want one in each", chats)
	}

	art := []byte(`{"url":"https://news.example.com/b","title":"خبر موقّع"}`)
	code, out = e.do("/v1/articles", art, signStandard(t, cmsSecret, "msg_cms_1", e.now, art))
	if code != http.StatusAccepted || fmt.Sprint(deliveredChannels(out)) != "[tg-a tg-b]" {
		t.Fatalf("signed article: %d %v", code, out)
	}
	e.waitMessages(4)

	// GitHub style: the same routes, the source is the matching secret's webhook.
	art2 := []byte(`{"url":"https://news.example.com/c","title":"ثالث"}`)
	mac := hmac.New(sha256.New, []byte(cmsSecret))
	mac.Write(art2)
	code, out = e.do("/v1/articles", art2, http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}})
	if code != http.StatusAccepted || fmt.Sprint(deliveredChannels(out)) != "[tg-a tg-b]" {
		t.Fatalf("X-Hub-Signature-256: %d %v", code, out)
	}
	e.waitMessages(6)

	// The post updated in WordPress (a new message id): the same article, nothing reposted.
	code, out = e.do("/v1/hooks/wordpress", wp, signStandard(t, wpSecret, "msg_wp_2", e.now, wp))
	if code != http.StatusAccepted || out["deliveries"].([]any)[0].(map[string]any)["duplicate"] != true {
		t.Fatalf("update: %d %v", code, out)
	}
	// Answered 202, both messages' ids are kept for the whole replay window (not only while in
	// flight).
	for _, k := range []string{"herald:whid:{wordpress}:msg_wp_1", "herald:whid:{cms}:msg_cms_1"} {
		if ttl := e.rdb.TTL(context.Background(), k).Val(); ttl < 10*time.Minute {
			t.Fatalf("%s kept for %s after a 202, want the ~11m replay window", k, ttl)
		}
	}
	// A message already processed, sent again (the sender's retry when our answer was lost): the
	// same success, nothing done again; with another body under its id, likewise. Expired: 401.
	if code, out := e.do("/v1/hooks/wordpress", wp, signStandard(t, wpSecret, "msg_wp_1", e.now, wp)); code != http.StatusOK || out["duplicate"] != true || out["webhook_id"] != "msg_wp_1" {
		t.Fatalf("replayed wordpress message: %d %v, want 200 duplicate", code, out)
	}
	late := []byte(`{"url":"https://news.example.com/late","title":"late"}`)
	if code, out := e.do("/v1/articles", late, signStandard(t, cmsSecret, "msg_late", e.now.Add(-6*time.Minute), late)); code != http.StatusUnauthorized {
		t.Fatalf("expired: %d %v", code, out)
	}
	if code, out := e.do("/v1/articles", late, signStandard(t, cmsSecret, "msg_cms_1", e.now, late)); code != http.StatusOK || out["duplicate"] != true {
		t.Fatalf("replayed id with another body: %d %v, want 200 duplicate, nothing queued", code, out)
	}
	if code, _ := e.do("/v1/articles", late, signStandard(t, "whsec_"+"d3JvbmctLXNlY3JldC0td3JvbmctLXNlY3JldA==", "msg_bad", e.now, late)); code != http.StatusUnauthorized {
		t.Fatalf("badly signed: %d", code)
	}
	if e.articleExists("wp-news.example.com-9") || e.articleExists(mustID(t, "https://news.example.com/late")) {
		t.Fatal("a refused request enqueued an article")
	}
	// Bearer clients still publish, routed as source api.
	code, out = e.do("/v1/articles", []byte(`{"url":"https://news.example.com/d","title":"bearer"}`), http.Header{"Authorization": {"Bearer tok"}})
	if code != http.StatusAccepted || fmt.Sprint(deliveredChannels(out)) != "[tg-c]" {
		t.Fatalf("bearer: %d %v", code, out)
	}
	if n := len(e.waitMessages(7)); n != 7 {
		t.Fatalf("%d messages, want 7", n)
	}
	for _, entry := range e.logs.All() {
		line := fmt.Sprint(entry.Message, entry.ContextMap())
		if strings.Contains(line, "MfKQ9r8") || strings.Contains(line, "c2Vjb25k") {
			t.Fatalf("a log line shows a webhook secret: %s", line)
		}
	}
}

func mustID(t *testing.T, url string) string {
	t.Helper()
	c, err := article.CanonicalURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return article.IDFromURL(c)
}

// A WordPress trash or draft event is acknowledged and queues nothing; an unsigned one is 401.
func TestWordPressNonPublishedAndUnsigned(t *testing.T) {
	e := newHookEnv(t)
	trash := []byte(`{"id":9,"status":"trash","link":"https://news.example.com/?p=9","title":{"rendered":"x"}}`)
	code, out := e.do("/v1/hooks/wordpress", trash, signStandard(t, wpSecret, "msg_trash", e.now, trash))
	if code != http.StatusOK || out["ignored"] == nil {
		t.Fatalf("trash: %d %v", code, out)
	}
	if code, _ := e.do("/v1/hooks/wordpress", trash, nil); code != http.StatusUnauthorized {
		t.Fatalf("unsigned: %d", code)
	}
	if code, _ := e.do("/v1/hooks/wordpress", trash, http.Header{"Authorization": {"Bearer tok"}}); code != http.StatusUnauthorized {
		t.Fatalf("bearer token on the WordPress hook: %d, want 401 (signatures only)", code)
	}
	if e.articleExists("wp-news.example.com-9") {
		t.Fatal("a trashed post was enqueued")
	}
	// A post that fails validation releases its message id: the fixed retry is accepted.
	bad := []byte(`{"id":10,"status":"publish","link":"not a url","title":{"rendered":"x"}}`)
	if code, _ := e.do("/v1/hooks/wordpress", bad, signStandard(t, wpSecret, "msg_10", e.now, bad)); code != http.StatusUnprocessableEntity {
		t.Fatalf("invalid post: %d", code)
	}
	good := []byte(`{"id":10,"status":"publish","link":"https://news.example.com/?p=10","title":{"rendered":"x"}}`)
	if code, out := e.do("/v1/hooks/wordpress", good, signStandard(t, wpSecret, "msg_10", e.now, good)); code != http.StatusAccepted {
		t.Fatalf("retry of a refused message id: %d %v", code, out)
	}
}

// phpHead starts a PHP harness: what the must-use plugin reads from wp-config.php.
const phpHead = `<?php
define('ABSPATH', '/');
define('HERALD_URL', getenv('HERALD_URL'));
define('HERALD_WEBHOOK_SECRET', getenv('HERALD_SECRET'));
`

// phpRemotePost is WordPress's wp_remote_post done with PHP's own HTTP stream; it prints the
// answer's status ("status 202").
const phpRemotePost = `function wp_remote_post($url, $args) {
	$h = '';
	foreach ($args['headers'] as $k => $v) { $h .= "$k: $v\r\n"; }
	$ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => $h, 'content' => $args['body'], 'ignore_errors' => true]]);
	$out = file_get_contents($url, false, $ctx);
	preg_match('/ (\d{3}) /', $http_response_header[0], $m);
	echo "status " . $m[1] . "\n";
	return ['code' => (int) $m[1]];
}
`

// phpHarness loads the must-use plugin with the few WordPress functions herald_send calls,
// wp_remote_post done with PHP's own HTTP stream.
const phpHarness = phpHead + `function add_action() {}
function is_wp_error($x) { return $x === false; }
function wp_remote_retrieve_response_code($r) { return $r['code']; }
function wp_schedule_single_event() { echo "retry scheduled\n"; }
` + phpRemotePost + `require getenv('HERALD_PLUGIN');
herald_send('publish', file_get_contents(getenv('HERALD_BODY')), getenv('HERALD_MSG_ID') ?: 'msg_php_1', 0);
`

// The WordPress plugin's signature is accepted by herald (needs php; skipped without it).
func TestWordPressPluginSignatureAccepted(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (apt-get install php-cli): the plugin's signing is not exercised")
	}
	e := newHookEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	dir := t.TempDir()
	harness := filepath.Join(dir, "harness.php")
	if err := os.WriteFile(harness, []byte(phpHarness), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
	body, _ := filepath.Abs("../ingest/testdata/wordpress-post.json")
	run := func(secret string) string {
		cmd := exec.Command(php, harness)
		cmd.Env = append(os.Environ(), "HERALD_URL="+srv.URL+"/v1/hooks/wordpress", "HERALD_SECRET="+secret, "HERALD_PLUGIN="+plugin, "HERALD_BODY="+body)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("php: %v\n%s", err, out)
		}
		return string(out)
	}
	if out := run(wpSecret); !strings.Contains(out, "status 202") {
		t.Fatalf("plugin send: %s", out)
	}
	if !e.articleExists("wp-news.example.com-4711") {
		t.Fatal("the plugin's post was not queued")
	}
	// A wrong secret is refused, and a 401 is not retried.
	if out := run("whsec_" + "d3JvbmctLXNlY3JldC0td3JvbmctLXNlY3JldA=="); !strings.Contains(out, "status 401") || strings.Contains(out, "retry scheduled") {
		t.Fatalf("plugin with the wrong secret: %s", out)
	}
}

// While a secret is rotated the plugin holds the new and the old one ("whsec_new whsec_old") and
// signs each event with both, so herald, on either secret, accepts it (needs php).
func TestWordPressPluginSignsWithEverySecretWhileRotating(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		t.Skip("php is not installed (apt-get install php-cli): the plugin's signing is not exercised")
	}
	e := newHookEnv(t)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	dir := t.TempDir()
	harness := filepath.Join(dir, "harness.php")
	if err := os.WriteFile(harness, []byte(phpHarness), 0o600); err != nil {
		t.Fatal(err)
	}
	plugin, _ := filepath.Abs("../deploy/wordpress/herald.php")
	post := []byte(`{"id":4712,"status":"publish","link":"https://news.example.com/?p=4712","title":{"rendered":"تدوير المفتاح"}}`)
	body := filepath.Join(dir, "post.json")
	if err := os.WriteFile(body, post, 0o600); err != nil {
		t.Fatal(err)
	}
	const newSecret = "whsec_" + "bmV3LXNlY3JldC1mb3ItdGhlLXdvcmRwcmVzcy1wbHVnaW4="
	for i, secret := range []string{newSecret + " " + wpSecret, wpSecret + "  " + newSecret} {
		cmd := exec.Command(php, harness)
		cmd.Env = append(os.Environ(), "HERALD_URL="+srv.URL+"/v1/hooks/wordpress", "HERALD_SECRET="+secret,
			"HERALD_PLUGIN="+plugin, "HERALD_BODY="+body, fmt.Sprintf("HERALD_MSG_ID=msg_rotate_%d", i))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("php: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "status 202") {
			t.Fatalf("plugin holding two secrets (%d): %s", i, out)
		}
	}
	if !e.articleExists("wp-news.example.com-4712") {
		t.Fatal("the post signed during the rotation was not queued")
	}
}

// A message whose webhook-id a request still being processed holds is answered 503 (retry
// later: the first may fail and free the id), not refused for good.
func TestWebhookIDInProgressIs503(t *testing.T) {
	e := newHookEnv(t)
	if err := e.rdb.Set(context.Background(), "herald:whid:{cms}:msg_busy", "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	art := []byte(`{"url":"https://news.example.com/busy","title":"قيد المعالجة"}`)
	code, out := e.do("/v1/articles", art, signStandard(t, cmsSecret, "msg_busy", e.now, art))
	if code != http.StatusServiceUnavailable || !strings.Contains(fmt.Sprint(out["error"]), "still being processed") {
		t.Fatalf("same id while in progress: %d %v, want 503", code, out)
	}
	if e.articleExists(mustID(t, "https://news.example.com/busy")) {
		t.Fatal("queued while the first request held the id")
	}
}

// The plugin installed on a site with years of articles: an editor's correction of a post from
// last month (an update event of a post herald never had) is not posted as news. A post
// backdated when it is first published (a publish event) goes out, and so does the update of a
// recent post whose publish herald missed.
func TestWordPressEditOfAnOldPostHeraldNeverHadIsNotPosted(t *testing.T) {
	e := newHookEnv(t)
	send := func(id int, event string, published time.Time) (int, map[string]any) {
		t.Helper()
		post := []byte(fmt.Sprintf(`{"id":%d,"status":"publish","date_gmt":%q,"link":"https://news.example.com/?p=%d","title":{"rendered":"خبر قديم"}}`,
			id, published.UTC().Format("2006-01-02T15:04:05"), id))
		h := signStandard(t, wpSecret, fmt.Sprintf("msg_%s_%d", event, id), e.now, post)
		h.Set("X-Herald-Event", event)
		return e.do("/v1/hooks/wordpress", post, h)
	}
	lastMonth := time.Now().Add(-30 * 24 * time.Hour)
	if code, out := send(31, "update", lastMonth); code != http.StatusOK || out["ignored"] == nil {
		t.Fatalf("edit of last month's post: %d %v, want 200 ignored", code, out)
	}
	if e.articleExists("wp-news.example.com-31") {
		t.Fatal("an edit of an old post herald never had was queued")
	}
	if code, out := send(32, "publish", lastMonth); code != http.StatusAccepted {
		t.Fatalf("a backdated post published now: %d %v, want 202", code, out)
	}
	if code, out := send(33, "update", time.Now().Add(-2*time.Hour)); code != http.StatusAccepted {
		t.Fatalf("update of a post published two hours ago that herald missed: %d %v, want 202", code, out)
	}
	// An old post herald has (published before): its edit is the usual update, a duplicate.
	if code, out := send(32, "update", lastMonth); code != http.StatusAccepted || out["deliveries"].([]any)[0].(map[string]any)["duplicate"] != true {
		t.Fatalf("edit of an old post herald has: %d %v, want 202 duplicate", code, out)
	}
}
