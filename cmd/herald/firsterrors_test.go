package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"herald/channels"
	"herald/config"
	"herald/ingest"
	"herald/internal/redistest"
	"herald/queue"
	"herald/web"
)

// writeConfig writes a config file for the CLI and returns its path.
func writeConfig(t *testing.T, doc string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// closedAddr is a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// The errors a newcomer meets first say what to do next, not only what went wrong; none needs
// a Redis.
func TestFirstErrorsSayWhatToDo(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("HERALD_API_TOKEN", "")
	channels := "channels:\n  - {name: tg, kind: telegram, settings: {chat_id: 1}}\n  - {name: tg2, kind: telegram, settings: {chat_id: 2}}\n"
	noRedis := writeConfig(t, channels)
	downRedis := writeConfig(t, "redis: {url: \"redis://"+closedAddr(t)+"/0\"}\n"+channels)
	badYAML := writeConfig(t, "channels:\n  - name: tg\n   kind: telegram\n")
	article := `{"url":"https://news.example.com/a/1","title":"عنوان"}`
	missing := filepath.Join(t.TempDir(), "no-such-article.json")

	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		exit  int
		want  []string
	}{
		{"serve without a config file", "", []string{"serve"}, 1,
			[]string{"no config file: pass --config FILE or set HERALD_CONFIG", "herald.example.yaml", "herald demo"}},
		{"no redis.url", "", []string{"status", "--config", noRedis, "a1"}, 1,
			[]string{"redis.url (env REDIS_URL) is not set", "`herald demo`", "--server"}},
		{"redis not running", "", []string{"status", "--config", downRedis, "a1"}, 1,
			[]string{"connecting to redis at 127.0.0.1:", "(redis.url, env REDIS_URL)", "is redis-server running there?"}},
		{"bad YAML", "", []string{"status", "--config", badYAML, "a1"}, 1,
			[]string{"config " + badYAML + ": yaml: line ", "check the indentation and quoting at or after that line"}},
		{"unknown channel in --channel", article, []string{"publish", "--config", noRedis, "--channel", "tg-main", "-"}, 2,
			[]string{`stdin: invalid article, nothing was queued:`, `channels[0]: "tg-main" is not a configured channel (configured: tg, tg2)`}},
		{"unknown channel in the article", `{"url":"https://news.example.com/a/1","title":"عنوان","channels":["tg","x"]}`,
			[]string{"publish", "--config", noRedis, "-"}, 2,
			[]string{`channels[1]: "x" is not a configured channel (configured: tg, tg2)`}},
		{"bad article JSON", `{"url":`, []string{"publish", "--config", noRedis, "-"}, 2,
			[]string{"stdin: article: decoding JSON", "(nothing was queued)"}},
		{"misspelt article field", `{"url":"https://news.example.com/a/1","title":"t","chanels":["tg"]}`, []string{"publish", "--config", noRedis, "-"}, 2,
			[]string{`unknown field "chanels"`, "(nothing was queued)"}},
		// A file that is not there is input to fix (2), not a failure to run again (1), as for
		// herald correct and herald format: a script that retries on 1 retried it for ever.
		{"publish a missing file", "", []string{"publish", "--config", noRedis, missing}, 2,
			[]string{"open " + missing + ": no such file or directory"}},
		{"publish a directory", "", []string{"publish", "--config", noRedis, filepath.Dir(missing)}, 2,
			[]string{"reading " + filepath.Dir(missing) + ": ", "is a directory"}},
		{"route a missing file", "", []string{"route", "--config", noRedis, missing}, 2,
			[]string{"open " + missing + ": no such file or directory"}},
		// What is missing is the config, not Redis (README: without a config they exit 2 saying
		// so); they said "redis.url is not set", exit 1, where REDIS_URL was not set either.
		{"channels without a config", "", []string{"channels"}, 2,
			[]string{"no channels are configured: pass --config FILE (or set HERALD_CONFIG)"}},
		{"stats without a config", "", []string{"stats"}, 2,
			[]string{"no channels are configured: pass --config FILE (or set HERALD_CONFIG)"}},
		{"feeds without a config", "", []string{"feeds"}, 2,
			[]string{"no config file: herald feeds lists the config's feeds"}},
		// A --server without its scheme is a usage mistake (2) said plainly; it was exit 1 with
		// a URL parser's message or "is herald serve running at ://?".
		{"--server without a scheme", "", []string{"status", "--server", "127.0.0.1:8080", "a1"}, 2,
			[]string{"--server (or HERALD_SERVER) is not a URL like http://127.0.0.1:8080"}},
		{"--server a bare host", "", []string{"log", "--server", "herald.example.com"}, 2,
			[]string{"--server (or HERALD_SERVER) is not a URL like http://127.0.0.1:8080"}},
		{"--server a token pasted by mistake", article, []string{"publish", "--server", "tok-3f9a1c0e7b2d", "-"}, 2,
			[]string{"--server (or HERALD_SERVER) is not a URL like http://127.0.0.1:8080"}},
		{"--server not running", article, []string{"publish", "--server", "http://" + closedAddr(t), "-"}, 1,
			[]string{"is herald serve (or herald demo) running at http://127.0.0.1:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, exit := runCLI(t, tc.stdin, tc.args...)
			if strings.Contains(errOut, "tok-3f9a1c0e7b2d") {
				t.Errorf("the error repeats what --server was given (it may be a token): %s", errOut)
			}
			if exit != tc.exit {
				t.Errorf("exit %d, want %d: %s", exit, tc.exit, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr %q\ndoes not say %q", errOut, w)
				}
			}
		})
	}
}

// publish --channel sends to the named channels only, in Redis and through --server alike, and
// an unknown name is refused with the names that would do.
func TestPublishChannelFlag(t *testing.T) {
	rdb, _ := redistest.Start(t)
	t.Setenv("HERALD_CONFIG", "")
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("HERALD_API_TOKEN", "")
	doc := fmt.Sprintf("redis: {url: \"redis://%s/%d\"}\nchannels:\n  - {name: tg, kind: telegram}\n  - {name: tg2, kind: telegram}\n  - {name: tg3, kind: telegram}\n",
		rdb.Options().Addr, rdb.Options().DB)
	path := writeConfig(t, doc)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()

	channelsOf := func(t *testing.T, out string) []string {
		t.Helper()
		var res struct {
			Deliveries []struct{ Channel string }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		var names []string
		for _, d := range res.Deliveries {
			names = append(names, d.Channel)
		}
		slices.Sort(names)
		return names
	}
	// The flag replaces the article's own list; a <b> in the title survives the rewrite.
	article := `{"url":"https://news.example.com/a/%d","title":"عنوان <b>","channels":["tg"]}`
	out, errOut, exit := runCLI(t, fmt.Sprintf(article, 1), "publish", "--config", path, "--channel", "tg2,tg3", "-")
	if got := channelsOf(t, out); exit != 0 || !slices.Equal(got, []string{"tg2", "tg3"}) {
		t.Fatalf("in Redis: exit %d, channels %v (%s), want tg2 and tg3", exit, got, errOut)
	}

	t.Setenv("HERALD_API_TOKEN", testToken)
	out, errOut, exit = runCLI(t, fmt.Sprintf(article, 2), "publish", "--server", srv.URL, "--channel", "tg3", "--channel", "tg", "-")
	if got := channelsOf(t, out); exit != 0 || !slices.Equal(got, []string{"tg", "tg3"}) {
		t.Fatalf("through --server: exit %d, channels %v (%s), want tg and tg3", exit, got, errOut)
	}
	out, errOut, exit = runCLI(t, fmt.Sprintf(article, 3), "publish", "--server", srv.URL, "--channel", "tg-main", "-")
	if exit != 2 || out != "" || !strings.Contains(errOut, `"tg-main" is not a configured channel (configured: tg, tg2, tg3)`) {
		t.Fatalf("unknown channel through --server: exit %d, out %q, stderr %q", exit, out, errOut)
	}

	// Without the token, the error says where the token comes from.
	t.Setenv("HERALD_API_TOKEN", "")
	_, errOut, exit = runCLI(t, fmt.Sprintf(article, 4), "publish", "--server", srv.URL, "-")
	if exit != 2 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "HERALD_API_TOKEN is not set") {
		t.Fatalf("no token: exit %d, stderr %q", exit, errOut)
	}
	t.Setenv("HERALD_API_TOKEN", "not-the-token")
	_, errOut, _ = runCLI(t, fmt.Sprintf(article, 4), "publish", "--server", srv.URL, "-")
	if !strings.Contains(errOut, "the token in HERALD_API_TOKEN is not one this herald accepts") {
		t.Fatalf("wrong token: stderr %q", errOut)
	}
}

// With --server the read commands print what they print from Redis: the same table, and with
// --json the same JSON (that of the API). They used to print the API's raw JSON either way.
func TestServerFlagPrintsAsRedisDoes(t *testing.T) {
	rdb, _ := redistest.Start(t)
	t.Setenv("HERALD_CONFIG", "")
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("HERALD_API_TOKEN", testToken)
	doc := fmt.Sprintf("redis: {url: \"redis://%s/%d\"}\nchannels:\n  - {name: tg, kind: telegram}\n  - {name: hook, kind: webhook, rate: unlimited}\n",
		rdb.Options().Addr, rdb.Options().DB)
	path := writeConfig(t, doc)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	if _, errOut, exit := runCLI(t, `{"id":"s1","url":"https://news.example.com/s1","title":"خبر"}`, "publish", "--config", path, "-"); exit != 0 {
		t.Fatal(errOut)
	}
	for _, args := range [][]string{{"resume", "tg"}, {"pause", "--reason", "review", "tg"}} {
		local, errOut, exit := runCLI(t, "", append(slices.Clone(args), "--config", path)...)
		if exit != 0 {
			t.Fatal(errOut)
		}
		if args[0] == "pause" {
			// The same pause again would say the first one is kept: start from a running channel.
			if err := b.Resume(context.Background(), "tg"); err != nil {
				t.Fatal(err)
			}
		}
		remote, errOut, exit := runCLI(t, "", append(slices.Clone(args), "--server", srv.URL)...)
		if exit != 0 || remote != local {
			t.Errorf("%v prints %q from Redis, %q with --server (%s)", args, local, remote, errOut)
		}
	}
	// stats carries the time it was read.
	dropTime := regexp.MustCompile(`(?m)^  "time": ".*",\n`)
	for _, args := range [][]string{{"status", "s1"}, {"channels"}, {"stats"}, {"feeds"}, {"audit"}} {
		for _, asJSON := range []bool{false, true} {
			a := args
			if asJSON {
				a = append(slices.Clone(args), "--json")
			}
			local, errOut, exit := runCLI(t, "", append(slices.Clone(a), "--config", path)...)
			if exit != 0 {
				t.Fatalf("%v: %s", a, errOut)
			}
			remote, errOut, exit := runCLI(t, "", append(slices.Clone(a), "--server", srv.URL)...)
			if exit != 0 {
				t.Fatalf("%v --server: %s", a, errOut)
			}
			local, remote = dropTime.ReplaceAllString(local, ""), dropTime.ReplaceAllString(remote, "")
			if local != remote {
				t.Errorf("%v prints\n%s\nfrom Redis, and with --server\n%s", a, local, remote)
			}
			if !asJSON && strings.HasPrefix(remote, "{") {
				t.Errorf("%v --server printed JSON without --json:\n%s", a, remote)
			}
		}
	}
}

// syncBuffer is a bytes.Buffer a command may write while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// herald log --server reads the API's delivery log and prints it as the log from Redis; with
// --follow it prints each new change once.
func TestLogThroughServer(t *testing.T) {
	rdb, _ := redistest.Start(t)
	t.Setenv("HERALD_CONFIG", "")
	t.Setenv("REDIS_URL", "")
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("HERALD_API_TOKEN", testToken)
	t.Setenv("NO_COLOR", "1")
	doc := fmt.Sprintf("redis: {url: \"redis://%s/%d\"}\nchannels:\n  - {name: tg, kind: telegram}\n  - {name: hook, kind: webhook, rate: unlimited}\n",
		rdb.Options().Addr, rdb.Options().DB)
	path := writeConfig(t, doc)
	cfg, err := config.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	b := queue.NewBroker(rdb, queue.Options{})
	api := &web.Server{Publisher: &ingest.Publisher{Config: cfg, Broker: b}, Broker: b, Token: testToken, Logger: zap.NewNop(), Channels: cfgChannels(cfg)}
	srv := httptest.NewServer(api.Handler())
	defer srv.Close()
	publish := func(id string) {
		t.Helper()
		if _, errOut, exit := runCLI(t, `{"id":"`+id+`","url":"https://news.example.com/`+id+`","title":"خبر `+id+`"}`, "publish", "--config", path, "-"); exit != 0 {
			t.Fatal(errOut)
		}
	}
	for _, id := range []string{"l1", "l2", "l3"} {
		publish(id)
	}
	for _, args := range [][]string{{"log"}, {"log", "--json"}, {"log", "--limit", "2"}, {"log", "--channel", "hook"},
		{"log", "--article", "l2", "--json"}, {"log", "--since", "1h"}, {"log", "--status", "sent"}} {
		local, errOut, exit := runCLI(t, "", append(slices.Clone(args), "--config", path)...)
		if exit != 0 {
			t.Fatalf("%v: %s", args, errOut)
		}
		remote, errOut, exit := runCLI(t, "", append(slices.Clone(args), "--server", srv.URL)...)
		if exit != 0 {
			t.Fatalf("%v --server: %s", args, errOut)
		}
		if local != remote {
			t.Errorf("%v prints\n%s\nfrom Redis, and with --server\n%s", args, local, remote)
		}
	}
	if out, _, _ := runCLI(t, "", "log", "--server", srv.URL); strings.Count(out, "\n") != 6 || !strings.Contains(out, "l3") {
		t.Errorf("log --server: want the 6 changes, have\n%s", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	root := newRootCmd()
	var out syncBuffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs([]string{"log", "-f", "--channel", "hook", "--server", srv.URL})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	waitUntil(t, 5*time.Second, "the history", func() bool { return strings.Count(out.String(), "\n") == 3 })
	publish("l4")
	publish("l5")
	waitUntil(t, 10*time.Second, "l4 and l5 followed", func() bool { return strings.Contains(out.String(), "l5") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 5 || !strings.Contains(lines[3], "l4") || !strings.Contains(lines[4], "l5") {
		t.Errorf("log -f --server: want l1..l5 on hook once each, in order; have\n%s", out.String())
	}
}

// A usage mistake exits 2, as the README's exit codes say, and shows how the command is used;
// an error a command prints itself (format, count) is printed once.
func TestUsageMistakesExit2AndSayHow(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"pause"}, []string{"accepts 1 arg(s), received 0", "usage: herald pause CHANNEL [flags] (herald pause --help says more)"}},
		{[]string{"retry", "a1"}, []string{"usage: herald retry ARTICLE_ID CHANNEL"}},
		{[]string{"publish", "--chanel", "tg", "a.json"}, []string{"unknown flag: --chanel", "usage: herald publish [FILE|-] [flags]"}},
		{[]string{"publish", "a.json", "b.json"}, []string{"accepts at most 1 arg(s), received 2", "usage: herald publish"}},
		{[]string{"statz"}, []string{`unknown command "statz" for "herald"`}},
		{[]string{"format", "--channel", "telegram", "--all"}, []string{"if any flags in the group [channel all] are set none of the others can be"}},
		{[]string{"count", "--platform", "myspace", "hi"}, []string{`unknown platform "myspace"`}},
		// --log-level failed only in serve, once its logger was built (exit 1), and other
		// commands took any word.
		{[]string{"route", "--log-level", "verbose", "-"}, []string{`--log-level "verbose" is not one of debug, info, warn, error`}},
		{[]string{"demo", "--json", "--log-level", "trace"}, []string{`--log-level "trace" is not one of debug, info, warn, error`}},
		// demo ran the sandbox and ignored the operator's config: all sent, none of it theirs.
		{[]string{"demo", "--json", "--config", "herald.yaml"}, []string{"demo runs the embedded sandbox with its own channels and fakes: --config is not used"}},
		{[]string{"format", "--channel", "myspace", "-"}, []string{`unknown channel "myspace"`}},
	} {
		_, errOut, exit := runCLI(t, `{"url":"https://news.example.com/a","title":"t"}`, tc.args...)
		if exit != 2 {
			t.Errorf("%v: exit %d, want 2: %s", tc.args, exit, errOut)
		}
		for _, w := range tc.want {
			if n := strings.Count(errOut, w); n != 1 {
				t.Errorf("%v: stderr says %q %d times, want once:\n%s", tc.args, w, n, errOut)
			}
		}
	}
}

// herald count measures every platform its help and its error offer, and its help gives each
// one's unit: websub was offered ("want one of …, websub, …") and refused as unknown, and the
// help said nothing of threads' and linkedin's units.
func TestCountOffersOnlyWhatItCounts(t *testing.T) {
	cmd, _, err := newRootCmd().Find([]string{"count"})
	if err != nil {
		t.Fatal(err)
	}
	offered := strings.Split(strings.TrimPrefix(cmd.Flags().Lookup("platform").Usage, "platform kind: "), ", ")
	_, errOut, _ := runCLI(t, "", "count", "--platform", "myspace", "hi")
	if !strings.Contains(errOut, "want one of "+strings.Join(offered, ", ")+"\n") {
		t.Errorf("the error offers another list than --platform's %v:\n%s", offered, errOut)
	}
	long := strings.Join(strings.Fields(cmd.Long), " ")
	for _, k := range offered {
		if out, errOut, code := runCLI(t, "", "count", "--platform", k, "--unit", "خبر"); code != 0 || out == "" {
			t.Errorf("count --platform %s: exit %d %q %s", k, code, out, errOut)
		}
		if !regexp.MustCompile(`\b` + k + `\b[^.;]*:`).MatchString(long) {
			t.Errorf("count --help does not give %s's unit:\n%s", k, cmd.Long)
		}
	}
	for _, k := range channels.Kinds {
		if _, _, code := runCLI(t, "", "count", "--platform", string(k), "x"); code == 0 != slices.Contains(offered, string(k)) {
			t.Errorf("count --platform %s exits %d, offered: %v", k, code, slices.Contains(offered, string(k)))
		}
	}
}

// herald channels and herald stats without a config (a new shell, HERALD_CONFIG unset) say so
// and exit 2, as herald publish does: they printed an empty table, and herald channels called
// every channel with a delivery waiting "not in the config" and told the operator to add it back.
func TestChannelsAndStatsWithoutAConfigSaySo(t *testing.T) {
	rdb, srv := redistest.Start(t)
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("REDIS_URL", fmt.Sprintf("redis://%s/%d", srv.Addr, rdb.Options().DB))
	cfg := writeConfig(t, "channels:\n  - {name: tg-main, kind: telegram, settings: {chat_id: 1}}\n")
	t.Setenv("HERALD_CONFIG", "")
	if _, errOut, code := runCLI(t, `{"url":"https://news.example.com/a","title":"خبر"}`, "publish", "--config", cfg, "-"); code != 0 {
		t.Fatalf("publish: exit %d %s", code, errOut)
	}
	for _, cmd := range []string{"channels", "stats", "feeds"} {
		out, errOut, code := runCLI(t, "", cmd)
		if code != 2 || !strings.Contains(errOut, "pass --config FILE (or set HERALD_CONFIG)") || strings.Contains(out, "not in the config") || out != "" {
			t.Errorf("herald %s without a config: exit %d\n%s\n%s", cmd, code, out, errOut)
		}
		if cmd == "feeds" {
			if _, errOut, code := runCLI(t, "", cmd, "--config", cfg); code != 0 {
				t.Errorf("herald feeds --config (no feeds configured): exit %d %s", code, errOut)
			}
			continue
		}
		if out, errOut, code := runCLI(t, "", cmd, "--config", cfg); code != 0 || !strings.Contains(out, "tg-main") {
			t.Errorf("herald %s --config: exit %d\n%s\n%s", cmd, code, out, errOut)
		}
	}
}

// herald log shows who decided a change (drop, retract, …): the README promises `by` in its
// --json lines, and GET /v1/deliveries had it, but herald log printed neither it nor the name.
func TestLogShowsWhoDecided(t *testing.T) {
	rdb, srv := redistest.Start(t)
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("REDIS_URL", fmt.Sprintf("redis://%s/%d", srv.Addr, rdb.Options().DB))
	cfg := writeConfig(t, "channels:\n  - {name: tg-main, kind: telegram, settings: {chat_id: 1}}\n")
	if _, errOut, code := runCLI(t, `{"id":"by-1","url":"https://news.example.com/by-1","title":"خبر"}`, "publish", "--config", cfg, "-"); code != 0 {
		t.Fatalf("publish: exit %d %s", code, errOut)
	}
	if _, errOut, code := runCLI(t, "", "drop", "--config", cfg, "--by", "مكتب-الأخبار", "by-1", "tg-main"); code != 0 {
		t.Fatalf("drop: exit %d %s", code, errOut)
	}
	out, errOut, code := runCLI(t, "", "log", "--config", cfg, "--json", "--status", "failed")
	var line map[string]any
	if err := json.Unmarshal([]byte(out), &line); code != 0 || err != nil || line["by"] != "مكتب-الأخبار" {
		t.Errorf("log --json: exit %d %v\n%s%s", code, err, out, errOut)
	}
	out, errOut, code = runCLI(t, "", "log", "--config", cfg, "--status", "failed")
	if code != 0 || !strings.Contains(out, "  by مكتب-الأخبار  error: dropped by") {
		t.Errorf("log: exit %d\n%s%s", code, out, errOut)
	}
	out, _, _ = runCLI(t, "", "log", "--config", cfg, "--json", "--status", "pending")
	if strings.Contains(out, `"by"`) {
		t.Errorf("a change nobody decided carries by:\n%s", out)
	}
}

// herald log --channel with a name that is neither configured nor in the log (a typo) exits 2
// naming the configured channels: it printed nothing, and with --follow waited for ever. A
// channel taken out of the config still shows its history.
func TestLogRefusesAnUnknownChannel(t *testing.T) {
	rdb, srv := redistest.Start(t)
	t.Setenv("HERALD_SERVER", "")
	t.Setenv("REDIS_URL", fmt.Sprintf("redis://%s/%d", srv.Addr, rdb.Options().DB))
	cfg := writeConfig(t, "channels:\n  - {name: tg-main, kind: telegram, settings: {chat_id: 1}}\n")
	if _, errOut, code := runCLI(t, `{"id":"log-1","url":"https://news.example.com/log-1","title":"خبر"}`, "publish", "--config", cfg, "-"); code != 0 {
		t.Fatalf("publish: exit %d %s", code, errOut)
	}
	for _, args := range [][]string{{"--channel", "tg-mian"}, {"--channel", "tg-mian", "--follow"}} {
		// --follow would wait for ever: give it 5 seconds.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		root := newRootCmd()
		var out, errb bytes.Buffer
		root.SetOut(&out)
		root.SetErr(&errb)
		root.SetArgs(append([]string{"log", "--config", cfg}, args...))
		code := reportError(&errb, root.ExecuteContext(ctx))
		cancel()
		if code != 2 || !strings.Contains(errb.String(), `"tg-mian" is not a configured channel (configured: tg-main)`) {
			t.Errorf("log %v: exit %d\n%s%s", args, code, out.String(), errb.String())
		}
	}
	if out, errOut, code := runCLI(t, "", "log", "--config", cfg, "--channel", "tg-main"); code != 0 || !strings.Contains(out, "log-1") {
		t.Errorf("log --channel tg-main: exit %d\n%s%s", code, out, errOut)
	}
	other := writeConfig(t, "channels:\n  - {name: tg-new, kind: telegram, settings: {chat_id: 1}}\n")
	if out, errOut, code := runCLI(t, "", "log", "--config", other, "--channel", "tg-main"); code != 0 || !strings.Contains(out, "log-1") {
		t.Errorf("log --channel of a channel removed from the config: exit %d\n%s%s", code, out, errOut)
	}
}

// herald doctor prints each error of a config with several on a line of its own, under the
// first: it printed them as one line joined by a literal \n.
func TestDoctorPrintsEachConfigErrorOnItsLine(t *testing.T) {
	t.Setenv("REDIS_URL", "")
	cfg := writeConfig(t, "worker: {send_timeout: 30}\nchannels:\n  - {name: tg-main, kind: telegram, burst: 2.5}\n")
	out, errOut, code := runCLI(t, "", "doctor", "--config", cfg)
	lines := strings.Split(out, "\n")
	if code != 1 || len(lines) < 3 || strings.Contains(out, `\n`) ||
		!strings.HasPrefix(lines[0], "FAIL  config ") || !strings.Contains(lines[0], "worker.send_timeout") ||
		lines[1] != strings.Repeat(" ", 23)+"line 3: channels[0] (tg-main).burst: want a whole number" {
		t.Errorf("doctor: exit %d\n%s%s", code, out, errOut)
	}
}
