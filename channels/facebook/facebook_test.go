package facebook

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
	"herald/channels/facebook/facebookfake"
	"herald/formatter"
)

type harness struct {
	fake *facebookfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	spec := channels.Spec{Name: "fb-page", Kind: channels.KindFacebook}
	if err := yaml.Unmarshal([]byte(settings), &spec.Settings); err != nil {
		t.Fatal(err)
	}
	return spec
}

func newHarness(t *testing.T, client *http.Client, extra ...string) *harness {
	t.Helper()
	fake := facebookfake.New()
	t.Cleanup(fake.Close)
	s := fmt.Sprintf("page_id: %q\npage_token: %q\ngraph_base: %q\ntimeout: 5s\n", facebookfake.DefaultPage, facebookfake.DefaultToken, fake.GraphBase())
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
	return channels.Message{ArticleID: "a1", Key: "a1:fb-page:1", Attempt: 1, Posts: posts}
}

// render is what the worker sends: the facebook renderer's posts (image on when asked).
func render(t *testing.T, imageURL string, withImage bool) []channels.Post {
	t.Helper()
	a := article.Article{
		URL:     "https://news.example.com/world/2026/11/story",
		Title:   "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary: "قال الرئيس الأوكراني إن قوات كورية شمالية وصلت.", Tags: []string{"أوكرانيا"},
		Language: "ar", ImageURL: imageURL,
	}
	r, err := formatter.New(channels.KindFacebook, formatter.Options{Image: &withImage})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

func TestFeedPostIsExactlyTheRenderedPost(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "", false)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Kind != "feed" || got[0].Message != posts[0].Text || got[0].Link != posts[0].Extra["link"] || got[0].Link == "" {
		t.Fatalf("fake got %+v, want message %q and link %v", got, posts[0].Text, posts[0].Extra["link"])
	}
	if rcpt.RemoteID != got[0].ID || rcpt.PostURL != "https://www.facebook.com/"+got[0].ID {
		t.Fatalf("receipt %+v for %s", rcpt, got[0].ID)
	}
}

var jpeg = append([]byte{0xff, 0xd8, 0xff, 0xe0}, bytes.Repeat([]byte{9}, 2000)...)

func imageHost(t *testing.T, ctype string) (string, *atomic.Int32) {
	t.Helper()
	hits := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(jpeg)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/story.jpg", hits
}

func TestPhotoPostByURL(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "https://news.example.com/media/story.jpg", true)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Kind != "photo" || got[0].PhotoURL != "https://news.example.com/media/story.jpg" || got[0].Message != posts[0].Text {
		t.Fatalf("fake got %+v", got)
	}
	if rcpt.RemoteID != got[0].ID || !strings.HasPrefix(rcpt.RemoteID, facebookfake.DefaultPage+"_") {
		t.Fatalf("receipt %+v: want the feed post id, not the photo id", rcpt)
	}
}

func TestPhotoFacebookCannotFetchIsUploaded(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	img, hits := imageHost(t, "image/jpeg")
	h.fake.RejectPhotoURL(img)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}})); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Kind != "photo" || got[0].PhotoUpload != len(jpeg) || hits.Load() != 1 {
		t.Fatalf("fake got %+v, image host hits %d", got, hits.Load())
	}
}

// TestPhotoUploadOfNoImageFallsBackToFeed: a host that answers image/jpeg with a page gets its
// bytes uploaded; Facebook decodes them and refuses them (324), so the text goes out as a feed
// post with the link.
func TestPhotoUploadOfNoImageFallsBackToFeed(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("<!doctype html><title>Not Found</title>"))
	}))
	defer srv.Close()
	img := srv.URL + "/story.jpg"
	h.fake.RejectPhotoURL(img)
	post := channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}, Extra: map[string]any{"link": "https://news.example.com/a"}}
	if _, err := h.ch.Send(testCtx(t), msgOf(post)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || got[0].Kind != "feed" || got[0].Link != "https://news.example.com/a" {
		t.Fatalf("fake got %+v, want the feed post alone", got)
	}
	logs := h.logs.FilterMessageSnippet("photo could not be posted").All()
	if len(logs) != 1 || !strings.Contains(logs[0].ContextMap()["error"].(string), "(#324)") {
		t.Fatalf("logs %+v", logs)
	}
}

func TestPhotoUnfetchableAndPrivateHostFallsBackToFeed(t *testing.T) {
	h := newHarness(t, nil) // allow_private_hosts off: the loopback image host is refused
	img, hits := imageHost(t, "image/jpeg")
	h.fake.RejectPhotoURL(img)
	post := channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}, Extra: map[string]any{"link": "https://news.example.com/a"}}
	if _, err := h.ch.Send(testCtx(t), msgOf(post)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Kind != "feed" || got[0].Link != "https://news.example.com/a" || hits.Load() != 0 {
		t.Fatalf("fake got %+v, image host hits %d", got, hits.Load())
	}
	logs := h.logs.FilterMessageSnippet("photo could not be posted").All()
	if len(logs) != 1 || !strings.Contains(logs[0].ContextMap()["error"].(string), "private address") {
		t.Fatalf("logs %+v", logs)
	}
}

func TestErrorClasses(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*facebookfake.Server)
		check  func(t *testing.T, err error)
	}{
		{"190 invalid token pauses", func(f *facebookfake.Server) { f.SetToken("another-token") }, func(t *testing.T, err error) {
			var ae *APIError
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !errors.As(err, &ae) || ae.Code != 190 {
				t.Fatalf("%v: want an auth pause with code 190", err)
			}
		}},
		// Graph's error-handling guide: 102 (API Session) "the login status or access token has
		// expired, been revoked, or is otherwise invalid. Get a new access token"; 3 (API
		// Method) a capability or permissions issue. Every post would be refused alike.
		{"102 API session pauses", func(f *facebookfake.Server) {
			f.FailNext(400, 102, 0, "Session key invalid. This could be because the session key has an incorrect format, or because the user has revoked this session", nil)
		}, func(t *testing.T, err error) {
			var ae *APIError
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Code != 102 {
				t.Fatalf("%v: want an auth pause with code 102", err)
			}
		}},
		{"3 capability pauses", func(f *facebookfake.Server) {
			f.FailNext(400, 3, 0, "(#3) Application does not have the capability to make this API call.", nil)
		}, func(t *testing.T, err error) {
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || channels.IsPermanent(err) {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"32 page rate limit waits for estimated_time_to_regain_access", func(f *facebookfake.Server) { f.RateLimitNext(7) }, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < 6*time.Minute || time.Until(rl.RetryAt) > 8*time.Minute {
				t.Fatalf("%v: want rate limited for about 7 minutes", err)
			}
		}},
		{"4, 17, 613 are rate limits too", func(f *facebookfake.Server) {
			f.FailNext(400, 4, 0, "(#4) Application request limit reached", nil)
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < DefaultRateLimitWait-time.Minute {
				t.Fatalf("%v: want rate limited for the default wait", err)
			}
		}},
		{"341 feed action limit is a rate limit", func(f *facebookfake.Server) {
			f.FailNext(400, 341, 0, "(#341) Feed action request limit reached", nil)
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < DefaultRateLimitWait-time.Minute {
				t.Fatalf("%v: want rate limited for the default wait", err)
			}
		}},
		// The Page is blocked from posting for a while (Meta: "wait and retry"): every post of
		// the backlog would be refused alike, so the channel pauses and keeps them.
		{"368 temporarily blocked pauses", func(f *facebookfake.Server) {
			f.FailNext(400, 368, 1390008, "It looks like you were misusing this feature by going too fast. You've been blocked from using it.", nil)
		}, func(t *testing.T, err error) {
			p, pause := channels.AsPause(err)
			if !pause || channels.IsPermanent(err) || !strings.Contains(p.Reason, "blocked") || !strings.Contains(err.Error(), "code 368") {
				t.Fatalf("%v: want a pause naming the block", err)
			}
		}},
		{"506 duplicate", func(f *facebookfake.Server) { f.FailNext(400, 506, 0, "(#506) Duplicate status message", nil) }, func(t *testing.T, err error) {
			if !channels.IsDuplicateContent(err) {
				t.Fatalf("%v: want duplicate content", err)
			}
		}},
		{"2 temporarily unavailable is retryable", func(f *facebookfake.Server) {
			f.FailNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.", nil)
		}, func(t *testing.T, err error) {
			_, pause := channels.AsPause(err)
			if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause {
				t.Fatalf("%v: want plain retryable", err)
			}
		}},
		{"answer lost after the post was made", func(f *facebookfake.Server) { f.DropNextPost() }, func(t *testing.T, err error) {
			if !channels.IsUnknownOutcome(err) {
				t.Fatalf("%v: want unknown outcome", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tc.inject(h.fake)
			_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
			tc.check(t, err)
		})
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
	return nil, fmt.Errorf("proxy refused %s %s body %s", r.Method, r.URL, body)
}

func TestTokenNeverInErrorsOrLogs(t *testing.T) {
	h := newHarness(t, &http.Client{Transport: leakyTransport{}})
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل", Extra: map[string]any{"link": "https://news.example.com/a"}}))
	cerr := h.ch.Check(testCtx(t))
	derr := h.ch.Delete(testCtx(t), "1_2")
	eerr := h.ch.Edit(testCtx(t), "1_2", msgOf(channels.Post{Text: "تصحيح"}))
	var all strings.Builder
	fmt.Fprintf(&all, "%v\n%v\n%v\n%v\n", err, cerr, derr, eerr)
	for _, e := range h.logs.All() {
		all.WriteString(e.Message + fmt.Sprint(e.ContextMap()) + "\n")
	}
	if err == nil || eerr == nil || !strings.Contains(all.String(), "proxy refused") {
		t.Fatalf("the transport's error is not reported: %s", all.String())
	}
	if strings.Contains(all.String(), facebookfake.DefaultToken) {
		t.Fatalf("page token leaked:\n%s", all.String())
	}
}

func TestConfigErrors(t *testing.T) {
	for settings, want := range map[string]string{
		"page_token: t":   "page_id: required",
		"page_id: \"12\"": "page_token: not set",
		"page_id: \"12\"\npage_token: t\ngraph_base: x":     "graph_base:",
		"page_id: \"12\"\npage_token: t\npage_token_env: E": "set only one",
	} {
		_, err := LoadConfig(specFrom(t, settings))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", settings, err, want)
		}
	}
	cfg, err := LoadConfig(specFrom(t, "page_id: 12\npage_token: t"))
	if err != nil || cfg.GraphBase != DefaultGraphBase || cfg.Timeout != DefaultTimeout {
		t.Fatalf("%+v %v", cfg, err)
	}
}

// TestPreviewIsWhatSendSends: herald format prints Preview; the form it shows must be the one
// Graph receives, the token hidden.
func TestPreviewIsWhatSendSends(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "", false)
	reqs, err := h.ch.Preview(msgOf(posts...))
	if err != nil || len(reqs) != 1 || reqs[0].URL != h.fake.GraphBase()+"/"+facebookfake.DefaultPage+"/feed" || strings.Contains(fmt.Sprint(reqs), facebookfake.DefaultToken) {
		t.Fatalf("preview %+v %v", reqs, err)
	}
	shown, err := url.ParseQuery(reqs[0].Body)
	if err != nil || shown.Get("access_token") != "<redacted>" {
		t.Fatalf("preview body %q: %v", reqs[0].Body, err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf(posts...)); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Posts(); len(got) != 1 || got[0].Message != shown.Get("message") || got[0].Link != shown.Get("link") {
		t.Fatalf("preview %v, Graph received %+v", shown, got)
	}
	reqs, _ = h.ch.Preview(msgOf(render(t, "https://news.example.com/i.jpg", true)...))
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].URL, "/photos") || !strings.Contains(reqs[0].Body, "url=https%3A%2F%2Fnews.example.com%2Fi.jpg") {
		t.Fatalf("photo preview %+v", reqs)
	}
}

// TestFakeRefusesRepeatedMessage: Graph refuses a message the Page already posted (506).
func TestFakeRefusesRepeatedMessage(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "نفس الخبر"})); err != nil {
		t.Fatal(err)
	}
	_, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "نفس الخبر"}))
	var ae *APIError
	if !channels.IsDuplicateContent(err) || !errors.As(err, &ae) || ae.Code != 506 {
		t.Fatalf("%v: want duplicate content (506)", err)
	}
}

// TestDuplicateOnARetryIsUnknownNotFailed: Graph sometimes answers a 500 (code 1 or 2, which
// herald retries, as Meta asks) for a post it made. The retry is then refused as a duplicate
// (506) of that very post: recording it failed would say nothing went out, so it is unknown
// for an admin to check. A first attempt's 506 stays a duplicate.
func TestDuplicateOnARetryIsUnknownNotFailed(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.FailAfterPostNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.")
	msg := msgOf(channels.Post{Text: "عاجل: زلزال بقوة 5 درجات", Extra: map[string]any{"link": "https://news.example.com/1"}})
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
	other := msgOf(channels.Post{Text: "عاجل: زلزال بقوة 5 درجات"})
	other.ArticleID, other.Key = "a2", "a2:fb-page:1"
	if _, err := h.ch.Send(testCtx(t), other); !channels.IsDuplicateContent(err) || channels.IsUnknownOutcome(err) {
		t.Fatalf("first attempt of another article: %v, want duplicate content", err)
	}
}

// TestPhotoPostServerErrorIsUnknownNotRetried: Graph answers 500 code 2 ("Please retry your
// request later") for photo posts it made, and a photo sent again is posted again, not refused
// as a duplicate (506 is the feed's check; arsduo/koala#699 saw one photo seven times). So a
// photo post's 5xx or code 1/2 is an unknown outcome, parked for an admin, whether or not Graph
// made it; a feed post's stays retryable (its retry's 506 says it was made).
func TestPhotoPostServerErrorIsUnknownNotRetried(t *testing.T) {
	photo := channels.Post{Text: "عاجل: زلزال بقوة 5 درجات", Media: []channels.Media{{URL: "https://news.example.com/quake.jpg"}},
		Extra: map[string]any{"link": "https://news.example.com/1"}}
	for _, tc := range []struct {
		name   string
		inject func(*facebookfake.Server)
		posts  int
	}{
		{"500 code 2 for a photo Graph made", func(f *facebookfake.Server) {
			f.FailAfterPostNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.")
		}, 1},
		{"500 code 1 for a photo Graph did not make", func(f *facebookfake.Server) {
			f.FailNext(500, 1, 0, "An unknown error has occurred.", nil)
		}, 0},
		{"503 from the front end", func(f *facebookfake.Server) {
			f.FailNext(503, 0, 0, "Service Unavailable", nil)
		}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			tc.inject(h.fake)
			_, err := h.ch.Send(testCtx(t), msgOf(photo))
			if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
				t.Fatalf("%v: want an unknown outcome", err)
			}
			if n := len(h.fake.Posts()); n != tc.posts {
				t.Fatalf("%d posts, want %d (no fallback to the feed)", n, tc.posts)
			}
		})
	}
	// Why it must not be retried: the fake, as Graph, posts the same photo again.
	h := newHarness(t, nil)
	for i := 0; i < 2; i++ {
		if _, err := h.ch.Send(testCtx(t), msgOf(photo)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(h.fake.Posts()); n != 2 {
		t.Fatalf("%d posts: Graph does not refuse a photo sent again", n)
	}
	// A feed post's 500 stays retryable.
	h = newHarness(t, nil)
	h.fake.FailNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.", nil)
	if _, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"})); err == nil || channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
		t.Fatalf("feed: %v, want plain retryable", err)
	}
}

// TestUnknownPagePauses: a page_id that names no Page the token can post to (a typo, a Page
// deleted or handed to another business) is refused by Graph with code 100, subcode 33 on
// every post: the channel pauses naming page_id instead of failing the backlog one delivery at a
// time.
func TestUnknownPagePauses(t *testing.T) {
	fake := facebookfake.New()
	t.Cleanup(fake.Close)
	ch, err := New(specFrom(t, fmt.Sprintf("page_id: \"104000000000999\"\npage_token: %q\ngraph_base: %q\ntimeout: 5s\n",
		facebookfake.DefaultToken, fake.GraphBase())), channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{fake: fake, ch: ch.(*Channel)}
	for _, posts := range [][]channels.Post{{{Text: "عاجل", Extra: map[string]any{"link": "https://news.example.com/1"}}},
		{{Text: "صورة", Media: []channels.Media{{URL: "https://news.example.com/a.jpg"}}}}} {
		_, err := h.ch.Send(testCtx(t), msgOf(posts...))
		p, pause := channels.AsPause(err)
		var ae *APIError
		if !pause || channels.IsPermanent(err) || !strings.Contains(p.Reason, "page_id 104000000000999") ||
			!errors.As(err, &ae) || ae.Code != 100 || ae.Subcode != 33 {
			t.Fatalf("%v: want a pause naming page_id", err)
		}
	}
	if n := len(h.fake.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}
