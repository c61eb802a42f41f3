package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/discord/discordfake"
	"herald/formatter"
)

type harness struct {
	fake *discordfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	spec := channels.Spec{Name: "dc-news", Kind: channels.KindDiscord}
	if err := yaml.Unmarshal([]byte(settings), &spec.Settings); err != nil {
		t.Fatal(err)
	}
	return spec
}

func newHarness(t *testing.T, client *http.Client, extra ...string) *harness {
	t.Helper()
	fake := discordfake.New()
	t.Cleanup(fake.Close)
	return harnessFor(t, fake, fake.WebhookURL(), client, extra...)
}

func harnessFor(t *testing.T, fake *discordfake.Server, hook string, client *http.Client, extra ...string) *harness {
	t.Helper()
	s := fmt.Sprintf("webhook_url: %q\ntimeout: 5s\n", hook)
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
	return channels.Message{ArticleID: "a1", Key: "a1:dc-news:1", Attempt: 1, Posts: posts}
}

var sample = article.Article{
	URL:      "https://news.example.com/world/2026/11/story",
	Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
	Summary:  "قال الرئيس الأوكراني إن قوات كورية شمالية وصلت إلى خطوط القتال في كورسك.",
	Tags:     []string{"أوكرانيا", "كوريا الشمالية"},
	Category: "العالم",
	Language: "ar",
	ImageURL: "https://news.example.com/media/story.jpg",
}

// render is what the worker sends: the discord renderer's posts.
func render(t *testing.T, a article.Article, embed bool) []channels.Post {
	t.Helper()
	r, err := formatter.New(channels.KindDiscord, formatter.Options{Embed: embed})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

func TestArabicContentPostIsTheRenderedPost(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, sample, false)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Messages()
	if len(got) != 1 || got[0].Content != posts[0].Text || !strings.Contains(got[0].Content, "زيلينسكي") || len(got[0].Embeds) != 0 {
		t.Fatalf("Discord got %+v, want content %q", got, posts[0].Text)
	}
	want := "https://discord.com/channels/" + discordfake.DefaultGuild + "/" + discordfake.DefaultChannel + "/" + got[0].ID
	if rcpt.RemoteID != got[0].ID || rcpt.PostURL != want {
		t.Fatalf("receipt %+v, want id %s and URL %s", rcpt, got[0].ID, want)
	}
	var posted bool
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost {
			posted = true
			if r.Query != "wait=true" || !strings.HasPrefix(r.Path, "/api/"+APIVersion+"/webhooks/") {
				t.Fatalf("post went to %s?%s, want /api/%s/webhooks/…?wait=true", r.Path, r.Query, APIVersion)
			}
		}
	}
	if !posted {
		t.Fatal("no post request")
	}
	// The server id comes from one GET of the webhook, not one per post.
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر ثان"})); err != nil {
		t.Fatal(err)
	}
	gets := 0
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodGet {
			gets++
		}
	}
	if gets != 1 {
		t.Fatalf("%d GETs of the webhook for two posts, want 1", gets)
	}
}

func TestArabicEmbedPost(t *testing.T) {
	h := newHarness(t, nil, `username: "الأخبار العاجلة"`, "avatar_url: https://news.example.com/logo.png")
	posts := render(t, sample, true)
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Messages()
	if len(got) != 1 || got[0].Content != "" || len(got[0].Embeds) != 1 {
		t.Fatalf("Discord got %+v, want one embed and no content", got)
	}
	e := got[0].Embeds[0]
	img, _ := e["image"].(map[string]any)
	if e["title"] != sample.Title || !strings.HasPrefix(e["description"].(string), "قال الرئيس") ||
		!strings.HasPrefix(e["url"].(string), sample.URL) || img["url"] != sample.ImageURL {
		t.Fatalf("embed %+v", e)
	}
	if got[0].Username != "الأخبار العاجلة" || got[0].AvatarURL != "https://news.example.com/logo.png" {
		t.Fatalf("username %q avatar %q", got[0].Username, got[0].AvatarURL)
	}
}

// TestMentionsNeverPing: a headline quoting @everyone, a role or a user must not notify
// anyone, whatever the formatter did to the text: allowed_mentions is always {"parse": []}.
func TestMentionsNeverPing(t *testing.T) {
	h := newHarness(t, nil)
	text := "@everyone عاجل: <@&1100000000000000009> و <@1100000000000000008> @here"
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text})); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(render(t, sample, true)...)); err != nil {
		t.Fatal(err)
	}
	for _, m := range h.fake.Messages() {
		if string(m.AllowedMentions) != `{"parse":[]}` || m.Pinged {
			t.Fatalf("message %q: allowed_mentions %s, pinged %v", m.Content, m.AllowedMentions, m.Pinged)
		}
	}
	// The fake does tell a ping: the same text without allowed_mentions would notify.
	req, _ := http.NewRequest(http.MethodPost, h.fake.WebhookURL()+"?wait=true", strings.NewReader(`{"content":`+jsonString(text)+`}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if m := h.fake.Messages(); len(m) != 3 || !m[2].Pinged {
		t.Fatalf("the fake does not see the ping of a message without allowed_mentions: %+v", m)
	}
}

func jsonString(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestErrorClasses(t *testing.T) {
	long := strings.Repeat("خ", discordfake.MaxContent+1)
	cases := []struct {
		name   string
		inject func(*discordfake.Server)
		post   channels.Post
		check  func(t *testing.T, err error)
	}{
		{"deleted webhook (404, 10015) pauses", func(f *discordfake.Server) { f.DeleteWebhook() }, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			var ae *APIError
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !errors.As(err, &ae) || ae.Code != CodeUnknownWebhook || ae.Status != 404 {
				t.Fatalf("%v: want an auth pause with code 10015", err)
			}
		}},
		{"a forum channel without thread_id (220001) pauses", func(f *discordfake.Server) {
			f.FailNext(400, CodeForumNeedsThread, "Webhooks posted to forum channels must have a thread_name or thread_id")
		}, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || !strings.Contains(p.Reason, "set thread_id") || channels.IsPermanent(err) {
				t.Fatalf("%v: want a pause saying to set thread_id, not a failed delivery", err)
			}
		}},
		{"403 pauses", func(f *discordfake.Server) { f.FailNext(403, 50013, "Missing Permissions") }, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || !strings.Contains(p.Reason, "Missing Permissions") {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"content over 2000 is permanent and names the field", nil, channels.Post{Text: long}, func(t *testing.T, err error) {
			var ae *APIError
			_, pause := channels.AsPause(err)
			if !channels.IsPermanent(err) || pause || !errors.As(err, &ae) || ae.Code != CodeInvalidFormBody ||
				!strings.Contains(err.Error(), "content: Must be 2000 or fewer in length.") {
				t.Fatalf("%v: want permanent 50035 naming content", err)
			}
		}},
		{"embed title over 256 names embeds.0.title", nil, channels.Post{Extra: map[string]any{"embeds": []any{map[string]any{"title": strings.Repeat("ع", 257)}}}}, func(t *testing.T, err error) {
			if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "embeds.0.title: Must be 256 or fewer in length.") {
				t.Fatalf("%v: want permanent naming embeds.0.title", err)
			}
		}},
		{"embeds over 6000 in total", nil, channels.Post{Extra: map[string]any{"embeds": []any{
			map[string]any{"description": strings.Repeat("ب", 4000)}, map[string]any{"description": strings.Repeat("ب", 2001)}}}}, func(t *testing.T, err error) {
			if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "embeds: Embed size exceeds maximum size of 6000") {
				t.Fatalf("%v: want permanent naming the embed total", err)
			}
		}},
		{"500 after the post was written is unknown", func(f *discordfake.Server) { f.FailNext(500, 0, "500: Internal Server Error") }, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "500") {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
		{"a Cloudflare 502 page is unknown, with an excerpt", func(f *discordfake.Server) {
			f.FailNextRaw(502, "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>")
		}, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "502 Bad Gateway") {
				t.Fatalf("%v: want unknown outcome with the page's excerpt", err)
			}
		}},
		// Cloudflare, in front of Discord, says it never handed the request over (521 the
		// origin refused the connection, 523 unreachable, 525/526 TLS to the origin failed):
		// nothing was posted, so it is retried, not parked for an admin.
		{"a Cloudflare 521 (origin never reached) is retryable", func(f *discordfake.Server) {
			f.FailNextRaw(521, "<html><head><title>discord.com | 521: Web server is down</title></head><body>cloudflare</body></html>")
		}, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			_, pause := channels.AsPause(err)
			if err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) || pause || !strings.Contains(err.Error(), "521") {
				t.Fatalf("%v: want plain retryable", err)
			}
		}},
		{"a Cloudflare 524 (origin timed out) is unknown", func(f *discordfake.Server) {
			f.FailNextRaw(524, "<html><head><title>discord.com | 524: A timeout occurred</title></head><body>cloudflare</body></html>")
		}, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
		{"answer lost after the post was made", func(f *discordfake.Server) { f.DropNextPost() }, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
		{"429 waits for the body's fractional retry_after", func(f *discordfake.Server) { f.RateLimitNext(4.25, false) }, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			// Retry-After says 5 (whole seconds); the body's 4.25 is the precise one.
			if left := time.Until(rl.RetryAt); !ok || left < 4*time.Second || left > 4250*time.Millisecond {
				t.Fatalf("%v: want rate limited for 4.25 s", err)
			}
		}},
		{"global 429", func(f *discordfake.Server) { f.RateLimitNext(30, true) }, channels.Post{Text: "عاجل"}, func(t *testing.T, err error) {
			var ae *APIError
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < 29*time.Second || !errors.As(err, &ae) || !ae.Global {
				t.Fatalf("%v: want a global rate limit of 30 s", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			if tc.inject != nil {
				tc.inject(h.fake)
			}
			_, err := h.ch.Send(testCtx(t), msgOf(tc.post))
			tc.check(t, err)
		})
	}
}

func TestWrongTokenPauses(t *testing.T) {
	fake := discordfake.New()
	defer fake.Close()
	h := harnessFor(t, fake, strings.Replace(fake.WebhookURL(), discordfake.DefaultToken, "another_token_of_the_same_webhook_0123456789", 1), nil)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	var ae *APIError
	if _, ok := channels.AsPause(err); !ok || !errors.As(err, &ae) || ae.Status != 401 || ae.Code != CodeInvalidWebhookToken {
		t.Fatalf("%v: want an auth pause with 401 code 50027", err)
	}
	if len(fake.Messages()) != 0 {
		t.Fatal("posted with a wrong token")
	}
}

func TestConnectionNeverOpenedIsRetryable(t *testing.T) {
	fake := discordfake.New()
	hook := fake.WebhookURL()
	fake.Close() // nothing listens there any more
	h := harnessFor(t, fake, hook, nil)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	_, pause := channels.AsPause(err)
	_, rl := channels.AsRateLimited(err)
	if err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) || pause || rl {
		t.Fatalf("%v: want a plain retryable error", err)
	}
}

func TestUnknownThreadPauses(t *testing.T) {
	h := newHarness(t, nil, `thread_id: "1200000000000000099"`)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	if p, ok := channels.AsPause(err); !ok || !strings.Contains(p.Reason, "1200000000000000099") {
		t.Fatalf("%v: want a pause naming the thread", err)
	}
	h = newHarness(t, nil, fmt.Sprintf("thread_id: %q", discordfake.DefaultThread))
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	if err != nil {
		t.Fatal(err)
	}
	m := h.fake.Messages()
	if len(m) != 1 || m[0].ThreadID != discordfake.DefaultThread || !strings.Contains(rcpt.PostURL, "/"+discordfake.DefaultThread+"/"+m[0].ID) {
		t.Fatalf("messages %+v, receipt %+v: want the post in the thread", m, rcpt)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil || !h.fake.Messages()[0].Deleted {
		t.Fatalf("deleting in the thread: %v", err)
	}
}

func TestEmptyPostIsPermanentWithoutARequest(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: ""}))
	if !channels.IsPermanent(err) {
		t.Fatalf("%v: want permanent", err)
	}
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPost {
			t.Fatalf("an empty post was sent: %+v", r)
		}
	}
}

func posts(fake *discordfake.Server) (n, limited int) {
	for _, r := range fake.Requests() {
		if r.Method == http.MethodPost {
			n++
			if r.Status == http.StatusTooManyRequests {
				limited++
			}
		}
	}
	return n, limited
}

// TestEmptyBucketShortResetWaitsInMemory: an answer saying X-RateLimit-Remaining 0 makes the
// next send wait for X-RateLimit-Reset-After before posting, instead of drawing a 429.
func TestEmptyBucketShortResetWaitsInMemory(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetBucket(2, 1500*time.Millisecond)
	start := time.Now()
	for i := range 3 {
		if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: fmt.Sprintf("خبر %d", i)})); err != nil {
			t.Fatalf("post %d: %v", i, err)
		}
	}
	if n, limited := posts(h.fake); n != 3 || limited != 0 {
		t.Fatalf("%d posts, %d answered 429: the third must wait for the bucket's reset", n, limited)
	}
	if took := time.Since(start); took < 1400*time.Millisecond {
		t.Fatalf("three posts in %s: the third did not wait for the reset (1.5 s)", took)
	}
}

// TestEmptyBucketLongResetIsRateLimited: a reset longer than MaxInlineWait goes back to the
// worker as RateLimited until the reset, without a request.
func TestEmptyBucketLongResetIsRateLimited(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetBucket(1, 20*time.Second)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"})); err != nil {
		t.Fatal(err)
	}
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر آخر"}))
	rl, ok := channels.AsRateLimited(err)
	if !ok || time.Until(rl.RetryAt) < 19*time.Second || time.Until(rl.RetryAt) > 20*time.Second {
		t.Fatalf("%v: want rate limited for the bucket's 20 s", err)
	}
	if n, _ := posts(h.fake); n != 1 {
		t.Fatalf("%d posts: the second must not be sent", n)
	}
}

// TestAfter429TheNextSendWaits: a 429 is remembered, so a send before its end does not draw
// another one.
func TestAfter429TheNextSendWaits(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.RateLimitNext(0.8, false)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"})); err == nil {
		t.Fatal("want the injected 429")
	}
	start := time.Now()
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"})); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Fatalf("sent %s after a 0.8 s 429", took)
	}
	if n, limited := posts(h.fake); n != 2 || limited != 1 {
		t.Fatalf("%d posts, %d limited", n, limited)
	}
}

func TestBucketWaitRespectsTheContext(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetBucket(1, 2500*time.Millisecond)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"})); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	_, err := h.ch.Send(ctx, msgOf(channels.Post{Text: "خبر"}))
	if err == nil || channels.IsUnknownOutcome(err) || !errors.Is(err, context.Canceled) {
		t.Fatalf("%v: want a retryable 'not sent' error", err)
	}
	if n, _ := posts(h.fake); n != 1 {
		t.Fatalf("%d posts", n)
	}
}

func TestDeleteAndCheck(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.ch.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if l := h.logs.FilterMessage("discord webhook works").All(); len(l) != 1 || l[0].ContextMap()["guild_id"] != discordfake.DefaultGuild {
		t.Fatalf("check log %+v", l)
	}
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "تصحيح"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil || !h.fake.Messages()[0].Deleted {
		t.Fatalf("delete: %v, messages %+v", err, h.fake.Messages())
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatalf("deleting a deleted message: %v", err)
	}
	if err := h.ch.Delete(testCtx(t), "not-an-id"); !channels.IsPermanent(err) {
		t.Fatalf("deleting a bad id: %v", err)
	}
	h.fake.DeleteWebhook()
	var ae *APIError
	if err := h.ch.Check(testCtx(t)); !errors.As(err, &ae) || ae.Code != CodeUnknownWebhook {
		t.Fatalf("Check of a deleted webhook: %v", err)
	} else if _, ok := channels.AsPause(err); !ok {
		t.Fatalf("Check of a deleted webhook is not an auth error: %v", err)
	}
	if _, ok := channels.AsPause(h.ch.Delete(testCtx(t), rcpt.RemoteID)); !ok {
		t.Fatal("Delete through a deleted webhook is not an auth error")
	}
}

// leakyTransport fails every request with an error that repeats the request's URL and body,
// as a misbehaving proxy might.
type leakyTransport struct{}

func (leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body := ""
	if r.Body != nil {
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		body = b.String()
	}
	return nil, fmt.Errorf("proxy refused %s %s body %s", r.Method, r.URL, body)
}

// TestWebhookTokenNeverInErrorsOrLogs: the URL's token is the credential; it must not reach an
// error, a log line or a preview, only https://…/webhooks/<id>/***.
func TestWebhookTokenNeverInErrorsOrLogs(t *testing.T) {
	fake := discordfake.New()
	defer fake.Close()
	h := harnessFor(t, fake, fake.WebhookURL(), &http.Client{Transport: leakyTransport{}})
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	cerr := h.ch.Check(testCtx(t))
	derr := h.ch.Delete(testCtx(t), "1310000000000000001")
	xerr := h.ch.Edit(testCtx(t), "1310000000000000001", msgOf(channels.Post{Text: "تصحيح"}))
	reqs, perr := h.ch.Preview(msgOf(channels.Post{Text: "عاجل"}))
	var all strings.Builder
	fmt.Fprintf(&all, "%v\n%v\n%v\n%v\n%v\n%+v\n", err, cerr, derr, xerr, perr, reqs)
	for _, e := range h.logs.All() {
		all.WriteString(e.Message + fmt.Sprint(e.ContextMap()) + "\n")
	}
	// Discord echoing the token in an error body (it does not today) is redacted as well.
	h2 := newHarness(t, nil)
	h2.fake.FailNext(400, 0, "bad webhook "+discordfake.DefaultToken)
	_, berr := h2.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	fmt.Fprintf(&all, "%v\n", berr)
	rcpt, serr := h2.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"}))
	h2.fake.FailEditNext(400, 0, "bad webhook "+discordfake.DefaultToken)
	eerr := h2.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "خبر مصحح"}))
	fmt.Fprintf(&all, "%v\n", eerr)
	for _, e := range h2.logs.All() {
		all.WriteString(e.Message + fmt.Sprint(e.ContextMap()) + "\n")
	}
	if serr != nil || eerr == nil || xerr == nil || !strings.Contains(xerr.Error(), "/webhooks/"+discordfake.DefaultID+"/***") {
		t.Fatalf("send %v, edit %v, edit through the proxy %v", serr, eerr, xerr)
	}
	// A malformed URL's error does not repeat it either.
	_, lerr := LoadConfig(specFrom(t, "webhook_url: https://discord.com/api/webhooks/"+discordfake.DefaultToken))
	fmt.Fprintf(&all, "%v\n", lerr)
	s := all.String()
	if err == nil || !strings.Contains(s, "proxy refused") || berr == nil || lerr == nil {
		t.Fatalf("the errors are not reported: %s", s)
	}
	if strings.Contains(s, discordfake.DefaultToken) {
		t.Fatalf("webhook token leaked:\n%s", s)
	}
	if !strings.Contains(err.Error(), "/webhooks/"+discordfake.DefaultID+"/***") || reqs[0].URL != h.ch.SafeURL()+"?wait=true" {
		t.Fatalf("errors and previews should show the webhook as …/webhooks/<id>/***: %v, %+v", err, reqs)
	}
}

func TestConfigErrors(t *testing.T) {
	const tok = "Zm9vYmFyYmF6cXV4LXNlY3JldC10b2tlbi0xMjM0NTY3ODkw"
	for settings, want := range map[string]string{
		"timeout: 5s": "webhook_url: not set",
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "\nwebhook_url_env: X":     "set only one",
		"webhook_url: http://discord.com/api/webhooks/1300000000000000001/" + tok:                               "must be an https URL",
		"webhook_url: https://evil.example.com/api/webhooks/1300000000000000001/" + tok:                         `host "evil.example.com" is not Discord's`,
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "?thread_id=1":             "must have no query",
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001":                                     "must be a Discord webhook URL",
		"webhook_url: https://discord.com/api/webhooks/abc/" + tok:                                              "must be a Discord webhook URL",
		"webhook_url: discord.com/api/webhooks/1300000000000000001/" + tok:                                      "must be a Discord webhook URL",
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "\nusername: Discord News": `may not contain "discord"`,
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "\nthread_id: general":     "thread_id:",
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "\navatar_url: logo.png":   "avatar_url:",
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "\ntimeout: -1s":           "timeout:",
		"webhook_url: https://discord.com/api/webhooks/1300000000000000001/" + tok + "\nwebhook: x":             "line 2: settings.webhook: unknown setting (did you mean webhook_url?)",
	} {
		_, err := LoadConfig(specFrom(t, settings))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", settings, err, want)
		} else if strings.Contains(err.Error(), tok) {
			t.Errorf("%q: the error repeats the token: %v", settings, err)
		}
	}
	cfg, err := LoadConfig(specFrom(t, "webhook_url: https://discordapp.com/api/webhooks/1300000000000000001/"+tok))
	if err != nil || cfg.Timeout != DefaultTimeout || cfg.hook.URL() != "https://discordapp.com/api/v10/webhooks/1300000000000000001/"+tok ||
		cfg.hook.Safe() != "https://discordapp.com/api/v10/webhooks/1300000000000000001/***" {
		t.Fatalf("%+v %v", cfg.hook, err)
	}
	cfg, err = LoadConfig(specFrom(t, "webhook_url: https://discord.com/api/v9/webhooks/1300000000000000001/"+tok))
	if err != nil || cfg.hook.base != "https://discord.com/api/v9/webhooks" {
		t.Fatalf("a version in the URL is kept: %+v %v", cfg.hook, err)
	}
	t.Setenv("DC_HOOK", "  https://discord.com/api/webhooks/1300000000000000001/"+tok+"\n")
	if cfg, err = LoadConfig(specFrom(t, "webhook_url_env: DC_HOOK")); err != nil || cfg.hook.token != tok {
		t.Fatalf("webhook_url_env: %+v %v", cfg.hook, err)
	}
}

// TestPreviewIsWhatSendSends: herald format prints Preview; the body it shows must be the one
// Discord receives, the token hidden.
func TestPreviewIsWhatSendSends(t *testing.T) {
	h := newHarness(t, nil, "username: Herald")
	for _, embed := range []bool{false, true} {
		ps := render(t, sample, embed)
		reqs, err := h.ch.Preview(msgOf(ps...))
		if err != nil || len(reqs) != 1 || reqs[0].Method != http.MethodPost || !strings.HasSuffix(reqs[0].URL, "/webhooks/"+discordfake.DefaultID+"/***?wait=true") {
			t.Fatalf("preview %+v %v", reqs, err)
		}
		var shown map[string]any
		if err := json.Unmarshal([]byte(reqs[0].Body), &shown); err != nil {
			t.Fatal(err)
		}
		if _, err := h.ch.Send(testCtx(t), msgOf(ps...)); err != nil {
			t.Fatal(err)
		}
		m := h.fake.Messages()
		got := m[len(m)-1]
		content, _ := shown["content"].(string)
		embeds, _ := json.Marshal(shown["embeds"])
		sent, _ := json.Marshal(got.Embeds)
		if content != got.Content || (got.Embeds != nil && string(embeds) != string(sent)) || shown["username"] != "Herald" ||
			fmt.Sprint(shown["allowed_mentions"]) != "map[parse:[]]" {
			t.Fatalf("preview %s, Discord received %+v", reqs[0].Body, got)
		}
	}
}

// TestFakeCountsCharacters: the fake counts Discord's 2000 in characters, so 2000 Arabic
// letters (4000 bytes) pass and 2001 do not.
func TestFakeCountsCharacters(t *testing.T) {
	h := newHarness(t, nil)
	text := strings.Repeat("ع", discordfake.MaxContent)
	if utf8.RuneCountInString(text) != 2000 {
		t.Fatal("bad test text")
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text})); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text + "ع"})); !channels.IsPermanent(err) {
		t.Fatalf("%v: want 2001 characters refused", err)
	}
}

func TestSummarizeFields(t *testing.T) {
	raw := `{"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 2000 or fewer in length."}]},
		"embeds":{"0":{"title":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 256 or fewer in length."}]},
		"url":{"_errors":[{"code":"URL_TYPE_INVALID_URL","message":"Not a well formed URL."}]}},
		"1":{"image":{"url":{"_errors":[{"code":"URL_TYPE_INVALID_SCHEME"}]}}}}}`
	got := summarizeFields(json.RawMessage(raw))
	want := "content: Must be 2000 or fewer in length.; embeds.0.title: Must be 256 or fewer in length.; embeds.0.url: Not a well formed URL.; and 1 more"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if got := summarizeFields(json.RawMessage(`{"embeds":{"1":{"image":{"url":{"_errors":[{"code":"URL_TYPE_INVALID_SCHEME"}]}}}}}`)); got != "embeds.1.image.url: URL_TYPE_INVALID_SCHEME" {
		t.Fatalf("a code without a message: %q", got)
	}
}
