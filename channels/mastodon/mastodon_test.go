package mastodon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/mastodon/mastodonfake"
	"herald/formatter"
)

type harness struct {
	fake *mastodonfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	spec := channels.Spec{Name: "masto-ar", Kind: channels.KindMastodon}
	if err := yaml.Unmarshal([]byte(settings), &spec.Settings); err != nil {
		t.Fatal(err)
	}
	return spec
}

func newHarness(t *testing.T, client *http.Client, extra ...string) *harness {
	t.Helper()
	fake := mastodonfake.New()
	t.Cleanup(fake.Close)
	s := fmt.Sprintf("instance: %q\naccess_token: %q\ntimeout: 5s\n", fake.URL(), mastodonfake.DefaultToken)
	for _, e := range extra {
		s += e + "\n"
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ch, err := New(specFrom(t, s), channels.Env{Logger: zap.New(core), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{fake: fake, ch: ch.(*Channel), logs: logs}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func msgOf(posts ...channels.Post) channels.Message {
	return channels.Message{ArticleID: "a1", Key: "a1:masto-ar:1", Attempt: 1, Posts: posts}
}

// render is what the worker sends: the mastodon renderer's posts.
func render(t *testing.T, a article.Article, opts formatter.Options) []channels.Post {
	t.Helper()
	r, err := formatter.New(channels.KindMastodon, opts)
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

func arabicArticle() article.Article {
	return article.Article{
		URL:      "https://news.example.com/world/2026/11/%D8%B2%D9%8A%D9%84%D9%8A%D9%86%D8%B3%D9%83%D9%8A-%D9%83%D9%88%D8%B1%D9%8A%D8%A7",
		Title:    "زِيلِينسْكِي يَقُولُ إنَّ كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary:  strings.Repeat("قال الرئيس الأوكراني إن قوات كورية شمالية وصلت إلى خطوط القتال في كورسك. ", 8),
		Tags:     []string{"أوكرانيا", "كوريا الشمالية", "روسيا"},
		Language: "ar",
	}
}

func TestStatusIsExactlyTheRenderedPost(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, arabicArticle(), formatter.Options{})
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Statuses()
	if len(got) != 1 || got[0].Text != posts[0].Text || got[0].Language != "ar" || got[0].Visibility != "public" || got[0].IdempotencyKey != "a1:masto-ar:1" {
		t.Fatalf("server made %+v, want the rendered text %q in ar, public, keyed", got, posts[0].Text)
	}
	// The renderer filled the post up to its limit; the server, counting on its own, agrees.
	if n := mastodonfake.Count(posts[0].Text); n > mastodonfake.MaxCharacters || posts[0].Length < 300 {
		t.Fatalf("rendered %d by the formatter, %d by the server: want a long post within 500", posts[0].Length, n)
	}
	if rcpt.RemoteID != got[0].ID || rcpt.PostURL != got[0].URL || !strings.Contains(rcpt.PostURL, "/@herald/") {
		t.Fatalf("receipt %+v for %+v", rcpt, got[0])
	}
}

// TestQuotedHandlesAreNoMentions: an article quoting accounts ("(@UN)", "@ahmad@mastodon.social")
// goes out with the formatter's joiner after each "@" (no account is mentioned), cut to fit with
// the joiners counted: the server, counting on its own, takes it and never counts more.
func TestQuotedHandlesAreNoMentions(t *testing.T) {
	h := newHarness(t, nil)
	a := arabicArticle()
	a.Title = "منظمة الأمم المتحدة (@UN) تحذر"
	a.Summary = strings.Repeat("كتب @ahmad@mastodon.social أن الوضع خطير (@UN_News_Centre). ", 12)
	posts := render(t, a, formatter.Options{})
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Statuses()
	if len(got) != 1 || got[0].Text != posts[0].Text {
		t.Fatalf("server made %+v, want the rendered text %q", got, posts[0].Text)
	}
	text := got[0].Text
	if n := strings.Count(text, "@\u200dahmad@"); n == 0 || n != strings.Count(text, "ahmad") ||
		strings.Count(text, "(@\u200dUN") != strings.Count(text, "UN") {
		t.Errorf("a handle without its joiner in %q", text)
	}
	if n := mastodonfake.Count(text); n > posts[0].Length || posts[0].Length > mastodonfake.MaxCharacters {
		t.Errorf("server counts %d, formatter %d, limit %d", n, posts[0].Length, mastodonfake.MaxCharacters)
	}
}

func TestSettingsShapeTheStatus(t *testing.T) {
	h := newHarness(t, nil, "visibility: unlisted", "language: en")
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل", Extra: map[string]any{"language": "ar"}})); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Statuses(); len(got) != 1 || got[0].Visibility != "unlisted" || got[0].Language != "en" {
		t.Fatalf("server made %+v: want unlisted, language en (the setting overrides the article)", got)
	}
}

// TestRepeatedKeyPostsNothingNew: the same delivery sent again (a retry after a lost answer)
// answers the status made the first time; the server makes one.
func TestRepeatedKeyPostsNothingNew(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.DropNextStatus()
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر عاجل"}))
	if !channels.IsUnknownOutcome(err) {
		t.Fatalf("%v: a lost answer must be an unknown outcome", err)
	}
	if !h.ch.Deduplicates() {
		t.Fatal("the channel must say it deduplicates, so the worker retries the unknown outcome")
	}
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر عاجل"}))
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر عاجل"}))
	if err != nil || again != rcpt {
		t.Fatalf("third send %+v %v, want the same receipt %+v", again, err, rcpt)
	}
	got := h.fake.Statuses()
	if len(got) != 1 || rcpt.RemoteID != got[0].ID {
		t.Fatalf("server made %+v, receipt %+v: want one status", got, rcpt)
	}
	// Another delivery (a repost: a new revision, so a new key) is a new status.
	m := msgOf(channels.Post{Text: "خبر عاجل"})
	m.Key = "a1:masto-ar:2"
	if r2, err := h.ch.Send(testCtx(t), m); err != nil || r2.RemoteID == rcpt.RemoteID || len(h.fake.Statuses()) != 2 {
		t.Fatalf("repost %+v %v, statuses %d", r2, err, len(h.fake.Statuses()))
	}
}

// TestKeyExpiresAfterAnHour documents the limit of the deduplication: Mastodon keeps a key an
// hour, so a send repeated later posts again.
func TestKeyExpiresAfterAnHour(t *testing.T) {
	h := newHarness(t, nil)
	var offset atomic.Int64
	h.fake.SetNow(func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "أ"})); err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(59 * time.Minute))
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "أ"})); err != nil || len(h.fake.Statuses()) != 1 {
		t.Fatalf("%v, %d statuses: within the hour the key answers the first status", err, len(h.fake.Statuses()))
	}
	offset.Store(int64(61 * time.Minute))
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "أ"})); err != nil || len(h.fake.Statuses()) != 2 {
		t.Fatalf("%v, %d statuses: after the hour the key is forgotten", err, len(h.fake.Statuses()))
	}
}

// TestRepeatedKeyOfADeletedStatusPostsNothing: Mastodon finds the status a repeated key made by
// its id, so within the hour a key whose status was deleted (by hand, or a retract) answers 404
// Record not found: the send fails for good and nothing is posted again.
func TestRepeatedKeyOfADeletedStatusPostsNothing(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر سيُحذف"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatal(err)
	}
	_, err = h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر سيُحذف"}))
	var ae *APIError
	if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Status != 404 || ae.Message != "Record not found" {
		t.Fatalf("%v: want a permanent 404 Record not found", err)
	}
	if st := h.fake.Statuses(); len(st) != 1 || !st[0].Deleted {
		t.Fatalf("statuses %+v: want only the deleted one", st)
	}
}

func TestEachPostOfAMessageHasItsOwnKey(t *testing.T) {
	h := newHarness(t, nil)
	msg := msgOf(channels.Post{Text: "الجزء الأول"}, channels.Post{Text: "الجزء الثاني"})
	rcpt, err := h.ch.Send(testCtx(t), msg)
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Statuses()
	if len(got) != 2 || got[0].IdempotencyKey != msg.Key || got[1].IdempotencyKey != msg.Key+"#2" || rcpt.RemoteID != got[0].ID+","+got[1].ID {
		t.Fatalf("statuses %+v receipt %+v", got, rcpt)
	}
	if again, err := h.ch.Send(testCtx(t), msg); err != nil || again != rcpt || len(h.fake.Statuses()) != 2 {
		t.Fatalf("resend %+v %v: want the same two statuses", again, err)
	}
}

func TestErrorClasses(t *testing.T) {
	long := strings.Repeat("ب", 501)
	cases := []struct {
		name   string
		text   string
		inject func(*mastodonfake.Server)
		check  func(t *testing.T, err error)
	}{
		{"401 revoked token pauses", "عاجل", func(f *mastodonfake.Server) { f.SetToken("another-token-entirely") }, func(t *testing.T, err error) {
			var ae *APIError
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !errors.As(err, &ae) || ae.Status != 401 ||
				!strings.Contains(p.Reason, "The access token is invalid") {
				t.Fatalf("%v: want an auth pause with Mastodon's message", err)
			}
		}},
		{"403 scope missing pauses", "عاجل", func(f *mastodonfake.Server) {
			f.FailNext(403, `{"error":"This action is outside the authorized scopes"}`, nil)
		}, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || !strings.Contains(p.Reason, "outside the authorized scopes") {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"422 too long is permanent with the message", long, func(*mastodonfake.Server) {}, func(t *testing.T, err error) {
			_, pause := channels.AsPause(err)
			if !channels.IsPermanent(err) || pause || !strings.Contains(err.Error(), "Validation failed: Text character limit of 500 exceeded") {
				t.Fatalf("%v: want permanent with Mastodon's message", err)
			}
		}},
		{"429 waits until X-RateLimit-Reset", "عاجل", func(f *mastodonfake.Server) {
			h := http.Header{}
			h.Set("X-RateLimit-Reset", time.Now().Add(3*time.Minute).UTC().Format("2006-01-02T15:04:05.000000Z"))
			f.FailNext(429, `{"error":"Too many requests"}`, h)
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < 2*time.Minute || time.Until(rl.RetryAt) > 3*time.Minute {
				t.Fatalf("%v: want rate limited for about 3 minutes", err)
			}
		}},
		{"429 with Retry-After only", "عاجل", func(f *mastodonfake.Server) {
			h := http.Header{}
			h.Set("Retry-After", "42")
			h.Set("X-RateLimit-Reset", "")
			f.FailNext(429, `{"error":"Too many requests"}`, h)
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < 40*time.Second || time.Until(rl.RetryAt) > 43*time.Second {
				t.Fatalf("%v: want rate limited for 42 s", err)
			}
		}},
		{"500 may have made the status", "عاجل", func(f *mastodonfake.Server) {
			f.FailNext(500, `{"error":"We're sorry, but something went wrong on our end."}`, nil)
		}, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
		{"502 from the proxy is plain retryable", "عاجل", func(f *mastodonfake.Server) {
			f.FailNext(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", nil)
		}, func(t *testing.T, err error) {
			_, pause := channels.AsPause(err)
			if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause || !strings.Contains(err.Error(), "502 Bad Gateway") {
				t.Fatalf("%v: want plain retryable with the page's text", err)
			}
		}},
		{"a redirect is not followed and says to fix instance", "عاجل", func(f *mastodonfake.Server) {
			f.FailNext(301, "", http.Header{"Location": {"https://www.mastodon.example/api/v1/statuses"}})
		}, func(t *testing.T, err error) {
			if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "redirects (301) to \"https://www.mastodon.example/api/v1/statuses\": set instance") {
				t.Fatalf("%v: want permanent, naming the redirect", err)
			}
		}},
		{"answer lost after the status was made", "عاجل", func(f *mastodonfake.Server) { f.DropNextStatus() }, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tc.inject(h.fake)
			_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: tc.text}))
			tc.check(t, err)
		})
	}
}

// TestRateLimitFromTheServer: over the account's rate the server answers 429 with its
// X-RateLimit-Reset (the end of its window), and the channel waits exactly until then.
func TestRateLimitFromTheServer(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetRateLimit(2, time.Hour)
	for i := range 2 {
		if _, err := h.ch.Send(testCtx(t), channels.Message{Key: fmt.Sprint("k", i), Posts: []channels.Post{{Text: fmt.Sprint("خبر ", i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.ch.Send(testCtx(t), channels.Message{Key: "k3", Posts: []channels.Post{{Text: "خبر 3"}}})
	rl, ok := channels.AsRateLimited(err)
	if want := time.Now().Truncate(time.Hour).Add(time.Hour); !ok || !rl.RetryAt.Equal(want) {
		t.Fatalf("%v: want rate limited until %s", err, want)
	}
	if n := len(h.fake.Statuses()); n != 2 {
		t.Fatalf("%d statuses, want 2", n)
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.Close()
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	_, pause := channels.AsPause(err)
	if err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) || pause {
		t.Fatalf("%v: a request that never left must be plain retryable", err)
	}
}

func TestDeleteAndCheck(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "تصحيح"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil || !h.fake.Statuses()[0].Deleted {
		t.Fatalf("delete: %v, statuses %+v", err, h.fake.Statuses())
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatalf("deleting a deleted status: %v", err)
	}
	h.fake.FailDeleteNext(429, `{"error":"Too many requests"}`, http.Header{"Retry-After": {"60"}})
	if _, ok := channels.AsRateLimited(h.ch.Delete(testCtx(t), rcpt.RemoteID)); !ok {
		t.Fatal("a throttled delete is not a rate limit")
	}
	h.fake.SetMaxCharacters(5000)
	if err := h.ch.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n, err := h.ch.MaxCharacters(testCtx(t)); err != nil || n != 5000 {
		t.Fatalf("max characters %d %v", n, err)
	}
	if l := h.logs.FilterMessage("mastodon access token works").All(); len(l) != 1 || l[0].ContextMap()["max_characters"] != int64(5000) ||
		l[0].ContextMap()["account"] != mastodonfake.Username {
		t.Fatalf("Check's log line %v", l)
	}
	h.fake.SetToken("rotated")
	if _, ok := channels.AsPause(h.ch.Check(testCtx(t))); !ok {
		t.Fatal("Check with a revoked token is not an auth error")
	}
}

type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := ""
	if r.Body != nil {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		body = b.String()
	}
	return nil, fmt.Errorf("proxy refused %s %s authorization %q body %s", r.Method, r.URL, r.Header.Get("Authorization"), body)
}

// TestTokenNeverInErrorsOrLogs: a transport whose error repeats the request (the Authorization
// header included), and a server whose error answer echoes it: the token shows nowhere.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	h := newHarness(t, &http.Client{Transport: leakyTransport{}})
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	cerr := h.ch.Check(testCtx(t))
	derr := h.ch.Delete(testCtx(t), "113500000000000001")
	xerr := h.ch.Edit(testCtx(t), "113500000000000001", msgOf(channels.Post{Text: "تصحيح"}))
	var all strings.Builder
	fmt.Fprintf(&all, "%v\n%v\n%v\n%v\n", err, cerr, derr, xerr)

	echo := newHarness(t, nil)
	echo.fake.FailNext(500, `{"error":"upstream rejected header Authorization: Bearer `+mastodonfake.DefaultToken+`"}`, nil)
	_, eerr := echo.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	fmt.Fprintf(&all, "%v\n", eerr)
	rcpt, err2 := echo.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"}))
	echo.fake.FailEditNext(500, `{"error":"upstream rejected header Authorization: Bearer `+mastodonfake.DefaultToken+`"}`, nil)
	editErr := echo.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "خبر مصحح"}))
	if err2 != nil || editErr == nil || xerr == nil {
		t.Fatalf("send %v, edit %v, edit through the proxy %v: want the edits to fail", err2, editErr, xerr)
	}
	fmt.Fprintf(&all, "%v\n", editErr)
	for _, l := range append(h.logs.All(), echo.logs.All()...) {
		all.WriteString(l.Message + fmt.Sprint(l.ContextMap()) + "\n")
	}
	if err == nil || !strings.Contains(all.String(), "proxy refused") || !strings.Contains(all.String(), "upstream rejected header") {
		t.Fatalf("the errors are not reported: %s", all.String())
	}
	if strings.Contains(all.String(), mastodonfake.DefaultToken) {
		t.Fatalf("access token leaked:\n%s", all.String())
	}
}

func TestConfigErrors(t *testing.T) {
	for settings, want := range map[string]string{
		"access_token: t":                                                    "instance: required",
		"instance: https://mastodon.social":                                  "access_token: not set",
		"instance: http://mastodon.social\naccess_token: t":                  "must be https",
		"instance: mastodon.social\naccess_token: t":                         "is not a server URL",
		"instance: https://m.example/api/v1\naccess_token: t":                "without a path",
		"instance: https://m.example\naccess_token: t\naccess_token_env: E":  "set only one",
		"instance: https://m.example\naccess_token: t\nvisibility: everyone": "visibility: \"everyone\"",
		"instance: https://m.example\naccess_token: t\nlanguage: Arabic":     "language: \"Arabic\"",
		"instance: https://m.example\naccess_token: t\ntimeout: -1s":         "timeout: must be positive",
		"instance: https://m.example\naccess_token: t\nvisbility: public":    "line 3: settings.visbility: unknown setting (did you mean visibility?)",
	} {
		_, err := LoadConfig(specFrom(t, settings))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", settings, err, want)
		}
	}
	cfg, err := LoadConfig(specFrom(t, "instance: https://mastodon.social/\naccess_token: \" t0k \""))
	if err != nil || cfg.Instance != "https://mastodon.social" || cfg.Visibility != Public || cfg.Timeout != DefaultTimeout || cfg.AccessToken != "t0k" {
		t.Fatalf("%+v %v", cfg, err)
	}
	t.Setenv("MASTO_TEST_TOKEN", "from-env")
	if cfg, err := LoadConfig(specFrom(t, "instance: http://127.0.0.1:8080\naccess_token_env: MASTO_TEST_TOKEN")); err != nil || cfg.AccessToken != "from-env" {
		t.Fatalf("loopback http with a token from the environment: %+v %v", cfg, err)
	}
}

// TestPreviewIsWhatSendSends: herald format prints Preview; the form it shows must be the one
// the server receives, the token hidden.
func TestPreviewIsWhatSendSends(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, arabicArticle(), formatter.Options{})
	msg := msgOf(posts...)
	reqs, err := h.ch.Preview(msg)
	if err != nil || len(reqs) != 1 || reqs[0].URL != h.fake.URL()+"/api/v1/statuses" || reqs[0].Header["Idempotency-Key"] != msg.Key ||
		reqs[0].Header["Authorization"] != "Bearer <redacted>" || strings.Contains(fmt.Sprint(reqs), mastodonfake.DefaultToken) {
		t.Fatalf("preview %+v %v", reqs, err)
	}
	shown, err := url.ParseQuery(reqs[0].Body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msg); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Statuses()
	if len(got) != 1 || got[0].Text != shown.Get("status") || got[0].Language != shown.Get("language") || got[0].Visibility != shown.Get("visibility") {
		t.Fatalf("preview %v, server made %+v", shown, got)
	}
	withImage := arabicArticle()
	withImage.ImageURL = "https://news.example.com/i.jpg"
	reqs, _ = h.ch.Preview(msgOf(render(t, withImage, formatter.Options{})...))
	if len(reqs) != 2 || !strings.HasSuffix(reqs[0].URL, "/api/v2/media") || !strings.Contains(reqs[0].Body, "https://news.example.com/i.jpg") ||
		!strings.Contains(reqs[1].Body, "media_ids%5B%5D=%3Cmedia+id+1%3E") {
		t.Fatalf("image preview %+v", reqs)
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{7}, 2000)...)

func imageHost(t *testing.T, ctype string, body []byte) (string, *atomic.Int32) {
	t.Helper()
	hits := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/story.png", hits
}

func TestImageUploadedAndAttached(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	img, hits := imageHost(t, "image/png", png)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}})); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Statuses()
	if len(got) != 1 || len(got[0].MediaIDs) != 1 || hits.Load() != 1 {
		t.Fatalf("server made %+v, image host hits %d", got, hits.Load())
	}
	if m, ok := h.fake.MediaByID(got[0].MediaIDs[0]); !ok || m.Size != len(png) || m.Filename != "story.png" {
		t.Fatalf("media %+v %v", m, ok)
	}
}

// TestMislabelledImageIsUploadedByItsBytes: a host that sends a JPEG as "image/jpg" (no
// registered type, but common) has it uploaded as image/jpeg, the type its bytes show; it used
// to be left out of the status.
func TestMislabelledImageIsUploadedByItsBytes(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	jpeg := append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 2000)...)
	img, _ := imageHost(t, "image/jpg", jpeg)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}})); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Statuses()
	if len(got) != 1 || len(got[0].MediaIDs) != 1 {
		t.Fatalf("server made %+v, want the image attached", got)
	}
	if m, ok := h.fake.MediaByID(got[0].MediaIDs[0]); !ok || m.Size != len(jpeg) || m.ContentType != "image/jpeg" {
		t.Fatalf("media %+v %v, want image/jpeg", m, ok)
	}
}

func TestImageThatCannotBeUsedIsLeftOut(t *testing.T) {
	for _, tc := range []struct {
		name, extra, ctype string
		body               []byte
		want               string
	}{
		{"private host refused", "", "image/png", png, "private address"},
		{"not an image to the server", "allow_private_hosts: true", "image/png", []byte("<!doctype html><title>Not Found</title>"), "File content type is invalid"},
		{"a type Mastodon does not take", "allow_private_hosts: true", "image/svg+xml", []byte("<svg/>"), "image/svg+xml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, tc.extra)
			img, _ := imageHost(t, tc.ctype, tc.body)
			if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}})); err != nil {
				t.Fatal(err)
			}
			if got := h.fake.Statuses(); len(got) != 1 || len(got[0].MediaIDs) != 0 || got[0].Text != "صورة" {
				t.Fatalf("server made %+v, want the text alone", got)
			}
			logs := h.logs.FilterMessageSnippet("image left out").All()
			if len(logs) != 1 || !strings.Contains(logs[0].ContextMap()["error"].(string), tc.want) {
				t.Fatalf("logs %+v, want %q", logs, tc.want)
			}
		})
	}
}

func TestImageUploadAuthFailureFailsTheSend(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	img, _ := imageHost(t, "image/png", png)
	h.fake.SetToken("rotated")
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}}))
	if _, ok := channels.AsPause(err); !ok || len(h.fake.Statuses()) != 0 {
		t.Fatalf("%v: an upload refused for the token must pause, not post without the image", err)
	}
}

// TestImageStillProcessingIsWaitedFor: an upload answered 202 (processing) is asked about until
// the server has it (206 … 200), then attached; one that takes longer than the polls makes the
// status answer 422 "not finished processing", which is retried, not failed.
func TestImageStillProcessingIsWaitedFor(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	h.ch.pollEvery = 10 * time.Millisecond
	img, _ := imageHost(t, "image/png", png)
	h.fake.ProcessNextUpload(3)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}})); err != nil {
		t.Fatal(err)
	}
	polls := 0
	for _, r := range h.fake.Requests() {
		if strings.HasPrefix(r.Path, "/api/v1/media/") {
			polls++
		}
	}
	if got := h.fake.Statuses(); len(got) != 1 || len(got[0].MediaIDs) != 1 || polls != 4 {
		t.Fatalf("statuses %+v after %d polls: want the image attached after 3 answers 206 and one 200", got, polls)
	}

	h.fake.ProcessNextUpload(processingPolls + 5)
	m := msgOf(channels.Post{Text: "صورة أخرى", Media: []channels.Media{{URL: img}}})
	m.Key = "a2:masto-ar:1"
	_, err := h.ch.Send(testCtx(t), m)
	_, pause := channels.AsPause(err)
	if err == nil || channels.IsPermanent(err) || pause || !strings.Contains(err.Error(), "not finished processing") {
		t.Fatalf("%v: want a plain retryable error", err)
	}
}
