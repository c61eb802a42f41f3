package channels_test

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
	"herald/internal/leaktest"
)

// TestNoChannelLeaksASecret drives every registered kind (and each WhatsApp gateway) through
// Send, Check, Delete, Edit and Preview against a loopback server that refuses, hangs,
// redirects, or answers with the request quoted back (its URL, headers and body) under each
// common error shape and status, and asserts that no secret of the channel's configuration
// appears in any error, receipt, preview or log field. A kind registered without a row in
// leaktest.Kinds fails the test, so a new channel is covered from its first commit.
func TestNoChannelLeaksASecret(t *testing.T) {
	covered := map[channels.Kind]bool{}
	for _, k := range leaktest.Kinds {
		covered[k.Kind] = true
	}
	for _, k := range channels.Registered() {
		if !covered[k] {
			t.Errorf("kind %q is registered but has no row in leaktest.Kinds: add one", k)
		}
	}
	for _, lk := range leaktest.Kinds {
		t.Run(lk.Name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range leaktest.Modes() {
				out, reached := driveHostile(t, lk, mode)
				if sec, where, found := leaktest.Find(out, lk.Secrets); found {
					t.Errorf("%s, server %s: the secret %q shows: %s", lk.Name, mode.Name, sec, where)
				}
				if !reached {
					t.Errorf("%s, %s: no operation met the misbehaviour, so the run proves nothing:\n%s", lk.Name, mode.Name, out)
				}
			}
		})
	}
}

// driveHostile builds the channel against a server misbehaving as mode says, runs every
// operation the channel has, and returns all it said: errors (and their %+v), receipts,
// previews and every log entry with its fields. reached says whether the misbehaviour was met:
// the server got a request, or, for a closed port, a send failed with the refusal.
func driveHostile(t *testing.T, lk leaktest.Kind, mode leaktest.Mode) (out string, reached bool) {
	base, hits := leaktest.Start(t, mode)
	// A short timeout only where the server hangs: a loaded machine (-race, two cores) must not
	// turn the other modes into timeouts that never reach the server.
	timeout := "10s"
	if mode.Name == "hang" {
		timeout = "300ms"
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ch, err := channels.New(lk.Spec(t, base, "timeout: "+timeout), channels.Env{Logger: zap.New(core), HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatalf("%s: building: %v", lk.Name, err)
	}
	var b strings.Builder
	msg := channels.Message{ArticleID: "leak-1", Key: "leak-1:" + lk.Name + ":1", Attempt: 1,
		Posts: []channels.Post{{Text: "عاجل: خبر https://news.example.com/a/1", Extra: map[string]any{}}}}
	run := func(op string, f func(ctx context.Context) (any, error)) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := f(ctx)
		fmt.Fprintf(&b, "%s: %+v err=%v %+v\n", op, v, err, err)
	}
	run("send", func(ctx context.Context) (any, error) { return ch.Send(ctx, msg) })
	if c, ok := ch.(channels.Checker); ok {
		run("check", func(ctx context.Context) (any, error) { return nil, c.Check(ctx) })
	}
	if d, ok := ch.(channels.Deleter); ok {
		run("delete", func(ctx context.Context) (any, error) { return nil, d.Delete(ctx, lk.RemoteID) })
	}
	if e, ok := ch.(channels.Editor); ok {
		run("edit", func(ctx context.Context) (any, error) { return nil, e.Edit(ctx, lk.RemoteID, msg) })
	}
	if p, ok := ch.(channels.Previewer); ok {
		run("preview", func(ctx context.Context) (any, error) { return p.Preview(msg) })
	}
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "log %s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	out = b.String()
	if mode.Name == "refused" {
		return out, strings.Contains(out, "connection refused")
	}
	return out, hits.Load() > 0
}

// cfgSecret is pasted into settings below where it does not belong or in a value that is
// refused; no start-up error may repeat it.
const cfgSecret = "leakConfigSecret_0123456789abcdef"

// TestNoConfigErrorRepeatsASecret: a credential written into a URL setting (an endpoint copied
// with its token, an ?access_token= or user:password@ left in a base URL) or pasted into a
// <setting>_file / _env is refused at start-up by an error that names the setting and does not
// repeat the credential, for every kind.
func TestNoConfigErrorRepeatsASecret(t *testing.T) {
	s := cfgSecret
	cases := []struct {
		kind     channels.Kind
		settings string
		setting  string // the error must name it
	}{
		{channels.KindTelegram, "token: 1:a\nchat_id: '@leaknews'\napi_endpoint: https://api.telegram.org/bot" + s + "/%s", "api_endpoint"},
		{channels.KindTelegram, "token: 1:a\nchat_id: '@leaknews'\napi_endpoint: api.telegram.org/bot" + s + "/%s/%s", "api_endpoint"},
		{channels.KindTelegram, "token_file: " + s + "\nchat_id: '@leaknews'", "token_file"},
		{channels.KindX, "consumer_key: a\nconsumer_secret: b\naccess_token: c\naccess_secret: d\napi_base: api.x.com/?key=" + s, "api_base"},
		{channels.KindX, "consumer_key: a\nconsumer_secret_env: " + s + "\naccess_token: c\naccess_secret: d", "consumer_secret_env"},
		{channels.KindFacebook, "page_id: '1'\npage_token: t\ngraph_base: graph.facebook.com/v21.0?access_token=" + s, "graph_base"},
		{channels.KindThreads, "user_id: '1'\naccess_token: t\napi_base: ftp://graph.threads.net/?access_token=" + s, "api_base"},
		{channels.KindLinkedIn, "organization_id: '1'\naccess_token: t\napi_base: api.linkedin.com/rest?oauth2_access_token=" + s, "api_base"},
		{channels.KindLinkedIn, "organization_id: '1'\naccess_token_file: " + s, "access_token_file"},
		{channels.KindBluesky, "identifier: a.example\napp_password: p\nservice: bsky.social/" + s, "service"},
		{channels.KindMastodon, "instance: https://mastodon.social/?access_token=" + s + "\naccess_token: t", "instance"},
		{channels.KindMastodon, "instance: http://news:" + s + "@mastodon.social\naccess_token: t", "instance"},
		{channels.KindMastodon, "instance: mastodon.social/" + s + "\naccess_token: t", "instance"},
		{channels.KindDiscord, "webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + s + "?x=1", "webhook_url"},
		{channels.KindWhatsApp, "provider: whapi\ntoken: t\nto: '120363000000000000@newsletter'\napi_base: https://gate.whapi.cloud/?token=" + s, "api_base"},
		{channels.KindWhatsApp, "provider: waha\napi_key_file: " + s + "\nchat_id: '120363000000000000@newsletter'", "api_key_file"},
		{channels.KindWebhook, "url: ftp://hooks.example.com/in/" + s + "\nsecret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "url"},
		{channels.KindWebSub, "hubs: ['hub.example.com/?key=" + s + "']\ntopics: [https://news.example.com/feed]", "hubs"},
	}
	for _, tc := range cases {
		var node yaml.Node
		if err := yaml.Unmarshal([]byte(tc.settings), &node); err != nil {
			t.Fatalf("%s: %v", tc.settings, err)
		}
		core, logs := observer.New(zapcore.DebugLevel)
		_, err := channels.New(channels.Spec{Name: "leak", Kind: tc.kind, Settings: *node.Content[0]}, channels.Env{Logger: zap.New(core)})
		if err == nil {
			t.Errorf("%s %q: accepted", tc.kind, tc.settings)
			continue
		}
		out := fmt.Sprintf("%v %+v", err, err)
		for _, e := range logs.All() {
			out += fmt.Sprint(e.Message, e.ContextMap())
		}
		if !strings.Contains(out, tc.setting) {
			t.Errorf("%s %q: the error does not name %s: %v", tc.kind, tc.settings, tc.setting, err)
		}
		if _, where, found := leaktest.Find(out, []string{s}); found {
			t.Errorf("%s %q: the error repeats the secret: %s", tc.kind, tc.settings, where)
		}
	}
}
