package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/webhook/webhookfake"
	"herald/formatter"
)

// The Standard Webhooks specification's published example.
const (
	specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	specID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	specTS     = 1614265330
	specBody   = `{"test": 2432232314}`
	specSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	// otherSecret is a second 32-byte key, for rotation.
	otherSecret = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24tdGVzdHM="
)

func TestSignReproducesTheSpecExample(t *testing.T) {
	key, err := DecodeSecret(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := Sign(key, specID, specTS, []byte(specBody)); got != specSig {
		t.Fatalf("Sign = %s, want %s", got, specSig)
	}
	// The fake's verifier is written separately from Sign: it must accept the spec's signature
	// and refuse it for another body, id or timestamp.
	v, err := webhookfake.NewVerifier(specSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.VerifyAt(specID, fmt.Sprint(specTS), []byte(specBody), specSig); err != nil {
		t.Fatalf("verifier refuses the spec example: %v", err)
	}
	for _, tc := range []struct{ id, ts, body string }{
		{specID, fmt.Sprint(specTS), `{"test": 2432232315}`},
		{"msg_other", fmt.Sprint(specTS), specBody},
		{specID, fmt.Sprint(specTS + 1), specBody},
	} {
		if err := v.VerifyAt(tc.id, tc.ts, []byte(tc.body), specSig); !errors.Is(err, webhookfake.ErrNoMatch) {
			t.Errorf("verifier accepted a tampered message %+v: %v", tc, err)
		}
	}
	other, _ := webhookfake.NewVerifier(otherSecret)
	if err := other.VerifyAt(specID, fmt.Sprint(specTS), []byte(specBody), specSig); err == nil {
		t.Fatal("a verifier with another secret accepted the signature")
	}
}

func sampleArticle() *article.Article {
	a := &article.Article{
		URL:      "https://news.example.com/world/2026/11/story",
		Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary:  "قال الرئيس الأوكراني إن هناك تحالفًا متزايدًا بين روسيا وكوريا الشمالية.",
		Tags:     []string{"أوكرانيا"},
		Language: "ar",
	}
	a.Normalize()
	return a
}

func message(t *testing.T, key string) channels.Message {
	t.Helper()
	r, err := formatter.New(channels.KindWebhook, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(sampleArticle())
	if err != nil {
		t.Fatal(err)
	}
	return channels.Message{ArticleID: "a1", Key: key, Attempt: 1, Posts: posts}
}

func newTest(t *testing.T, settings string, env channels.Env) *Channel {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(settings), &n); err != nil {
		t.Fatal(err)
	}
	ch, err := New(channels.Spec{Name: "hook", Kind: channels.KindWebhook, Settings: *n.Content[0]}, env)
	if err != nil {
		t.Fatal(err)
	}
	return ch.(*Channel)
}

func TestSendSignsAndDelivers(t *testing.T) {
	fake := webhookfake.New(specSecret)
	defer fake.Close()
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, headers: {X-Source: herald}, timeout: 2s}", fake.URL(), specSecret), channels.Env{})
	msg := message(t, "a1:hook:1")
	rcpt, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	dels := fake.Deliveries()
	if len(dels) != 1 {
		t.Fatalf("%d deliveries", len(dels))
	}
	d := dels[0]
	if d.ID != "a1:hook:1" || rcpt.RemoteID != d.ID {
		t.Fatalf("webhook-id %q, receipt %+v; want the delivery key", d.ID, rcpt)
	}
	if d.Header.Get("X-Source") != "herald" || d.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("headers %v", d.Header)
	}
	var body struct {
		Article article.Article `json:"article"`
		Text    string          `json:"text"`
		Link    string          `json:"link"`
	}
	if err := json.Unmarshal(d.Body, &body); err != nil {
		t.Fatalf("body is not the JSON payload: %v\n%s", err, d.Body)
	}
	if body.Article.Title != sampleArticle().Title || body.Text != msg.Posts[0].Text || !strings.HasPrefix(body.Link, "https://news.example.com/world/2026/11/story") {
		t.Fatalf("payload %+v", body)
	}
	if strings.Count(d.Signature, "v1,") != 1 {
		t.Fatalf("signature header %q, want one signature", d.Signature)
	}
}

func TestRotationSendsOneSignaturePerSecret(t *testing.T) {
	for _, known := range []string{specSecret, otherSecret} {
		fake := webhookfake.New(known) // a receiver that knows only one of the two
		ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, secrets: [%q]}", fake.URL(), specSecret, otherSecret), channels.Env{})
		if _, err := ch.Send(context.Background(), message(t, "rot:hook:1")); err != nil {
			t.Fatalf("receiver knowing %s: %v", known[:10], err)
		}
		d := fake.Deliveries()[0]
		if sigs := strings.Fields(d.Signature); len(sigs) != 2 {
			t.Fatalf("signature header %q, want two space-separated signatures", d.Signature)
		}
		fake.Close()
	}
}

// TestBadSignaturePausesTheChannel: a receiver that knows none of the secrets refuses every
// delivery with 401, so the channel pauses with the reason (its backlog waits for the secret to
// be fixed and the channel resumed) instead of failing the whole backlog one delivery at a time.
func TestBadSignaturePausesTheChannel(t *testing.T) {
	fake := webhookfake.New("whsec_" + strings.Repeat("QUFB", 8))
	defer fake.Close()
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q}", fake.URL(), specSecret), channels.Env{})
	_, err := ch.Send(context.Background(), message(t, "bad:hook:1"))
	p, pause := channels.AsPause(err)
	if se, ok := AsStatus(err); !ok || se.Status != 401 || !pause || !strings.HasPrefix(p.Reason, "auth: ") || channels.IsPermanent(err) {
		t.Fatalf("bad signature: %v, want an auth pause for the 401", err)
	}
	if len(fake.Deliveries()) != 0 {
		t.Fatal("a badly signed request was recorded as delivered")
	}
}

func TestAnswersMapToRetryDecisions(t *testing.T) {
	fake := webhookfake.New(specSecret)
	defer fake.Close()
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, timeout: 2s}", fake.URL(), specSecret), channels.Env{})
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	ch.now = func() time.Time { return now }
	// The fake checks the timestamp against its own clock; these answers come before that.
	cases := []struct {
		status     int
		retryAfter string
		check      func(error) bool
		what       string
	}{
		{410, "", func(err error) bool {
			p, ok := channels.AsPause(err)
			return ok && p.Reason == "webhook gone (410)" && !channels.IsPermanent(err)
		}, "pause: webhook gone (410)"},
		{429, "7", func(err error) bool {
			rl, ok := channels.AsRateLimited(err)
			return ok && rl.RetryAt.Equal(now.Add(7*time.Second))
		}, "rate limited for 7s"},
		{429, "", func(err error) bool {
			rl, ok := channels.AsRateLimited(err)
			return ok && rl.RetryAt.Equal(now.Add(DefaultRetryAfter))
		}, "rate limited for the default"},
		{503, "", func(err error) bool {
			_, rl := channels.AsRateLimited(err)
			_, pause := channels.AsPause(err)
			return !rl && !pause && !channels.IsPermanent(err) && !channels.IsUnknownOutcome(err)
		}, "retryable"},
		{503, "30", func(err error) bool {
			rl, ok := channels.AsRateLimited(err)
			return ok && rl.RetryAt.Equal(now.Add(30*time.Second))
		}, "rate limited for 30s"},
		// 408: the receiver (or its front end) gave up waiting for the request; the retry
		// carries the same webhook-id, so it is safe.
		{408, "", func(err error) bool {
			_, rl := channels.AsRateLimited(err)
			_, pause := channels.AsPause(err)
			return !rl && !pause && !channels.IsPermanent(err) && !channels.IsUnknownOutcome(err)
		}, "retryable"},
		{400, "", channels.IsPermanent, "permanent"},
		{404, "", channels.IsPermanent, "permanent"},
		{301, "", channels.IsPermanent, "permanent (redirects are not followed)"},
	}
	for _, tc := range cases {
		fake.FailNext(1, tc.status, tc.retryAfter)
		_, err := ch.Send(context.Background(), message(t, "k"))
		if err == nil || !tc.check(err) {
			t.Errorf("%d Retry-After %q: %v, want %s", tc.status, tc.retryAfter, err, tc.what)
		}
	}
	if len(fake.Deliveries()) != 0 {
		t.Fatal("a refused request was recorded as delivered")
	}
}

func TestUnknownOutcomeRetriesWithTheSameWebhookID(t *testing.T) {
	fake := webhookfake.New(specSecret)
	defer fake.Close()
	release := make(chan struct{})
	fake.OnAccept(func(webhookfake.Delivery) { <-release })
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, timeout: 300ms}", fake.URL(), specSecret), channels.Env{})
	if !ch.Deduplicates() {
		t.Fatal("webhook must declare that it deduplicates")
	}
	msg := message(t, "u1:hook:1")
	_, err := ch.Send(context.Background(), msg)
	close(release)
	if !channels.IsUnknownOutcome(err) {
		t.Fatalf("timeout after the receiver accepted: %v, want unknown outcome", err)
	}
	fake.OnAccept(nil)
	rcpt, err := ch.Send(context.Background(), msg) // the worker's retry
	if err != nil {
		t.Fatal(err)
	}
	dels := fake.Deliveries()
	if len(dels) != 1 || dels[0].ID != "u1:hook:1" || dels[0].Repeats != 1 || rcpt.RemoteID != "u1:hook:1" {
		t.Fatalf("deliveries %+v receipt %+v: want one delivery, its retry dropped as a repeat of the same id", dels, rcpt)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].ID != reqs[1].ID {
		t.Fatalf("requests %+v: the retry must carry the same webhook-id", reqs)
	}
}

// failingTransport fails every request with an error quoting the whole request, as a careless
// proxy library might.
type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("connect failed for %s with headers %v", r.URL, r.Header)
}

func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	const token = "tok-4f9a8b7c6d5e"
	const auth = "Bearer partner-api-key-9z8y7x"
	url := "https://hooks.example.com/services/T000/" + token
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, secrets: [%q], headers: {Authorization: %q}}", url, specSecret, otherSecret, auth),
		channels.Env{Logger: zap.New(core), HTTPClient: &http.Client{Transport: failingTransport{}}})
	_, err := ch.Send(context.Background(), message(t, "s1:hook:1"))
	if err == nil {
		t.Fatal("no error from a failing transport")
	}
	if channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
		t.Fatalf("a request that never left is retryable: %v", err)
	}
	text := err.Error()
	for _, e := range logs.All() {
		text += "\n" + e.Message
		for k, v := range e.ContextMap() {
			text += fmt.Sprintf(" %s=%v", k, v)
		}
	}
	key, _ := DecodeSecret(specSecret)
	for _, secret := range []string{token, auth, "partner-api-key-9z8y7x", specSecret, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", otherSecret, string(key)} {
		if strings.Contains(text, secret) {
			t.Fatalf("secret %q leaked:\n%s", secret, text)
		}
	}
	if !strings.Contains(err.Error(), "webhook: delivering s1:hook:1") || !strings.Contains(err.Error(), "hooks.example.com") {
		t.Fatalf("error should say the action and the host: %v", err)
	}
}

func TestBodyTemplate(t *testing.T) {
	fake := webhookfake.New(specSecret)
	defer fake.Close()
	tmpl := `{"content": {{json .Text}}, "url": {{json .Article.url}}, "id": {{json .ID}}}`
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, body_template: %q}", fake.URL(), specSecret, tmpl), channels.Env{})
	msg := message(t, "t1:hook:1")
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal(fake.Deliveries()[0].Body, &got); err != nil {
		t.Fatalf("%v: %s", err, fake.Deliveries()[0].Body)
	}
	want := map[string]string{"content": msg.Posts[0].Text, "url": "https://news.example.com/world/2026/11/story", "id": "t1:hook:1"}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := map[string]string{
		"{secret: " + specSecret + "}":                                                      "url: required",
		"{url: ftp://x, secret: " + specSecret + "}":                                        "url: must be",
		"{url: https://x.example}":                                                          "secret: required",
		"{url: https://x.example, secret: whsec_notbase64!}":                                "secret: not whsec_",
		"{url: https://x.example, secret: whsec_c2hvcnQ=}":                                  "24 to 64 bytes",
		"{url: https://x.example, secret: " + specSecret + ", secrets: [whsec_c2hvcnQ=]}":   "secrets[0]",
		"{url: https://x.example, secret: " + specSecret + ", headers: {webhook-id: x}}":    "set by herald",
		"{url: https://x.example, secret: " + specSecret + ", body_template: '{{.Text'}":    "body_template",
		"{url: https://x.example, secret: " + specSecret + ", body_template: '{{.Titel}}'}": "can't evaluate field Titel",
		"{url: https://x.example, secret: a, secret_env: B}":                                "set only one",
		"{url: https://x.example, secret_env: HERALD_TEST_UNSET_SECRET_VAR}":                "secret_env",
		"{url: https://x.example, secret_file: /nonexistent/secret}":                        "secret_file",
	}
	for settings, want := range cases {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(settings), &n); err != nil {
			t.Fatal(err)
		}
		_, err := New(channels.Spec{Name: "hook", Kind: channels.KindWebhook, Settings: *n.Content[0]}, channels.Env{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "MfKQ9r8") {
			t.Errorf("%s: error %v, want it to mention %q and no secret", settings, err, want)
		}
	}
	// secrets from one environment-style string
	var n yaml.Node
	_ = yaml.Unmarshal([]byte(fmt.Sprintf("{url: https://x.example, secrets: %q}", specSecret+" "+otherSecret)), &n)
	cfg, err := LoadConfig(channels.Spec{Name: "hook", Settings: *n.Content[0]})
	if err != nil || len(cfg.keys) != 2 {
		t.Fatalf("secrets as one string: %v, %d keys", err, len(cfg.keys))
	}
}

func TestPreviewHidesCredentials(t *testing.T) {
	ch := newTest(t, fmt.Sprintf("{url: %q, secret: %q, headers: {Authorization: %q}}", "https://hooks.example.com/services/tok-123456", specSecret, "Bearer xyz-secret-1"), channels.Env{})
	reqs, err := ch.Preview(message(t, "p1:hook:1"))
	if err != nil || len(reqs) != 1 {
		t.Fatalf("%v %+v", err, reqs)
	}
	r := reqs[0]
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "tok-123456") || strings.Contains(string(b), "xyz-secret-1") || strings.Contains(string(b), "MfKQ9r8") {
		t.Fatalf("preview leaks a credential: %s", b)
	}
	if r.URL != "https://hooks.example.com/…" || r.Header["Webhook-Id"] != "p1:hook:1" || !strings.HasPrefix(r.Header["Webhook-Signature"], "v1,") || r.Header["Authorization"] != "<redacted>" {
		t.Fatalf("preview %+v", r)
	}
}
