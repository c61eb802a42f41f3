package queue

// The spine's delivery guarantees against the real Telegram channel and the fake Bot API.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/telegram"
	"herald/channels/telegram/telegramfake"
	"herald/formatter"
)

func newTelegramEnv(t *testing.T) (*env, *telegramfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := telegramfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("token: %q\nchat_id: \"@%s\"\napi_endpoint: %q\ntimeout: 1s\n",
		telegramfake.DefaultToken, telegramfake.DefaultChat.Username, fake.Endpoint())
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := telegram.New(channels.Spec{Name: "tg", Kind: channels.KindTelegram, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

func TestTelegram429RetryAfterHonouredWithoutAttempt(t *testing.T) {
	e, fake := newTelegramEnv(t)
	fake.RateLimitNext(1, 2)
	e.publish("tg429")
	e.start(testOpts(t), nil)
	d := e.waitState("tg429", StateSent, 15*time.Second)
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 {
		t.Fatalf("requests %+v, want a 429 then a success", reqs)
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 2*time.Second {
		t.Fatalf("second request %s after the 429, before retry_after (2s)", gap)
	}
	if d.Attempt != 1 {
		t.Fatalf("ledger attempt %d, want 1: a 429 must not use an attempt", d.Attempt)
	}
	if len(fake.Messages()) != 1 {
		t.Fatalf("%d messages", len(fake.Messages()))
	}
}

// A chat_id that names no chat the bot sees pauses the channel with the reason, and the
// delivery waits, instead of every queued delivery failing one by one. (Failed before: failed.)
func TestTelegramChatNotFoundPausesTheChannel(t *testing.T) {
	e, fake := newTelegramEnv(t)
	ctx := context.Background()
	fake.FailNext(1, 400, "Bad Request: chat not found")
	e.publish("cnf")
	e.start(testOpts(t), nil)
	waitFor(t, 10*time.Second, func() bool { p, _ := e.broker.Paused(ctx); return len(p) == 1 })
	p, _ := e.broker.Paused(ctx)
	if p[0].By != PausedByHerald || !strings.Contains(p[0].Reason, "chat not found: check chat_id") {
		t.Fatalf("pause %+v", p[0])
	}
	if d := e.waitState("cnf", StatePending, 10*time.Second); d.Attempt != 0 {
		t.Fatalf("record %+v, want pending with no attempt used", d)
	}
}

func TestTelegramPermanentErrorsFailAtOnce(t *testing.T) {
	for _, desc := range []string{"Bad Request: message is too long", "Bad Request: can't parse entities: Unsupported start tag \"br\" at byte offset 10"} {
		t.Run(desc, func(t *testing.T) {
			e, fake := newTelegramEnv(t)
			fake.FailNext(1, 400, desc)
			e.publish("perm")
			e.start(testOpts(t), nil)
			d := e.waitState("perm", StateFailed, 10*time.Second)
			if d.Attempt != 1 || !strings.Contains(d.Error, desc) {
				t.Fatalf("failed record %+v", d)
			}
			e.waitIdle()
			if n := len(fake.Requests()); n != 1 {
				t.Fatalf("%d requests, want 1: a permanent error is not retried", n)
			}
		})
	}
}

func TestTelegramCrashAfterAcceptParksUnknownAndNeverReposts(t *testing.T) {
	e, fake := newTelegramEnv(t)
	e.publish("crash")
	opts := testOpts(t)
	opts.LeaseDuration = 2500 * time.Millisecond
	accepted := make(chan struct{})
	var once sync.Once
	fake.OnAccept(func(telegramfake.Message) { once.Do(func() { close(accepted) }) })
	stop := e.start(opts, func(Delivery) { panic("injected crash after Telegram accepted the post") })
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("Telegram never received the post")
	}
	stop()
	e.start(testOpts(t), nil) // the restarted process
	d := e.waitState("crash", StateUnknown, 15*time.Second)
	if !strings.Contains(d.Error, "lease expired") {
		t.Fatalf("unknown record should say why: %+v", d)
	}
	e.waitIdle()
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("Telegram has %d messages, want 1 (no second post after restart)", n)
	}
}

func TestTelegramReadTimeoutAfterAcceptIsUnknown(t *testing.T) {
	e, fake := newTelegramEnv(t)
	release := make(chan struct{})
	fake.OnAccept(func(telegramfake.Message) { <-release })
	t.Cleanup(func() { close(release) })
	e.publish("slow")
	e.start(testOpts(t), nil)
	e.waitState("slow", StateUnknown, 15*time.Second)
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1: a timed-out send is parked, not retried", n)
	}
	_ = context.Background()
}
