package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// herald retract against a running herald serve and the Telegram fake: the CLI on Redis (by id,
// --channel) and through --server (by URL) delete the posts; a second retract deletes nothing;
// an unknown article exits 3 both ways.
func TestRetractCLI(t *testing.T) {
	s := newStack(t)
	s.serve()
	if code, body := s.post(sampleArticle, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	const byURL = "https://news.example.com/corrections/one"
	if code, body := s.post(`{"url":"`+byURL+`","title":"خبر سيصحح"}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "both sent", func() bool {
		return deliveryStatus(s.status("zel-2024-10-13")) == "sent" && len(s.fake.Messages()) == 2
	})
	out, errOut, exit := runCLI(t, "", "retract", "--config", s.config, "--channel", "tg", "zel-2024-10-13")
	if exit != 0 || !strings.Contains(out, `"result": "retracted"`) {
		t.Fatalf("retract: exit %d\n%s\n%s", exit, out, errOut)
	}
	if n := len(s.fake.Messages()); n != 1 {
		t.Fatalf("%d messages left, want 1", n)
	}
	if got := deliveryStatus(s.status("zel-2024-10-13")); got != "retracted" {
		t.Fatalf("status %q, want retracted", got)
	}
	out, errOut, exit = runCLI(t, "", "retract", "--config", s.config, "zel-2024-10-13")
	if exit != 0 || !strings.Contains(out, `"result": "already"`) {
		t.Fatalf("second retract: exit %d\n%s\n%s", exit, out, errOut)
	}

	t.Setenv("HERALD_API_TOKEN", testToken)
	server := "http://" + s.addr
	out, errOut, exit = runCLI(t, "", "retract", "--server", server, byURL+"?utm_source=x")
	if exit != 0 || !strings.Contains(out, `"result": "retracted"`) || len(s.fake.Messages()) != 0 {
		t.Fatalf("retract --server by URL: exit %d\n%s\n%s (%d messages left)", exit, out, errOut, len(s.fake.Messages()))
	}
	var deletes int
	for _, r := range s.fake.Requests() {
		if r.Method == "deleteMessage" {
			deletes++
		}
	}
	if deletes != 2 {
		t.Fatalf("%d deleteMessage requests, want 2", deletes)
	}
	for _, args := range [][]string{
		{"retract", "--config", s.config, "nope"},
		{"retract", "--server", server, "nope"},
		{"retract", "--config", s.config, "--channel", "tg2", "zel-2024-10-13"},
	} {
		if _, errOut, code := runCLI(t, "", args...); code != 3 {
			t.Errorf("%v: exit %d (%s), want 3", args, code, errOut)
		}
	}
	if _, _, code := runCLI(t, "", "retract", "--config", s.config, "--channel", "nope", "zel-2024-10-13"); code != 2 {
		t.Errorf("unconfigured channel: exit %d, want 2", code)
	}
}

// herald retract --channel and herald correct --channel build only the channel named: a takedown
// on Telegram, from a machine that does not hold the X keys, failed on X's missing credentials
// before it touched Telegram. Without --channel every channel is still built (and that error
// still stops it: a whole-article retract must not skip a channel silently).
func TestRetractAndCorrectOneChannelNeedOnlyItsCredentials(t *testing.T) {
	s := newStack(t)
	s.serve()
	const link = "https://news.example.com/corrections/three"
	if code, body := s.post(`{"id":"one-channel","url":"`+link+`","title":"عنوان أول"}`, nil); code != http.StatusAccepted {
		t.Fatalf("POST: %d %v", code, body)
	}
	waitUntil(t, 15*time.Second, "sent", func() bool { return deliveryStatus(s.status("one-channel")) == "sent" })
	doc, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_TEST_NO_X_KEY", "")
	withX := strings.Replace(string(doc), "\nroutes:\n", "\n  - name: x-main\n    kind: x\n    settings: {consumer_key_env: HERALD_TEST_NO_X_KEY, consumer_secret: s, access_token: a, access_secret: b}\nroutes:\n", 1)
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	if err := os.WriteFile(cfg, []byte(withX), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := runCLI(t, "", "retract", "--config", cfg, "one-channel"); code == 0 || !strings.Contains(errOut, "x-main") {
		t.Fatalf("retract of every channel with x-main unbuildable: exit %d %s", code, errOut)
	}
	// An unknown article is exit 3 (README), before x-main's missing key is met: it was exit 1.
	for _, c := range []struct{ stdin, cmd string }{{"", "retract"}, {`{"id":"no-such","url":"https://news.example.com/no-such","title":"x"}`, "correct"}} {
		args := []string{c.cmd, "--config", cfg}
		if c.cmd == "retract" {
			args = append(args, "no-such")
		} else {
			args = append(args, "-")
		}
		if _, errOut, code := runCLI(t, c.stdin, args...); code != 3 {
			t.Errorf("%s of an unknown article with x-main unbuildable: exit %d %s, want 3", c.cmd, code, errOut)
		}
	}
	out, errOut, code := runCLI(t, `{"id":"one-channel","url":"`+link+`","title":"عنوان مصحح"}`, "correct", "--config", cfg, "--channel", "tg", "-")
	if code != 0 || !strings.Contains(out, `"result": "edited"`) {
		t.Fatalf("correct --channel tg: exit %d\n%s\n%s", code, out, errOut)
	}
	out, errOut, code = runCLI(t, "", "retract", "--config", cfg, "--channel", "tg", "one-channel")
	if code != 0 || !strings.Contains(out, `"result": "retracted"`) || len(s.fake.Messages()) != 0 {
		t.Fatalf("retract --channel tg: exit %d\n%s\n%s (%d messages left)", code, out, errOut, len(s.fake.Messages()))
	}
}
