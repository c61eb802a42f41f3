package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"herald/internal/leaktest"
	"herald/internal/redistest"
)

// TestNoSurfaceShowsASecret configures every channel kind (each WhatsApp gateway too) with
// recognisable secrets against loopback servers that answer 401 or 400 with the request quoted
// back, and reads everything an operator sees: herald doctor, herald channels, herald format
// --channel for each, then a running serve's API answers (the article with its deliveries,
// /v1/channels with pause reasons, /readyz with the start-up checks, the audit log), the
// dashboard's pages and serve's whole log. No secret, nor half of one, may show anywhere.
func TestNoSurfaceShowsASecret(t *testing.T) {
	rdb, srv := redistest.Start(t)
	s := &stack{t: t, rdb: rdb, redis: "redis://" + srv.Addr + "/" + fmt.Sprint(rdb.Options().DB), addr: freeAddr(t)}
	s.config = filepath.Join(t.TempDir(), "herald.yaml")
	var doc strings.Builder
	fmt.Fprintf(&doc, "redis:\n  url: %q\nhttp:\n  addr: %q\n  api_token: %q\nlog:\n  level: debug\nworker:\n  send_timeout: 5s\nchannels:\n", s.redis, s.addr, testToken)
	var names []string
	for _, m := range leaktest.Modes() {
		var suffix string
		switch m.Name {
		case "echo-401-obj":
			suffix = "auth"
		case "echo-400-text":
			suffix = "refused"
		default:
			continue
		}
		base, _ := leaktest.Start(t, m)
		for _, k := range leaktest.Kinds {
			name := k.Name + "-" + suffix
			names = append(names, name)
			fmt.Fprintf(&doc, "  - name: %s\n    kind: %s\n    max_attempts: 1\n    settings:\n", name, k.Kind)
			for _, l := range strings.Split(k.YAML(base, "timeout: 5s"), "\n") {
				doc.WriteString("      " + l + "\n")
			}
		}
	}
	if err := os.WriteFile(s.config, []byte(doc.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := append(leaktest.AllSecrets(), testToken)
	var seen strings.Builder
	show := func(what, text string) { fmt.Fprintf(&seen, "%s: %s\n", what, text) }

	out, errOut, _ := runCLI(t, "", "doctor", "--config", s.config)
	show("doctor", out+errOut)
	for _, n := range names {
		if !strings.Contains(out, "channel "+n) {
			t.Errorf("doctor does not report channel %s:\n%s%s", n, out, errOut)
		}
	}
	out, errOut, _ = runCLI(t, "", "channels", "--config", s.config)
	show("channels", out+errOut)
	for _, n := range names {
		out, errOut, _ = runCLI(t, formatSampleArticle, "format", "--config", s.config, "--channel", n, "-")
		show("format "+n, out+errOut)
	}

	// A refused setting: an endpoint copied with its bot token. doctor and serve refuse the
	// config by naming the setting, not by quoting it.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	badDoc := fmt.Sprintf("redis:\n  url: %q\nhttp:\n  api_token: %q\nchannels:\n  - name: tg\n    kind: telegram\n    settings:\n      token: %q\n      chat_id: '@leaknews'\n      api_endpoint: %q\n",
		s.redis, testToken, "1:a", "https://api.telegram.org/bot"+leaktest.AllSecrets()[0]+"/%s")
	if err := os.WriteFile(bad, []byte(badDoc), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runCLI(t, "", "doctor", "--config", bad)
	if code == 0 || !strings.Contains(out+errOut, "api_endpoint") {
		t.Errorf("doctor with a token in api_endpoint: exit %d\n%s%s", code, out, errOut)
	}
	show("doctor (bad config)", out+errOut)

	p := s.serve()
	chans, _ := json.Marshal(names)
	if code, body := s.post(`{"id":"leak-1","url":"https://news.example.com/a/leak-1","title":"عاجل: خبر","channels":`+string(chans)+`}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	// Every delivery was tried: it holds an error, or it is final.
	waitUntil(t, 60*time.Second, "every delivery tried", func() bool {
		ds, _ := s.status("leak-1")["deliveries"].([]any)
		if len(ds) != len(names) {
			return false
		}
		for _, d := range ds {
			m, _ := d.(map[string]any)
			if e, _ := m["error"].(string); e == "" && m["status"] != "sent" && m["status"] != "failed" && m["status"] != "unknown" {
				return false
			}
		}
		return true
	})
	for _, path := range []string{"/v1/articles/leak-1", "/v1/channels", "/readyz", "/v1/audit"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		show("GET "+path, fetchBody(t, http.DefaultClient, req))
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.PostForm("http://"+s.addr+"/dashboard/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, path := range []string{"/dashboard/", "/dashboard/articles/leak-1"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.addr+path, nil)
		page := fetchBody(t, c, req)
		if !strings.Contains(page, "leak-1") {
			t.Errorf("GET %s does not show the article: the dashboard was not read", path)
		}
		show("GET "+path, page)
	}
	show("serve log", p.output())

	all := seen.String()
	if sec, where, found := leaktest.Find(all, secrets); found {
		t.Fatalf("the secret %q shows: %s", sec, where)
	}
	// The failures reached what was read: redacted quotes of the requests, and paused channels.
	if !strings.Contains(all, "<redacted>") || !strings.Contains(all, "channel must pause") {
		t.Fatalf("the failures did not reach the surfaces read:\n%s", all)
	}
}

func fetchBody(t *testing.T, c *http.Client, req *http.Request) string {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, b)
}

// TestRedisURLErrorsNeverShowThePassword: a redis.url that does not parse is refused without
// any part of its password, whatever character in the password broke the parse (before,
// "invalid port \":pa\" after host" showed the password up to its "/", and a password with a
// space was quoted whole).
func TestRedisURLErrorsNeverShowThePassword(t *testing.T) {
	const pw = "S3cretRedisPassw0rd"
	for _, u := range []string{
		"redis://:" + pw[:9] + "/" + pw[9:] + "@127.0.0.1:6379/0",
		"redis://:" + pw[:9] + "#" + pw[9:] + "@127.0.0.1:6379/0",
		"redis://:" + pw[:9] + "?" + pw[9:] + "@127.0.0.1:6379/0",
		"redis://:" + pw[:9] + "%zz" + pw[9:] + "@127.0.0.1:6379/0",
		"redis://news:" + pw[:9] + " " + pw[9:] + "@127.0.0.1:6379/0",
		"redis://:" + pw + "@127.0.0.1:port/0",
		"redis://:" + pw + "@127.0.0.1:6379/abc",
	} {
		_, err := openRedis(context.Background(), u)
		if err == nil || !strings.Contains(err.Error(), "redis.url") {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if _, where, found := leaktest.Find(err.Error(), []string{pw, pw[:9], pw[9:]}); found {
			t.Errorf("%s: the error shows the password: %s", u, where)
		}
	}
}
