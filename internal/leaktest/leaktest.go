// Package leaktest is what the secret-leak tests share (channels, queue): every channel kind
// configured with recognisable secrets against a loopback server, and that server misbehaving
// the ways that put a request (its URL, headers, body) into an error: refusing, hanging,
// redirecting, quoting the request back under each common error shape and status. A kind
// registered without a row in Kinds fails TestNoChannelLeaksASecret.
package leaktest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"gopkg.in/yaml.v3"

	"herald/channels"
	_ "herald/channels/bluesky"  // every kind is registered for the tests that use this package
	_ "herald/channels/discord"  //
	_ "herald/channels/facebook" //
	_ "herald/channels/linkedin" //
	_ "herald/channels/mastodon" //
	_ "herald/channels/telegram" //
	_ "herald/channels/threads"  //
	_ "herald/channels/webhook"  //
	_ "herald/channels/websub"   //
	_ "herald/channels/whatsapp" //
	_ "herald/channels/x"        //
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
	liToken        = "AQVleakLinkedInAccessToken0123456789"
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

// Kind is one row of the table: how to configure a kind against a base URL
// (scheme://host:port, no slash), the secrets that configuration holds, and remote ids its
// Delete and Edit accept.
type Kind struct {
	Name     string
	Kind     channels.Kind
	Settings func(base string) string
	Secrets  []string
	RemoteID string
}

var Kinds = []Kind{
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
	{"linkedin", channels.KindLinkedIn, func(b string) string {
		return "organization_id: '2414183'\naccess_token: " + q(liToken) + "\napi_base: " + q(b)
	}, []string{liToken}, "urn:li:share:7400000000000000001"},
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

// Mode is how the loopback server misbehaves. Each is something a platform, a proxy or the
// network does, and each tends to put the request (its URL, headers or body) into an error.
type Mode struct {
	Name   string
	Status int    // for echo modes
	Shape  string // tg, obj, str, text: where the echoed request goes in the answer
	// cut, when set, starts the answer with the first credential the request carried across
	// this offset, so an error that cuts the answer there before redacting keeps its first half.
	Cut int
}

// Modes are every misbehaviour: refused (nothing listens), hang (no answer until the
// client gives up), redirect (307 to a closed port, the body quoting the request), echo-<status>-<shape>
// and cut-<offset>-<status>.
func Modes() []Mode {
	m := []Mode{{Name: "refused"}, {Name: "hang"}, {Name: "redirect"}}
	for _, st := range []int{200, 400, 401, 429, 500} {
		for _, sh := range []string{"tg", "obj", "str", "text"} {
			m = append(m, Mode{Name: fmt.Sprintf("echo-%d-%s", st, sh), Status: st, Shape: sh})
		}
	}
	for _, cut := range []int{200, 300, 512} {
		for _, st := range []int{400, 500} {
			m = append(m, Mode{Name: fmt.Sprintf("cut-%d-%d", cut, st), Status: st, Shape: "text", Cut: cut})
		}
	}
	return m
}

// AllSecrets is every secret of the table.
func AllSecrets() []string {
	var out []string
	for _, k := range Kinds {
		out = append(out, k.Secrets...)
	}
	return out
}

// closedPort is a loopback address nothing listens on: port 1 (tcpmux), which no test or
// service binds. A port that was listened on and closed could be taken by a parallel test's
// server before the channel dials it.
func closedPort() string { return "127.0.0.1:1" }

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

// Start serves mode on loopback until the test ends and returns its base URL and the count of
// requests it got. Bluesky's createSession and refreshSession are answered with a session
// whose JWTs (the bluesky row's Secrets) are secrets too; every other request meets mode.
func Start(t testing.TB, mode Mode) (string, *atomic.Int64) {
	t.Helper()
	hits := new(atomic.Int64)
	if mode.Name == "refused" {
		return "http://" + closedPort(), hits
	}
	elsewhere := "http://" + closedPort()
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
		case mode.Name == "hang":
			select {
			case <-r.Context().Done():
			case <-stop:
			}
			return
		case mode.Name == "redirect":
			loc := elsewhere + r.URL.RequestURI()
			w.Header().Set("Location", loc)
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusTemporaryRedirect)
			fmt.Fprintf(w, "<a href=%q>Temporary Redirect</a> %s", loc, d)
			return
		}
		w.Header().Set("Retry-After", "1")
		if mode.Cut > 0 {
			for _, sec := range AllSecrets() {
				if i := strings.Index(d, sec); i >= 0 {
					d = strings.Repeat("-", mode.Cut-len(sec)/2) + sec + " " + d
					break
				}
			}
		}
		switch mode.Shape {
		case "tg":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(mode.Status)
			fmt.Fprintf(w, `{"ok":false,"error_code":%d,"description":%s,"parameters":{"retry_after":1}}`, mode.Status, q(d))
		case "obj":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(mode.Status)
			fmt.Fprintf(w, `{"error":{"message":%[1]s,"type":"OAuthException","code":190,"error_user_msg":%[1]s,"details":%[1]s},"errors":[{"message":%[1]s,"detail":%[1]s,"title":%[1]s}],"message":%[1]s,"detail":%[1]s,"title":%[1]s}`, q(d))
		case "str":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(mode.Status)
			fmt.Fprintf(w, `{"error":%[1]s,"error_description":%[1]s,"message":%[1]s,"code":0}`, q(d))
		default:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(mode.Status)
			io.WriteString(w, d)
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(stop) })
	return srv.URL, hits
}

// Forms are the ways a secret shows in text: as written, escaped for a query or a path,
// and its first or last half (what a cut through it, or a redaction of only part of it, leaves).
func Forms(s string) []string {
	return []string{s, url.QueryEscape(s), url.PathEscape(s), s[:len(s)/2], s[len(s)-len(s)/2:]}
}

// Excerpt is where form shows in out: the operation, and the text around it.
func Excerpt(out, form string) string {
	for _, l := range strings.Split(out, "\n") {
		if i := strings.Index(l, form); i >= 0 {
			op, _, _ := strings.Cut(l, ":")
			from, to := max(0, i-120), min(len(l), i+len(form)+40)
			return op + ": …" + strings.ToValidUTF8(l[from:to], "") + "…"
		}
	}
	return ""
}

// Find reports the first secret of secrets that shows in out in any of its Forms, and where.
func Find(out string, secrets []string) (secret, where string, found bool) {
	for _, sec := range secrets {
		for _, form := range Forms(sec) {
			if strings.Contains(out, form) {
				return sec, Excerpt(out, form), true
			}
		}
	}
	return "", "", false
}

// YAML is the settings block of row k against base (one setting a line), with extra lines
// appended.
func (k Kind) YAML(base string, extra ...string) string {
	settings := k.Settings(base)
	if k.Kind == channels.KindWebSub || k.Kind == channels.KindWebhook {
		settings += "\nallow_private_hosts: true"
	}
	for _, e := range extra {
		settings += "\n" + e
	}
	return settings
}

// Spec is the channel spec of row k against base, with extra settings lines appended.
func (k Kind) Spec(t testing.TB, base string, extra ...string) channels.Spec {
	t.Helper()
	settings := k.YAML(base, extra...)
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(settings), &node); err != nil {
		t.Fatalf("%s settings: %v\n%s", k.Name, err, settings)
	}
	return channels.Spec{Name: channels.Name("leak-" + k.Name), Kind: k.Kind, Settings: *node.Content[0]}
}
