package queue

// Auth and gone answers of the real whatsapp and webhook channels pause the channel with the
// reason, on a real redis-server, instead of failing its backlog.

import (
	"context"
	"strings"
	"testing"
	"time"

	"herald/channels/whatsapp/whatsappfake"
)

// paused waits until channel "tg" is paused and returns the reason.
func (e *env) paused() string {
	e.t.Helper()
	var reason string
	waitFor(e.t, 10*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		for _, p := range ps {
			if p.Channel == e.ch.name {
				reason = p.Reason
			}
		}
		return err == nil && reason != ""
	})
	return reason
}

func TestWebhookGonePausesTheChannelAndKeepsItsBacklog(t *testing.T) {
	e, fake := webhookEnv(t, "1s")
	fake.Gone()
	e.publish("gone1")
	e.publish("gone2")
	e.start(testOpts(t), nil)
	if reason := e.paused(); reason != "webhook gone (410)" {
		t.Fatalf("pause reason %q", reason)
	}
	for _, id := range []string{"gone1", "gone2"} {
		d, err := e.broker.Delivery(context.Background(), id, e.ch.name)
		if err != nil || d.State.Final() {
			t.Fatalf("%s: %+v %v: a paused channel's deliveries wait, they do not fail", id, d, err)
		}
	}
}

func TestWhatsAppAuthFailurePausesTheChannel(t *testing.T) {
	e, fake := whatsappEnv(t, strings.Replace(whapiSettings, whatsappfake.WhapiToken, "revoked-token-123", 1))
	e.publish("auth1")
	e.start(testOpts(t), nil)
	reason := e.paused()
	if !strings.HasPrefix(reason, "auth: ") || strings.Contains(reason, "revoked-token-123") {
		t.Fatalf("pause reason %q: want auth, without the token", reason)
	}
	d, _ := e.broker.Delivery(context.Background(), "auth1", e.ch.name)
	if d.State.Final() || len(fake.Messages()) != 0 {
		t.Fatalf("delivery %+v after an auth failure", d)
	}
}
