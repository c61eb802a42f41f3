package queue

// Discord through the worker, on a real Redis and the discordfake webhook: the message id and
// link recorded then deleted by a retract, a deleted webhook pausing the channel, a lost answer
// parked as unknown, and a 429 waited for without using an attempt.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/discord"
	"herald/channels/discord/discordfake"
	"herald/formatter"
)

func newDiscordEnv(t *testing.T) (*env, *discordfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := discordfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	if err := yaml.Unmarshal([]byte(fmt.Sprintf("webhook_url: %q\ntimeout: 1s\n", fake.WebhookURL())), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := discord.New(channels.Spec{Name: e.ch.name, Kind: channels.KindDiscord, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindDiscord, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

func TestDiscordMessageRecordedThenRetracted(t *testing.T) {
	e, fake := newDiscordEnv(t)
	e.publish("dc1")
	e.start(testOpts(t), nil)
	d := e.waitState("dc1", StateSent, 15*time.Second)
	m := fake.Messages()
	want := discord.PostURL(discordfake.DefaultGuild, discordfake.DefaultChannel, m[0].ID)
	if len(m) != 1 || d.RemoteID != m[0].ID || d.PostURL != want || d.Attempt != 1 || !strings.Contains(m[0].Content, "عنوان الخبر dc1") {
		t.Fatalf("record %+v, messages %+v: want the message id and %s", d, m, want)
	}
	r, err := e.broker.Retract(context.Background(), "dc1", "", "editor@desk", map[channels.Name]channels.Channel{e.ch.name: e.route.Channel})
	if err != nil || len(r.Results) != 1 || r.Results[0].Result != "retracted" {
		t.Fatalf("retract: %+v %v", r, err)
	}
	if m := fake.Messages(); !m[0].Deleted {
		t.Fatal("the Discord message was not deleted")
	}
}

// TestDiscordDeletedWebhookPausesTheChannel: Unknown Webhook (404, code 10015) pauses the
// channel with the reason; the delivery waits instead of failing.
func TestDiscordDeletedWebhookPausesTheChannel(t *testing.T) {
	e, fake := newDiscordEnv(t)
	fake.DeleteWebhook()
	e.publish("dc-gone")
	e.start(testOpts(t), nil)
	waitFor(t, 15*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		return err == nil && len(ps) == 1 && strings.Contains(ps[0].Reason, "auth") && strings.Contains(ps[0].Reason, "Unknown Webhook (code 10015)")
	})
	if d, err := e.broker.Delivery(context.Background(), "dc-gone", e.ch.name); err != nil || d.State.Final() || d.State == StateUnknown {
		t.Fatalf("%+v %v: a deleted webhook must not fail the delivery", d, err)
	}
}

// TestDiscordLostAnswerIsParkedUnknown: the message was made but its answer lost; Discord has
// no idempotency key, so the delivery waits for an admin instead of posting twice.
func TestDiscordLostAnswerIsParkedUnknown(t *testing.T) {
	e, fake := newDiscordEnv(t)
	fake.DropNextPost()
	e.publish("dc-lost")
	e.start(testOpts(t), nil)
	d := e.waitState("dc-lost", StateUnknown, 15*time.Second)
	if n := len(fake.Messages()); n != 1 || d.Attempt != 1 {
		t.Fatalf("%d messages, record %+v: want one message and no second attempt", n, d)
	}
}

// TestDiscord429WaitsWithoutUsingAnAttempt: a 429's retry_after is waited for, the attempt
// given back, then the message goes out.
func TestDiscord429WaitsWithoutUsingAnAttempt(t *testing.T) {
	e, fake := newDiscordEnv(t)
	fake.RateLimitNext(0.5, false)
	e.publish("dc-429")
	e.start(testOpts(t), nil)
	d := e.waitState("dc-429", StateSent, 15*time.Second)
	if n := len(fake.Messages()); n != 1 || d.Attempt != 1 {
		t.Fatalf("%d messages, record %+v: want one message on attempt 1", n, d)
	}
}
