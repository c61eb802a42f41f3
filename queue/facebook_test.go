package queue

// Facebook through the worker: a transient Graph error (code 2) retried, then the post id and
// URL recorded.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/facebook"
	"herald/channels/facebook/facebookfake"
	"herald/formatter"
)

func newFacebookEnv(t *testing.T) (*env, *facebookfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := facebookfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("page_id: %q\npage_token: %q\ngraph_base: %q\ntimeout: 1s\n", facebookfake.DefaultPage, facebookfake.DefaultToken, fake.GraphBase())
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := facebook.New(channels.Spec{Name: e.ch.name, Kind: channels.KindFacebook, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindFacebook, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

func TestFacebookTransientErrorRetriedThenPostRecorded(t *testing.T) {
	e, fake := newFacebookEnv(t)
	fake.FailNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.", nil)
	e.publish("fb1")
	e.start(testOpts(t), nil)
	d := e.waitState("fb1", StateSent, 15*time.Second)
	p := fake.Posts()
	if len(p) != 1 || d.RemoteID != p[0].ID || d.PostURL != "https://www.facebook.com/"+p[0].ID || d.Attempt != 2 {
		t.Fatalf("record %+v, Page posts %+v: want the post id and URL after one retry", d, p)
	}
}

// TestFacebookExpiredTokenPausesTheChannel: Graph code 190 pauses the channel with the reason;
// the delivery waits instead of failing, and goes out after the token is fixed and resumed.
func TestFacebookExpiredTokenPausesTheChannel(t *testing.T) {
	e, fake := newFacebookEnv(t)
	fake.SetToken("a-newer-page-token-herald-does-not-have")
	e.publish("fb190")
	e.start(testOpts(t), nil)
	waitFor(t, 15*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		return err == nil && len(ps) == 1 && strings.Contains(ps[0].Reason, "auth") && strings.Contains(ps[0].Reason, "code 190")
	})
	if d, err := e.broker.Delivery(context.Background(), "fb190", e.ch.name); err != nil || d.State.Final() {
		t.Fatalf("%+v %v: an auth failure must not fail the delivery", d, err)
	}
	fake.SetToken(facebookfake.DefaultToken)
	if err := e.broker.Resume(context.Background(), e.ch.name); err != nil {
		t.Fatal(err)
	}
	e.waitState("fb190", StateSent, 20*time.Second)
	if n := len(fake.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}
