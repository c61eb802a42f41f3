package queue

// X through the worker: 429 pacing by x-rate-limit-reset, the remote id and post URL recorded.

import (
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
