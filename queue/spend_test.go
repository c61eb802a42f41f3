package queue

// X's per-post cost counted in Redis and its monthly budget, through the worker, against the
// real X channel and its fake.

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/x"
	"herald/channels/x/xfake"
	"herald/formatter"
)

// newXEnv is the test env with its "tg" route served by a real X channel against a fake.
func newXEnv(t *testing.T, creds xfake.Credentials, extra string) (*env, *xfake.Server) {
	t.Helper()
	e := newEnv(t)
	fake := xfake.New()
	t.Cleanup(fake.Close)
	var settings yaml.Node
	doc := fmt.Sprintf("consumer_key: %q\nconsumer_secret: %q\naccess_token: %q\naccess_secret: %q\napi_base: %q\ntimeout: 1s\n%s",
		creds.ConsumerKey, creds.ConsumerSecret, creds.AccessToken, creds.AccessSecret, fake.APIBase(), extra)
	if err := yaml.Unmarshal([]byte(doc), &settings); err != nil {
		t.Fatal(err)
	}
	ch, err := x.New(channels.Spec{Name: e.ch.name, Kind: channels.KindX, Settings: *settings.Content[0]}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := formatter.New(channels.KindX, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.route = Route{Channel: ch, Renderer: r, MaxAttempts: 3}
	return e, fake
}

func TestXSpendCountedAndBudgetPausesTheChannel(t *testing.T) {
	// Each post carries the article link: $0.20. A $0.50 budget allows two.
	e, fake := newXEnv(t, xfake.DefaultCredentials, "monthly_budget: 0.5\n")
	infos, err := ChannelInfos(context.Background(), e.broker, []ChannelConfig{{Name: e.ch.name, Kind: channels.KindX}, {Name: "tg2", Kind: channels.KindTelegram}})
	if err != nil || infos[0].Spend == nil || infos[0].Spend.USD != 0 || infos[1].Spend != nil {
		t.Fatalf("before any post: %+v %v; want $0 for X and no spend for Telegram", infos, err)
	}
	e.start(testOpts(t), nil)
	for _, id := range []string{"s1", "s2"} {
		e.publish(id)
		d := e.waitState(id, StateSent, 15*time.Second)
		if d.RemoteID == "" || d.PostURL != "https://x.com/i/web/status/"+d.RemoteID {
			t.Fatalf("record %+v: want the remote id and the post URL", d)
		}
	}
	e.publish("s3")
	waitFor(t, 15*time.Second, func() bool {
		ps, err := e.broker.Paused(context.Background())
		return err == nil && len(ps) == 1 && strings.Contains(ps[0].Reason, "monthly budget reached")
	})
	// The refusal comes before any request to X, and s3 is the only delivery left.
	if n := len(fake.Posts()); n != 2 {
		t.Fatalf("X has %d posts, want 2: the third would pass the budget", n)
	}
	d, err := e.broker.Delivery(context.Background(), "s3", e.ch.name)
	if err != nil || d.State.Final() {
		t.Fatalf("the delivery over budget must wait for the operator, not end: %+v %v", d, err)
	}
	infos, err = ChannelInfos(context.Background(), e.broker, []ChannelConfig{{Name: e.ch.name, Kind: channels.KindX}})
	if err != nil {
		t.Fatal(err)
	}
	sp := infos[0].Spend
	if sp == nil || sp.Posts["post_with_url"] != 2 || sp.Posts["post"] != 0 || fmt.Sprintf("%.2f", sp.USD) != "0.40" || sp.Budget != 0.5 ||
		sp.Month != time.Now().UTC().Format("2006-01") {
		t.Fatalf("spend %+v, want 2 posts with URL, $0.40 of $0.50", sp)
	}
}

func TestXFailedSendIsNotCharged(t *testing.T) {
	e, fake := newXEnv(t, xfake.DefaultCredentials, "monthly_budget: 0.2\n")
	fake.FailNext(400, `{"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request"}`, nil)
	e.start(testOpts(t), nil)
	e.publish("f1")
	e.waitState("f1", StateFailed, 15*time.Second)
	// The refused post gave its reservation back, so the whole budget is left for this one.
	e.publish("f2")
	e.waitState("f2", StateSent, 15*time.Second)
	sp, ok, err := e.broker.ChannelSpend(context.Background(), e.ch.name, time.Now())
	if err != nil || !ok || sp.Posts["post_with_url"] != 1 || fmt.Sprintf("%.2f", sp.USD) != "0.20" {
		t.Fatalf("spend %+v %v %v", sp, ok, err)
	}
}
