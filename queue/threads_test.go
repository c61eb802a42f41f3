package queue

// Threads through the worker: a container whose answer was lost is retried with a new container
// and the one post recorded; a publish whose answer was lost is parked unknown, never repeated.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/threads"
	"herald/channels/threads/threadsfake"
	"herald/formatter"
)

func newThreadsEnv(t *testing.T) (*env, *threadsfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := threadsfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("user_id: %q\naccess_token: %q\napi_base: %q\ntimeout: 1s\n", threadsfake.DefaultUser, threadsfake.DefaultToken, fake.APIBase())
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := threads.New(channels.Spec{Name: e.ch.name, Kind: channels.KindThreads, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindThreads, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

func TestThreadsLostContainerAnswerRetriedThenOnePostRecorded(t *testing.T) {
	e, fake := newThreadsEnv(t)
	fake.DropNext(threadsfake.StepContainer)
	e.publish("th1")
	e.start(testOpts(t), nil)
	d := e.waitState("th1", StateSent, 15*time.Second)
	p := fake.Posts()
	if len(p) != 1 || d.RemoteID != p[0].ID || d.PostURL != p[0].Permalink || d.Attempt != 2 {
		t.Fatalf("record %+v, posts %+v: want the one post's id and permalink after one retry", d, p)
	}
	if !strings.HasPrefix(p[0].Text, "عنوان الخبر th1") || !strings.Contains(p[0].LinkAttachment, "utm_source=threads") {
		t.Fatalf("post %+v", p[0])
	}
	if c := fake.Containers(); len(c) != 2 || c[0].Status != "FINISHED" || c[1].Status != "PUBLISHED" {
		t.Fatalf("containers %+v: want the orphan unpublished and the second published", c)
	}
}

// TestThreadsLostPublishAnswerIsSettled: the publish made the post but its answer was lost; the
// channel finds the post (its container PUBLISHED, its text among the newest) and the record is
// sent with its id at the first attempt, nothing posted twice.
func TestThreadsLostPublishAnswerIsSettled(t *testing.T) {
	e, fake := newThreadsEnv(t)
	fake.DropNext(threadsfake.StepPublish)
	e.publish("th2")
	e.start(testOpts(t), nil)
	d := e.waitState("th2", StateSent, 15*time.Second)
	if p := fake.Posts(); len(p) != 1 || d.RemoteID != p[0].ID || d.Attempt != 1 {
		t.Fatalf("record %+v, posts %+v: want the one post found", d, p)
	}
}

// TestThreadsPublishInDoubtIsParkedUnknown: a 5xx on publish whose container Threads does not
// call published may still be a publish in flight: the delivery is parked unknown for an admin,
// never published again by herald.
func TestThreadsPublishInDoubtIsParkedUnknown(t *testing.T) {
	e, fake := newThreadsEnv(t)
	fake.FailNext(threadsfake.StepPublish, 503, 2, 0, "Service temporarily unavailable")
	e.publish("th3")
	e.start(testOpts(t), nil)
	d := e.waitState("th3", StateUnknown, 15*time.Second)
	if n := len(fake.Posts()); n != 0 || d.Attempt != 1 || !strings.Contains(d.Error, "is FINISHED") {
		t.Fatalf("%d posts, record %+v: want the delivery parked with the container's status", n, d)
	}
}

// TestThreadsRetractDeletesThePost: a retract deletes the sent post (DELETE /{post-id}) and
// marks the delivery retracted; retracting twice deletes once.
func TestThreadsRetractDeletesThePost(t *testing.T) {
	e, fake := newThreadsEnv(t)
	e.publish("thr")
	e.start(testOpts(t), nil)
	d := e.waitState("thr", StateSent, 15*time.Second)
	chans := map[channels.Name]channels.Channel{e.ch.name: e.route.Channel}
	for i, want := range []string{"retracted", "already"} {
		r, err := e.broker.Retract(context.Background(), "thr", e.ch.name, "editor@desk", chans)
		if err != nil || len(r.Results) != 1 || r.Results[0].Result != want {
			t.Fatalf("retract %d: %+v %v, want %s", i+1, r, err, want)
		}
	}
	deletes := 0
	for _, r := range fake.Requests() {
		if r.Method == "DELETE" {
			deletes++
		}
	}
	if p := fake.Posts(); len(p) != 1 || p[0].ID != d.RemoteID || !fake.Deleted(d.RemoteID) || deletes != 1 {
		t.Fatalf("posts %+v, %d DELETE requests: want the one post deleted once", p, deletes)
	}
	if got, err := e.broker.Delivery(context.Background(), "thr", e.ch.name); err != nil || got.State != StateRetracted {
		t.Fatalf("%+v %v", got, err)
	}
}

// TestThreadsPublishingQuotaHoldsTheChannel: Threads refuses a publish over the profile's quota
// (here 1 a day); the channel waits the window's spacing read from threads_publishing_limit
// (24 h / 1), the refused delivery stays pending without failing, and nothing more is posted.
func TestThreadsPublishingQuotaHoldsTheChannel(t *testing.T) {
	e, fake := newThreadsEnv(t)
	fake.SetQuota(1)
	e.publish("q1")
	e.publish("q2")
	e.start(testOpts(t), nil)
	// The two may be sent in either order: one is sent, the other waits.
	var states []State
	waitFor(t, 15*time.Second, func() bool {
		nb, err := e.broker.NotBefore(context.Background(), e.ch.name)
		if err != nil || time.Until(nb) < 23*time.Hour {
			return false
		}
		states = states[:0]
		for _, id := range []string{"q1", "q2"} {
			d, err := e.broker.Delivery(context.Background(), id, e.ch.name)
			if err != nil {
				return false
			}
			states = append(states, d.State)
		}
		return states[0] == StateSent && states[1] == StatePending || states[0] == StatePending && states[1] == StateSent
	})
	p, c := fake.Posts(), fake.Containers()
	if len(p) != 1 || len(c) != 2 || c[0].Status == c[1].Status || c[0].Status != "FINISHED" && c[1].Status != "FINISHED" {
		t.Fatalf("posts %+v containers %+v: want one post and the other container unpublished", p, c)
	}
}
