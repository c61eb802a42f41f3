package queue

// The delivery guarantees against the real whatsapp, webhook and websub channels and their
// fakes, on a real redis-server: auth and gone pause the channel, 429 paces without using an
// attempt, an unknown outcome is parked (WhatsApp) or retried under the same webhook-id
// (webhook), and the remote id and post URL reach the ledger.

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/webhook"
	"herald/channels/webhook/webhookfake"
	"herald/channels/websub"
	"herald/channels/websub/hubfake"
	"herald/channels/whatsapp"
	"herald/channels/whatsapp/whatsappfake"
	"herald/formatter"
)

// withChannel makes the env's "tg" channel a real channel of kind built from settings.
func withChannel(t *testing.T, e *env, kind channels.Kind, settings string, build channels.Factory) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(settings), &n); err != nil {
		t.Fatal(err)
	}
	ch, err := build(channels.Spec{Name: e.ch.name, Kind: kind, Settings: *n.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(kind, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
}

func webhookEnv(t *testing.T, timeout string) (*env, *webhookfake.Server) {
	e := newEnv(t)
	fake := webhookfake.New(webhookfake.DefaultSecret)
	t.Cleanup(fake.Close)
	withChannel(t, e, channels.KindWebhook, fmt.Sprintf("{url: %q, secret: %q, timeout: %s}", fake.URL(), webhookfake.DefaultSecret, timeout), webhook.New)
	return e, fake
}

func whatsappEnv(t *testing.T, settings string) (*env, *whatsappfake.Server) {
	e := newEnv(t)
	fake := whatsappfake.New()
	t.Cleanup(fake.Close)
	withChannel(t, e, channels.KindWhatsApp, strings.ReplaceAll(settings, "FAKE", fake.URL()), whatsapp.New)
	return e, fake
}

const whapiSettings = "{provider: whapi, api_base: FAKE, token: " + whatsappfake.WhapiToken + ", to: '" + whatsappfake.ChannelID + "', timeout: 1s}"

func TestWebhook429RetryAfterHonouredWithoutAttempt(t *testing.T) {
	e, fake := webhookEnv(t, "1s")
	fake.FailNext(1, 429, "2")
	e.publish("rl1")
	e.start(testOpts(t), nil)
	d := e.waitState("rl1", StateSent, 15*time.Second)
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 {
		t.Fatalf("requests %+v, want a 429 then a success", reqs)
	}
	if gap := reqs[1].Time.Sub(reqs[0].Time); gap < 2*time.Second {
		t.Fatalf("retried %s after the 429, before its Retry-After of 2s", gap)
	}
	if d.Attempt != 1 {
		t.Fatalf("attempt %d, want 1: a 429 does not use an attempt", d.Attempt)
	}
}

func TestWhatsApp429RetryAfterHonouredWithoutAttempt(t *testing.T) {
	e, fake := whatsappEnv(t, whapiSettings)
	fake.FailNext(whatsappfake.Whapi, 1, whatsappfake.Answer{Status: 429, Message: "Too many requests", RetryAfter: "2"})
	e.publish("rl2")
	e.start(testOpts(t), nil)
	d := e.waitState("rl2", StateSent, 15*time.Second)
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Status != 429 || reqs[1].Time.Sub(reqs[0].Time) < 2*time.Second || d.Attempt != 1 {
		t.Fatalf("requests %+v, delivery %+v: want the retry 2s later on attempt 1", reqs, d)
	}
	if m := fake.Messages(); len(m) != 1 || d.RemoteID != m[0].ID {
		t.Fatalf("remote id %q, messages %+v", d.RemoteID, m)
	}
}

func TestWebhookUnknownOutcomeIsRetriedWithTheSameWebhookID(t *testing.T) {
	e, fake := webhookEnv(t, "500ms")
	release := make(chan struct{})
	var once sync.Once
	fake.OnAccept(func(webhookfake.Delivery) { once.Do(func() { <-release }) }) // only the first waits
	t.Cleanup(func() { close(release) })
	e.publish("unk1")
	e.start(testOpts(t), nil)
	d := e.waitState("unk1", StateSent, 15*time.Second)
	reqs := fake.Requests()
	dels := fake.Deliveries()
	if len(reqs) < 2 || reqs[0].ID != reqs[len(reqs)-1].ID || !strings.HasPrefix(reqs[0].ID, "unk1:tg:") {
		t.Fatalf("requests %+v: the retry must carry the first request's webhook-id", reqs)
	}
	if len(dels) != 1 || dels[0].Repeats < 1 || d.RemoteID != dels[0].ID {
		t.Fatalf("deliveries %+v, record %+v: one delivery, the retry dropped by id, its id recorded", dels, d)
	}
}

func TestWhatsAppUnknownOutcomeIsParked(t *testing.T) {
	e, fake := whatsappEnv(t, whapiSettings)
	release := make(chan struct{})
	fake.OnAccept(func(whatsappfake.Message) { <-release })
	t.Cleanup(func() { close(release) })
	e.publish("unk2")
	e.start(testOpts(t), nil)
	e.waitState("unk2", StateUnknown, 15*time.Second)
	e.waitIdle()
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d requests, want 1: WhatsApp cannot deduplicate, so it is parked, not retried", n)
	}
}

func TestWebSubRecordsTheHubAndTheFeed(t *testing.T) {
	e := newEnv(t)
	hub := hubfake.New()
	t.Cleanup(hub.Close)
	withChannel(t, e, channels.KindWebSub, fmt.Sprintf("{hubs: [%q], topics: [https://news.example.com/feed]}", hub.HubURL("hub")), websub.New)
	hub.FailNext(1, 503, "")
	e.publish("ws1")
	e.start(testOpts(t), nil)
	d := e.waitState("ws1", StateSent, 15*time.Second)
	if d.RemoteID != hub.HubURL("hub") || d.PostURL != "https://news.example.com/feed" || d.Attempt != 2 {
		t.Fatalf("record %+v: want the hub, the feed, and the 503 retried", d)
	}
	if p := hub.Pings(); len(p) != 1 {
		t.Fatalf("pings %+v", p)
	}
}
