package queue

// Mastodon through the worker: every send of a delivery carries the same Idempotency-Key, so a
// lost answer is retried (the channel deduplicates) and the server answers the status it made:
// one status, its id and URL recorded.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/mastodon"
	"herald/channels/mastodon/mastodonfake"
	"herald/formatter"
)

func newMastodonEnv(t *testing.T) (*env, *mastodonfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := mastodonfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("instance: %q\naccess_token: %q\ntimeout: 1s\n", fake.URL(), mastodonfake.DefaultToken)
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := mastodon.New(channels.Spec{Name: e.ch.name, Kind: channels.KindMastodon, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindMastodon, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

func statusRequests(fake *mastodonfake.Server) []mastodonfake.Request {
	var out []mastodonfake.Request
	for _, r := range fake.Requests() {
		if r.Path == "/api/v1/statuses" {
			out = append(out, r)
		}
	}
	return out
}

// TestMastodonLostAnswerRetriedPostsOnce: the server makes the status but the answer is lost.
// Telegram would park the delivery as unknown; Mastodon's channel deduplicates, so the worker
// sends again with the same key and the server answers the status it made.
func TestMastodonLostAnswerRetriedPostsOnce(t *testing.T) {
	e, fake := newMastodonEnv(t)
	fake.DropNextStatus()
	e.publish("m1")
	e.start(testOpts(t), nil)
	d := e.waitState("m1", StateSent, 15*time.Second)
	st := fake.Statuses()
	if len(st) != 1 || d.RemoteID != st[0].ID || d.PostURL != st[0].URL || d.Attempt != 2 {
		t.Fatalf("record %+v, statuses %+v: want the one status recorded after one retry", d, st)
	}
	reqs := statusRequests(fake)
	if len(reqs) != 2 || reqs[0].IdempotencyKey != "m1:tg:1" || reqs[1].IdempotencyKey != reqs[0].IdempotencyKey || reqs[1].Status != 200 {
		t.Fatalf("status requests %+v: want two with the delivery's key, the second answered", reqs)
	}
	if !strings.Contains(st[0].Text, "عنوان الخبر m1") || st[0].Visibility != "public" {
		t.Fatalf("status %+v: want the rendered article, public", st[0])
	}
}

// TestMastodonAdminRetryOfUnknownPostsNothingNew: a worker dies between the server's answer and
// the commit, so the delivery is parked unknown (the worker cannot know what happened). An
// admin's retry sends the same key again: the server answers the status already made, and the
// record becomes sent with its id; no second status.
func TestMastodonAdminRetryOfUnknownPostsNothingNew(t *testing.T) {
	e, fake := newMastodonEnv(t)
	e.publish("m2")
	opts := testOpts(t)
	opts.LeaseDuration = 2500 * time.Millisecond
	crashed := make(chan struct{})
	var once sync.Once
	stop := e.start(opts, func(Delivery) {
		once.Do(func() { close(crashed) })
		panic("injected crash between the server's answer and the ledger commit")
	})
	select {
	case <-crashed:
	case <-time.After(10 * time.Second):
		t.Fatal("the send never happened")
	}
	stop()
	e.start(testOpts(t), nil)
	e.waitState("m2", StateUnknown, 15*time.Second)
	if _, err := e.broker.Requeue(context.Background(), "m2", e.ch.name, "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	d := e.waitState("m2", StateSent, 15*time.Second)
	st := fake.Statuses()
	if len(st) != 1 || d.RemoteID != st[0].ID || d.PostURL != st[0].URL {
		t.Fatalf("record %+v, statuses %+v: want the first status, recorded", d, st)
	}
	if reqs := statusRequests(fake); len(reqs) != 2 || reqs[1].IdempotencyKey != reqs[0].IdempotencyKey {
		t.Fatalf("status requests %+v: the retry must carry the first send's key", reqs)
	}
}

// TestMastodonEveryAttemptUnknownIsParkedUnknown: each attempt's answer is a 504 (the status
// may have been made each time). Retrying is safe on Mastodon, but when the last attempt ends
// so too the delivery must not read failed (nothing went out): it is unknown, for an admin,
// whose retry within the hour answers or makes the one status.
func TestMastodonEveryAttemptUnknownIsParkedUnknown(t *testing.T) {
	e, fake := newMastodonEnv(t)
	for range e.route.MaxAttempts {
		fake.FailNext(504, "<html><body><h1>504 Gateway Time-out</h1></body></html>", nil)
	}
	e.publish("m4")
	e.start(testOpts(t), nil)
	d := e.waitState("m4", StateUnknown, 15*time.Second)
	if d.Attempt != e.route.MaxAttempts || !strings.Contains(d.Error, "giving up after 3 attempts: outcome unknown") {
		t.Fatalf("record %+v: want unknown after every attempt", d)
	}
	if _, err := e.broker.Requeue(context.Background(), "m4", e.ch.name, "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	d = e.waitState("m4", StateSent, 15*time.Second)
	if st := fake.Statuses(); len(st) != 1 || d.RemoteID != st[0].ID {
		t.Fatalf("record %+v, statuses %+v: want one status, recorded", d, st)
	}
}

// TestMastodonRetractDeletesTheStatus: herald retract deletes the status on the server
// (channels.Deleter), the record becomes retracted, and a second retract deletes nothing more.
func TestMastodonRetractDeletesTheStatus(t *testing.T) {
	e, fake := newMastodonEnv(t)
	e.publish("m3")
	e.start(testOpts(t), nil)
	d := e.waitState("m3", StateSent, 15*time.Second)
	chans := map[channels.Name]channels.Channel{e.ch.name: e.route.Channel}
	r, err := e.broker.Retract(context.Background(), "m3", "", "desk", chans)
	if err != nil || len(r.Results) != 1 || r.Results[0].Result != "retracted" || r.Results[0].RemoteID != d.RemoteID {
		t.Fatalf("retract %+v %v", r, err)
	}
	if st := fake.Statuses(); len(st) != 1 || !st[0].Deleted || st[0].ID != d.RemoteID {
		t.Fatalf("statuses %+v: want the one status deleted", st)
	}
	if got, _ := e.broker.Delivery(context.Background(), "m3", e.ch.name); got.State != StateRetracted || got.RetractedBy != "desk" {
		t.Fatalf("record %+v", got)
	}
	r, err = e.broker.Retract(context.Background(), "m3", "", "desk", chans)
	if err != nil || r.Results[0].Result != "already" {
		t.Fatalf("second retract %+v %v", r, err)
	}
	deletes := 0
	for _, q := range fake.Requests() {
		if q.Method == "DELETE" {
			deletes++
		}
	}
	if deletes != 1 {
		t.Fatalf("%d DELETE requests, want 1", deletes)
	}
}
