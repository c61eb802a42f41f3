package queue

// LinkedIn through the worker on a real Redis: the post's URN and link recorded with its
// little-text commentary shown whole; an expired token pauses the channel until it is fixed;
// a lost answer is parked unknown (LinkedIn has no idempotency key), never posted twice.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/linkedin"
	"herald/channels/linkedin/linkedinfake"
	"herald/formatter"
)

func newLinkedInEnv(t *testing.T) (*env, *linkedinfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := linkedinfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("organization_id: %q\naccess_token: %q\napi_base: %q\ntimeout: 1s\n",
		linkedinfake.DefaultOrganization, linkedinfake.DefaultToken, fake.APIBase())
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := linkedin.New(channels.Spec{Name: e.ch.name, Kind: channels.KindLinkedIn, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindLinkedIn, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

// publishArabic publishes an Arabic article whose title and summary hold little's reserved
// characters.
func (e *env) publishArabic(id string) *article.Article {
	e.t.Helper()
	a := &article.Article{ID: id, URL: "https://example.com/news/" + id, Language: "ar",
		Title:   "الوزير (في بيان) يعلن [رسميًا] " + id,
		Summary: "قال إن سعر_الصرف *ثابت* حتى نهاية العام."}
	a.Normalize()
	if err := a.Validate(); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.broker.Publish(context.Background(), a, []Target{{Name: e.ch.name, Kind: channels.KindLinkedIn}}); err != nil {
		e.t.Fatalf("publish: %v", err)
	}
	return a
}

func TestLinkedInPostRecordedWithItsURN(t *testing.T) {
	e, fake := newLinkedInEnv(t)
	a := e.publishArabic("li1")
	e.start(testOpts(t), nil)
	d := e.waitState("li1", StateSent, 15*time.Second)
	p := fake.Posts()
	if len(p) != 1 || d.RemoteID != p[0].URN || d.PostURL != linkedin.PostURL(p[0].URN) || d.Attempt != 1 {
		t.Fatalf("record %+v, posts %+v: want the post's URN and link", d, p)
	}
	if p[0].Truncated || !strings.HasPrefix(p[0].Shown, a.Title+"\n\n"+a.Summary) || !strings.HasPrefix(p[0].Source, a.URL) {
		t.Fatalf("post %+v: want the whole Arabic text shown and the article as the card", p[0])
	}
}

// TestLinkedInExpiredTokenPausesTheChannel: a 401 pauses the channel with the reason; the
// delivery waits instead of failing, and goes out once the token is fixed and the channel
// resumed.
func TestLinkedInExpiredTokenPausesTheChannel(t *testing.T) {
	e, fake := newLinkedInEnv(t)
	fake.SetToken("a-newer-token-herald-does-not-have")
	e.publishArabic("li401")
	e.start(testOpts(t), nil)
	waitFor(t, 15*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		return err == nil && len(ps) == 1 && strings.Contains(ps[0].Reason, "auth") && strings.Contains(ps[0].Reason, "INVALID_ACCESS_TOKEN")
	})
	if d, err := e.broker.Delivery(context.Background(), "li401", e.ch.name); err != nil || d.State.Final() {
		t.Fatalf("%+v %v: an auth failure must not fail the delivery", d, err)
	}
	fake.SetToken(linkedinfake.DefaultToken)
	if err := e.broker.Resume(context.Background(), e.ch.name); err != nil {
		t.Fatal(err)
	}
	e.waitState("li401", StateSent, 20*time.Second)
	if n := len(fake.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}

// TestLinkedInLostAnswerIsParkedNotRepeated: LinkedIn made the post but the answer was lost.
// Without an idempotency key a retry could post it twice, so the delivery is parked unknown
// for an admin, and LinkedIn got exactly one create.
func TestLinkedInLostAnswerIsParkedNotRepeated(t *testing.T) {
	e, fake := newLinkedInEnv(t)
	fake.DropNextPost()
	e.publishArabic("lilost")
	e.start(testOpts(t), nil)
	d := e.waitState("lilost", StateUnknown, 15*time.Second)
	creates := 0
	for _, r := range fake.Requests() {
		if r.Method == "POST" && r.Path == "/rest/posts" {
			creates++
		}
	}
	if creates != 1 || len(fake.Posts()) != 1 || d.Attempt != 1 {
		t.Fatalf("record %+v, %d creates, posts %+v: want one create, parked", d, creates, fake.Posts())
	}
}

// TestLinkedInCorrectEditsInPlaceThenRetractDeletes: a correction edits the sent post's
// commentary in place (PARTIAL_UPDATE, the same URN, no new post), its corrected Arabic title
// with parentheses shown whole; a retract then deletes the post on LinkedIn.
func TestLinkedInCorrectEditsInPlaceThenRetractDeletes(t *testing.T) {
	ctx := context.Background()
	e := newRetractEnv(t)
	fake := linkedinfake.New()
	t.Cleanup(fake.Close)
	e.routes["li"] = buildChannel(t, "li", channels.KindLinkedIn, fmt.Sprintf("organization_id: %q\naccess_token: %q\napi_base: %q\ntimeout: 1s\n",
		linkedinfake.DefaultOrganization, linkedinfake.DefaultToken, fake.APIBase()), linkedin.New)
	e.chans["li"] = e.routes["li"].Channel
	e.start()
	e.publish("lic", []Target{{Name: "li", Kind: channels.KindLinkedIn}})
	e.waitAll("lic", StateSent)

	title := "تصحيح: الوزير (في بيان) يعلن [رسميًا] lic"
	c, err := e.broker.Correct(ctx, corrected("lic", title), "", "desk", e.routes)
	if err != nil {
		t.Fatal(err)
	}
	res := correctResults(c)
	p := fake.Posts()
	if res["li"].Result != "edited" || c.Failed() || len(p) != 1 || p[0].URN != res["li"].RemoteID || p[0].Truncated || !strings.HasPrefix(p[0].Shown, title) {
		t.Fatalf("result %+v, posts %+v: want the one post's commentary corrected in place, whole", res["li"], p)
	}

	r, err := e.broker.Retract(ctx, "lic", "li", "desk", e.chans)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Results) != 1 || r.Results[0].Result != "retracted" || !fake.Posts()[0].Deleted {
		t.Fatalf("retraction %+v, posts %+v: want the post deleted on LinkedIn", r.Results, fake.Posts())
	}
}

// TestLinkedInAdminRetryOfUnknownRecordsThePostMade: after the lost answer parks the delivery,
// an admin's retry is refused by LinkedIn as a duplicate of the post the first attempt made;
// the channel settles it, so the record becomes sent with that post's URN and nothing is
// posted twice.
func TestLinkedInAdminRetryOfUnknownRecordsThePostMade(t *testing.T) {
	e, fake := newLinkedInEnv(t)
	fake.DropNextPost()
	e.publishArabic("liretry")
	e.start(testOpts(t), nil)
	e.waitState("liretry", StateUnknown, 15*time.Second)
	if _, err := e.broker.Requeue(context.Background(), "liretry", e.ch.name, "retry", "admin"); err != nil {
		t.Fatal(err)
	}
	d := e.waitState("liretry", StateSent, 15*time.Second)
	p := fake.Posts()
	if len(p) != 1 || d.RemoteID != p[0].URN || d.PostURL != linkedin.PostURL(p[0].URN) {
		t.Fatalf("record %+v, posts %+v: want the first attempt's post recorded, no second post", d, p)
	}
}
