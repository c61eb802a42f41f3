package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/article"
	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
	"herald/web"
)

// An unknown article or delivery exits 3 through --server, as it does against Redis.
func TestRemoteNotFoundExits3(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)
	for _, args := range [][]string{
		{"status", "--server", srv.URL, "nope"},
		{"retry", "--server", srv.URL, "nope", "tg"},
		{"repost", "--server", srv.URL, "nope", "tg"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != 3 || !strings.Contains(errOut, "404") {
			t.Errorf("%v: exit %d (%s), want 3", args, code, errOut)
		}
	}
	// Other client errors keep exit 2.
	if _, errOut, code := runCLI(t, "", "pause", "--server", srv.URL, "nope"); code != 2 {
		t.Errorf("pause of an unknown channel: exit %d (%s), want 2", code, errOut)
	}
}

// Through --server every command says what the answer said: retract and correct gave a 401
// without the token hint the other commands give, and an answer that is not herald's JSON (a
// proxy's 502 page) printed an empty message.
func TestRemoteErrorsSayWhatTheAnswerSaid(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	t.Setenv("HERALD_API_TOKEN", "not-the-token-0123456789")
	if _, errOut, code := runCLI(t, "", "retract", "--server", srv.URL, "a1"); code != 2 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "not one this herald accepts") {
		t.Errorf("retract with a wrong token: exit %d %s, want 2 and the token hint", code, errOut)
	}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>\n<h1>502 Bad Gateway</h1>\n<p>upstream herald is down</p></body></html>\n"))
	}))
	defer proxy.Close()
	for _, args := range [][]string{
		{"status", "--server", proxy.URL, "a1"},
		{"retract", "--server", proxy.URL, "a1"},
		{"pause", "--server", proxy.URL, "tg"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != 1 || !strings.Contains(errOut, "upstream herald is down") {
			t.Errorf("%v through a proxy's 502 page: exit %d %q, want 1 and the page's text", args, code, errOut)
		}
	}
}

// publish --server --channel sends to that channel only, for a file saved with a byte order
// mark too (the API accepts one): the mark made the CLI send the document without its
// channels, and the article went to every channel.
func TestRemotePublishChannelWithByteOrderMark(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n  - {name: tg2, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)
	doc := "\ufeff" + `{"id":"bom1","url":"https://news.example.com/bom1","title":"خبر"}`
	out, errOut, code := runCLI(t, doc, "publish", "--server", srv.URL, "--channel", "tg2", "-")
	if code != 0 || !strings.Contains(out, `"tg2"`) || strings.Contains(out, `"tg"`) {
		t.Fatalf("publish --channel tg2 of a document with a byte order mark: exit %d %s %s, want tg2 only", code, out, errOut)
	}
}

// A HERALD_API_TOKEN ending in a newline (a Kubernetes secret, an env file) works through
// --server, as the server trims tokens: it failed before sending, as "invalid header field
// value … is herald serve running?".
func TestRemoteTokenWithTrailingNewline(t *testing.T) {
	rdb, _ := redistest.Start(t)
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	t.Setenv("HERALD_API_TOKEN", testToken+"\n")
	if out, errOut, code := runCLI(t, "", "channels", "--server", srv.URL, "--json"); code != 0 || !strings.Contains(out, `"tg"`) {
		t.Fatalf("channels --server with a token ending in a newline: exit %d %s %s", code, out, errOut)
	}
}

// The commands that change something print their answer with --server as without it (indented
// JSON), as the README says they print the same either way: with --server they printed the
// API's one-line JSON.
func TestRemoteWritesPrintAsWithoutServer(t *testing.T) {
	s := newStack(t)
	s.serve()
	t.Setenv("HERALD_API_TOKEN", testToken)
	server := "http://" + s.addr
	doc := `{"id":"%s","url":"https://news.example.com/%[1]s","title":"خبر","channels":["tg2"]}`
	local, errOut, code := runCLI(t, fmt.Sprintf(doc, "w-local"), "publish", "--config", s.config, "-")
	if code != 0 {
		t.Fatalf("publish: exit %d %s", code, errOut)
	}
	remote, errOut, code := runCLI(t, fmt.Sprintf(doc, "w-remot"), "publish", "--server", server, "-")
	if code != 0 {
		t.Fatalf("publish --server: exit %d %s", code, errOut)
	}
	if strings.ReplaceAll(remote, "w-remot", "w-local") != local {
		t.Errorf("publish prints\n%s\nfrom Redis, and with --server\n%s", local, remote)
	}
	waitUntil(t, 10*time.Second, "sent", func() bool { return deliveryStatus(s.status("w-remot")) == "sent" })
	for _, args := range [][]string{{"repost", "w-remot", "tg2"}, {"retract", "w-local"}} {
		out, errOut, code := runCLI(t, "", append(args, "--server", server)...)
		if code != 0 || !strings.HasPrefix(out, "{\n  \"") || !strings.HasSuffix(out, "}\n") {
			t.Errorf("%v --server: exit %d %s, printed\n%s\nwant indented JSON", args, code, errOut, out)
		}
	}
}

// retry --all-unknown of a channel that is not configured exits 2 with --server as without it
// (as pause does): through --server it exited 3, "not found", like an unknown article.
func TestRemoteRetryAllUnknownOfAnUnknownChannelExits2(t *testing.T) {
	s := newStack(t)
	s.serve()
	t.Setenv("HERALD_API_TOKEN", testToken)
	for _, mode := range [][]string{{"--config", s.config}, {"--server", "http://" + s.addr}} {
		args := append([]string{"retry", "--channel", "nope", "--all-unknown"}, mode...)
		if _, errOut, code := runCLI(t, "", args...); code != 2 || !strings.Contains(errOut, "nope") {
			t.Errorf("%v: exit %d %s, want 2", args, code, errOut)
		}
	}
}

// herald log --server --channel with a name the server has neither configured nor in its log (a
// typo) exits 2 and names the configured channels, as it does against Redis; it printed nothing
// and exited 0, and with --follow waited for ever while the real channel's deliveries went by.
// A channel removed from the config still shows its history.
func TestRemoteLogRefusesAnUnknownChannel(t *testing.T) {
	rdb, _ := redistest.Start(t)
	old, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n  - {name: tg-old, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	a := article.Article{ID: "gone-1", URL: "https://news.example.com/gone-1", Title: "خبر قديم", Channels: []string{"tg-old"}}
	if _, err := (&ingest.Publisher{Config: old, Broker: b}).Publish(context.Background(), &a); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse([]byte("channels:\n  - {name: tg, kind: telegram}\n  - {name: tg2, kind: telegram}\n"))
	if err != nil {
		t.Fatal(err)
	}
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	t.Setenv("HERALD_API_TOKEN", testToken)

	out, errOut, code := runCLI(t, "", "log", "--server", srv.URL, "--channel", "tg-mian")
	if code != 2 || !strings.Contains(errOut, `"tg-mian" is not a configured channel (configured: tg, tg2)`) || out != "" {
		t.Errorf("log --server --channel tg-mian: exit %d, stdout %q, stderr %q; want 2 naming the configured channels", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "", "log", "--server", srv.URL, "--channel", "tg-old")
	if code != 0 || !strings.Contains(out, "gone-1") {
		t.Errorf("log --server --channel tg-old (removed, with history): exit %d %q %s", code, out, errOut)
	}
	if out, errOut, code = runCLI(t, "", "log", "--server", srv.URL, "--channel", "tg2"); code != 0 || out != "" {
		t.Errorf("log --server --channel tg2 (configured, no history): exit %d %q %s", code, out, errOut)
	}
}

// herald log --follow --server with nothing printed yet asked for the changes since this
// machine's clock: a server whose clock is behind (or a laptop's ahead) stamps the first
// changes before it, and they never showed. It now asks from where the history asked.
func TestRemoteLogFollowDoesNotUseTheLocalClock(t *testing.T) {
	const behind = 30 * time.Second // the server's clock behind this machine's
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/deliveries" {
			http.NotFound(w, r)
			return
		}
		entries := []queue.LogEntry{}
		if calls.Add(1) > 1 { // a change made after herald log started, on the server's clock
			e := queue.LogEntry{ID: "1-0", Time: time.Now().Add(-behind).UTC(), ArticleID: "skew-1", Channel: "tg", Kind: "telegram", Status: "sent", Attempt: 1}
			since, err := time.Parse(time.RFC3339Nano, r.URL.Query().Get("since"))
			if err != nil || !e.Time.Before(since) { // the API's since: inclusive
				entries = append(entries, e)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(queue.LogPage{Entries: entries})
	}))
	t.Cleanup(api.Close)
	lines, stderr := followRemoteLog(t, api.URL)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("herald log --follow ended: %s", stderr.String())
			}
			if strings.Contains(l, `"article_id":"skew-1"`) {
				return
			}
		case <-deadline:
			t.Fatalf("the change made after herald log --follow started never showed (%d requests); stderr: %s", calls.Load(), stderr.String())
		}
	}
}

// herald log --follow --server keeps following through a passing failure of the API (a 503
// while its Redis fails over, a proxy's 502 during a rolling restart): it ended, exit 1, at the
// first one, though the API says a 503 is safe to retry. It says so on stderr and goes on.
func TestRemoteLogFollowOutlastsA503(t *testing.T) {
	var calls atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch n := calls.Add(1); {
		case n == 1:
			_ = json.NewEncoder(w).Encode(queue.LogPage{Entries: []queue.LogEntry{}})
		case n == 2:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":"could not read the delivery log"}`)
		default:
			e := queue.LogEntry{ID: "1-0", Time: time.Now().UTC(), ArticleID: "after-503", Channel: "tg", Kind: "telegram", Status: "sent", Attempt: 1}
			_ = json.NewEncoder(w).Encode(queue.LogPage{Entries: []queue.LogEntry{e}})
		}
	}))
	t.Cleanup(api.Close)
	lines, stderr := followRemoteLog(t, api.URL)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("herald log --follow ended at the API's 503: %s", stderr.String())
			}
			if strings.Contains(l, `"article_id":"after-503"`) {
				if s := stderr.String(); !strings.Contains(s, "503") || !strings.Contains(s, "trying again") {
					t.Errorf("stderr does not say the 503 was passed over: %q", s)
				}
				return
			}
		case <-deadline:
			t.Fatalf("no line after the 503 (%d requests); stderr: %s", calls.Load(), stderr.String())
		}
	}
}

// followRemoteLog starts herald log --follow --json --server url, killed at the test's end, and
// returns its output lines (closed when it ends) and its stderr.
func followRemoteLog(t *testing.T, url string) (<-chan string, *lockedWriter) {
	t.Helper()
	cmd := exec.Command(heraldBinary(t), "log", "--follow", "--json", "--server", url)
	cmd.Env = append(filterEnv(os.Environ()), "HERALD_API_TOKEN="+testToken)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &lockedWriter{w: &bytes.Buffer{}}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines, stderr
}
