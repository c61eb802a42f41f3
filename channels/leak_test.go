package channels_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/channels"
	_ "herald/channels/bluesky"
	_ "herald/channels/discord"
	_ "herald/channels/facebook"
	_ "herald/channels/mastodon"
	_ "herald/channels/telegram"
	_ "herald/channels/threads"
	_ "herald/channels/webhook"
	_ "herald/channels/websub"
	_ "herald/channels/whatsapp"
	_ "herald/channels/x"
)

// The secrets of the table below: distinct, and long enough that no ordinary text contains one.
const (
	tgToken        = "7012345678:AAHleakTelegramBotToken_0123456789"
	xConsumerKey   = "leakXConsumerKey0123456789"
	xConsumerSec   = "leakXConsumerSecret0123456789abcdef"
	xAccessToken   = "1234567890-leakXAccessToken0123456789"
	xAccessSecret  = "leakXAccessSecret0123456789abcdef"
	fbPageToken    = "EAAleakFacebookPageToken0123456789"
	thToken        = "THAAleakThreadsAccessToken0123456789"
	bskyPassword   = "leak-bsky-appp-word"
	bskyAccessJwt  = "eyJleak.bskyAccessJwt.0123456789"
	bskyRefreshJwt = "eyJleak.bskyRefreshJwt.0123456789"
	mastoToken     = "leakMastodonAccessToken0123456789"
	discordToken   = "leakDiscordWebhookToken_0123456789abcdef"
	waCloudToken   = "EAAleakWhatsAppCloudToken0123456789"
	wahaKey        = "leakWahaApiKey0123456789"
	whapiToken     = "leakWhapiToken0123456789"
	hookSecret     = "whsec_bGVha1dlYmhvb2tTaWduaW5nU2VjcmV0MDEyMw=="
	hookPathToken  = "leakWebhookPathToken0123456789"
	hookQueryKey   = "leakWebhookQueryKey0123456789"
	hookHeader     = "leakWebhookHeaderValue0123456789"
	hubPassword    = "leakHubPassword0123456789"
)

// leakKind is one row of TestNoChannelLeaksASecret: how to configure a kind against a base URL
// (scheme://host:port, no slash), the secrets that configuration holds, and remote ids its
// Delete and Edit accept.
type leakKind struct {
	name     string
	kind     channels.Kind
	settings func(base string) string
	secrets  []string
	remoteID string
}

var leakKinds = []leakKind{
	{"telegram", channels.KindTelegram, func(b string) string {
		return "token: " + q(tgToken) + "\nchat_id: '@leaknews'\napi_endpoint: " + q(b+"/bot%s/%s")
	}, []string{tgToken}, "4711"},
	{"x", channels.KindX, func(b string) string {
		return "consumer_key: " + q(xConsumerKey) + "\nconsumer_secret: " + q(xConsumerSec) + "\naccess_token: " + q(xAccessToken) +
			"\naccess_secret: " + q(xAccessSecret) + "\napi_base: " + q(b)
	}, []string{xConsumerKey, xConsumerSec, xAccessToken, xAccessSecret}, "1850000000000000001"},
	{"facebook", channels.KindFacebook, func(b string) string {
		return "page_id: '1234567890'\npage_token: " + q(fbPageToken) + "\ngraph_base: " + q(b)
	}, []string{fbPageToken}, "1234567890_987654321"},
	{"threads", channels.KindThreads, func(b string) string {
		return "user_id: '17841400000000000'\naccess_token: " + q(thToken) + "\napi_base: " + q(b)
	}, []string{thToken}, "17900000000000001"},
	{"bluesky", channels.KindBluesky, func(b string) string {
		return "service: " + q(b) + "\nidentifier: news.example.com\napp_password: " + q(bskyPassword)
	}, []string{bskyPassword, bskyAccessJwt, bskyRefreshJwt}, "at://did:plc:leaktest/app.bsky.feed.post/3kleaktest22a"},
	{"mastodon", channels.KindMastodon, func(b string) string {
		return "instance: " + q(b) + "\naccess_token: " + q(mastoToken)
	}, []string{mastoToken}, "113000000000000001"},
	{"discord", channels.KindDiscord, func(b string) string {
		return "webhook_url: " + q(b+"/api/webhooks/1300000000000000001/"+discordToken)
	}, []string{discordToken}, "1310000000000000001"},
	{"whatsapp-cloud", channels.KindWhatsApp, func(b string) string {
		return "provider: cloud\napi_base: " + q(b) + "\ntoken: " + q(waCloudToken) + "\nphone_number_id: '106540352242922'\nto: '966500000000'"
	}, []string{waCloudToken}, ""},
	{"whatsapp-waha", channels.KindWhatsApp, func(b string) string {
		return "provider: waha\napi_base: " + q(b) + "\napi_key: " + q(wahaKey) + "\nchat_id: '120363000000000000@newsletter'"
	}, []string{wahaKey}, ""},
	{"whatsapp-whapi", channels.KindWhatsApp, func(b string) string {
		return "provider: whapi\napi_base: " + q(b) + "\ntoken: " + q(whapiToken) + "\nto: '120363000000000000@newsletter'"
	}, []string{whapiToken}, ""},
	{"webhook", channels.KindWebhook, func(b string) string {
		return "url: " + q(b+"/hooks/"+hookPathToken+"?key="+hookQueryKey) + "\nsecret: " + q(hookSecret) +
			"\nheaders: {Authorization: " + q("Bearer "+hookHeader) + "}"
	}, []string{hookSecret, hookPathToken, hookQueryKey, hookHeader}, ""},
	{"websub", channels.KindWebSub, func(b string) string {
		u, _ := url.Parse(b)
		u.User = url.UserPassword("herald", hubPassword)
		return "hubs: [" + q(u.String()+"/") + "]\ntopics: [https://news.example.com/feed]"
	}, []string{hubPassword}, ""},
}

func q(s string) string { b, _ := json.Marshal(s); return string(b) }

// hostile is how the loopback server misbehaves. Each is something a platform, a proxy or the
// network does, and each tends to put the request (its URL, headers or body) into an error.
type hostile struct {
	name   string
	status int    // for echo modes
	shape  string // tg, obj, str, text: where the echoed request goes in the answer
	// cut, when set, starts the answer with the first credential the request carried across
	// this offset, so an error that cuts the answer there before redacting keeps its first half.
	cut int
}

func hostileModes() []hostile {
	m := []hostile{{name: "refused"}, {name: "hang"}, {name: "redirect"}}
	for _, st := range []int{200, 400, 401, 429, 500} {
		for _, sh := range []string{"tg", "obj", "str", "text"} {
			m = append(m, hostile{name: fmt.Sprintf("echo-%d-%s", st, sh), status: st, shape: sh})
		}
	}
	for _, cut := range []int{200, 300, 512} {
		for _, st := range []int{400, 500} {
			m = append(m, hostile{name: fmt.Sprintf("cut-%d-%d", cut, st), status: st, shape: "text", cut: cut})
		}
	}
	return m
}

// allSecrets is every secret of the table.
func allSecrets() []string {
	var out []string
	for _, k := range leakKinds {
		out = append(out, k.secrets...)
	}
	return out
}

// closedPort is a loopback address nothing listens on: port 1 (tcpmux), which no test or
// service binds. A port that was listened on and closed could be taken by a parallel test's
// server before the channel dials it.
func closedPort(*testing.T) string { return "127.0.0.1:1" }

// dump is the request as a careless platform, proxy or error page would quote it back.
func dump(r *http.Request, body []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s path=%s host=%s", r.Method, r.RequestURI, r.URL.String(), r.URL.Path, r.Host)
	for k, vs := range r.Header {
		fmt.Fprintf(&b, " %s: %s", k, strings.Join(vs, ","))
	}
	if u, err := url.QueryUnescape(string(body)); err == nil {
		b.WriteString(" form: " + u)
	}
	b.WriteString(" body: " + string(body))
	return b.String()
}

func startHostile(t *testing.T, mode hostile) (string, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	if mode.name == "refused" {
		return "http://" + closedPort(t), hits
	}
	elsewhere := "http://" + closedPort(t)
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		// Bluesky: a session whose JWTs are secrets too, then the misbehaviour on every call.
		if strings.HasSuffix(r.URL.Path, "/com.atproto.server.createSession") || strings.HasSuffix(r.URL.Path, "/com.atproto.server.refreshSession") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"accessJwt":%q,"refreshJwt":%q,"did":"did:plc:leaktest","handle":"news.example.com","active":true}`, bskyAccessJwt, bskyRefreshJwt)
			return
		}
		d := dump(r, body)
		switch {
		case mode.name == "hang":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		case mode.name == "redirect":
			loc := elsewhere + r.URL.RequestURI()
			w.Header().Set("Location", loc)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusTemporaryRedirect)
			fmt.Fprintf(w, "<a href=%q>Temporary Redirect</a> %s", loc, d)
			return
		}
		w.Header().Set("Retry-After", "1")
		if mode.cut > 0 {
			for _, sec := range allSecrets() {
				if i := strings.Index(d, sec); i >= 0 {
					d = strings.Repeat("-", mode.cut-len(sec)/2) + sec + " " + d
					break
				}
			}
		}
		switch mode.shape {
		case "tg":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(mode.status)
			fmt.Fprintf(w, `{"ok":false,"error_code":%d,"description":%s,"parameters":{"retry_after":1}}`, mode.status, q(d))
		case "obj":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(mode.status)
			fmt.Fprintf(w, `{"error":{"message":%[1]s,"type":"OAuthException","code":190,"error_user_msg":%[1]s,"details":%[1]s},"errors":[{"message":%[1]s,"detail":%[1]s,"title":%[1]s}],"message":%[1]s,"detail":%[1]s,"title":%[1]s}`, q(d))
		case "str":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(mode.status)
			fmt.Fprintf(w, `{"error":%[1]s,"error_description":%[1]s,"message":%[1]s,"code":0}`, q(d))
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(mode.status)
			io.WriteString(w, d)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv.URL, hits
}

// secretForms are the ways a secret shows in text: as written, escaped for a query or a path,
// and its first or last half (what a cut through it, or a redaction of only part of it, leaves).
func secretForms(s string) []string {
	return []string{s, url.QueryEscape(s), url.PathEscape(s), s[:len(s)/2], s[len(s)-len(s)/2:]}
}

// TestNoChannelLeaksASecret drives every registered kind (and each WhatsApp gateway) through
// Send, Check, Delete, Edit and Preview against a loopback server that refuses, hangs,
// redirects, or answers with the request quoted back (its URL, headers and body) under each
// common error shape and status, and asserts that no secret of the channel's configuration
// appears in any error, receipt, preview or log field. A kind registered without a row here
// fails the test, so a new channel is covered from its first commit.
func TestNoChannelLeaksASecret(t *testing.T) {
	covered := map[channels.Kind]bool{}
	for _, k := range leakKinds {
		covered[k.kind] = true
	}
	for _, k := range channels.Registered() {
		if !covered[k] {
			t.Errorf("kind %q is registered but has no row in leakKinds: add one", k)
		}
	}
	for _, lk := range leakKinds {
		t.Run(lk.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range hostileModes() {
				out, reached := driveHostile(t, lk, mode)
				for _, sec := range lk.secrets {
					for _, form := range secretForms(sec) {
						if strings.Contains(out, form) {
							t.Errorf("%s, server %s: the secret %q shows: %s", lk.name, mode.name, sec, excerpt(out, form))
							break
						}
					}
				}
				if !reached {
					t.Errorf("%s, %s: no operation met the misbehaviour, so the run proves nothing:\n%s", lk.name, mode.name, out)
				}
			}
		})
	}
}

// excerpt is where form shows in out: the operation, and the text around it.
func excerpt(out, form string) string {
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, form); i >= 0 {
			op, _, _ := strings.Cut(l, ":")
			from, to := max(0, i-120), min(len(l), i+len(form)+40)
			return op + ": …" + strings.ToValidUTF8(l[from:to], "") + "…"
		}
	}
	return ""
}

// driveHostile builds the channel against a server misbehaving as mode says, runs every
// operation the channel has, and returns all it said: errors (and their %+v), receipts,
// previews and every log entry with its fields. reached says whether the misbehaviour was met:
// the server got a request, or, for a closed port, a send failed with the refusal.
func driveHostile(t *testing.T, lk leakKind, mode hostile) (out string, reached bool) {
	base, hits := startHostile(t, mode)
	var node yaml.Node
	// A short timeout only where the server hangs: a loaded machine (-race, two cores) must not
	// turn the other modes into timeouts that never reach the server.
	timeout := "10s"
	if mode.name == "hang" {
		timeout = "300ms"
	}
	settings := lk.settings(base) + "\ntimeout: " + timeout
	if lk.kind == channels.KindWebSub || lk.kind == channels.KindWebhook {
		settings += "\nallow_private_hosts: true"
	}
	if err := yaml.Unmarshal([]byte(settings), &node); err != nil {
		t.Fatalf("%s settings: %v\n%s", lk.name, err, settings)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ch, err := channels.New(channels.Spec{Name: "leak-" + channels.Name(lk.name), Kind: lk.kind, Settings: *node.Content[0]},
		channels.Env{Logger: zap.New(core), HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatalf("%s: building: %v", lk.name, err)
	}
	var b strings.Builder
	note := func(op string, v any, err error) {
		fmt.Fprintf(&b, "%s: %+v err=%v %+v\n", op, v, err, err)
	}
	msg := channels.Message{ArticleID: "leak-1", Key: "leak-1:" + lk.name + ":1", Attempt: 1,
		Posts: []channels.Post{{Text: "عاجل: خبر https://news.example.com/a/1", Extra: map[string]any{}}}}
	var mu sync.Mutex // the ops run one after another; the lock only orders the builder for -race
	run := func(op string, f func(ctx context.Context) (any, error)) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, err := f(ctx)
		mu.Lock()
		note(op, v, err)
		mu.Unlock()
	}
	run("send", func(ctx context.Context) (any, error) { return ch.Send(ctx, msg) })
	if c, ok := ch.(channels.Checker); ok {
		run("check", func(ctx context.Context) (any, error) { return nil, c.Check(ctx) })
	}
	if d, ok := ch.(channels.Deleter); ok {
		run("delete", func(ctx context.Context) (any, error) { return nil, d.Delete(ctx, lk.remoteID) })
	}
	if e, ok := ch.(channels.Editor); ok {
		run("edit", func(ctx context.Context) (any, error) { return nil, e.Edit(ctx, lk.remoteID, msg) })
	}
	if p, ok := ch.(channels.Previewer); ok {
		run("preview", func(ctx context.Context) (any, error) { return p.Preview(msg) })
	}
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "log %s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	out = b.String()
	if mode.name == "refused" {
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
		for _, form := range secretForms(s) {
			if strings.Contains(out, form) {
				t.Errorf("%s %q: the error repeats the secret: %v", tc.kind, tc.settings, err)
				break
			}
		}
	}
}
