package linkedin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/linkedin/linkedinfake"
	"herald/formatter"
)

func newChannel(t *testing.T, fake *linkedinfake.Server, extra string) *Channel {
	t.Helper()
	settings := map[string]any{"organization_id": linkedinfake.DefaultOrganization, "access_token": linkedinfake.DefaultToken,
		"api_base": fake.APIBase(), "timeout": "2s"}
	if err := yaml.Unmarshal([]byte(extra), &settings); err != nil { // extra overrides
		t.Fatal(err)
	}
	doc, err := yaml.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := New(channels.Spec{Name: "li", Kind: channels.KindLinkedIn, Settings: yamlNode(t, string(doc))}, channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return ch.(*Channel)
}

func newFake(t *testing.T) *linkedinfake.Server {
	t.Helper()
	f := linkedinfake.New()
	t.Cleanup(f.Close)
	return f
}

// arabicArticle has every kind of reserved character LinkedIn's little text knows, in Arabic.
func arabicArticle(id string) *article.Article {
	return &article.Article{
		ID:       id,
		URL:      "https://news.example.com/ar/2026/11/" + id,
		Title:    "الرئيس (في مؤتمر صحفي): الأسعار [الجديدة] *لن* ترتفع " + id,
		Summary:  "قال إن سعر_الصرف ثابت {حتى نهاية العام} وإن الحكومة ~تدرس~ خيارات <أخرى> | @الوزارة #بيان \\ انتهى.",
		Tags:     []string{"كوريا الشمالية"},
		Language: "ar",
	}
}

func render(t *testing.T, a *article.Article) channels.Message {
	t.Helper()
	r, err := formatter.New(channels.KindLinkedIn, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(a)
	if err != nil {
		t.Fatal(err)
	}
	return channels.Message{ArticleID: a.ID, Key: a.ID + ":li:1", Attempt: 1, Posts: posts}
}

// TestSendArabicArticleShowsAsWritten: the rendered Arabic article goes out as an article post
// of the Page, with the headers LinkedIn requires, and LinkedIn shows its text exactly as the
// newsroom wrote it: every ( ) [ ] { } * _ ~ < > | @ # \ escaped, nothing cut.
func TestSendArabicArticleShowsAsWritten(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	a := arabicArticle("li1")
	msg := render(t, a)
	rcpt, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	posts := fake.Posts()
	if len(posts) != 1 || rcpt.RemoteID != posts[0].URN || rcpt.PostURL != "https://www.linkedin.com/feed/update/"+posts[0].URN+"/" {
		t.Fatalf("receipt %+v, posts %+v", rcpt, posts)
	}
	p := posts[0]
	want := a.Title + "\n\n" + a.Summary + "\n\n#كوريا_الشمالية"
	if p.Truncated || p.Shown != want {
		t.Fatalf("LinkedIn shows (truncated %v)\n%q\nwant\n%q\ncommentary %q", p.Truncated, p.Shown, want, p.Commentary)
	}
	if p.Author != "urn:li:organization:"+linkedinfake.DefaultOrganization || !strings.HasPrefix(p.Source, "https://news.example.com/ar/2026/11/li1?utm_source=linkedin") ||
		p.Title != a.Title || p.Desc != a.Summary {
		t.Fatalf("post %+v: want the Page as author and the article card with the plain title and summary", p)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Version != DefaultVersion || reqs[0].Status != http.StatusCreated {
		t.Fatalf("requests %+v", reqs)
	}
}

// TestUnescapedTextIsCutByLinkedIn: the fake cuts what LinkedIn cuts, so the escaping above is
// what keeps the post whole (a post written without the formatter loses its end).
func TestUnescapedTextIsCutByLinkedIn(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	msg := channels.Message{ArticleID: "raw", Key: "raw:li:1", Attempt: 1,
		Posts: []channels.Post{{Text: "الرئيس (في مؤتمر صحفي) قال"}}}
	if _, err := ch.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if p := fake.Posts()[0]; !p.Truncated || p.Shown != "الرئيس " {
		t.Fatalf("unescaped ( : shown %q, truncated %v; want the cut LinkedIn makes", p.Shown, p.Truncated)
	}
}

func TestErrorClasses(t *testing.T) {
	now := time.Date(2026, 11, 27, 3, 0, 0, 0, time.UTC)
	late := time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(f *linkedinfake.Server)
		extra string
		now   time.Time
		check func(t *testing.T, err error)
	}{
		{name: "expired token pauses", setup: func(f *linkedinfake.Server) { f.SetToken("another-token-0123456789") }, check: wantPause},
		{name: "not an admin pauses", setup: func(f *linkedinfake.Server) {
			f.FailNext(403, "ACCESS_DENIED", "Not enough permissions to access: partnerApiPostsExternal.CREATE.20260801", nil)
		}, check: wantPause},
		{name: "429 waits an hour", setup: func(f *linkedinfake.Server) { f.RateLimitNext() }, now: now, check: wantRateLimit(now.Add(time.Hour))},
		{name: "429 late waits for midnight UTC", setup: func(f *linkedinfake.Server) { f.RateLimitNext() }, now: late,
			check: wantRateLimit(time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))},
		{name: "429 with Retry-After", setup: func(f *linkedinfake.Server) {
			f.FailNext(429, "TOO_MANY_REQUESTS", "throttled", http.Header{"Retry-After": {"120"}})
		}, now: now, check: wantRateLimit(now.Add(2 * time.Minute))},
		{name: "500 after writing is unknown", setup: func(f *linkedinfake.Server) { f.FailNext(500, "INTERNAL_SERVER_ERROR", "Internal Server Error", nil) }, check: wantUnknown},
		{name: "504 is unknown", setup: func(f *linkedinfake.Server) { f.FailNext(504, "GATEWAY_TIMEOUT", "Gateway Timeout", nil) }, check: wantUnknown},
		{name: "400 is permanent", setup: func(f *linkedinfake.Server) { f.FailNext(400, "ILLEGAL_ARGUMENT", "bad field", nil) }, check: wantPermanent},
		// LinkedIn serves a version about a year: then every post is refused alike until the
		// version setting changes, so the channel pauses saying so and keeps its backlog.
		{name: "sunset version pauses", extra: "version: '202401'\n", check: func(t *testing.T, err error) {
			p, ok := channels.AsPause(err)
			if !ok || channels.IsPermanent(err) || !strings.Contains(p.Reason, "LinkedIn-Version 202401") || !strings.Contains(p.Reason, "set version") {
				t.Fatalf("error %v: want a pause naming the version", err)
			}
			if !strings.Contains(err.Error(), "426") || !strings.Contains(err.Error(), "NONEXISTENT_VERSION") {
				t.Fatalf("error %v: want LinkedIn's 426 NONEXISTENT_VERSION", err)
			}
		}},
		{name: "conflict is retryable", setup: func(f *linkedinfake.Server) { f.FailNext(409, "CONFLICT", "conflict", nil) }, check: wantRetryable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFake(t)
			ch := newChannel(t, fake, tc.extra)
			if !tc.now.IsZero() {
				ch.now = func() time.Time { return tc.now }
			}
			if tc.setup != nil {
				tc.setup(fake)
			}
			_, err := ch.Send(context.Background(), render(t, arabicArticle("e1")))
			if err == nil {
				t.Fatal("sent")
			}
			if strings.Contains(fmt.Sprintf("%v %+v", err, err), linkedinfake.DefaultToken) {
				t.Fatalf("the token shows in %v", err)
			}
			tc.check(t, err)
		})
	}
}

// TestDuplicateOfThePagesSamePostIsSettled: LinkedIn refuses the same commentary and card
// twice (422 DUPLICATE_POST naming the post). The post it names is the Page's with the same
// text and link, so the second send records it (no second post) instead of failing.
func TestDuplicateOfThePagesSamePostIsSettled(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	msg := render(t, arabicArticle("d1"))
	first, err := ch.Send(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ch.Send(context.Background(), msg)
	if err != nil || again.RemoteID != first.RemoteID || len(fake.Posts()) != 1 {
		t.Fatalf("second send: %+v %v, posts %+v; want the first post recorded", again, err, fake.Posts())
	}
	var dup int
	for _, r := range fake.Requests() {
		if r.Status == 422 {
			dup++
		}
	}
	if dup != 1 {
		t.Fatalf("requests %+v: want LinkedIn's one duplicate refusal", fake.Requests())
	}
}

// TestDuplicateOfAGonePostIsDuplicateContent: LinkedIn may name a post that no longer exists
// (it remembers deleted posts for a while); nothing to record, so it stays a duplicate failure.
func TestDuplicateOfAGonePostIsDuplicateContent(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	fake.FailNext(422, "DUPLICATE_POST", "Content is a duplicate of urn:li:share:7431329065766260736", nil)
	_, err := ch.Send(context.Background(), render(t, arabicArticle("ghost")))
	var ae *APIError
	if !channels.IsDuplicateContent(err) || !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.DuplicateOf() != "urn:li:share:7431329065766260736" {
		t.Fatalf("err %v: want DuplicateContent naming the gone post", err)
	}
}

// TestLostAnswerIsUnknownOutcome: the post is made but the answer is lost. LinkedIn has no
// idempotency key, so the channel says the outcome is unknown (the worker parks it for an
// admin) and does not claim to deduplicate.
func TestLostAnswerIsUnknownOutcome(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	fake.DropNextPost()
	_, err := ch.Send(context.Background(), render(t, arabicArticle("lost")))
	if !channels.IsUnknownOutcome(err) {
		t.Fatalf("err %v: want UnknownOutcome", err)
	}
	if len(fake.Posts()) != 1 {
		t.Fatalf("posts %+v: the fake made the post", fake.Posts())
	}
	if _, ok := any(ch).(channels.Deduplicating); ok {
		t.Fatal("the channel must not claim LinkedIn deduplicates a retried create")
	}
}

func TestNoURNIsUnknownOutcome(t *testing.T) {
	// A 2xx without x-restli-id: a proxy that strips headers. The post exists.
	ch := newChannel(t, newFake(t), "api_base: "+newHeaderlessServer(t)+"\n")
	_, err := ch.Send(context.Background(), render(t, arabicArticle("nourn")))
	if !channels.IsUnknownOutcome(err) || !strings.Contains(err.Error(), "x-restli-id") {
		t.Fatalf("err %v: want UnknownOutcome saying the URN is missing", err)
	}
}

func wantPause(t *testing.T, err error) {
	t.Helper()
	if _, ok := channels.AsPause(err); !ok {
		t.Fatalf("err %v: want the channel paused", err)
	}
}

func wantRateLimit(at time.Time) func(t *testing.T, err error) {
	return func(t *testing.T, err error) {
		t.Helper()
		rl, ok := channels.AsRateLimited(err)
		if !ok || !rl.RetryAt.Equal(at) {
			t.Fatalf("err %v: want rate limited until %s", err, at)
		}
	}
}

func wantUnknown(t *testing.T, err error) {
	t.Helper()
	if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) {
		t.Fatalf("err %v: want UnknownOutcome", err)
	}
}

func wantPermanent(t *testing.T, err error) {
	t.Helper()
	if !channels.IsPermanent(err) || channels.IsDuplicateContent(err) {
		t.Fatalf("err %v: want Permanent", err)
	}
}

func wantRetryable(t *testing.T, err error) {
	t.Helper()
	_, pause := channels.AsPause(err)
	_, rl := channels.AsRateLimited(err)
	if channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause || rl {
		t.Fatalf("err %v: want a plain retryable error", err)
	}
}

// TestRetryAfterLostAnswerIsSettledByTheDuplicate: the first attempt's answer is lost (the post
// was made); the retry is refused as a duplicate of it, and the channel records that post's URN
// instead of failing, with no second post. A duplicate whose post has another card link is not
// this delivery's and stays DuplicateContent.
func TestRetryAfterLostAnswerIsSettledByTheDuplicate(t *testing.T) {
	fake := newFake(t)
	ch := newChannel(t, fake, "")
	msg := render(t, arabicArticle("settle"))
	fake.DropNextPost()
	if _, err := ch.Send(context.Background(), msg); !channels.IsUnknownOutcome(err) {
		t.Fatalf("first attempt: %v, want unknown", err)
	}
	msg.Attempt = 2
	rcpt, err := ch.Send(context.Background(), msg)
	p := fake.Posts()
	if err != nil || len(p) != 1 || rcpt.RemoteID != p[0].URN || rcpt.PostURL != PostURL(p[0].URN) {
		t.Fatalf("retry: %+v %v, posts %+v: want the first attempt's post recorded", rcpt, err, p)
	}
	// The same commentary with another card is not the post this delivery made.
	other := render(t, arabicArticle("settle"))
	other.Attempt = 2
	other.Posts[0].Extra["article"].(map[string]any)["source"] = "https://news.example.com/another"
	fake.FailNext(422, "DUPLICATE_POST", "Content is a duplicate of "+p[0].URN, nil)
	if _, err := ch.Send(context.Background(), other); !channels.IsDuplicateContent(err) {
		t.Fatalf("another card: %v, want DuplicateContent", err)
	}
}
