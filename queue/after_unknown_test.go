package queue

import (
	"context"
	"strings"
	"testing"
	"time"

	"herald/channels/x/xfake"
)

// An admin's retry of an unknown X delivery whose lost answer hid a post that X made: X refuses
// the retry as duplicate content. That refusal names our own earlier post, so the delivery is
// parked unknown again, with the reason, for the admin to mark it sent; it is not failed, which
// would say nothing went out. (Before, the requeue reset the attempt count and the refusal on
// "attempt 1" read as another story's text: failed.) A repost is a new post and starts clean.
func TestRetryOfUnknownTakesADuplicateRefusalForTheEarlierPost(t *testing.T) {
	e, fake := newXEnv(t, xfake.DefaultCredentials, "")
	ctx := context.Background()
	fake.DropNextPost()
	e.publish("au1")
	e.start(testOpts(t), nil)
	e.waitState("au1", StateUnknown, 20*time.Second)
	if n := len(fake.Posts()); n != 1 {
		t.Fatalf("%d posts on X, want 1 (accepted, its answer lost)", n)
	}
	if _, err := e.broker.Requeue(ctx, "au1", e.ch.name, "retry", "desk"); err != nil {
		t.Fatal(err)
	}
	d := e.waitState("au1", StateUnknown, 20*time.Second)
	if !strings.Contains(d.Error, "earlier attempt may have made this post") || d.Attempt != 1 {
		t.Fatalf("after the retry: %+v, want unknown saying the earlier attempt may have posted", d)
	}
	if n := len(fake.Posts()); n != 1 {
		t.Fatalf("%d posts on X, want still 1", n)
	}
	// The flag is the retry's alone: a repost (a new post the admin asks for) that X refuses
	// as the same text fails as a duplicate.
	if _, err := e.broker.Requeue(ctx, "au1", e.ch.name, "repost", "desk"); err != nil {
		t.Fatal(err)
	}
	d = e.waitState("au1", StateFailed, 20*time.Second)
	if strings.Contains(d.Error, "earlier attempt") {
		t.Fatalf("the repost was taken for a retry: %+v", d)
	}
}
