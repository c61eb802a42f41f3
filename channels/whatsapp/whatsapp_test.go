package whatsapp

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/whatsapp/whatsappfake"
	"herald/formatter"
)

func settings(fake *whatsappfake.Server, p Provider, extra string) string {
	var s string
	switch p {
	case Cloud:
		s = fmt.Sprintf("provider: cloud\napi_base: %q\ntoken: %q\nphone_number_id: %q\nto: %q\n", fake.CloudBase(), whatsappfake.CloudToken, whatsappfake.PhoneNumberID, whatsappfake.CloudTo)
	case WAHA:
		s = fmt.Sprintf("provider: waha\napi_base: %q\napi_key: %q\nchat_id: %q\n", fake.URL(), whatsappfake.WAHAKey, whatsappfake.ChannelID)
	case Whapi:
		s = fmt.Sprintf("provider: whapi\napi_base: %q\ntoken: %q\nto: %q\n", fake.URL(), whatsappfake.WhapiToken, whatsappfake.ChannelID)
	}
	return s + "timeout: 2s\n" + extra
}

func build(t *testing.T, doc string, env channels.Env) (*Channel, error) {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	ch, err := New(channels.Spec{Name: "wa", Kind: channels.KindWhatsApp, Settings: *n.Content[0]}, env)
	if err != nil {
		return nil, err
	}
	return ch.(*Channel), nil
}

func newTest(t *testing.T, doc string, env channels.Env) *Channel {
	t.Helper()
	ch, err := build(t, doc, env)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

func message(t *testing.T) channels.Message {
	t.Helper()
	a := &article.Article{
		URL:      "https://news.example.com/world/2026/11/story",
		Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary:  "قال الرئيس الأوكراني إن هناك تحالفًا متزايدًا بين روسيا وكوريا الشمالية. وأضاف أن القوات وصلت.",
		Language: "ar",
	}
	a.Normalize()
	r, err := formatter.New(channels.KindWhatsApp, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	return channels.Message{ArticleID: "a1", Key: "a1:wa:1", Attempt: 1, Posts: posts}
}

func TestSendEachProvider(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	fake.OpenWindow(whatsappfake.CloudTo)
	msg := message(t)
	for _, p := range []Provider{Cloud, WAHA, Whapi} {
		t.Run(string(p), func(t *testing.T) {
			ch := newTest(t, settings(fake, p, ""), channels.Env{})
			rcpt, err := ch.Send(context.Background(), msg)
			if err != nil {
				t.Fatal(err)
			}
			msgs := fake.Messages()
			m := msgs[len(msgs)-1]
			if m.Provider != whatsappfake.Provider(p) || m.Text != msg.Posts[0].Text || m.Type != "text" {
				t.Fatalf("fake got %+v, want the post text", m)
			}
			if rcpt.RemoteID == "" || rcpt.RemoteID != m.ID {
				t.Fatalf("receipt %+v, want the provider's message id %q", rcpt, m.ID)
			}
			switch p {
			case Cloud:
				if !m.Preview || m.To != whatsappfake.CloudTo {
					t.Fatalf("cloud message %+v: want preview_url and the number", m)
				}
			default:
				if m.To != whatsappfake.ChannelID {
					t.Fatalf("gateway message to %q, want the channel", m.To)
				}
			}
		})
	}
}

func TestCloudOutsideTheWindow(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	msg := message(t)
	// Free text to a recipient who has not written for 24 hours: 131047, permanent, and the
	// error says what to do.
	ch := newTest(t, settings(fake, Cloud, ""), channels.Env{})
	_, err := ch.Send(context.Background(), msg)
	ae, ok := AsAPIError(err)
	if !ok || ae.Code != CodeReEngagement || !channels.IsPermanent(err) || !strings.Contains(err.Error(), "set template") {
		t.Fatalf("free text outside the window: %v, want permanent 131047 saying to set template", err)
	}
	// With the template set it goes out as the template, the text on one line as its variable.
	ch = newTest(t, settings(fake, Cloud, "template: "+whatsappfake.Template+"\n"), channels.Env{})
	rcpt, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	m := fake.Messages()[0]
	if m.Type != "template" || m.Template != whatsappfake.Template || m.Language != "ar" || rcpt.RemoteID != m.ID {
		t.Fatalf("template message %+v receipt %+v", m, rcpt)
	}
	if strings.Contains(m.Text, "\n") || !strings.Contains(m.Text, "زيلينسكي") || !strings.Contains(m.Text, "https://news.example.com/world/2026/11/story") {
		t.Fatalf("template variable %q: want the whole post on one line", m.Text)
	}
	// An unknown template is the API's 132001: permanent.
	ch = newTest(t, settings(fake, Cloud, "template: {name: no_such, language: en_US}\n"), channels.Env{})
	// Graph's message starts with "(#132001)": the error says the code once.
	if _, err := ch.Send(context.Background(), msg); !channels.IsPermanent(err) || strings.Count(err.Error(), "132001") != 1 {
		t.Fatalf("unknown template: %v", err)
	}
}

// TestTemplateBodyFitsWithHarakat: the template body, its variable filled in, may hold 1024
// characters; a letter with its haraka is one grapheme but two characters, so an Arabic post
// with full diacritics must be cut by characters, not graphemes, or the API refuses it (132005).
func TestTemplateBodyFitsWithHarakat(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	ch := newTest(t, settings(fake, Cloud, "template: "+whatsappfake.Template+"\n"), channels.Env{})
	post := channels.Post{Text: strings.Repeat("كَتَبَ الْوَلَدُ الدَّرْسَ ", 60)} // 1,560 graphemes' worth of marks
	rcpt, err := ch.Send(context.Background(), channels.Message{ArticleID: "a1", Key: "a1:wa:1", Attempt: 1, Posts: []channels.Post{post}})
	if err != nil {
		t.Fatalf("template with a long vocalised post: %v", err)
	}
	m := fake.Messages()[0]
	if rcpt.RemoteID != m.ID || !strings.HasPrefix(m.Text, "كَتَبَ الْوَلَدُ") || !strings.HasSuffix(m.Text, "…") {
		t.Fatalf("template variable %q", m.Text)
	}
}

func TestTemplateParamIsOneLineAndBounded(t *testing.T) {
	long := strings.Repeat("كلمة ", 400) + "\n\nhttps://x.example/a"
	p := templateParam("عنوان\n\n  ملخص   قصير\n" + long)
	if strings.ContainsAny(p, "\n\t") || strings.Contains(p, "     ") {
		t.Fatalf("param has new lines or runs of spaces: %q", p)
	}
	if n := len(utf16.Encode([]rune(p))); n > maxTemplateParam {
		t.Fatalf("param of %d characters", n)
	}
	if !strings.HasPrefix(p, "عنوان — ملخص قصير — كلمة") || !strings.HasSuffix(p, "…") {
		t.Fatalf("param %q", p)
	}
}

func TestErrorClasses(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	fake.OpenWindow(whatsappfake.CloudTo)
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	pause := func(err error) bool { _, ok := channels.AsPause(err); return ok }
	rate := func(d time.Duration) func(error) bool {
		return func(err error) bool { rl, ok := channels.AsRateLimited(err); return ok && rl.RetryAt.Equal(now.Add(d)) }
	}
	retryable := func(err error) bool {
		_, rl := channels.AsRateLimited(err)
		return !rl && !pause(err) && !channels.IsPermanent(err) && !channels.IsUnknownOutcome(err)
	}
	cases := []struct {
		p     Provider
		a     whatsappfake.Answer
		check func(error) bool
		what  string
	}{
		{Cloud, whatsappfake.Answer{Status: 401, Code: 190, Message: "Error validating access token: Session has expired"}, pause, "auth pause"},
		{Cloud, whatsappfake.Answer{Status: 403, Code: 10, Message: "(#10) Application does not have permission for this action"}, pause, "auth pause"},
		// The Cloud API's authorization errors (error-codes page): 3 "API Method, capability or
		// permissions issue" comes with HTTP 500, and all of 200–299 are "API Permission".
		{Cloud, whatsappfake.Answer{Status: 500, Code: 3, Message: "(#3) Application does not have the capability to make this API call."}, pause, "auth pause"},
		{Cloud, whatsappfake.Answer{Status: 403, Code: 299, Message: "(#299) Permission is either not granted or has been removed"}, pause, "auth pause"},
		{Cloud, whatsappfake.Answer{Status: 429, Code: 130429, Message: "Rate limit hit", RetryAfter: "12"}, rate(12 * time.Second), "rate limited 12s"},
		{Cloud, whatsappfake.Answer{Status: 400, Code: 80007, Message: "Rate limit issues"}, rate(DefaultRetryAfter), "rate limited, default wait"},
		{Cloud, whatsappfake.Answer{Status: 500, Code: 131000, Message: "Something went wrong"}, retryable, "retryable"},
		{Cloud, whatsappfake.Answer{Status: 504, Code: 1, Message: "Gateway timeout"}, channels.IsUnknownOutcome, "unknown outcome"},
		{Cloud, whatsappfake.Answer{Status: 400, Code: 131026, Message: "Message Undeliverable"}, channels.IsPermanent, "permanent"},
		// The account cannot send at all until its owner acts: every later post would fail alike.
		{Cloud, whatsappfake.Answer{Status: 400, Code: 131042, Message: "Business eligibility payment issue",
			Details: "Message failed to send because there were one or more errors related to your payment method."}, pause, "account pause"},
		{Cloud, whatsappfake.Answer{Status: 400, Code: 133010, Message: "Account not registered"}, pause, "account pause"},
		{Cloud, whatsappfake.Answer{Status: 400, Code: 368, Message: "Temporarily blocked for policies violations"}, pause, "account pause"},
		{WAHA, whatsappfake.Answer{Status: 403, Message: "Forbidden"}, pause, "auth pause"},
		{WAHA, whatsappfake.Answer{Status: 429, Message: "Too Many Requests", RetryAfter: "3"}, rate(3 * time.Second), "rate limited 3s"},
		// A 500 of WAHA's is an error its engine threw while sending: the message may be out.
		{WAHA, whatsappfake.Answer{Status: 500, Message: "Evaluation failed: b"}, channels.IsUnknownOutcome, "unknown outcome"},
		// A proxy in front of WAHA (WAHA restarting): the request never reached the engine.
		{WAHA, whatsappfake.Answer{Status: 502, Message: "Bad Gateway"}, retryable, "retryable"},
		{WAHA, whatsappfake.Answer{Status: 400, Message: "text should not be empty"}, channels.IsPermanent, "permanent"},
		// NotImplementedByEngineError: the engine cannot do this, now or later.
		{WAHA, whatsappfake.Answer{Status: 501, Message: "The method is not implemented by 'NOWEB' engine."}, channels.IsPermanent, "permanent"},
		{Whapi, whatsappfake.Answer{Status: 401, Message: "Unauthorized"}, pause, "auth pause"},
		{Whapi, whatsappfake.Answer{Status: 429, Message: "Too many requests", RetryAfter: "5"}, rate(5 * time.Second), "rate limited 5s"},
		{Whapi, whatsappfake.Answer{Status: 503, Message: "Service unavailable"}, retryable, "retryable"},
		// The channel's trial or plan is spent: every message is refused alike until it is renewed.
		{Whapi, whatsappfake.Answer{Status: 402, Message: "Trial limit exceeded"}, pause, "account pause"},
		{Whapi, whatsappfake.Answer{Status: 404, Message: "Chat not found"}, channels.IsPermanent, "permanent"},
	}
	msg := message(t)
	for _, tc := range cases {
		ch := newTest(t, settings(fake, tc.p, ""), channels.Env{})
		ch.now = func() time.Time { return now }
		fake.FailNext(whatsappfake.Provider(tc.p), 1, tc.a)
		_, err := ch.Send(context.Background(), msg)
		if err == nil || !tc.check(err) {
			t.Errorf("%s %d (#%d): %v, want %s", tc.p, tc.a.Status, tc.a.Code, err, tc.what)
		}
		// The provider's message is read out of its body (WAHA's 500: exception.message), not
		// quoted as raw JSON.
		if ae, ok := AsAPIError(err); !ok || ae.Message != tc.a.Message {
			t.Errorf("%s %d: APIError %+v, want the message %q", tc.p, tc.a.Status, ae, tc.a.Message)
		}
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("%d messages accepted, want none", n)
	}
}

func TestCredentialsTheFakeRefusesPauseTheChannel(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	for _, p := range []Provider{Cloud, WAHA, Whapi} {
		doc := strings.NewReplacer(whatsappfake.CloudToken, "EAAGwrong-token-1234", whatsappfake.WAHAKey, "wrong-key-1234",
			whatsappfake.WhapiToken, "wrong-token-1234").Replace(settings(fake, p, ""))
		ch := newTest(t, doc, channels.Env{})
		_, err := ch.Send(context.Background(), message(t))
		pe, ok := channels.AsPause(err)
		if !ok || !strings.HasPrefix(pe.Reason, "auth: ") || strings.Contains(err.Error(), "wrong") {
			t.Errorf("%s with a wrong credential: %v, want an auth pause without the credential", p, err)
		}
		if err := ch.Check(context.Background()); err == nil {
			t.Errorf("%s: Check passed with a wrong credential", p)
		}
	}
}

func TestWAHASessionNotWorkingPauses(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	fake.SetSessionStatus("SCAN_QR_CODE")
	ch := newTest(t, settings(fake, WAHA, ""), channels.Env{})
	_, err := ch.Send(context.Background(), message(t))
	pe, ok := channels.AsPause(err)
	// WAHA's body is {"error","session","status","expected"}: the error reads it, not raw JSON.
	if !ok || !strings.Contains(pe.Reason, `waha session "default"`) || !strings.Contains(err.Error(), "SCAN_QR_CODE") ||
		!strings.Contains(err.Error(), "422 Session status is not as expected") || strings.Contains(err.Error(), `{"`) {
		t.Fatalf("session waiting for a QR scan: %v, want a pause naming the session and its status", err)
	}
	if err := ch.Check(context.Background()); err == nil || !strings.Contains(err.Error(), "SCAN_QR_CODE") {
		t.Fatalf("Check: %v", err)
	}
	fake.SetSessionStatus("WORKING")
	if err := ch.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckEachProvider(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	for _, p := range []Provider{Cloud, WAHA, Whapi} {
		ch := newTest(t, settings(fake, p, ""), channels.Env{})
		if err := ch.Check(context.Background()); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	want := map[string]bool{"/" + whatsappfake.CloudVersion + "/" + whatsappfake.PhoneNumberID: true, "/api/sessions/default": true, "/health": true}
	for _, r := range fake.Requests() {
		if r.Method != http.MethodGet || !want[r.Path] {
			t.Errorf("check request %s %s", r.Method, r.Path)
		}
	}
	if len(fake.Messages()) != 0 {
		t.Fatal("Check posted")
	}
}

func TestTimeoutAfterAcceptIsUnknown(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	release := make(chan struct{})
	fake.OnAccept(func(whatsappfake.Message) { <-release })
	ch := newTest(t, strings.Replace(settings(fake, Whapi, ""), "timeout: 2s", "timeout: 300ms", 1), channels.Env{})
	_, err := ch.Send(context.Background(), message(t))
	close(release)
	if !channels.IsUnknownOutcome(err) {
		t.Fatalf("timeout after the gateway accepted: %v, want unknown outcome", err)
	}
	if _, dedup := any(ch).(channels.Deduplicating); dedup {
		t.Fatal("WhatsApp has no idempotency key: an unknown outcome must be parked, not retried")
	}
}

type failingTransport struct{}

func (failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s %s with headers %v", r.Method, r.URL, r.Header)
}

func TestSecretsStayOutOfErrorsAndLogs(t *testing.T) {
	for _, p := range []Provider{Cloud, WAHA, Whapi} {
		core, logs := observer.New(zapcore.DebugLevel)
		fake := whatsappfake.New()
		ch := newTest(t, settings(fake, p, ""), channels.Env{Logger: zap.New(core), HTTPClient: &http.Client{Transport: failingTransport{}}})
		fake.Close()
		_, err := ch.Send(context.Background(), message(t))
		if err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
			t.Fatalf("%s: %v, want a retryable error (the request never left)", p, err)
		}
		cerr := ch.Check(context.Background())
		text := err.Error() + "\n" + fmt.Sprint(cerr)
		for _, e := range logs.All() {
			text += "\n" + e.Message + fmt.Sprint(e.ContextMap())
		}
		for _, secret := range []string{whatsappfake.CloudToken, whatsappfake.WAHAKey, whatsappfake.WhapiToken} {
			if strings.Contains(text, secret) {
				t.Fatalf("%s: secret leaked:\n%s", p, text)
			}
		}
		if !strings.Contains(err.Error(), "whatsapp: sending message") || !strings.Contains(err.Error(), "<redacted>") {
			t.Fatalf("%s: error should say the action and show the redaction: %v", p, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("HERALD_TEST_WA_TOKEN", "from-env-token")
	cases := map[string]string{
		"{}":              "provider: required",
		"{provider: sms}": "provider: \"sms\"",
		"{provider: cloud, phone_number_id: '1234567', to: '9665'}":                                              "token",
		"{provider: cloud, token: t0k3n, to: '966500000001'}":                                                    "phone_number_id: required",
		"{provider: cloud, token: t0k3n, phone_number_id: '1234567'}":                                            "to: required",
		"{provider: cloud, token: t0k3n, phone_number_id: '1234567', to: '966500000001', chat_id: x@newsletter}": "chat_id: not a setting of provider cloud",
		"{provider: waha}": "chat_id: required",
		"{provider: waha, chat_id: '1@newsletter', token: x}":                                                                      "token: not a setting of provider waha",
		"{provider: waha, chat_id: 'a b'}":                                                                                         "chat_id:",
		"{provider: waha, chat_id: '1@newsletter', session: 'a/b'}":                                                                "session:",
		"{provider: whapi, to: '1@newsletter'}":                                                                                    "token",
		"{provider: whapi, token: t0k3n, to: '1@newsletter', template: x}":                                                         "template: not a setting of provider whapi",
		"{provider: whapi, token: t0k3n, to: '1@newsletter', api_base: ftp://x}":                                                   "api_base:",
		"{provider: whapi, token: t0k3n, token_env: X, to: '1@newsletter'}":                                                        "set only one",
		"{provider: cloud, token: t0k3n, phone_number_id: '1234567', to: '966500000001', template: {name: x, language: 'Arabic'}}": "template.language",
	}
	for doc, want := range cases {
		_, err := build(t, doc, channels.Env{})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "t0k3n") {
			t.Errorf("%s: %v, want it to mention %q and no secret", doc, err, want)
		}
	}
	// Digits alone become a newsletter id; a token from token_env; a number written as a number.
	ch := newTest(t, "{provider: whapi, token_env: HERALD_TEST_WA_TOKEN, to: 120363000000000001}", channels.Env{})
	if ch.cfg.To != "120363000000000001@newsletter" || ch.cfg.Token != "from-env-token" || ch.cfg.APIBase != DefaultWhapiBase {
		t.Fatalf("config %+v", ch.cfg)
	}
	ch = newTest(t, "{provider: waha, chat_id: 120363000000000001@newsletter}", channels.Env{})
	if ch.cfg.Session != "default" || ch.cfg.APIKey != "" || ch.cfg.APIBase != DefaultWAHABase {
		t.Fatalf("waha defaults %+v", ch.cfg)
	}
	ch = newTest(t, "{provider: cloud, token: t0k3n, phone_number_id: 106540352242922, to: '+966 50 000 0001', template: news}", channels.Env{})
	if ch.cfg.To != "966500000001" || ch.cfg.Template != (Template{"news", "ar"}) || ch.cfg.APIBase != DefaultCloudBase {
		t.Fatalf("cloud config %+v", ch.cfg)
	}
}

// TestCloudUnknownPhoneNumberIDPauses: a phone_number_id that names no number the token can
// send from (a typo, the WhatsApp Business account's id pasted instead) is refused with code
// 100, subcode 33 on every message: the channel pauses naming phone_number_id instead of
// failing the backlog one delivery at a time.
func TestCloudUnknownPhoneNumberIDPauses(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	ch := newTest(t, fmt.Sprintf("provider: cloud\napi_base: %q\ntoken: %q\nphone_number_id: \"109999999999999\"\nto: %q\ntimeout: 2s\n",
		fake.CloudBase(), whatsappfake.CloudToken, whatsappfake.CloudTo), channels.Env{})
	_, err := ch.Send(context.Background(), message(t))
	p, pause := channels.AsPause(err)
	ae, ok := AsAPIError(err)
	if !pause || channels.IsPermanent(err) || !strings.Contains(p.Reason, "phone_number_id 109999999999999") || !ok || ae.Code != 100 || ae.Subcode != 33 {
		t.Fatalf("%v: want a pause naming phone_number_id", err)
	}
	if n := len(fake.Messages()); n != 0 {
		t.Fatalf("%d messages", n)
	}
}

// TestWAHAEngineThrowingAfterSendIsUnknown: whatsapp-web.js (WAHA's WEBJS engine) is known to
// throw after a message went out ("Cannot read properties of undefined (reading 'serialize')"),
// which WAHA answers 500. A retry would post the news twice to every follower of the channel
// (WAHA takes no idempotency key), so the outcome is unknown, parked for an admin.
func TestWAHAEngineThrowingAfterSendIsUnknown(t *testing.T) {
	fake := whatsappfake.New()
	defer fake.Close()
	ch := newTest(t, settings(fake, WAHA, ""), channels.Env{})
	fake.ThrowAfterSendNext("Evaluation failed: TypeError: Cannot read properties of undefined (reading 'serialize')")
	_, err := ch.Send(context.Background(), message(t))
	if !channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "serialize") {
		t.Fatalf("%v: want an unknown outcome quoting the engine's error", err)
	}
	if n := len(fake.Messages()); n != 1 {
		t.Fatalf("%d messages, want the 1 the engine sent", n)
	}
}
