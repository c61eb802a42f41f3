package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
)

// `herald log --follow` writing into a pipe shows, plainly (no colour codes), a delivery that
// happens after it started; --json lines carry every documented field.
func TestLogFollowPipedShowsLaterDelivery(t *testing.T) {
	s := newStack(t)
	s.serve()
	for _, asJSON := range []bool{false, true} {
		args := []string{"log", "--follow", "--channel", "tg", "--config", s.config}
		if asJSON {
			args = append(args, "--json")
		}
		cmd := exec.Command(heraldBinary(t), args...)
		cmd.Env = filterEnv(os.Environ())
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr lockedWriter
		stderr.w = &bytes.Buffer{}
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		// Started means blocked on its stream read: only then is a delivery "after it started".
		waitUntil(t, 10*time.Second, "herald log blocking on XREAD", func() bool {
			list, _ := s.rdb.ClientList(context.Background()).Result()
			return strings.Contains(list, "cmd=xread")
		})
		id := "follow-1"
		if asJSON {
			id = "follow-2"
		}
		if code, body := s.post(`{"id":"`+id+`","url":"https://news.example.com/`+id+`","title":"خبر عاجل"}`, nil); code != 202 {
			t.Fatalf("POST: %d %v", code, body)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		deadline := time.After(15 * time.Second)
		for found := false; !found; {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("herald log ended: %s", stderr.String())
				}
				if strings.Contains(l, "\x1b[") {
					t.Fatalf("colour codes in piped output: %q", l)
				}
				if !strings.Contains(l, id) || !strings.Contains(l, "sent") {
					continue
				}
				found = true
				if !asJSON {
					if !strings.Contains(l, "tg") || !strings.Contains(l, "https://t.me/") || !strings.Contains(l, "خبر عاجل") {
						t.Fatalf("line: %q", l)
					}
					continue
				}
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("not JSON: %q", l)
				}
				for _, k := range []string{"time", "article_id", "channel", "kind", "status", "attempt", "remote_id", "post_url", "error", "title"} {
					if _, ok := m[k]; !ok {
						t.Fatalf("JSON line without %q: %s", k, l)
					}
				}
				if m["status"] != "sent" || m["kind"] != "telegram" || m["title"] != "خبر عاجل" || m["post_url"] == "" {
					t.Fatalf("JSON line: %s", l)
				}
			case <-deadline:
				t.Fatalf("no sent line for %s; stderr: %s", id, stderr.String())
			}
		}
		_ = cmd.Process.Kill()
	}
	// Without --follow: the history, oldest first, and the process ends.
	out, errOut, code := runCLI(t, "", "log", "--config", s.config, "--status", "sent")
	if code != 0 || strings.Index(out, "follow-1") > strings.Index(out, "follow-2") || strings.Count(out, "\n") != 2 {
		t.Fatalf("log: exit %d %q %s", code, out, errOut)
	}
}

// serve checks each channel at start: a wrong token is a warning in the log and a failed check
// in /readyz, and herald still serves; doctor says the same with what to do, and exits 1.
func TestStartupCheckAndDoctor(t *testing.T) {
	s := newStack(t)
	out, errOut, code := runCLI(t, "", "doctor", "--config", s.config)
	// No serve runs yet: nobody holds the paced channels' sender leases (a warning, not a failure).
	if code != 0 || !strings.Contains(out, "OK    channel tg") || !strings.Contains(out, "OK    redis            version") ||
		!strings.Contains(out, "no process holds the sender lease") {
		t.Fatalf("doctor with everything right: exit %d\n%s%s", code, out, errOut)
	}
	s.fake.SetToken("42:revoked-token")
	p := s.serve()
	var rd struct {
		Status   string `json:"status"`
		Channels []struct {
			Channel, Status, Error string
		} `json:"channels"`
	}
	waitUntil(t, 10*time.Second, "the start-up check in /readyz", func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_ = json.NewDecoder(resp.Body).Decode(&rd)
		return resp.StatusCode == 200 && len(rd.Channels) == 2 && rd.Channels[0].Status == "failed"
	})
	if !strings.Contains(rd.Channels[0].Error, "401 Unauthorized") || strings.Contains(rd.Channels[0].Error, telegramfake.DefaultToken) {
		t.Fatalf("readyz check: %+v", rd.Channels)
	}
	waitUntil(t, 5*time.Second, "the warning", func() bool {
		return strings.Contains(p.output(), "channel check failed")
	})
	if strings.Contains(p.output(), telegramfake.DefaultToken) {
		t.Fatal("the bot token is in the serve log")
	}
	out, _, code = runCLI(t, "", "doctor", "--config", s.config)
	// Now serve holds them, and doctor names it.
	if code != 1 || !strings.Contains(out, "FAIL  channel tg") || !strings.Contains(out, "@BotFather") || strings.Contains(out, telegramfake.DefaultToken) ||
		!strings.Contains(out, "sent for by") || strings.Contains(out, "no process holds the sender lease") {
		t.Fatalf("doctor with a revoked token: exit %d\n%s", code, out)
	}
}

// herald stats counts what the log recorded, per channel.
func TestStatsCounts(t *testing.T) {
	s := newStack(t)
	s.serve()
	s.fake.FailNext(1, 400, "Bad Request: message is too long")
	for _, id := range []string{"st-1", "st-2"} {
		if code, body := s.post(`{"id":"`+id+`","url":"https://news.example.com/`+id+`","title":"t"}`, nil); code != 202 {
			t.Fatalf("POST: %d %v", code, body)
		}
		waitUntil(t, 10*time.Second, id+" final", func() bool { st := deliveryStatus(s.status(id)); return st == "sent" || st == "failed" })
	}
	out, errOut, code := runCLI(t, "", "stats", "--json", "--config", s.config)
	var ov struct {
		Channels []struct {
			Channel  string
			LastHour struct{ Sent, Failed int } `json:"last_hour"`
			Latency  struct{ Samples int }      `json:"latency_last_hour"`
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &ov) != nil || len(ov.Channels) != 2 {
		t.Fatalf("stats: exit %d %s %s", code, out, errOut)
	}
	tg := ov.Channels[0]
	if tg.Channel != "tg" || tg.LastHour.Sent != 1 || tg.LastHour.Failed != 1 || tg.Latency.Samples != 1 {
		t.Fatalf("tg: %+v", tg)
	}
	if out, _, code := runCLI(t, "", "stats", "--config", s.config); code != 0 || !strings.Contains(out, "SENT 1H/24H") || !strings.Contains(out, "1/1") {
		t.Fatalf("stats table: %s", out)
	}
}

// sends are the fake's requests that post: serve's start-up check (getMe, getChat) is not one.
func (s *stack) sends() []telegramfake.Request {
	var out []telegramfake.Request
	for _, r := range s.fake.Requests() {
		if r.Method == "sendMessage" || r.Method == "sendPhoto" {
			out = append(out, r)
		}
	}
	return out
}
