package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"herald/channels/telegram/telegramfake"
)

// herald serve with an admin block answers the admin bot's commands, audits them, and serves
// the audit through the CLI and the API; the token stays out of the log.
func TestServeRunsTheAdminBot(t *testing.T) {
	s := newStack(t)
	s.fake.SetMaxPollWait(200 * time.Millisecond)
	f, err := os.OpenFile(s.config, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "admin:\n  telegram:\n    token: %q\n    api_endpoint: %q\n    allowed_user_ids: [42]\n    language: en\n    poll_timeout: 1s\n",
		telegramfake.DefaultToken, s.fake.Endpoint())
	f.Close()
	p := s.serve()
	s.fake.PushText(42, 42, "editor", "/pause tg checking")
	waitUntil(t, 15*time.Second, "the bot's reply", func() bool {
		for _, m := range s.fake.Messages() {
			if m.Chat.ID == 42 && strings.Contains(m.Plain, "tg paused") {
				return true
			}
		}
		return false
	})
	s.fake.PushText(7, 7, "stranger", "/resume tg")
	waitUntil(t, 15*time.Second, "the refusal", func() bool {
		for _, m := range s.fake.Messages() {
			if m.Chat.ID == 7 && strings.Contains(m.Plain, "not allowed") {
				return true
			}
		}
		return false
	})
	out, errOut, exit := runCLI(t, "", "audit", "--json", "--config", s.config)
	var got struct {
		Entries []map[string]any `json:"entries"`
	}
	if exit != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Entries) != 2 {
		t.Fatalf("herald audit: exit %d %s %s", exit, out, errOut)
	}
	if e := got.Entries[1]; e["action"] != "/pause" || e["user_id"] != float64(42) || e["result"] != "paused" || e["allowed"] != true {
		t.Fatalf("audit entry %v", e)
	}
	if e := got.Entries[0]; e["action"] != "/resume" || e["allowed"] != false {
		t.Fatalf("audit entry %v", e)
	}
	code, body := s.call(http.MethodGet, "/v1/audit?n=1")
	if es, _ := body["entries"].([]any); code != 200 || len(es) != 1 || es[0].(map[string]any)["action"] != "/resume" {
		t.Fatalf("GET /v1/audit: %d %v", code, body)
	}
	if code, _ := s.call(http.MethodGet, "/v1/audit?n=0"); code != 400 {
		t.Fatalf("GET /v1/audit?n=0: %d", code)
	}
	if out, _, exit := runCLI(t, "", "audit", "--config", s.config); exit != 0 || !strings.Contains(out, "42 @editor") || !strings.Contains(out, "7 @stranger (refused)") {
		t.Fatalf("herald audit: %d %s", exit, out)
	}
	// Admin actions through the API and the CLI are audited too.
	if code, _ := s.call(http.MethodPost, "/v1/channels/tg/resume"); code != 200 {
		t.Fatalf("resume over the API: %d", code)
	}
	if _, errOut, exit := runCLI(t, "", "pause", "--config", s.config, "--reason", "night", "tg2"); exit != 0 {
		t.Fatalf("pause: %s", errOut)
	}
	out, _, _ = runCLI(t, "", "audit", "--json", "-n", "2", "--config", s.config)
	got.Entries = nil
	if json.Unmarshal([]byte(out), &got) != nil || len(got.Entries) != 2 {
		t.Fatalf("audit: %s", out)
	}
	cli, api := got.Entries[0], got.Entries[1]
	if cli["source"] != "cli" || cli["action"] != "pause" || cli["args"] != "tg2 night" || cli["result"] != "pause done" {
		t.Fatalf("CLI audit entry %v", cli)
	}
	if api["source"] != "api" || api["action"] != "resume" || api["result"] != "resumed" || !strings.HasPrefix(fmt.Sprint(api["client"]), "127.0.0.1:") {
		t.Fatalf("API audit entry %v", api)
	}
	if strings.Contains(p.output(), telegramfake.DefaultToken) {
		t.Fatal("the bot token is in the serve log")
	}
}

// With no admin block nothing of the bot starts.
func TestNoAdminBlockStartsNoBot(t *testing.T) {
	s := newStack(t)
	s.serve()
	if code, out := s.post(`{"id":"nb-1","url":"https://news.example.com/nb","title":"خبر"}`, nil); code != 202 {
		t.Fatalf("POST: %d %v", code, out)
	}
	waitUntil(t, 10*time.Second, "sent", func() bool { return deliveryStatus(s.status("nb-1")) == "sent" })
	for _, r := range s.fake.Requests() {
		// getMe and getChat are every channel's start-up check (serve), not the bot.
		if r.Method != "sendMessage" && r.Method != "getMe" && r.Method != "getChat" {
			t.Fatalf("request %s without an admin block", r.Method)
		}
	}
}

// An unknown delivery decided without Telegram: mark-sent from the CLI, drop over the API.
func TestMarkSentAndDropFromCLIAndAPI(t *testing.T) {
	s := newStack(t)
	s.serve()
	s.fake.FailNext(2, 504, "Gateway Timeout")
	for _, id := range []string{"dec-1", "dec-2"} {
		if code, out := s.post(`{"id":"`+id+`","url":"https://news.example.com/`+id+`","title":"خبر"}`, nil); code != 202 {
			t.Fatalf("POST: %d %v", code, out)
		}
		waitUntil(t, 10*time.Second, id+" unknown", func() bool { return deliveryStatus(s.status(id)) == "unknown" })
	}
	out, errOut, exit := runCLI(t, "", "mark-sent", "--config", s.config, "--by", "ops", "--post-url", "https://t.me/herald_fake/77", "dec-1", "tg")
	if exit != 0 || !strings.Contains(out, `"status": "sent"`) || !strings.Contains(out, "https://t.me/herald_fake/77") {
		t.Fatalf("mark-sent: exit %d %s %s", exit, out, errOut)
	}
	if _, _, exit := runCLI(t, "", "mark-sent", "--config", s.config, "dec-1", "tg"); exit != 2 {
		t.Fatalf("marking a sent delivery sent again: exit %d", exit)
	}
	if _, _, exit := runCLI(t, "", "drop", "--config", s.config, "nope", "tg"); exit != 3 {
		t.Fatalf("dropping a missing delivery: exit %d", exit)
	}
	code, body := s.call(http.MethodPost, "/v1/articles/dec-2/deliveries/tg/drop?by=night-editor")
	if code != 200 || body["status"] != "failed" || body["error"] != "dropped by night-editor" {
		t.Fatalf("drop over the API: %d %v", code, body)
	}
	if code, _ := s.call(http.MethodPost, "/v1/articles/dec-2/deliveries/tg/mark-sent"); code != 200 {
		t.Fatalf("marking a dropped delivery sent: %d", code)
	}
	if code, _ := s.call(http.MethodPost, "/v1/articles/dec-2/deliveries/tg/drop"); code != 409 {
		t.Fatalf("dropping a sent delivery: %d, want 409", code)
	}
	if n := len(s.fake.Messages()); n != 0 {
		t.Fatalf("%d posts: decisions post nothing", n)
	}
	out, _, _ = runCLI(t, "", "audit", "--json", "-n", "3", "--config", s.config)
	if !strings.Contains(out, `"action": "drop"`) || !strings.Contains(out, "dec-2 tg by night-editor") {
		t.Fatalf("audit: %s", out)
	}
}
