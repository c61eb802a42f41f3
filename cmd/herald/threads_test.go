package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"herald/channels"
	"herald/channels/threads/threadsfake"
	"herald/config"
	"herald/queue"
)

// TestFormatThreadsShowsTheContainerAndPublishRequests: herald format --channel threads prints
// the two requests a post takes (the container with the Arabic text and its link card, then the
// publish), the token hidden.
func TestFormatThreadsShowsTheContainerAndPublishRequests(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	reqs, _ := formatRequests(t, "--channel", "threads", "-")
	b, _ := json.Marshal(reqs)
	if len(reqs) < 2 || !strings.HasSuffix(reqs[0].URL, "/threads") || !strings.HasSuffix(reqs[len(reqs)-1].URL, "/threads_publish") ||
		strings.Contains(string(b), "example-token") {
		t.Fatalf("threads: %s", b)
	}
	form, err := url.ParseQuery(reqs[0].Body)
	if err != nil || form.Get("access_token") != "<redacted>" || !strings.Contains(form.Get("text"), "التفاصيل") || len([]rune(form.Get("text"))) > 500 {
		t.Fatalf("container body %q: %v", reqs[0].Body, err)
	}
}

// TestThreadsChannelFromConfigIsChecked: a threads channel built from a config, with its token
// from HERALD_CH_<NAME>_ACCESS_TOKEN, passes the start-up check (herald serve, herald doctor)
// against the API, and a wrong token fails it with the reason.
func TestThreadsChannelFromConfigIsChecked(t *testing.T) {
	fake := threadsfake.New()
	defer fake.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "herald.yaml")
	doc := fmt.Sprintf(`channels:
  - name: threads-ar
    kind: threads
    settings: {user_id: %q, api_base: %q}
  - name: threads-bad
    kind: threads
    settings: {user_id: %q, api_base: %q, access_token: not-the-token}
`, threadsfake.DefaultUser, fake.APIBase(), threadsfake.DefaultUser, fake.APIBase())
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HERALD_CH_THREADS_AR_ACCESS_TOKEN", threadsfake.DefaultToken)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	routes := map[channels.Name]queue.Route{}
	for _, name := range []channels.Name{"threads-ar", "threads-bad"} {
		c, ok := cfg.Channel(string(name))
		if !ok {
			t.Fatalf("no channel %s", name)
		}
		if c.Limit.Count != 250 || c.Limit.Period != 24*time.Hour {
			t.Fatalf("%s: rate %+v, want the default 250/24h", name, c.Limit)
		}
		ch, err := channels.New(c.Spec, channels.Env{})
		if err != nil {
			t.Fatal(err)
		}
		routes[name] = queue.Route{Channel: ch}
	}
	core, logs := observer.New(zapcore.InfoLevel)
	select {
	case <-checkChannels(context.Background(), zap.New(core), routes):
	case <-time.After(30 * time.Second):
		t.Fatal("checks did not finish")
	}
	warn := logs.FilterMessageSnippet("channel check failed").All()
	ok := logs.FilterMessageSnippet("channel check passed").All()
	if len(warn) != 1 || warn[0].ContextMap()["channel"] != "threads-bad" || len(ok) != 1 || ok[0].ContextMap()["channel"] != "threads-ar" {
		t.Fatalf("warnings %+v, passes %+v", warn, ok)
	}
	if s := fmt.Sprint(warn[0].ContextMap()); !strings.Contains(s, "code 190") || strings.Contains(s, "not-the-token") {
		t.Fatalf("the warning does not say why, or shows the token: %s", s)
	}
}

// TestDoctorAdviceForThreads: herald doctor says what to do for each way a Threads check
// fails, using the errors channels/threads returns.
func TestDoctorAdviceForThreads(t *testing.T) {
	for errText, want := range map[string]string{
		"threads: checking the access token: 400 Error validating access token: Session has expired (code 190, fbtrace_id A)": "refresh it",
		"threads: checking the access token: it belongs to @other (1789), not user_id 1784":                                   "another Threads profile",
		"threads: reading the publishing limit: 403 Application does not have permission (code 10)":                           "threads_content_publish",
		"threads: @herald has published 250 of its 250 posts in 24h0m0s: posts wait until the window moves":                   "250 posts",
		"threads: checking the access token: context deadline exceeded":                                                       "cannot be reached",
	} {
		got := checkAdvice(channels.CheckResult{Channel: "threads-main", Kind: channels.KindThreads, Error: errText})
		if !strings.Contains(got, want) {
			t.Errorf("%q: advice %q, want %q", errText, got, want)
		}
	}
}
