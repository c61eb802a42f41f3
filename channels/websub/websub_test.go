package websub

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/channels"
	"herald/channels/websub/hubfake"
)

const (
	feed = "https://news.example.com/feed"
	atom = "https://news.example.com/feed/atom"
)

func build(t *testing.T, doc string) (*Channel, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	ch, err := New(channels.Spec{Name: "feeds", Kind: channels.KindWebSub, Settings: *n.Content[0]}, channels.Env{})
	if err != nil {
		return nil, err
	}
	return ch.(*Channel), nil
}

func twoHubs(t *testing.T, hub *hubfake.Server) *Channel {
	t.Helper()
	ch, err := build(t, fmt.Sprintf("{hubs: [%q, %q], topics: [%q, %q], timeout: 2s}", hub.HubURL("a"), hub.HubURL("b"), feed, atom))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

var msg = channels.Message{ArticleID: "a1", Key: "a1:feeds:1", Attempt: 1, Posts: []channels.Post{{Text: "https://news.example.com/a/1"}}}

func TestPingsEveryHubForEveryTopic(t *testing.T) {
	hub := hubfake.New()
	defer hub.Close()
	ch := twoHubs(t, hub)
	rcpt, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, p := range hub.Pings() {
		got[p.Hub+" "+p.Topic] = true
	}
	for _, want := range []string{"/a " + feed, "/a " + atom, "/b " + feed, "/b " + atom} {
		if !got[want] {
			t.Errorf("no ping %s; got %v", want, got)
		}
	}
	if len(hub.Pings()) != 4 {
		t.Fatalf("%d pings, want 4", len(hub.Pings()))
	}
	if rcpt.RemoteID != hub.HubURL("a")+" "+hub.HubURL("b") || rcpt.PostURL != feed {
		t.Fatalf("receipt %+v, want the hubs and the first topic", rcpt)
	}
	if !ch.Deduplicates() {
		t.Fatal("a ping is idempotent: an unknown outcome may be retried")
	}
}

func TestHubAnswers(t *testing.T) {
	hub := hubfake.New()
	defer hub.Close()
	ch, err := build(t, fmt.Sprintf("{hubs: [%q], topics: [%q]}", hub.HubURL("hub"), feed))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ch.now = func() time.Time { return now }
	retryable := func(err error) bool {
		_, rl := channels.AsRateLimited(err)
		return !rl && !channels.IsPermanent(err) && !channels.IsUnknownOutcome(err)
	}
	for _, tc := range []struct {
		status int
		ra     string
		check  func(error) bool
		what   string
	}{
		{400, "", channels.IsPermanent, "permanent"},
		{404, "", channels.IsPermanent, "permanent"},
		{503, "", retryable, "retryable"},
		{500, "", retryable, "retryable"},
		// 408: the hub (or its front end) gave up waiting for the request; a ping is idempotent.
		{408, "", retryable, "retryable"},
		{429, "9", func(err error) bool {
			rl, ok := channels.AsRateLimited(err)
			return ok && rl.RetryAt.Equal(now.Add(9*time.Second))
		}, "rate limited 9s"},
		{429, "", func(err error) bool {
			rl, ok := channels.AsRateLimited(err)
			return ok && rl.RetryAt.Equal(now.Add(DefaultRetryAfter))
		}, "rate limited, default"},
	} {
		hub.FailNext(1, tc.status, tc.ra)
		_, err := ch.Send(context.Background(), msg)
		if he, ok := AsHubError(err); !ok || he.Status != tc.status || !tc.check(err) {
			t.Errorf("%d: %v, want %s", tc.status, err, tc.what)
		}
	}
	if len(hub.Pings()) != 0 {
		t.Fatal("a refused ping was recorded")
	}
	// A hub that refuses the topic itself (the fake checks hub.url) is permanent.
	bad, err := build(t, fmt.Sprintf("{hubs: [%q], topics: [%q]}", hub.HubURL("hub"), feed))
	if err != nil {
		t.Fatal(err)
	}
	bad.cfg.Topics = []string{"not a url"}
	if _, err := bad.Send(context.Background(), msg); !channels.IsPermanent(err) || !strings.Contains(err.Error(), "Invalid topic URL") {
		t.Fatalf("bad topic: %v", err)
	}
}

func TestOneHubDownIsRetriedEvenWhenAnotherRefuses(t *testing.T) {
	hub := hubfake.New()
	defer hub.Close()
	ch := twoHubs(t, hub)
	hub.FailNext(1, 400, "")
	hub.FailNext(1, 502, "")
	_, err := ch.Send(context.Background(), msg)
	if err == nil || channels.IsPermanent(err) {
		t.Fatalf("400 from one ping and 502 from another: %v, want retryable", err)
	}
	if n := len(hub.Pings()); n != 2 {
		t.Fatalf("%d pings accepted, want the other 2 still sent", n)
	}
}

func TestUnreachableHubIsRetryable(t *testing.T) {
	hub := hubfake.New()
	ch := twoHubs(t, hub)
	hub.Close()
	_, err := ch.Send(context.Background(), msg)
	if err == nil || channels.IsPermanent(err) || !strings.Contains(err.Error(), "websub: pinging") {
		t.Fatalf("hub down: %v, want a retryable error saying the action", err)
	}
}

func TestPreviewShowsThePings(t *testing.T) {
	hub := hubfake.New()
	defer hub.Close()
	reqs, err := twoHubs(t, hub).Preview(msg)
	if err != nil || len(reqs) != 4 {
		t.Fatalf("%v %+v", err, reqs)
	}
	if reqs[0].Method != "POST" || reqs[0].URL != hub.HubURL("a") || reqs[0].Body != "hub.mode=publish&hub.url=https%3A%2F%2Fnews.example.com%2Ffeed" {
		t.Fatalf("preview %+v", reqs[0])
	}
	if len(hub.Requests()) != 0 {
		t.Fatal("Preview sent a request")
	}
}

func TestConfig(t *testing.T) {
	for doc, want := range map[string]string{
		"{}":                       "topics: required",
		"{topics: [ftp://x/feed]}": "topics[0]",
		"{topics: [" + feed + "], hubs: [nothub]}":       "hubs[0]",
		"{topics: [" + feed + "], timeout: -1s}":         "timeout",
		"{topics: [" + feed + "], hubz: [" + feed + "]}": "hubz",
	} {
		if _, err := build(t, doc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
	ch, err := build(t, fmt.Sprintf("{topics: %q}", feed+", "+atom+" "+feed))
	if err != nil {
		t.Fatal(err)
	}
	if len(ch.cfg.Hubs) != 1 || ch.cfg.Hubs[0] != DefaultHub || len(ch.cfg.Topics) != 2 {
		t.Fatalf("defaults and a list from one string: %+v", ch.cfg)
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s (auth %q)", r.URL, r.Header.Get("Authorization"))
}

func TestHubCredentialsStayOutOfErrorsAndLogs(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	var n yaml.Node
	_ = yaml.Unmarshal([]byte(fmt.Sprintf("{hubs: [%q], topics: [%q]}", "https://herald:hub-token-9f8e7d@hub.example.org/publish", feed)), &n)
	ch, err := New(channels.Spec{Name: "feeds", Kind: channels.KindWebSub, Settings: *n.Content[0]},
		channels.Env{Logger: zap.New(core), HTTPClient: &http.Client{Transport: failingTransport{}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(context.Background(), msg)
	if err == nil || channels.IsPermanent(err) {
		t.Fatalf("%v, want a retryable error", err)
	}
	reqs, _ := ch.(*Channel).Preview(msg)
	text := err.Error() + fmt.Sprint(reqs)
	for _, e := range logs.All() {
		text += e.Message + fmt.Sprint(e.ContextMap())
	}
	if strings.Contains(text, "hub-token-9f8e7d") {
		t.Fatalf("hub credential leaked:\n%s", text)
	}
	if !strings.Contains(err.Error(), "websub: pinging") {
		t.Fatalf("error should say the action: %v", err)
	}
}
