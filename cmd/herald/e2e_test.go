package main

// End-to-end tests: the real herald binary or command against a real redis-server and the fake
// Telegram Bot API (channels/telegram/telegramfake).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"herald/channels/telegram/telegramfake"
	"herald/internal/redistest"
)

const testToken = "e2e-api-token-0123456789"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// heraldBinary builds cmd/herald once per test run.
func heraldBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "herald")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type stack struct {
	t      *testing.T
	rdb    *redis.Client
	redis  string
	fake   *telegramfake.Server
	config string
	addr   string
}

func newStack(t *testing.T) *stack {
	t.Helper()
	rdb, srv := redistest.Start(t)
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	s := &stack{t: t, rdb: rdb, redis: "redis://" + srv.Addr + "/" + fmt.Sprint(rdb.Options().DB), fake: fake, addr: freeAddr(t)}
	s.config = filepath.Join(t.TempDir(), "herald.yaml")
	doc := fmt.Sprintf(`redis:
  url: %q
http:
  addr: %q
  api_token: %q
log:
  level: debug
worker:
  concurrency: 1
  send_timeout: 2s
  lease_duration: 3s
  shutdown_timeout: 10s
  poll_interval: 100ms
channels:
  - name: tg
    kind: telegram
    settings: &tg
      token: %q
      chat_id: "@%s"
      api_endpoint: %q
  # tg2 only gets articles that name it: a post there proves the worker is live while tg must
  # stay silent.
  - name: tg2
    kind: telegram
    settings: *tg
routes:
  - channels: [tg]
`, s.redis, s.addr, testToken, telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint())
	if err := os.WriteFile(s.config, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a running `herald serve`.
type proc struct {
	cmd  *exec.Cmd
	logs *lockedWriter
	done chan error
}

func (p *proc) output() string { return p.logs.String() }

// waitExit returns a channel closed once the process has exited (its exit error is kept).
func (p *proc) waitExit() <-chan struct{} {
	c := make(chan struct{})
	go func() {
		err := <-p.done
		p.done <- err
		close(c)
	}()
	return c
}

func (s *stack) serve() *proc {
	s.t.Helper()
	cmd := exec.Command(heraldBinary(s.t), "serve", "--config", s.config)
	// The config file is the only source: drop the caller's REDIS_URL and HERALD_* settings.
	cmd.Env = append(filterEnv(os.Environ()), "HERALD_API_TOKEN="+testToken)
	logs := &bytes.Buffer{}
	lw := &lockedWriter{w: logs}
	cmd.Stdout, cmd.Stderr = lw, lw
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: lw, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if s.t.Failed() {
			s.t.Logf("herald serve output:\n%s", lw.String())
		}
	})
	s.waitReady(p)
	return p
}

func filterEnv(env []string) []string {
	var out []string
	for _, e := range env {
		if !strings.HasPrefix(e, "REDIS_URL=") && !strings.HasPrefix(e, "HERALD_") {
			out = append(out, e)
		}
	}
	return out
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.(*bytes.Buffer).String()
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (s *stack) waitReady(p *proc) {
	s.t.Helper()
	waitUntil(s.t, 20*time.Second, "herald ready", func() bool {
		select {
		case err := <-p.done:
			p.done <- err
			s.t.Fatalf("herald serve exited before it was ready (%v):\n%s", err, p.output())
		default:
		}
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(25 * time.Millisecond) // polling a condition, bounded by the deadline
	}
}

// request calls the API with the test token; headers override (an empty value deletes).
func (s *stack) request(method, path, body string, headers map[string]string) (int, map[string]any) {
	s.t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testToken)
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (s *stack) post(body string, headers map[string]string) (int, map[string]any) {
	s.t.Helper()
	return s.request(http.MethodPost, "/v1/articles", body, headers)
}

func (s *stack) call(method, path string) (int, map[string]any) {
	s.t.Helper()
	return s.request(method, path, "", nil)
}

func (s *stack) status(id string) map[string]any {
	s.t.Helper()
	_, out := s.call(http.MethodGet, "/v1/articles/"+id)
	return out
}

func deliveryStatus(st map[string]any) string {
	ds, _ := st["deliveries"].([]any)
	if len(ds) != 1 {
		return ""
	}
	d, _ := ds[0].(map[string]any)
	v, _ := d["status"].(string)
	return v
}

// runCLI runs a herald subcommand in-process.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetIn(strings.NewReader(stdin))
	root.SetArgs(args)
	code = reportError(&errb, root.ExecuteContext(context.Background())) // as main does
	return out.String(), errb.String(), code
}

func (s *stack) redisKeys() []string {
	keys, err := s.rdb.Keys(context.Background(), "*").Result()
	if err != nil {
		s.t.Fatal(err)
	}
	return keys
}

// dataKeys are the Redis keys that hold articles, deliveries and their tasks: every key but the
// ones a running worker writes about itself on its own schedule (asynq's server and worker
// registrations, the per-channel wake-up bell, herald's liveness key), which appear while serve
// starts whatever a request did.
func (s *stack) dataKeys() []string {
	var out []string
	for _, k := range s.redisKeys() {
		switch {
		case k == "asynq:queues", k == "asynq:servers", k == "asynq:workers",
			strings.HasPrefix(k, "asynq:servers:"), strings.HasPrefix(k, "asynq:workers:"),
			strings.Contains(k, ":bell}"), strings.HasPrefix(k, "herald:alive:"),
			// A paced channel's sender lease, which the running process takes and renews on
			// its own clock: process state like herald:alive, not work anyone enqueued.
			strings.HasPrefix(k, "herald:sender:"):
			continue
		}
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

const sampleArticle = `{"id":"zel-2024-10-13","url":"https://news.example.com/world/zelensky-north-korea","title":"زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي","summary":"اتهم الرئيس الأوكراني كوريا الشمالية بإرسال قوات إلى الجيش الروسي.","tags":["أوكرانيا","كوريا الشمالية"],"category":"الدفاع و الامن","language":"ar"}`

func TestPublishTwiceThroughAPIAndCLIPostsOnce(t *testing.T) {
	s := newStack(t)
	p := s.serve()
	code, body := s.post(sampleArticle, nil)
	if code != http.StatusAccepted || body["id"] != "zel-2024-10-13" {
		t.Fatalf("POST: %d %v", code, body)
	}
	// The same article again through the CLI, straight into Redis.
	out, errOut, exit := runCLI(t, sampleArticle, "publish", "--config", s.config, "-")
	if exit != 0 {
		t.Fatalf("herald publish: exit %d: %s", exit, errOut)
	}
	if !strings.Contains(out, `"duplicate": true`) {
		t.Fatalf("CLI publish should report the delivery as a duplicate:\n%s", out)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return deliveryStatus(s.status("zel-2024-10-13")) == "sent" })
	// And once more after it was sent, then a new article behind it on the same one-slot worker:
	// once that is out, a (wrong) second post of the first would be out too.
	if _, _, exit := runCLI(t, sampleArticle, "publish", "--config", s.config, "-"); exit != 0 {
		t.Fatal("third publish failed")
	}
	if code, _ := s.post(`{"id":"after","url":"https://news.example.com/after","title":"خبر لاحق"}`, nil); code != 202 {
		t.Fatal("publishing the follow-up article failed")
	}
	waitUntil(t, 15*time.Second, "follow-up sent", func() bool { return deliveryStatus(s.status("after")) == "sent" })
	var msgs []telegramfake.Message
	for _, m := range s.fake.Messages() {
		if strings.Contains(m.Plain, "زيلينسكي") {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) != 1 || len(s.fake.Messages()) != 2 {
		t.Fatalf("fake Telegram received %d posts of the article (%d in all), want exactly 1 (2)", len(msgs), len(s.fake.Messages()))
	}
	if !strings.Contains(msgs[0].Plain, "زيلينسكي") || msgs[0].ParseMode != "HTML" {
		t.Fatalf("unexpected post: %+v", msgs[0])
	}
	st := s.status("zel-2024-10-13")
	d := st["deliveries"].([]any)[0].(map[string]any)
	if d["remote_id"] != fmt.Sprint(msgs[0].MessageID) || !strings.HasPrefix(fmt.Sprint(d["post_url"]), "https://t.me/herald_fake/") {
		t.Fatalf("delivery record does not match the post: %v", d)
	}
	// herald status prints the same record.
	sout, serr, exit := runCLI(t, "", "status", "--config", s.config, "zel-2024-10-13")
	if exit != 0 || !strings.Contains(sout, "sent") || !strings.Contains(sout, "https://t.me/herald_fake/") {
		t.Fatalf("herald status: exit %d\n%s\n%s", exit, sout, serr)
	}
	// A wrong token on the API is answered, and neither secret reaches the (debug-level) log.
	if code, _ := s.post(sampleArticle, map[string]string{"Authorization": "Bearer " + testToken + "x"}); code != 401 {
		t.Fatalf("wrong token: %d", code)
	}
	out = p.output()
	if !strings.Contains(out, `"status":"sent"`) {
		t.Fatalf("the delivery line is missing from the log:\n%s", out)
	}
	for _, secret := range []string{testToken, telegramfake.DefaultToken} {
		if strings.Contains(out, secret) {
			t.Fatalf("a secret reached the log:\n%s", out)
		}
	}
}

func TestSIGTERMDuringSendLosesAndDuplicatesNothing(t *testing.T) {
	s := newStack(t)
	p := s.serve()
	s.fake.Hold() // the first send stays in flight until Release
	ids := []string{"sig-1", "sig-2", "sig-3"}
	for _, id := range ids {
		body := fmt.Sprintf(`{"id":%q,"url":"https://news.example.com/%s","title":"خبر عاجل %s"}`, id, id, id)
		if code, out := s.post(body, nil); code != http.StatusAccepted {
			t.Fatalf("POST %s: %d %v", id, code, out)
		}
	}
	waitUntil(t, 10*time.Second, "a send in flight", func() bool { return len(s.sends()) > 0 })
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Release the held request only once the shutdown has begun.
	waitUntil(t, 10*time.Second, "shutdown to begin", func() bool { return strings.Contains(p.output(), "signal received") })
	s.fake.Release()
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("herald serve exited with %v after SIGTERM\n%s", err, p.output())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("herald serve did not stop after SIGTERM")
	}
	if n := len(s.fake.Messages()); n < 1 {
		t.Fatal("the send in flight at SIGTERM was lost")
	}
	states := map[string]int{}
	for _, id := range ids {
		st := deliveryStatus(statusFromRedis(t, s, id))
		states[st]++
		if st == "sending" {
			t.Fatalf("%s left in sending after a graceful stop", id)
		}
	}
	// One worker slot: the held send finished and committed, the others wait in the queue.
	if states["sent"] != 1 || states["pending"] != 2 {
		t.Fatalf("after SIGTERM want 1 sent and 2 pending, have %v", states)
	}
	// A restarted process delivers the rest, exactly once each.
	s.serve()
	for _, id := range ids {
		waitUntil(t, 15*time.Second, id+" sent", func() bool { return deliveryStatus(s.status(id)) == "sent" })
	}
	per := map[string]int{}
	for _, m := range s.fake.Messages() {
		for _, id := range ids {
			if strings.Contains(m.Plain, "خبر عاجل "+id) {
				per[id]++
			}
		}
	}
	for _, id := range ids {
		if per[id] != 1 {
			t.Fatalf("%s posted %d times, want 1 (%v)", id, per[id], per)
		}
	}
}

// statusFromRedis reads a delivery record with the CLI while no server runs.
func statusFromRedis(t *testing.T, s *stack, id string) map[string]any {
	out, errOut, exit := runCLI(t, "", "status", "--json", "--config", s.config, id)
	if exit != 0 {
		t.Fatalf("herald status %s: %s", id, errOut)
	}
	var st map[string]any
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestBadInputOverHTTPEnqueuesNothing(t *testing.T) {
	s := newStack(t)
	s.serve()
	before := s.dataKeys()
	huge := `{"url":"https://e.com/x","title":"t","body":"` + strings.Repeat("a", 5<<20) + `"}`
	bigBody := `{"url":"https://e.com/x","title":"t","body":"` + strings.Repeat("ب", 600_000) + `"}`
	cases := []struct {
		name    string
		body    string
		headers map[string]string
		code    int
		want    string
	}{
		{"no token", sampleArticle, map[string]string{"Authorization": ""}, 401, "bearer token"},
		{"wrong token", sampleArticle, map[string]string{"Authorization": "Bearer nope"}, 401, "bearer token"},
		{"not json", sampleArticle, map[string]string{"Content-Type": "text/plain"}, 415, "application/json"},
		{"broken json", `{"url":`, nil, 400, "decoding JSON"},
		{"unknown field", `{"url":"https://e.com","title":"t","titel":"x"}`, nil, 400, "unknown field"},
		{"trailing data", `{"url":"https://e.com","title":"t"} {}`, nil, 400, "trailing data"},
		{"too large payload", huge, nil, 413, "larger than"},
		{"body over 1 MiB", bigBody, nil, 413, "body"},
		{"invalid fields", `{"url":"ftp://e.com/x","title":"","priority":42,"channels":["nope"]}`, nil, 422, "url"},
		{"unknown channel", `{"url":"https://e.com/x","title":"t","channels":["nope"]}`, nil, 422, "not a configured channel"},
		{"bad utf8", "{\"url\":\"https://e.com/x\",\"title\":\"\xff\xfe\"}", nil, 422, "UTF-8"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := s.post(tc.body, tc.headers)
			if code != tc.code {
				t.Fatalf("status %d, want %d: %v", code, tc.code, out)
			}
			if b, _ := json.Marshal(out); !strings.Contains(string(b), tc.want) {
				t.Fatalf("answer %s does not mention %q", b, tc.want)
			}
		})
	}
	// 422 lists every field error at once.
	_, out := s.post(`{"url":"ftp://e.com/x","title":"","priority":42}`, nil)
	if errs, _ := out["errors"].([]any); len(errs) != 3 {
		t.Fatalf("want 3 field errors (url, title, priority), got %v", out["errors"])
	}
	if after := s.dataKeys(); !slices.Equal(after, before) {
		t.Fatalf("bad input wrote to Redis: keys before %v, after %v", before, after)
	}
	if len(s.sends()) != 0 {
		t.Fatal("bad input reached Telegram")
	}
}

func TestBadInputOverCLIEnqueuesNothing(t *testing.T) {
	s := newStack(t)
	before := s.dataKeys()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"url":"not a url","title":"","tags":[]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, exit := runCLI(t, "", "publish", "--config", s.config, bad)
	if exit != 2 || !strings.Contains(errOut, "url: must be an absolute http or https URL") || !strings.Contains(errOut, "title: required") || !strings.Contains(errOut, "nothing was queued") {
		t.Fatalf("exit %d, stderr:\n%s", exit, errOut)
	}
	_, errOut, exit = runCLI(t, `{"url":`, "publish", "--config", s.config, "-")
	if exit != 2 || !strings.Contains(errOut, "decoding JSON") {
		t.Fatalf("broken JSON: exit %d, stderr:\n%s", exit, errOut)
	}
	_, errOut, exit = runCLI(t, `{"url":"https://e.com/a","title":"t","channels":["missing"]}`, "publish", "--config", s.config, "-")
	if exit != 2 || !strings.Contains(errOut, `"missing" is not a configured channel`) {
		t.Fatalf("unknown channel: exit %d, stderr:\n%s", exit, errOut)
	}
	t.Setenv("HERALD_CONFIG", "")
	_, errOut, exit = runCLI(t, sampleArticle, "publish", "-")
	if exit != 2 || !strings.Contains(errOut, "no channels are configured") {
		t.Fatalf("no config: exit %d, stderr:\n%s", exit, errOut)
	}
	_, errOut, exit = runCLI(t, "", "publish", "--config", s.config, filepath.Join(t.TempDir(), "missing.json"))
	if exit == 0 || !strings.Contains(errOut, "no such file") {
		t.Fatalf("missing file: exit %d, stderr:\n%s", exit, errOut)
	}
	if after := s.dataKeys(); !slices.Equal(after, before) {
		t.Fatalf("bad CLI input wrote to Redis: keys before %v, after %v", before, after)
	}
}

func TestDemoJSON(t *testing.T) {
	out, errOut, exit := runCLI(t, "", "demo", "--json", "--addr", "127.0.0.1:0", "--wait", "30s")
	if exit != 0 {
		t.Fatalf("herald demo --json: exit %d\n%s\n%s", exit, out, errOut)
	}
	var sum demoSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if sum.Articles < 1 || sum.Deliveries < sum.Articles || sum.Sent != sum.Deliveries || sum.Duplicates != 0 || sum.Failed+sum.Unknown != 0 {
		t.Fatalf("summary %+v", sum)
	}
}

func TestServeRefusesToRunWithoutRedisOrToken(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_API_TOKEN", "")
	s := newStack(t)
	cfg := strings.Replace(readFile(t, s.config), fmt.Sprintf("api_token: %q", testToken), `api_token: ""`, 1)
	os.WriteFile(s.config, []byte(cfg), 0o600)
	_, errOut, exit := runCLI(t, "", "serve", "--config", s.config)
	if exit == 0 || !strings.Contains(errOut, "http.api_token") {
		t.Fatalf("serve without a token: exit %d: %s", exit, errOut)
	}
}

// TestServeRefusesAWeakAPIToken: the admin token the deploy examples ship as a placeholder
// (deploy/systemd/herald.env.example, deploy/kubernetes/secret.example.yaml), which anyone can read,
// and a token short enough to guess are refused by herald serve and failed by herald doctor,
// naming the setting and never quoting the token.
func TestServeRefusesAWeakAPIToken(t *testing.T) {
	placeholder := func(file, prefix string) string {
		for _, l := range strings.Split(readFile(t, file), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), prefix); ok {
				return strings.TrimSpace(v)
			}
		}
		t.Fatalf("%s has no %s line", file, prefix)
		return ""
	}
	s := newStack(t)
	for _, tok := range []string{
		placeholder("../../deploy/systemd/herald.env.example", "HERALD_API_TOKEN="),
		placeholder("../../deploy/kubernetes/secret.example.yaml", "HERALD_API_TOKEN:"),
		"news2026",
	} {
		t.Setenv("HERALD_API_TOKEN", tok)
		t.Setenv("REDIS_URL", "redis://127.0.0.1:1/0") // never reached: the token is refused first
		_, errOut, exit := runCLI(t, "", "serve", "--config", s.config)
		if exit == 0 || !strings.Contains(errOut, "http.api_token") || strings.Contains(errOut, tok) {
			t.Errorf("serve with HERALD_API_TOKEN=%s: exit %d: %s", tok, exit, errOut)
		}
		t.Setenv("REDIS_URL", s.redis)
		out, errOut, exit := runCLI(t, "", "doctor", "--config", s.config)
		if exit != 1 || !strings.Contains(out, "http.api_token") || !strings.Contains(out, "refuse to start") || strings.Contains(out+errOut, tok) {
			t.Errorf("doctor with HERALD_API_TOKEN=%s: exit %d:\n%s%s", tok, exit, out, errOut)
		}
	}
}

func readFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func nopLogger() *zap.Logger { return zap.NewNop() }

// The process is killed (SIGKILL) after Telegram accepted the post and before herald recorded
// it. After a restart the delivery is parked as unknown and never posted twice. This takes about
// a minute: asynq hands a dead worker's task back once its 30 s lease has run out, when its
// recoverer next runs (at start and then every minute).
func TestKilledAfterTelegramAcceptedParksUnknown(t *testing.T) {
	s := newStack(t)
	p := s.serve()
	// The kill waits for the publish's answer: the post can reach Telegram before herald has
	// written its 202, and a kill then would cut the publish's answer too (EOF).
	posted := make(chan struct{})
	s.fake.OnAccept(func(telegramfake.Message) {
		select {
		case <-posted:
		case <-time.After(10 * time.Second):
		}
		// The post is in the channel; the answer never reaches herald.
		_ = p.cmd.Process.Kill()
		<-p.waitExit()
	})
	code, out := s.post(`{"id":"killed","url":"https://news.example.com/killed","title":"خبر قبل الانهيار"}`, nil)
	close(posted)
	if code != 202 {
		t.Fatalf("POST: %d %v", code, out)
	}
	select {
	case <-p.waitExit():
	case <-time.After(15 * time.Second):
		t.Fatal("herald was not killed: the post never reached Telegram")
	}
	s.fake.OnAccept(nil)
	if st := deliveryStatus(statusFromRedis(t, s, "killed")); st != "sending" {
		t.Fatalf("after the kill the record says %q, want sending", st)
	}
	s.serve()
	waitUntil(t, 90*time.Second, "the delivery to be parked as unknown", func() bool {
		return deliveryStatus(s.status("killed")) == "unknown"
	})
	// The worker is live and the parked delivery stays parked: a new article goes out, the
	// killed one is not posted again.
	if code, _ := s.post(`{"id":"after-kill","url":"https://news.example.com/after-kill","title":"خبر بعد الانهيار"}`, nil); code != 202 {
		t.Fatal("POST after restart failed")
	}
	waitUntil(t, 15*time.Second, "the next article", func() bool { return deliveryStatus(s.status("after-kill")) == "sent" })
	n := 0
	for _, m := range s.fake.Messages() {
		if strings.Contains(m.Plain, "خبر قبل الانهيار") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the killed delivery was posted %d times, want 1", n)
	}
}
