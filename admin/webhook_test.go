package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"herald/channels/telegram/telegramfake"
)

func TestWebhookModeChecksTheSecretAndAnswersOnce(t *testing.T) {
	e := newEnv(t)
	e.cfg.Telegram.Mode = "webhook"
	e.cfg.Telegram.WebhookURL = "https://herald.example.com/telegram/admin"
	e.cfg.Telegram.WebhookSecret = "s3cret_hook-token"
	b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	if b.WebhookPath() != "/telegram/admin" {
		t.Fatalf("path %q", b.WebhookPath())
	}
	srv := httptest.NewServer(b.WebhookHandler())
	t.Cleanup(srv.Close)
	post := func(secret string, u tgbotapi.Update) int {
		body, _ := json.Marshal(u)
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/telegram/admin", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u := tgbotapi.Update{UpdateID: 7, Message: &tgbotapi.Message{MessageID: 1, From: &tgbotapi.User{ID: adminID, UserName: adminName},
		Chat: &tgbotapi.Chat{ID: adminID, Type: "private"}, Text: "/status hook-1"}}
	e.botTG.AddChat(telegramfake.Chat{ID: adminID, Type: "private", Username: adminName})
	if code := post("", u); code != http.StatusUnauthorized {
		t.Fatalf("no secret: %d", code)
	}
	if code := post("s3cret_hook-tokeN", u); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", code)
	}
	if code := post("s3cret_hook-token", u); code != http.StatusServiceUnavailable {
		t.Fatalf("before the bot connected: %d, want 503 (Telegram retries)", code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "setWebhook", 10*time.Second, func() bool {
		for _, r := range e.botTG.Requests() {
			if r.Method == "setWebhook" {
				return true
			}
		}
		return false
	})
	for range 2 { // Telegram redelivers an update it did not see answered
		if code := post("s3cret_hook-token", u); code != http.StatusOK {
			t.Fatalf("right secret: %d", code)
		}
	}
	e.waitReply(adminID, "No article hook-1")
	if n := len(e.replies(adminID, "hook-1")); n != 1 {
		t.Fatalf("%d replies to one update", n)
	}
	if n := len(e.replies(adminID, "")); n != 1 {
		t.Fatalf("%d replies, want 1 (unauthorised requests do nothing)", n)
	}
	// A command written in a forum topic is answered there (the update's message_thread_id,
	// which tgbotapi.Update cannot carry: the body as Telegram sends it).
	group := int64(-1007770000077)
	e.botTG.AddChat(telegramfake.Chat{ID: group, Type: "supergroup", Title: "newsroom admins"})
	e.botTG.AddTopic(group, 42)
	raw := `{"update_id":8,"message":{"message_id":2,"date":1,"message_thread_id":42,"is_topic_message":true,` +
		`"from":{"id":1001,"is_bot":false,"first_name":"editor","username":"editor"},` +
		`"chat":{"id":-1007770000077,"type":"supergroup","title":"newsroom admins","is_forum":true},"text":"/status hook-2"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/telegram/admin", bytes.NewReader([]byte(raw)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret_hook-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if m := e.waitReply(group, "No article hook-2"); m.ThreadID != 42 {
		t.Fatalf("answered in thread %d, want the topic 42 it was asked in", m.ThreadID)
	}
}

// TestWebhookUpdateIsRetriedWhileRedisIsDown: an update that cannot be claimed because Redis
// is unreachable is answered 503, so Telegram delivers it again later (as a poll would fetch
// it again); a 200 would have lost the admin's command without a word.
func TestWebhookUpdateIsRetriedWhileRedisIsDown(t *testing.T) {
	e := newEnv(t)
	e.cfg.Telegram.Mode = "webhook"
	e.cfg.Telegram.WebhookURL = "https://herald.example.com/telegram/admin"
	e.cfg.Telegram.WebhookSecret = "s3cret_hook-token"
	b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "w1"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(b.WebhookHandler())
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "the bot connected", 10*time.Second, func() bool {
		select {
		case <-b.ready:
			return true
		default:
			return false
		}
	})
	e.redis.Stop()
	body, _ := json.Marshal(tgbotapi.Update{UpdateID: 9, Message: &tgbotapi.Message{MessageID: 1,
		From: &tgbotapi.User{ID: adminID, UserName: adminName}, Chat: &tgbotapi.Chat{ID: adminID, Type: "private"}, Text: "/status hook-2"}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/telegram/admin", bytes.NewReader(body))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret_hook-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("an update that could not be claimed: %d, want 503 (Telegram retries)", resp.StatusCode)
	}
}

// TestWebhookAtTheRootTakesOnlyItsPath: a webhook_url without a path (a host of its own for
// the bot) is mounted beside the API for POST / exactly; "POST /" as a pattern would take every
// POST (publishing, the dashboard's login and buttons) away from the API.
func TestWebhookAtTheRootTakesOnlyItsPath(t *testing.T) {
	e := newEnv(t)
	e.cfg.Telegram.Mode = "webhook"
	e.cfg.Telegram.WebhookSecret = "s3cret_hook-token"
	for _, u := range []string{"https://bot.herald.example.com", "https://bot.herald.example.com/", "https://herald.example.com/telegram/admin"} {
		e.cfg.Telegram.WebhookURL = u
		b, err := New(e.cfg, Deps{Broker: e.broker, Redis: e.rdb, Channels: e.chans, Logger: e.log, Owner: "w1"})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
		mux.Handle(b.WebhookPattern(), b.WebhookHandler())
		for path, want := range map[string]int{"/v1/articles": http.StatusTeapot, "/dashboard/login": http.StatusTeapot, b.WebhookPath(): http.StatusUnauthorized} {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, nil))
			if rec.Code != want {
				t.Errorf("webhook_url %s: POST %s answered %d, want %d", u, path, rec.Code, want)
			}
		}
	}
}
