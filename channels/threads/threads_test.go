package threads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/threads/threadsfake"
	"herald/formatter"
)

type harness struct {
	fake *threadsfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	spec := channels.Spec{Name: "threads-main", Kind: channels.KindThreads}
	if err := yaml.Unmarshal([]byte(settings), &spec.Settings); err != nil {
		t.Fatal(err)
	}
	return spec
}

func newHarness(t *testing.T, client *http.Client, extra ...string) *harness {
	t.Helper()
	fake := threadsfake.New()
	t.Cleanup(fake.Close)
	s := fmt.Sprintf("user_id: %q\naccess_token: %q\napi_base: %q\ntimeout: 5s\n", threadsfake.DefaultUser, threadsfake.DefaultToken, fake.APIBase())
	for _, e := range extra {
		s += e + "\n"
	}
	core, logs := observer.New(zapcore.DebugLevel)
	ch, err := New(specFrom(t, s), channels.Env{Logger: zap.New(core), HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	c := ch.(*Channel)
	c.pollEvery = 10 * time.Millisecond
	return &harness{fake: fake, ch: c, logs: logs}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func msgOf(posts ...channels.Post) channels.Message {
	return channels.Message{ArticleID: "a1", Key: "a1:threads-main:1", Attempt: 1, Posts: posts}
}

// render is what the worker sends: the threads renderer's post for an Arabic article.
func render(t *testing.T, imageURL string) []channels.Post {
	t.Helper()
	a := article.Article{
		URL:     "https://news.example.com/world/2026/11/story",
		Title:   "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary: "قَالَ الرَّئِيسُ الأوكراني إن قوات كورية شمالية وصلت.", Tags: []string{"أوكرانيا", "روسيا"},
		Language: "ar", ImageURL: imageURL,
	}
	r, err := formatter.New(channels.KindThreads, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

func TestArabicTextPostIsExactlyTheRenderedPost(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "")
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].MediaType != "TEXT" || got[0].Text != posts[0].Text || got[0].LinkAttachment == "" ||
		got[0].LinkAttachment != posts[0].Extra["link_attachment"] || !strings.Contains(got[0].Text, "#أوكرانيا") {
		t.Fatalf("fake got %+v, want text %q with link_attachment %v", got, posts[0].Text, posts[0].Extra)
	}
	if rcpt.RemoteID != got[0].ID || rcpt.PostURL != got[0].Permalink || rcpt.PostURL == "" {
		t.Fatalf("receipt %+v for %+v", rcpt, got[0])
	}
}

// TestImagePostWaitsUntilFinished: the image container answers IN_PROGRESS twice; Send reads
// its status until FINISHED and only then publishes (the fake refuses an unready container).
func TestImagePostWaitsUntilFinished(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetImagePolls(3)
	posts := render(t, "https://news.example.com/media/story.jpg")
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].MediaType != "IMAGE" || got[0].ImageURL != "https://news.example.com/media/story.jpg" ||
		got[0].Text != posts[0].Text || got[0].LinkAttachment != "" {
		t.Fatalf("fake got %+v", got)
	}
	reads := 0
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodGet && strings.HasSuffix(r.Path, "/"+got[0].ContainerID) {
			reads++
		}
	}
	if reads != 4 {
		t.Fatalf("%d status reads, want 4 (3 IN_PROGRESS, then FINISHED)", reads)
	}
}

func TestImageThreadsCannotProcessGoesOutAsText(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.FailImage("https://news.example.com/media/broken.jpg", "FAILED_DOWNLOADING_IMAGE")
	posts := render(t, "https://news.example.com/media/broken.jpg")
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].MediaType != "TEXT" || got[0].Text != posts[0].Text ||
		got[0].LinkAttachment != "https://news.example.com/world/2026/11/story?utm_source=threads&utm_medium=social" {
		t.Fatalf("fake got %+v: want the text with its link card", got)
	}
	if logs := h.logs.FilterMessageSnippet("image could not be used").All(); len(logs) != 1 ||
		!strings.Contains(logs[0].ContextMap()["error"].(string), "FAILED_DOWNLOADING_IMAGE") {
		t.Fatalf("logs %+v", logs)
	}
}

// TestImageThreadsRefusesGoesOutAsText: an IMAGE container refused outright (400) becomes a
// TEXT post with the link card; a refused text fails as it would have.
func TestImageThreadsRefusesGoesOutAsText(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.FailNext(threadsfake.StepContainer, 400, 100, 0, "(#100) Param image_url is not a supported image format")
	posts := render(t, "https://news.example.com/media/story.tiff")
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || got[0].MediaType != "TEXT" || got[0].Text != posts[0].Text || got[0].LinkAttachment == "" {
		t.Fatalf("fake got %+v: want the text with its link card", got)
	}
	h.fake.FailNext(threadsfake.StepContainer, 400, 100, 0, "(#100) Param image_url is not a supported image format")
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: strings.Repeat("ع", 501), Media: []channels.Media{{URL: "https://news.example.com/i.tiff"}}}))
	if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "at most 500") {
		t.Fatalf("%v: want the text's own refusal", err)
	}
}

// TestImageDownloadTimeoutGoesOutAsText: Threads answers an IMAGE container whose image it
// could not download in time with code -2, subcode 2207003 ("It takes too long to download the
// media", HTTP 400). A retry would wait on the same image again, each at the channel's pace, so
// the text goes out at once as a TEXT post with its card, as for an image Threads refuses.
func TestImageDownloadTimeoutGoesOutAsText(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.FailNext(threadsfake.StepContainer, 400, -2, 2207003, "It takes too long to download the media.")
	posts := render(t, "https://slow.example.com/media/story.jpg")
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || got[0].MediaType != "TEXT" || got[0].Text != posts[0].Text || got[0].LinkAttachment == "" {
		t.Fatalf("fake got %+v: want the text with its link card", got)
	}
}

func TestImageNotReadyInTimePostsNothingAndIsRetryable(t *testing.T) {
	h := newHarness(t, nil, "image_wait: 150ms")
	h.fake.SetImagePolls(1 << 20)
	_, err := h.ch.Send(testCtx(t), msgOf(render(t, "https://news.example.com/media/slow.jpg")...))
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "nothing posted") {
		t.Fatalf("%v: want a plain retryable error", err)
	}
	if n := len(h.fake.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*threadsfake.Server)
		check  func(t *testing.T, err error, posts int)
	}{
		{"190 invalid token pauses", func(f *threadsfake.Server) { f.SetToken("another-token") }, func(t *testing.T, err error, _ int) {
			var ae *APIError
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !errors.As(err, &ae) || ae.Code != 190 || ae.Type != "OAuthException" {
				t.Fatalf("%v: want an auth pause with code 190", err)
			}
		}},
		{"4, 17, 32, 613 wait 5 minutes", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepContainer, 400, 613, 0, "(#613) Calls to this api have exceeded the rate limit.")
		}, func(t *testing.T, err error, _ int) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < DefaultRateLimitWait-time.Minute || time.Until(rl.RetryAt) > DefaultRateLimitWait {
				t.Fatalf("%v: want rate limited for the default wait", err)
			}
		}},
		{"400 validation is permanent with the message", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepContainer, 400, 100, 0, "(#100) Param image_url is not a valid image")
		}, func(t *testing.T, err error, _ int) {
			_, pause := channels.AsPause(err)
			if !channels.IsPermanent(err) || pause || !strings.Contains(err.Error(), "image_url is not a valid image") {
				t.Fatalf("%v: want permanent with Threads' message", err)
			}
		}},
		{"5xx on the container is retryable", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepContainer, 500, 2, 0, "Service temporarily unavailable")
		}, func(t *testing.T, err error, posts int) {
			_, pause := channels.AsPause(err)
			if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause || posts != 0 {
				t.Fatalf("%v (%d posts): want plain retryable", err, posts)
			}
		}},
		{"server error -1 on the container is retryable", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepContainer, 400, -1, 2207001, "An unexpected error has occurred. Please retry your request later.")
		}, func(t *testing.T, err error, posts int) {
			_, pause := channels.AsPause(err)
			if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause || posts != 0 {
				t.Fatalf("%v (%d posts): want plain retryable", err, posts)
			}
		}},
		{"container made but its answer lost is retryable", func(f *threadsfake.Server) { f.DropNext(threadsfake.StepContainer) }, func(t *testing.T, err error, posts int) {
			if err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) || posts != 0 {
				t.Fatalf("%v (%d posts): a container is not a post: want plain retryable", err, posts)
			}
		}},
		// The refusal posted nothing: herald reads the container's status (FINISHED) and
		// publishes it again (TestTextContainerNotReadyIsPublishedOnceFinished).
		{"container not ready at publish is waited for", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepPublish, 400, 9007, 2207027, "The media is not ready for publishing, please wait for a moment")
		}, func(t *testing.T, err error, posts int) {
			if err != nil || posts != 1 {
				t.Fatalf("%v (%d posts): want the post published once the container is ready", err, posts)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tc.inject(h.fake)
			_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل: نص تجريبي https://news.example.com/a"}))
			tc.check(t, err, len(h.fake.Posts()))
		})
	}
}

// TestLostPublishIsSettledWithoutPosting: a publish whose answer is lost (the connection closes,
// or a 5xx after Threads published) is settled by the container's status and the profile's newest
// posts: a PUBLISHED container's post is found by its text and becomes the receipt. What stays in
// doubt is UnknownOutcome, and nothing is ever published again.
func TestLostPublishIsSettledWithoutPosting(t *testing.T) {
	text := "عاجل: نص تجريبي https://news.example.com/a"
	cases := []struct {
		name    string
		inject  func(*threadsfake.Server)
		posts   int
		unknown string // "" = settled: the receipt is the post
	}{
		{"answer lost after the post was made", func(f *threadsfake.Server) { f.DropNext(threadsfake.StepPublish) }, 1, ""},
		{"5xx after the post was made", func(f *threadsfake.Server) {
			f.FailNextAfter(threadsfake.StepPublish, 500, 1, "An unknown error occurred")
		}, 1, ""},
		{"5xx and the container not published", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepPublish, 500, 2, 0, "Service temporarily unavailable")
		}, 0, "is FINISHED"},
		// Threads has answered a publish it made with a 5xx carrying a permission code
		// (tirthpatell/threads-go#30): an auth pause would post the news again on resume.
		{"5xx with a permission code after the post was made", func(f *threadsfake.Server) {
			f.FailNextAfter(threadsfake.StepPublish, 500, 10, "Application does not have permission for this action")
		}, 1, ""},
		// -1 and -2 are the publishing API's server error and timeout, "try again", sent as 400.
		{"server error -1 after the post was made", func(f *threadsfake.Server) {
			f.FailNextAfter(threadsfake.StepPublish, 400, -1, "An unexpected error has occurred. Please retry your request later.")
		}, 1, ""},
		{"timeout -2 and the container not published", func(f *threadsfake.Server) {
			f.FailNext(threadsfake.StepPublish, 400, -2, 2207003, "Timeout. The request timed out")
		}, 0, "is FINISHED"},
		{"published but the posts cannot be listed", func(f *threadsfake.Server) {
			f.DropNext(threadsfake.StepPublish)
			f.FailNext(threadsfake.StepList, 500, 2, 0, "Service temporarily unavailable")
		}, 1, "posts could not be read"},
		{"the status cannot be read", func(f *threadsfake.Server) {
			f.DropNext(threadsfake.StepPublish)
			f.FailNext(threadsfake.StepStatus, 500, 2, 0, "Service temporarily unavailable")
		}, 1, "status could not be read"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tc.inject(h.fake)
			rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text}))
			got := h.fake.Posts()
			if len(got) != tc.posts {
				t.Fatalf("%d posts, want %d", len(got), tc.posts)
			}
			if tc.unknown != "" {
				if !channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), tc.unknown) {
					t.Fatalf("%v: want unknown outcome saying %q", err, tc.unknown)
				}
				return
			}
			if err != nil || rcpt.RemoteID != got[0].ID || rcpt.PostURL != got[0].Permalink {
				t.Fatalf("%+v %v: want the receipt of post %s", rcpt, err, got[0].ID)
			}
			if logs := h.logs.FilterMessageSnippet("found the post it made").All(); len(logs) != 1 {
				t.Fatalf("logs %+v", h.logs.All())
			}
		})
	}
}

// TestPublishingQuota: the fake's quota of 2 posts a day; the third publish is refused with
// code 9 / 2207042, read as a rate limit lasting the window's average spacing (24 h / 2), read
// from threads_publishing_limit. Nothing is posted; the container stays unpublished.
func TestPublishingQuota(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetQuota(2)
	for i := range 2 {
		if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: fmt.Sprintf("خبر %d", i)})); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر ثالث"}))
	rl, ok := channels.AsRateLimited(err)
	var ae *APIError
	if !ok || !errors.As(err, &ae) || ae.Code != 9 || ae.Subcode != 2207042 {
		t.Fatalf("%v: want rate limited by the publishing quota", err)
	}
	if wait := time.Until(rl.RetryAt); wait < 11*time.Hour || wait > 12*time.Hour {
		t.Fatalf("retry in %s, want 24h/2", wait)
	}
	if len(h.fake.Posts()) != 2 || len(h.fake.Containers()) != 3 || h.fake.Containers()[2].Status != "FINISHED" {
		t.Fatalf("posts %+v containers %+v", h.fake.Posts(), h.fake.Containers())
	}
	if err := h.ch.Check(testCtx(t)); err == nil || !strings.Contains(err.Error(), "2 of its 2 posts") {
		t.Fatalf("Check with the quota used: %v", err)
	}
}

// noDialTransport refuses publish requests before any connection exists, and lets the rest
// through.
type noDialTransport struct{ failPublish *bool }

func (n noDialTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if *n.failPublish && strings.HasSuffix(r.URL.Path, "/threads_publish") {
		return nil, errors.New("dial tcp: connection refused")
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestFailuresBetweenContainerAndPublishNeverPostTwice: every failure before the publish is
// retried by the worker as a new Send; across the retries exactly one post is made.
func TestFailuresBetweenContainerAndPublishNeverPostTwice(t *testing.T) {
	failPublish := true
	h := newHarness(t, &http.Client{Transport: noDialTransport{&failPublish}})
	h.fake.DropNext(threadsfake.StepContainer)
	h.fake.FailNext(threadsfake.StepStatus, 500, 2, 0, "Service temporarily unavailable")
	msg := msgOf(render(t, "https://news.example.com/media/story.jpg")...)
	var rcpt channels.Receipt
	var errs []error
	for attempt := 1; attempt <= 4; attempt++ {
		if attempt == 4 {
			failPublish = false // the network is back
		}
		var err error
		rcpt, err = h.ch.Send(testCtx(t), msg)
		if err == nil {
			break
		}
		if channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
			t.Fatalf("attempt %d: %v: want retryable", attempt, err)
		}
		errs = append(errs, err)
	}
	got := h.fake.Posts()
	if len(errs) != 3 || len(got) != 1 || rcpt.RemoteID != got[0].ID {
		t.Fatalf("errors %v, posts %+v, receipt %+v: want 3 retryable failures, then one post", errs, got, rcpt)
	}
	if !strings.Contains(errs[0].Error(), "creating the media container") || !strings.Contains(errs[1].Error(), "reading the status") ||
		!strings.Contains(errs[2].Error(), "connection refused") {
		t.Fatalf("errors %v", errs)
	}
	unpublished := 0
	for _, c := range h.fake.Containers() {
		if c.Status != "PUBLISHED" {
			unpublished++
		}
	}
	if unpublished != 3 {
		t.Fatalf("%d unpublished containers, want 3 (one per failed attempt)", unpublished)
	}
}

func TestDeleteAndCheck(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "تصحيح"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil || !h.fake.Deleted(rcpt.RemoteID) {
		t.Fatalf("delete: %v, deleted %v", err, h.fake.Deleted(rcpt.RemoteID))
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatalf("deleting a deleted post: %v", err)
	}
	if err := h.ch.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if logs := h.logs.FilterMessage("threads access token works").All(); len(logs) != 1 || logs[0].ContextMap()["username"] != threadsfake.Username {
		t.Fatalf("logs %+v", logs)
	}
	h.fake.SetToken("rotated")
	if _, ok := channels.AsPause(h.ch.Check(testCtx(t))); !ok {
		t.Fatal("Check with a revoked token is not an auth error")
	}
	other := newHarness(t, nil)
	other.ch.cfg.UserID = "17841400000000999"
	if err := other.ch.Check(testCtx(t)); err == nil || !strings.Contains(err.Error(), "not user_id 17841400000000999") {
		t.Fatalf("Check of another profile's token: %v", err)
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
	return nil, fmt.Errorf("proxy refused %s %s body %s", r.Method, r.URL, body)
}

// TestTokenNeverInErrorsOrLogs: a transport whose errors repeat the whole request (URL with
// the token in its query, body with the token in its form) and an API that echoes it.
func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	h := newHarness(t, &http.Client{Transport: leakyTransport{}})
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل", Extra: map[string]any{"link_attachment": "https://news.example.com/a"}}))
	cerr := h.ch.Check(testCtx(t))
	derr := h.ch.Delete(testCtx(t), "1_2")
	var all strings.Builder
	fmt.Fprintf(&all, "%v\n%v\n%v\n", err, cerr, derr)

	echo := newHarness(t, nil)
	echo.fake.FailNext(threadsfake.StepContainer, 400, 100, 0, "(#100) bad access_token "+threadsfake.DefaultToken)
	_, eerr := echo.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	fmt.Fprintf(&all, "%v\n", eerr)
	for _, l := range append(h.logs.All(), echo.logs.All()...) {
		all.WriteString(l.Message + fmt.Sprint(l.ContextMap()) + "\n")
	}
	if err == nil || !strings.Contains(all.String(), "proxy refused") || !strings.Contains(all.String(), "bad access_token") {
		t.Fatalf("the errors are not reported: %s", all.String())
	}
	if strings.Contains(all.String(), threadsfake.DefaultToken) || strings.Contains(all.String(), url.QueryEscape(threadsfake.DefaultToken)) {
		t.Fatalf("access token leaked:\n%s", all.String())
	}
}

func TestConfigErrors(t *testing.T) {
	for settings, want := range map[string]string{
		"access_token: t": "user_id: required",
		"user_id: \"12\"": "access_token: not set",
		"user_id: \"12\"\naccess_token: t\napi_base: x":         "api_base:",
		"user_id: \"12\"\naccess_token: t\naccess_token_env: E": "set only one",
		"user_id: \"12\"\naccess_token: t\nimage_wait: -1s":     "image_wait:",
		"user_id: \"12\"\naccess_token: t\npage_id: \"1\"":      "page_id",
	} {
		_, err := LoadConfig(specFrom(t, settings))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", settings, err, want)
		}
	}
	cfg, err := LoadConfig(specFrom(t, "user_id: 12\naccess_token: t"))
	if err != nil || cfg.APIBase != DefaultAPIBase || cfg.Timeout != DefaultTimeout || cfg.ImageWait != DefaultImageWait {
		t.Fatalf("%+v %v", cfg, err)
	}
}

// TestPreviewIsWhatSendSends: herald format prints Preview; the container form it shows must be
// the one Threads receives, the token hidden.
func TestPreviewIsWhatSendSends(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "")
	reqs, err := h.ch.Preview(msgOf(posts...))
	if err != nil || len(reqs) != 2 || reqs[0].URL != h.fake.APIBase()+"/"+threadsfake.DefaultUser+"/threads" ||
		!strings.HasSuffix(reqs[1].URL, "/threads_publish") || strings.Contains(fmt.Sprint(reqs), threadsfake.DefaultToken) {
		t.Fatalf("preview %+v %v", reqs, err)
	}
	shown, err := url.ParseQuery(reqs[0].Body)
	if err != nil || shown.Get("access_token") != "<redacted>" || shown.Get("media_type") != "TEXT" {
		t.Fatalf("preview body %q: %v", reqs[0].Body, err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || got[0].Text != shown.Get("text") || got[0].LinkAttachment != shown.Get("link_attachment") {
		t.Fatalf("preview %v, Threads received %+v", shown, got)
	}
	reqs, _ = h.ch.Preview(msgOf(render(t, "https://news.example.com/i.jpg")...))
	if len(reqs) != 3 || !strings.Contains(reqs[0].Body, "media_type=IMAGE") || !strings.Contains(reqs[1].URL, "fields=status") {
		t.Fatalf("image preview %+v", reqs)
	}
}

// TestFakeRefusesWhatThreadsRefuses: the fake's own checks, which the tests above rely on.
func TestFakeRefusesWhatThreadsRefuses(t *testing.T) {
	h := newHarness(t, nil)
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: strings.Repeat("ع", 497) + "😷"}))
	if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "at most 500") {
		t.Fatalf("497 letters and an emoji (501): %v", err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: strings.Repeat("ع", 496) + "😷"})); err != nil {
		t.Fatalf("exactly 500: %v", err)
	}
	// A published container cannot be published again.
	id := h.fake.Posts()[0].ContainerID
	if _, err := h.ch.publish(testCtx(t), id); !channels.IsPermanent(err) || !strings.Contains(err.Error(), "already been published") {
		t.Fatalf("publishing container %s twice: %v", id, err)
	}
	if _, err := h.ch.publish(testCtx(t), "1790000000999999"); !channels.IsPermanent(err) {
		t.Fatalf("publishing a container that does not exist: %v", err)
	}
	if n := len(h.fake.Posts()); n != 1 {
		t.Fatalf("%d posts", n)
	}
}

// TestFakeCountsNoMoreThanTheFormatter: whatever the formatter fits in 500, the fake (which
// counts as Threads documents: an emoji as its UTF-8 bytes) accepts.
func TestFakeCountsNoMoreThanTheFormatter(t *testing.T) {
	for _, s := range []string{
		"قَالَ الرَّئِيسُ", "😷 عاجل", "👍🏽 👨\u200d👩\u200d👧 🇸🇦 #️⃣ 1️⃣", "© ® ™ ‼ ⁉ ↔ ⌘ ☂ ☂️ ▶ ⏩", "🫶🏿 🐈\u200d⬛ 🏳️\u200d🌈",
		"a\u0301 e\u0301 ١٢٣ ؎ ؏", "https://news.example.com/a?b=c 🔴", "(@\u200dUN) قال@\u200dUNICEF",
	} {
		if fake, ours := threadsfake.TextLength(s), formatter.CountThreads(s); fake > ours {
			t.Errorf("%q: the fake counts %d, the formatter %d", s, fake, ours)
		}
	}
}

// listProxy stands in front of the fake: before it forwards the profile's post list it calls
// before, and it passes the list's answer through edit.
func listProxy(t *testing.T, fake *threadsfake.Server, before func(), edit func([]map[string]any) []map[string]any) string {
	t.Helper()
	target, _ := url.Parse(fake.APIBase())
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	rp.ErrorLog = log.New(io.Discard, "", 0) // a dropped publish reaches the channel as a 502: still a lost answer
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodGet || !strings.HasSuffix(resp.Request.URL.Path, "/"+threadsfake.DefaultUser+"/threads") {
			return nil
		}
		var body struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		resp.Body.Close()
		b, _ := json.Marshal(map[string]any{"data": edit(body.Data)})
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/"+threadsfake.DefaultUser+"/threads") {
			before()
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + target.Path
}

// TestLostPublishNeverTakesAnotherPostsID: the text alone does not tell this delivery's post
// from an older post of the same article (a repost: the list not showing the new post yet) or
// from another channel's on the same profile. Either would put another post's id in the receipt
// (a retract would delete it); the send stays unknown instead. Mutation-checked: matching by
// text alone (the first match, no timestamp, no second match) fails both cases.
func TestLostPublishNeverTakesAnotherPostsID(t *testing.T) {
	text := "عاجل: نص تجريبي https://news.example.com/a"
	t.Run("an older post with the same text", func(t *testing.T) {
		h := newHarness(t, nil)
		old, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text}))
		if err != nil {
			t.Fatal(err)
		}
		h.ch.cfg.APIBase = listProxy(t, h.fake, func() {}, func(data []map[string]any) []map[string]any {
			// Threads' list lags the new post; the other one is yesterday's.
			for _, p := range data[1:] {
				p["timestamp"] = time.Now().Add(-26 * time.Hour).UTC().Format("2006-01-02T15:04:05+0000")
			}
			return data[1:]
		})
		h.fake.DropNext(threadsfake.StepPublish)
		rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text}))
		if len(h.fake.Posts()) != 2 {
			t.Fatalf("%d posts, want 2", len(h.fake.Posts()))
		}
		if !channels.IsUnknownOutcome(err) || rcpt.RemoteID == old.RemoteID {
			t.Fatalf("%+v %v: want unknown, not the receipt of the older post %s", rcpt, err, old.RemoteID)
		}
	})
	t.Run("another channel's post on the same profile", func(t *testing.T) {
		h, other := newHarness(t, nil), newHarness(t, nil)
		other.ch.cfg.APIBase = h.fake.APIBase()
		var once sync.Once
		h.ch.cfg.APIBase = listProxy(t, h.fake, func() {
			once.Do(func() {
				if _, err := other.ch.Send(testCtx(t), msgOf(channels.Post{Text: text})); err != nil {
					t.Error(err)
				}
			})
		}, func(data []map[string]any) []map[string]any { return data })
		h.fake.DropNext(threadsfake.StepPublish)
		rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: text}))
		posts := h.fake.Posts()
		if len(posts) != 2 {
			t.Fatalf("%d posts, want 2", len(posts))
		}
		if !channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "2 posts since") || rcpt.RemoteID == posts[1].ID {
			t.Fatalf("%+v %v: want unknown, not the other channel's post %s", rcpt, err, posts[1].ID)
		}
	})
}

// echoTransport answers every request with a proxy's 502 page that quotes the request URL
// (the token in its query) across the 200-byte cut of the error message.
type echoTransport struct{}

func (echoTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	u := r.URL.String()
	at := strings.Index(u, "access_token=") + len("access_token=")
	body := "Bad gateway: " + strings.Repeat(".", max(190-len("Bad gateway: ")-at, 0)) + u // the token from byte 190
	return &http.Response{StatusCode: http.StatusBadGateway, Header: http.Header{"Content-Type": {"text/html"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestTokenNeverInAnEchoedErrorPage: the body was cut at 200 bytes before the token was
// removed, so a token the cut went through stayed in the error in part. Reverting the order in
// parseError fails this test.
func TestTokenNeverInAnEchoedErrorPage(t *testing.T) {
	h := newHarness(t, &http.Client{Transport: echoTransport{}})
	err := h.ch.Check(testCtx(t))
	if err == nil || !strings.Contains(err.Error(), "Bad gateway") {
		t.Fatalf("Check: %v, want the proxy's page", err)
	}
	if tok := threadsfake.DefaultToken; strings.Contains(err.Error(), tok[:8]) {
		t.Fatalf("part of the access token leaked: %v", err)
	}
}

// TestTextContainerNotReadyIsPublishedOnceFinished: Threads may refuse to publish a TEXT
// container made a moment ago (9007, not ready: it is still checking the link card). Nothing
// is posted by that refusal, so herald waits for the container to be FINISHED, as it does for
// an image, and publishes it then, in the same send: one post, no failed attempt, and no new
// container whose publish would race the same way on every retry.
func TestTextContainerNotReadyIsPublishedOnceFinished(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.SetTextPolls(2)
	posts := render(t, "")
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatalf("send: %v, want the post published once its container is ready", err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].MediaType != "TEXT" || got[0].Text != posts[0].Text || rcpt.RemoteID != got[0].ID {
		t.Fatalf("receipt %+v, posts %+v", rcpt, got)
	}
	var publishes, containers int
	for _, r := range h.fake.Requests() {
		switch {
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/threads_publish"):
			publishes++
		case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/threads"):
			containers++
		}
	}
	if publishes != 2 || containers != 1 {
		t.Fatalf("%d publishes and %d containers, want 2 (refused not ready, then published) and 1", publishes, containers)
	}
}

// TestTextContainerNeverReadyPostsNothingAndIsRetryable: a TEXT container still IN_PROGRESS after
// image_wait is left unpublished: a plain retryable error, nothing posted.
func TestTextContainerNeverReadyPostsNothingAndIsRetryable(t *testing.T) {
	h := newHarness(t, nil, "image_wait: 150ms")
	h.fake.SetTextPolls(1 << 20)
	_, err := h.ch.Send(testCtx(t), msgOf(render(t, "")...))
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "nothing posted") {
		t.Fatalf("%v: want a plain retryable error", err)
	}
	if n := len(h.fake.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}

// TestUnknownProfilePauses: a user_id that names no profile the token can post as (a typo,
// another profile's id) is refused with code 100, subcode 33 at the container, for every post:
// the channel pauses naming user_id instead of failing the backlog one delivery at a time.
func TestUnknownProfilePauses(t *testing.T) {
	fake := threadsfake.New()
	t.Cleanup(fake.Close)
	ch, err := New(specFrom(t, fmt.Sprintf("user_id: \"17841400000000999\"\naccess_token: %q\napi_base: %q\ntimeout: 5s\n",
		threadsfake.DefaultToken, fake.APIBase())), channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	for _, image := range []string{"", "https://news.example.com/media/story.jpg"} {
		_, err := ch.Send(testCtx(t), msgOf(render(t, image)...))
		p, pause := channels.AsPause(err)
		var ae *APIError
		if !pause || channels.IsPermanent(err) || !strings.Contains(p.Reason, "user_id 17841400000000999") ||
			!errors.As(err, &ae) || ae.Code != 100 || ae.Subcode != 33 {
			t.Fatalf("image %q: %v: want a pause naming user_id", image, err)
		}
	}
	if n := len(fake.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}

// TestContainerNotFoundYetIsPublishedAgain: Threads answers a publish of a container it made a
// moment ago with code 24, subcode 4279009 ("Media Not Found") when it cannot find it yet, and
// the same publish goes through a few seconds later (postiz-app#2047, trypost#280). Nothing was
// posted by the refusal: herald publishes the container again in the same send, a few times;
// still not found, the send is a plain retryable error (the retry makes a new container), never
// a failure.
func TestContainerNotFoundYetIsPublishedAgain(t *testing.T) {
	notFound := func(f *threadsfake.Server, n int) {
		for i := 0; i < n; i++ {
			f.FailNext(threadsfake.StepPublish, 400, 24, 4279009, "Media Not Found: The media with id 17889615691921648 cannot be found")
		}
	}
	publishes := func(h *harness) (n int) {
		for _, r := range h.fake.Requests() {
			if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/threads_publish") {
				n++
			}
		}
		return n
	}
	h := newHarness(t, nil)
	notFound(h.fake, 2)
	posts := render(t, "")
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	got := h.fake.Posts()
	if err != nil || len(got) != 1 || rcpt.RemoteID != got[0].ID || publishes(h) != 3 {
		t.Fatalf("%v, %+v, posts %+v, %d publishes: want the post after two refusals", err, rcpt, got, publishes(h))
	}

	h = newHarness(t, nil)
	notFound(h.fake, notFoundRepublishes+1)
	_, err = h.ch.Send(testCtx(t), msgOf(posts...))
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || len(h.fake.Posts()) != 0 {
		t.Fatalf("%v, %d posts: want a plain retryable error, nothing posted", err, len(h.fake.Posts()))
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil || len(h.fake.Posts()) != 1 {
		t.Fatalf("retry: %v, %d posts: want one post", err, len(h.fake.Posts()))
	}
}
