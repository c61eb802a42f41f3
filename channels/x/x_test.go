package x

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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
	"herald/channels/x/xfake"
	"herald/config"
	"herald/formatter"
)

type harness struct {
	fake *xfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	spec := channels.Spec{Name: "x-main", Kind: channels.KindX}
	if err := yaml.Unmarshal([]byte(settings), &spec.Settings); err != nil {
		t.Fatal(err)
	}
	return spec
}

// settingsFor are the YAML settings of a channel against base with creds; extra "key: value"
// lines replace or add to them.
func settingsFor(base string, creds xfake.Credentials, extra ...string) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	lines := map[string]string{
		"consumer_key": q(creds.ConsumerKey), "consumer_secret": q(creds.ConsumerSecret),
		"access_token": q(creds.AccessToken), "access_secret": q(creds.AccessSecret),
		"api_base": q(base), "timeout": "5s",
	}
	for _, e := range extra {
		k, v, _ := strings.Cut(e, ":")
		lines[k] = strings.TrimSpace(v)
	}
	var b strings.Builder
	for k, v := range lines {
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	return b.String()
}

func newHarness(t *testing.T, extra ...string) *harness {
	t.Helper()
	fake := xfake.New()
	t.Cleanup(fake.Close)
	return newHarnessAt(t, fake, http.DefaultClient, xfake.DefaultCredentials, extra...)
}

func newHarnessAt(t *testing.T, fake *xfake.Server, client *http.Client, creds xfake.Credentials, extra ...string) *harness {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	ch, err := New(specFrom(t, settingsFor(fake.APIBase(), creds, extra...)), channels.Env{Logger: zap.New(core), HTTPClient: client})
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
	return channels.Message{ArticleID: "a1", Key: "a1:x-main:1", Attempt: 1, Posts: posts}
}

// render is what the worker sends: the x renderer's posts for an Arabic article.
func render(t *testing.T, imageURL string) []channels.Post {
	t.Helper()
	a := article.Article{
		URL:      "https://news.example.com/world/2026/11/story",
		Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Tags:     []string{"أوكرانيا", "كوريا الشمالية"},
		Language: "ar", ImageURL: imageURL,
	}
	r, err := formatter.New(channels.KindX, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

func TestSendTextIsExactlyTheRenderedPost(t *testing.T) {
	h := newHarness(t)
	posts := render(t, "")
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Text != posts[0].Text || len(got[0].MediaIDs) != 0 {
		t.Fatalf("fake got %+v, want the rendered text %q", got, posts[0].Text)
	}
	if rcpt.RemoteID != got[0].ID || rcpt.PostURL != "https://x.com/i/web/status/"+got[0].ID {
		t.Fatalf("receipt %+v for post %s", rcpt, got[0].ID)
	}
}

// TestQuotedHandlesAreNoMentions: a title quoting accounts, long enough to be cut, goes out with
// the formatter's joiner after each "@" that twitter-text would read as a mention (X's automation
// rules forbid automated unsolicited mentions), an e-mail address as written, and the weighted
// length the fake counts within 280.
func TestQuotedHandlesAreNoMentions(t *testing.T) {
	h := newHarness(t)
	a := article.Article{
		URL:      "https://news.example.com/world/2026/11/story",
		Title:    strings.Repeat("الأمم المتحدة (@UN) تحذر، وقال مسؤول@UNICEF للصحفيين desk@news.example ", 6),
		Language: "ar",
	}
	r, err := formatter.New(channels.KindX, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Text != posts[0].Text {
		t.Fatalf("fake got %+v, want the rendered text %q", got, posts[0].Text)
	}
	text := got[0].Text
	if strings.Count(text, "@\u200dU") == 0 || strings.Contains(text, "@U") || !strings.Contains(text, "desk@news.example") {
		t.Errorf("handles not broken, or the address changed, in %q", text)
	}
	if n := formatter.CountX(text); n != posts[0].Length || n > 280 {
		t.Errorf("weighted length %d, post says %d", n, posts[0].Length)
	}
}

var png = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{3}, 3000)...)

func imageHost(t *testing.T, contentType string, body []byte) (string, *atomic.Int32) {
	t.Helper()
	hits := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/media/story.png", hits
}

func TestSendWithImageUploadsItFirst(t *testing.T) {
	h := newHarness(t, "allow_private_hosts: true") // the test image host is on loopback
	img, hits := imageHost(t, "image/png", png)
	posts := render(t, img)
	if len(posts[0].Media) != 1 {
		t.Fatalf("renderer attached no image: %+v", posts[0])
	}
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || len(got[0].MediaIDs) != 1 || got[0].Text != posts[0].Text || rcpt.RemoteID != got[0].ID {
		t.Fatalf("fake got %+v, receipt %+v", got, rcpt)
	}
	m, ok := h.fake.MediaByID(got[0].MediaIDs[0])
	if !ok || m.Type != "image/png" || m.Size != len(png) || m.Category != "tweet_image" || hits.Load() != 1 {
		t.Fatalf("media %+v (known %v), image host hits %d", m, ok, hits.Load())
	}
}

var (
	gif  = append([]byte("GIF89a"), bytes.Repeat([]byte{1}, 500)...)
	jpeg = append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{7}, 2000)...)
)

// TestMislabelledImageIsUploadedByItsBytes: an image host that sends a JPEG as "image/jpg" (not
// a registered type, but common) or a PNG under the old name "image/x-png" has the image
// uploaded under the type its bytes show, as X reads them; it used to be left out of the post.
func TestMislabelledImageIsUploadedByItsBytes(t *testing.T) {
	for _, tc := range []struct {
		ctype string
		body  []byte
		want  string
	}{{"image/jpg", jpeg, "image/jpeg"}, {"image/x-png", png, "image/png"}} {
		t.Run(tc.ctype, func(t *testing.T) {
			h := newHarness(t, "allow_private_hosts: true")
			img, _ := imageHost(t, tc.ctype, tc.body)
			if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}})); err != nil {
				t.Fatal(err)
			}
			got := h.fake.Posts()
			if len(got) != 1 || len(got[0].MediaIDs) != 1 {
				t.Fatalf("posts %+v, want the image attached", got)
			}
			if m, ok := h.fake.MediaByID(got[0].MediaIDs[0]); !ok || m.Type != tc.want || m.Size != len(tc.body) {
				t.Fatalf("media %+v, want %s", m, tc.want)
			}
		})
	}
}

func TestUpToFourImages(t *testing.T) {
	h := newHarness(t, "allow_private_hosts: true")
	img, hits := imageHost(t, "image/png", png)
	post := channels.Post{Text: "خمس صور"}
	for range 5 {
		post.Media = append(post.Media, channels.Media{URL: img})
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(post)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || len(got[0].MediaIDs) != 4 || hits.Load() != 4 {
		t.Fatalf("posts %+v, image host hits %d", got, hits.Load())
	}
}

func TestImageRefusedOrUnusableGoesOutAsText(t *testing.T) {
	cases := []struct {
		name     string
		extra    []string
		ctype    string
		wantLog  string
		wantHits int32
		body     []byte // nil: a PNG
	}{
		{"private host refused by default", nil, "image/png", "private address", 0, nil},
		{"not an image", []string{"allow_private_hosts: true"}, "text/html", "not an image", 1, nil},
		{"a type X does not take", []string{"allow_private_hosts: true"}, "image/gif", "does not take", 1, gif},
		// The host says image/jpeg but sends a page: X decodes the bytes and refuses them.
		{"X refuses bytes that are no image", []string{"allow_private_hosts: true"}, "image/jpeg", "media type unrecognized", 1,
			[]byte("<!doctype html><title>404</title>")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.extra...)
			body := tc.body
			if body == nil {
				body = png
			}
			img, hits := imageHost(t, tc.ctype, body)
			if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "نص", Media: []channels.Media{{URL: img}}})); err != nil {
				t.Fatal(err)
			}
			if got := h.fake.Posts(); len(got) != 1 || got[0].Text != "نص" || len(got[0].MediaIDs) != 0 {
				t.Fatalf("posts %+v", got)
			}
			if hits.Load() != tc.wantHits {
				t.Fatalf("image host hits %d, want %d", hits.Load(), tc.wantHits)
			}
			logs := h.logs.FilterMessageSnippet("image left out").All()
			if len(logs) != 1 || !strings.Contains(logs[0].ContextMap()["error"].(string), tc.wantLog) {
				t.Fatalf("log %+v should mention %q", logs, tc.wantLog)
			}
		})
	}
}

func TestErrorClasses(t *testing.T) {
	reset := time.Now().Add(7 * time.Minute).Truncate(time.Second)
	cases := []struct {
		name   string
		inject func(*xfake.Server)
		check  func(t *testing.T, err error)
	}{
		{"429 waits until x-rate-limit-reset", func(f *xfake.Server) { f.RateLimitNext(reset) }, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || !rl.RetryAt.Equal(reset) {
				t.Fatalf("%v: want rate limited until %s", err, reset)
			}
		}},
		{"429 of the user's 24 hours waits until x-user-limit-24hour-reset", func(f *xfake.Server) {
			h := http.Header{}
			h.Set("x-rate-limit-remaining", "97")
			h.Set("x-rate-limit-reset", strconv.FormatInt(reset.Unix(), 10))
			h.Set("x-user-limit-24hour-remaining", "0")
			h.Set("x-user-limit-24hour-reset", strconv.FormatInt(reset.Add(20*time.Hour).Unix(), 10))
			f.FailNext(429, `{"title":"Too Many Requests","detail":"Too Many Requests","type":"about:blank","status":429}`, h)
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || !rl.RetryAt.Equal(reset.Add(20*time.Hour)) {
				t.Fatalf("%v: want rate limited until %s", err, reset.Add(20*time.Hour))
			}
		}},
		{"429 usage cap pauses", func(f *xfake.Server) {
			f.FailNext(429, `{"title":"UsageCapExceeded","detail":"Usage cap exceeded: Monthly product cap","type":"https://api.twitter.com/2/problems/usage-capped","period":"Monthly","scope":"Product"}`, nil)
		}, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || !strings.Contains(p.Reason, "usage cap") {
				t.Fatalf("%v: want a pause", err)
			}
		}},
		// Pay-per-use: the developer account has no credits left. Every post is refused alike
		// until someone buys credits, so the channel pauses and keeps its backlog.
		{"402 credits depleted pauses", func(f *xfake.Server) {
			f.FailNext(402, `{"title":"CreditsDepleted","detail":"Your enrolled account [1860000000000000000] does not have any credits to fulfill this request.","type":"https://api.twitter.com/2/problems/credits"}`, nil)
		}, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || channels.IsPermanent(err) || !strings.Contains(p.Reason, "credits") {
				t.Fatalf("%v: want a pause saying the credits are spent", err)
			}
		}},
		{"403 duplicate content", func(f *xfake.Server) {
			f.FailNext(403, `{"detail":"You are not allowed to create a Tweet with duplicate content.","type":"about:blank","title":"Forbidden","status":403}`, nil)
		}, func(t *testing.T, err error) {
			if !channels.IsDuplicateContent(err) || !channels.IsPermanent(err) {
				t.Fatalf("%v: want duplicate content, permanent", err)
			}
		}},
		{"403 app without write permission pauses", func(f *xfake.Server) { f.SetAccessLevel("read") }, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !strings.Contains(p.Reason, "oauth1 app permissions") {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"400 invalid request is permanent", func(f *xfake.Server) {
			f.FailNext(400, `{"title":"Invalid Request","detail":"One or more parameters to your request was invalid.","type":"https://api.twitter.com/2/problems/invalid-request","errors":[{"message":"bad text"}]}`, nil)
		}, func(t *testing.T, err error) {
			var ae *APIError
			if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Status != 400 || !strings.Contains(err.Error(), "bad text") {
				t.Fatalf("%v: want permanent 400 with the message", err)
			}
		}},
		{"503 is retryable", func(f *xfake.Server) {
			f.FailNext(503, `{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}`, nil)
		}, func(t *testing.T, err error) {
			_, pause := channels.AsPause(err)
			_, rl := channels.AsRateLimited(err)
			if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause || rl {
				t.Fatalf("%v: want plain retryable", err)
			}
		}},
		{"504 may have posted", func(f *xfake.Server) { f.FailNext(504, `<html>gateway timeout</html>`, nil) }, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
		{"answer lost after the post was made", func(f *xfake.Server) { f.DropNextPost() }, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			tc.inject(h.fake)
			_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
			tc.check(t, err)
		})
	}
}

// X made the post but answered 503; the retry gets 403 duplicate content. That names the first
// attempt's post: unknown (an admin checks), not failed. A duplicate on a first attempt (the
// text was posted before, by another article) stays a permanent duplicate. (Fails with the
// attempt check in Send removed: the retry was failed as a duplicate.)
func TestDuplicateOnARetryIsUnknownNotFailed(t *testing.T) {
	h := newHarness(t)
	h.fake.FailAfterPostNext(503, `{"title":"Service Unavailable","detail":"Service Unavailable","type":"about:blank","status":503}`)
	msg := msgOf(channels.Post{Text: "عاجل: زلزال بقوة 5 درجات"})
	_, err := h.ch.Send(testCtx(t), msg)
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) {
		t.Fatalf("first attempt: %v, want a retryable error", err)
	}
	msg.Attempt = 2
	_, err = h.ch.Send(testCtx(t), msg)
	if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) || !strings.Contains(err.Error(), "earlier attempt") {
		t.Fatalf("retry: %v, want an unknown outcome", err)
	}
	if n := len(h.fake.Posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
	// Another article with the same text, first attempt: a duplicate, permanent as before.
	other := msgOf(channels.Post{Text: "عاجل: زلزال بقوة 5 درجات"})
	other.ArticleID, other.Key = "a2", "a2:x-main:1"
	if _, err := h.ch.Send(testCtx(t), other); !channels.IsDuplicateContent(err) || channels.IsUnknownOutcome(err) {
		t.Fatalf("first attempt of another article: %v, want duplicate content", err)
	}
}

func TestWrongSecretIsRefusedAndPauses(t *testing.T) {
	fake := xfake.New()
	t.Cleanup(fake.Close)
	wrong := xfake.DefaultCredentials
	wrong.AccessSecret = "not-the-access-secret-at-all"
	h := newHarnessAt(t, fake, http.DefaultClient, wrong)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	p, ok := channels.AsPause(err)
	if !ok || !strings.Contains(p.Reason, "401") {
		t.Fatalf("%v: want an auth pause for the 401", err)
	}
	if len(fake.Posts()) != 0 {
		t.Fatal("a badly signed request was accepted")
	}
	if err := h.ch.Check(testCtx(t)); err == nil {
		t.Fatal("Check passed with a wrong secret")
	}
	if reqs := fake.Requests(); len(reqs) != 2 || reqs[0].Status != 401 || reqs[1].Status != 401 {
		t.Fatalf("requests %+v", reqs)
	}
}

func TestConnectionRefusedIsRetryable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	core, _ := observer.New(zapcore.DebugLevel)
	ch, err := New(specFrom(t, settingsFor("http://"+addr, xfake.DefaultCredentials)), channels.Env{Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	if err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
		t.Fatalf("%v: a request that never left must be plainly retryable", err)
	}
}

func TestDeleteAndCheck(t *testing.T) {
	h := newHarness(t)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "تصحيح"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatal(err)
	}
	if d := h.fake.Deleted(); len(d) != 1 || d[0] != rcpt.RemoteID {
		t.Fatalf("deleted %v, want %s", d, rcpt.RemoteID)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatalf("deleting an already deleted post: %v", err)
	}
	// The same text may be posted again once the first is gone.
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "تصحيح"})); err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestCost(t *testing.T) {
	h := newHarness(t)
	kinds, usd := h.ch.Cost([]channels.Post{{Text: "عاجل https://news.example.com/a"}, {Text: "بلا رابط"}})
	if fmt.Sprint(kinds) != "[post_with_url post]" || fmt.Sprintf("%.3f", usd) != "0.215" {
		t.Fatalf("cost %v %v", kinds, usd)
	}
	h = newHarness(t, "price_post: 0.01", "price_post_with_url: 0.5", "monthly_budget: 12.5")
	if _, usd := h.ch.Cost([]channels.Post{{Text: "x https://a.example"}}); usd != 0.5 || h.ch.MonthlyBudget() != 12.5 {
		t.Fatalf("configured cost %v budget %v", usd, h.ch.MonthlyBudget())
	}
}

// leakyTransport fails every request with an error that quotes the request's headers, as a
// careless proxy or library might.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("proxy refused %s %s with Authorization %q", r.Method, r.URL, r.Header.Get("Authorization"))
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	fake := xfake.New()
	t.Cleanup(fake.Close)
	h := newHarnessAt(t, fake, &http.Client{Transport: leakyTransport{}}, xfake.DefaultCredentials)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	if err == nil {
		t.Fatal("the failing transport let the send through")
	}
	cerr := h.ch.Check(testCtx(t))
	var all strings.Builder
	all.WriteString(err.Error() + "\n" + fmt.Sprint(cerr) + "\n")
	for _, e := range h.logs.All() {
		all.WriteString(e.Message + fmt.Sprint(e.ContextMap()) + "\n")
	}
	if !strings.Contains(all.String(), "proxy refused") {
		t.Fatalf("the transport's error is not reported: %s", all.String())
	}
	c := xfake.DefaultCredentials
	for _, secret := range []string{c.ConsumerKey, c.ConsumerSecret, c.AccessToken, c.AccessSecret} {
		if strings.Contains(all.String(), secret) {
			t.Fatalf("secret %q leaked:\n%s", secret, all.String())
		}
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("X_TEST_ACCESS_SECRET", "from-env")
	cfg, err := LoadConfig(specFrom(t, "consumer_key: k\nconsumer_secret_file: "+file+"\naccess_token: t\naccess_secret_env: X_TEST_ACCESS_SECRET\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConsumerSecret != "from-file" || cfg.AccessSecret != "from-env" || cfg.APIBase != DefaultAPIBase ||
		*cfg.PricePost != DefaultPricePost || *cfg.PricePostWithURL != DefaultPricePostWithURL || cfg.Timeout != DefaultTimeout {
		t.Fatalf("config %+v", cfg)
	}
	for settings, want := range map[string]string{
		"consumer_key: k\nconsumer_secret: s\naccess_token: t\n":                                        "access_secret: not set",
		"consumer_key: k\nconsumer_key_env: K\nconsumer_secret: s\naccess_token: t\naccess_secret: a\n": "consumer_key, consumer_key_file, consumer_key_env: set only one",
		"consumer_key: k\nconsumer_secret: s\naccess_token: t\naccess_secret: a\napi_base: ftp://x\n":   "api_base:",
		"consumer_key: k\nconsumer_secret: s\naccess_token: t\naccess_secret: a\nmonthly_budget: -1\n":  "monthly_budget:",
		"consumer_key: k\nconsumer_secret: s\naccess_token: t\naccess_secret: a\nprice_post: -1\n":      "price_post:",
		"consumer_key: k\nconsumer_secret: s\naccess_token: t\naccess_secret: a\nbearer_token: b\n":     "bearer_token",
	} {
		_, err := LoadConfig(specFrom(t, settings))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", settings, err, want)
		}
	}
}

// TestPreviewIsWhatSendSends: herald format prints Preview; the post request it shows must be
// byte for byte the one X receives.
func TestPreviewIsWhatSendSends(t *testing.T) {
	h := newHarness(t)
	posts := render(t, "")
	reqs, err := h.ch.Preview(msgOf(posts...))
	if err != nil || len(reqs) != 1 || reqs[0].URL != h.fake.APIBase()+"/2/tweets" || strings.Contains(fmt.Sprint(reqs), xfake.DefaultCredentials.ConsumerKey) {
		t.Fatalf("preview %+v %v", reqs, err)
	}
	var shown tweetRequest
	if err := json.Unmarshal([]byte(reqs[0].Body), &shown); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || got[0].Text != shown.Text {
		t.Fatalf("preview text %q, X received %+v", shown.Text, got)
	}
	withImage := render(t, "https://news.example.com/i.jpg")
	reqs, _ = h.ch.Preview(msgOf(withImage...))
	if len(reqs) != 2 || !strings.HasSuffix(reqs[0].URL, "/2/media/upload") || !strings.Contains(reqs[1].Body, `"media_ids"`) {
		t.Fatalf("preview with an image %+v", reqs)
	}
}

// TestFakeRefusesRepeatedText: the fake, like X, refuses a text the account already posted,
// and the channel reads it as duplicate content; after a delete the text may go out again.
func TestFakeRefusesRepeatedText(t *testing.T) {
	h := newHarness(t)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "نفس النص"}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "نفس النص"}))
	if !channels.IsDuplicateContent(err) || !strings.Contains(err.Error(), "duplicate content") {
		t.Fatalf("%v: want duplicate content", err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "نفس النص"})); err != nil {
		t.Fatal(err)
	}
}

// TestFakePacesPosts: past its window's allowance the fake answers 429 with the window's end in
// x-rate-limit-reset, which the channel turns into a wait until then.
func TestFakePacesPosts(t *testing.T) {
	h := newHarness(t)
	h.fake.SetRateLimit(2, time.Minute)
	for i := range 2 {
		if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: fmt.Sprintf("خبر %d", i)})); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر 3"}))
	rl, ok := channels.AsRateLimited(err)
	if !ok || time.Until(rl.RetryAt) < 50*time.Second || time.Until(rl.RetryAt) > 62*time.Second {
		t.Fatalf("%v: want rate limited until the window ends (~1 min)", err)
	}
}

// TestCredentialsFromHeraldChEnvironment: like every channel setting, each credential may come
// from HERALD_CH_<NAME>_<SETTING>, so none needs to be in the file.
func TestCredentialsFromHeraldChEnvironment(t *testing.T) {
	c := xfake.DefaultCredentials
	t.Setenv("HERALD_CH_X_MAIN_CONSUMER_KEY", c.ConsumerKey)
	t.Setenv("HERALD_CH_X_MAIN_CONSUMER_SECRET", c.ConsumerSecret)
	t.Setenv("HERALD_CH_X_MAIN_ACCESS_TOKEN", c.AccessToken)
	t.Setenv("HERALD_CH_X_MAIN_ACCESS_SECRET", c.AccessSecret)
	fake := xfake.New()
	t.Cleanup(fake.Close)
	cfg, err := config.Parse([]byte("channels:\n  - name: x-main\n    kind: x\n    settings:\n      api_base: " + fake.APIBase() + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	ch, err := channels.New(cfg.Channels[0].Spec, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Send(testCtx(t), msgOf(channels.Post{Text: "من البيئة"})); err != nil {
		t.Fatalf("credentials from the environment were not used: %v", err)
	}
}

// TestFakeDailyAppLimitWaitsForTheDay: past the app's 24-hour allowance X answers 429 while the
// 15-minute window still has room; x-rate-limit-reset is then only minutes away, and the wait
// must run to x-app-limit-24hour-reset instead of coming back every 15 minutes for another 429.
func TestFakeDailyAppLimitWaitsForTheDay(t *testing.T) {
	h := newHarness(t)
	h.fake.SetDailyLimit(2)
	for i := range 2 {
		if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: fmt.Sprintf("خبر %d", i)})); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر 3"}))
	rl, ok := channels.AsRateLimited(err)
	if !ok || time.Until(rl.RetryAt) < 23*time.Hour || time.Until(rl.RetryAt) > 24*time.Hour+time.Minute {
		t.Fatalf("%v: want rate limited until the 24-hour window ends", err)
	}
	if n := len(h.fake.Posts()); n != 2 {
		t.Fatalf("%d posts, want 2", n)
	}
}
