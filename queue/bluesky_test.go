package queue

// Bluesky through the worker: an unknown outcome retried under the same record key (the
// channel is Deduplicating) and recorded once, 429 paced by RateLimit-Reset, and a wrong app
// password pausing the channel.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/bluesky"
	"herald/channels/bluesky/blueskyfake"
	"herald/formatter"
)

func newBlueskyEnv(t *testing.T) (*env, *blueskyfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := blueskyfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("service: %q\nidentifier: %q\napp_password: %q\ntimeout: 1s\n", fake.URL(), blueskyfake.DefaultHandle, blueskyfake.DefaultPassword)
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := bluesky.New(channels.Spec{Name: e.ch.name, Kind: channels.KindBluesky, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindBluesky, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

// TestBlueskyUnknownOutcomeIsRetriedAndRecordedOnce: the post is made but its answer lost and
// the read-back fails too, so the first attempt's outcome is unknown. The channel deduplicates
// by record key, so the worker retries instead of parking it: the retry finds the key taken
// (the PDS's 500), reads the post back and records it — one post, its URI and URL.
func TestBlueskyUnknownOutcomeIsRetriedAndRecordedOnce(t *testing.T) {
	e, fake := newBlueskyEnv(t)
	fake.DropNextPost()
	fake.FailNextRead(502, "UpstreamFailure", "Upstream Failure")
	e.publish("bs1")
	e.start(testOpts(t), nil)
	d := e.waitState("bs1", StateSent, 20*time.Second)
	p := fake.Posts()
	if len(p) != 1 || d.RemoteID != p[0].URI || d.PostURL != bluesky.PostURL(p[0].URI) || d.PostURL == "" || d.Attempt != 2 {
		t.Fatalf("record %+v, posts %+v: want the one post recorded after one retry", d, p)
	}
	if p[0].Rkey != bluesky.RecordKey(TaskID("bs1", e.ch.name, 1)+"/0") {
		t.Fatalf("rkey %s: not derived from the delivery", p[0].Rkey)
	}
}

func TestBluesky429WaitsForRateLimitResetWithoutAnAttempt(t *testing.T) {
	e, fake := newBlueskyEnv(t)
	reset := time.Now().Add(2 * time.Second).Truncate(time.Second).Add(time.Second)
	fake.RateLimitNext(reset)
	e.publish("bs429")
	e.start(testOpts(t), nil)
	d := e.waitState("bs429", StateSent, 20*time.Second)
	var creates []blueskyfake.Request
	for _, r := range fake.Requests() {
		if r.Method == "com.atproto.repo.createRecord" {
			creates = append(creates, r)
		}
	}
	if len(creates) != 2 || creates[0].Status != 429 || creates[1].Status != 200 || creates[1].Time.Before(reset) {
		t.Fatalf("createRecord %+v: want a 429, then a 200 after %s", creates, reset)
	}
	if d.Attempt != 1 || len(fake.Posts()) != 1 {
		t.Fatalf("attempt %d, %d posts: a 429 must not use an attempt", d.Attempt, len(fake.Posts()))
	}
}

// TestBlueskyWrongAppPasswordPausesTheChannel: the backlog waits; after the password is fixed
// and the channel resumed, it goes out.
func TestBlueskyWrongAppPasswordPausesTheChannel(t *testing.T) {
	e, fake := newBlueskyEnv(t)
	fake.SetPassword("an-app-password-herald-does-not-have")
	e.publish("bsauth")
	e.start(testOpts(t), nil)
	waitFor(t, 15*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		return err == nil && len(ps) == 1 && strings.Contains(ps[0].Reason, "auth") && strings.Contains(ps[0].Reason, "AuthenticationRequired")
	})
	if d, err := e.broker.Delivery(context.Background(), "bsauth", e.ch.name); err != nil || d.State.Final() {
		t.Fatalf("%+v %v: an auth failure must not fail the delivery", d, err)
	}
	fake.SetPassword(blueskyfake.DefaultPassword)
	if err := e.broker.Resume(context.Background(), e.ch.name); err != nil {
		t.Fatal(err)
	}
	e.waitState("bsauth", StateSent, 20*time.Second)
	if n := len(fake.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}

// TestBlueskyRetractDeletesTheRecord: a retract deletes the sent post's record (deleteRecord
// with the rkey of its at:// URI) and marks the delivery retracted; retracting twice deletes once.
func TestBlueskyRetractDeletesTheRecord(t *testing.T) {
	e, fake := newBlueskyEnv(t)
	e.publish("bsr")
	e.start(testOpts(t), nil)
	e.waitState("bsr", StateSent, 20*time.Second)
	chans := map[channels.Name]channels.Channel{e.ch.name: e.route.Channel}
	for i, want := range []string{"retracted", "already"} {
		r, err := e.broker.Retract(context.Background(), "bsr", e.ch.name, "editor@desk", chans)
		if err != nil || len(r.Results) != 1 || r.Results[0].Result != want {
			t.Fatalf("retract %d: %+v %v, want %s", i+1, r, err, want)
		}
	}
	p := fake.Posts()
	if len(p) != 1 || !p[0].Deleted || fake.Count("com.atproto.repo.deleteRecord") != 1 {
		t.Fatalf("posts %+v, %d deleteRecord calls: want the one post deleted once", p, fake.Count("com.atproto.repo.deleteRecord"))
	}
	if d, err := e.broker.Delivery(context.Background(), "bsr", e.ch.name); err != nil || d.State != StateRetracted {
		t.Fatalf("%+v %v", d, err)
	}
}
