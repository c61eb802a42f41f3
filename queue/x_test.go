package queue

// X through the worker: 429 pacing by x-rate-limit-reset, the remote id and post URL recorded.

import (
	"context"
	"strings"
	"testing"
	"time"

	"herald/channels/x/xfake"
)

func TestX429WaitsForRateLimitResetWithoutAnAttempt(t *testing.T) {
	e, fake := newXEnv(t, xfake.DefaultCredentials, "")
	// x-rate-limit-reset is whole epoch seconds: at least 2s from now.
	reset := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	fake.RateLimitNext(reset)
	e.publish("x429")
	e.start(testOpts(t), nil)
	d := e.waitState("x429", StateSent, 20*time.Second)
	var posts []xfake.Request
	for _, r := range fake.Requests() {
		if r.Path == "/2/tweets" {
			posts = append(posts, r)
		}
	}
	if len(posts) != 2 || posts[0].Status != 429 || posts[1].Status != 201 {
		t.Fatalf("post requests %+v, want a 429 then a 201", posts)
	}
	if posts[1].Time.Before(reset) {
		t.Fatalf("second post at %s, before x-rate-limit-reset %s", posts[1].Time, reset)
	}
	if d.Attempt != 1 {
		t.Fatalf("attempt %d, want 1: a 429 must not use an attempt", d.Attempt)
	}
	p := fake.Posts()
	if len(p) != 1 || d.RemoteID != p[0].ID || d.PostURL != "https://x.com/i/web/status/"+p[0].ID {
		t.Fatalf("record %+v, X posts %+v", d, p)
	}
}

// TestXRevokedCredentialsPauseTheChannel: a 401 pauses the channel with the reason instead of
// failing its backlog; after the operator fixes the credentials and resumes, everything goes out.
func TestXRevokedCredentialsPauseTheChannel(t *testing.T) {
	e, fake := newXEnv(t, xfake.DefaultCredentials, "")
	revoked := xfake.DefaultCredentials
	revoked.AccessToken, revoked.AccessSecret = "1000000001-rotated-token", "rotated-secret-0000000000"
	fake.SetCredentials(revoked) // the account's tokens were regenerated: ours now get 401
	e.publish("r1")
	e.publish("r2")
	e.start(testOpts(t), nil)
	waitFor(t, 15*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		return err == nil && len(ps) == 1 && ps[0].Channel == e.ch.name && strings.Contains(ps[0].Reason, "auth") && strings.Contains(ps[0].Reason, "401")
	})
	for _, id := range []string{"r1", "r2"} {
		d, err := e.broker.Delivery(context.Background(), id, e.ch.name)
		if err != nil || d.State.Final() {
			t.Fatalf("%s: %+v %v: an auth failure must not fail the backlog", id, d, err)
		}
	}
	if len(fake.Posts()) != 0 {
		t.Fatal("posted with revoked credentials")
	}
	fake.SetCredentials(xfake.DefaultCredentials) // the operator puts the right ones back
	if err := e.broker.Resume(context.Background(), e.ch.name); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2"} {
		e.waitState(id, StateSent, 20*time.Second)
	}
	if n := len(fake.Posts()); n != 2 {
		t.Fatalf("%d posts, want 2", n)
	}
}
