package bluesky

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
	"herald/channels/bluesky/blueskyfake"
	"herald/channels/httpsend"
	"herald/formatter"
)

type harness struct {
	fake *blueskyfake.Server
	ch   *Channel
	logs *observer.ObservedLogs
}

func specFrom(t *testing.T, settings string) channels.Spec {
	t.Helper()
	spec := channels.Spec{Name: "bsky", Kind: channels.KindBluesky}
	if err := yaml.Unmarshal([]byte(settings), &spec.Settings); err != nil {
		t.Fatal(err)
	}
	return spec
}

func newHarness(t *testing.T, client *http.Client, extra ...string) *harness {
	t.Helper()
	fake := blueskyfake.New()
	t.Cleanup(fake.Close)
	s := fmt.Sprintf("service: %q\nidentifier: %q\napp_password: %q\ntimeout: 5s\n", fake.URL(), blueskyfake.DefaultHandle, blueskyfake.DefaultPassword)
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

func msgOf(key string, posts ...channels.Post) channels.Message {
	return channels.Message{ArticleID: "a1", Key: key, Attempt: 1, Posts: posts}
}

const storyURL = "https://news.example.com/world/2026/11/story"

// render is what the worker sends: the bluesky renderer's posts.
func render(t *testing.T, imageURL string) []channels.Post {
	t.Helper()
	a := article.Article{
		URL:     storyURL,
		Title:   "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Summary: "قال الرئيس الأوكراني إن قوات كورية شمالية وصلت إلى منطقة كورسك.",
		Tags:    []string{"كوريا الشمالية", "أوكرانيا"}, Language: "ar", ImageURL: imageURL,
	}
	r, err := formatter.New(channels.KindBluesky, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	posts, err := r.Render(&a)
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

// TestArabicPostFacetsLandOnTheirBytes: the record is the rendered post, and the link and the
// Arabic hashtags' facets cover exactly their bytes of the text (the fake refuses a facet that
// cuts a letter or misses its "#tag").
func TestArabicPostFacetsLandOnTheirBytes(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "")
	rcpt, err := h.ch.Send(testCtx(t), msgOf("a1:bsky:1", posts...))
	if err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Text != posts[0].Text {
		t.Fatalf("fake got %+v, want the text %q", got, posts[0].Text)
	}
	p := got[0]
	// The link carries the formatter's utm parameters; the text shows it without the scheme.
	linkURI := posts[0].Extra["external"].(map[string]any)["uri"].(string)
	want := map[string]string{"link": linkURI, "tag": "كوريا_الشمالية"}
	for _, f := range p.Facets {
		if f.Type == "tag" && f.Value == "أوكرانيا" {
			continue
		}
		if want[f.Type] != f.Value {
			t.Fatalf("unexpected facet %+v", f)
		}
		delete(want, f.Type)
		switch f.Type {
		case "link":
			shown := strings.TrimPrefix(storyURL, "https://")
			if i := strings.LastIndex(p.Text, shown); !strings.HasPrefix(linkURI, storyURL) || f.Covered != shown || f.ByteStart != i || f.ByteEnd != len(p.Text) {
				t.Fatalf("link facet %+v: want bytes %d–%d", f, i, i+len(shown))
			}
		case "tag":
			i := strings.Index(p.Text, "#كوريا_الشمالية")
			if f.Covered != "#كوريا_الشمالية" || f.ByteStart != i || f.ByteEnd != i+len("#كوريا_الشمالية") {
				t.Fatalf("tag facet %+v: want bytes %d–%d", f, i, i+len("#كوريا_الشمالية"))
			}
		}
	}
	if len(want) != 0 {
		t.Fatalf("facets %+v: missing %v", p.Facets, want)
	}
	if len(p.Langs) != 1 || p.Langs[0] != "ar" {
		t.Fatalf("langs %v", p.Langs)
	}
	if p.Card == nil || p.Card.URI != linkURI || !strings.HasPrefix(p.Card.Title, "زيلينسكي") || p.Card.Description == "" || p.Card.Thumb != nil {
		t.Fatalf("card %+v", p.Card)
	}
	if _, err := time.Parse(time.RFC3339, p.CreatedAt); err != nil {
		t.Fatalf("createdAt %q: %v", p.CreatedAt, err)
	}
	wantRkey := RecordKey("a1:bsky:1/0")
	if p.Rkey != wantRkey || rcpt.RemoteID != p.URI || rcpt.PostURL != "https://bsky.app/profile/"+blueskyfake.DefaultDID+"/post/"+wantRkey {
		t.Fatalf("receipt %+v for record %s (rkey %s, want %s)", rcpt, p.URI, p.Rkey, wantRkey)
	}
}

// TestFakeRefusesAFacetThatCutsALetter: one byte off inside an Arabic word is refused as the
// apps would mis-render it; the refusal is permanent with the PDS's message.
func TestFakeRefusesAFacetThatCutsALetter(t *testing.T) {
	h := newHarness(t, nil)
	text := "عاجل #كوريا"
	i := strings.Index(text, "#")
	post := channels.Post{Text: text, Facets: []map[string]any{{
		"index":    map[string]any{"byteStart": i, "byteEnd": len(text) - 1},
		"features": []any{map[string]any{"$type": "app.bsky.richtext.facet#tag", "tag": "كوريا"}},
	}}}
	_, err := h.ch.Send(testCtx(t), msgOf("k1", post))
	var xe *XRPCError
	if !channels.IsPermanent(err) || !errors.As(err, &xe) || xe.Status != 400 || !strings.Contains(err.Error(), "cut a UTF-8 character") {
		t.Fatalf("%v: want a permanent 400 naming the cut character", err)
	}
	if n := len(h.fake.Posts()); n != 0 {
		t.Fatalf("%d posts", n)
	}
}

var sampleJPEG = append([]byte{0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, bytes.Repeat([]byte{9}, 2000)...)

func imageHost(t *testing.T, body []byte) (string, *atomic.Int32) {
	t.Helper()
	hits := &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/story.jpg", hits
}

func TestCardThumbnailIsUploadedAsABlob(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	img, hits := imageHost(t, sampleJPEG)
	if _, err := h.ch.Send(testCtx(t), msgOf("k-thumb", render(t, img)...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()
	if len(got) != 1 || got[0].Card == nil || got[0].Card.Thumb == nil || got[0].Card.Thumb.Size != len(sampleJPEG) ||
		got[0].Card.Thumb.MimeType != "image/jpeg" || hits.Load() != 1 {
		t.Fatalf("fake got %+v, image host hits %d", got, hits.Load())
	}
}

// TestThumbnailThatCannotBeUsedLeavesTheCardWithoutIt: too large, or on a private address with
// allow_private_hosts off: the post goes out with its card, a warning is logged.
func TestThumbnailThatCannotBeUsedLeavesTheCardWithoutIt(t *testing.T) {
	for name, c := range map[string]struct {
		body    []byte
		allow   string
		wantLog string
		hits    int32
	}{
		"over 1,000,000 bytes and no image": {append(append([]byte{}, sampleJPEG...), make([]byte, MaxThumbBytes)...), "allow_private_hosts: true", "cannot be shrunk", 1},
		"over the download limit":           {make([]byte, MaxThumbDownload+1), "allow_private_hosts: true", "over the thumbnail download limit", 1},
		"a decompression bomb":              {bombPNG(t), "allow_private_hosts: true", "of 20000x20000 pixels", 1},
		"private address":                   {sampleJPEG, "allow_private_hosts: false", "private address", 0},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil, c.allow)
			img, hits := imageHost(t, c.body)
			if _, err := h.ch.Send(testCtx(t), msgOf("k-"+name, render(t, img)...)); err != nil {
				t.Fatal(err)
			}
			got := h.fake.Posts()
			if len(got) != 1 || got[0].Card == nil || !strings.HasPrefix(got[0].Card.URI, storyURL) || got[0].Card.Thumb != nil || hits.Load() != c.hits {
				t.Fatalf("fake got %+v, image host hits %d", got, hits.Load())
			}
			logs := h.logs.FilterMessageSnippet("thumbnail could not be uploaded").All()
			if len(logs) != 1 || logs[0].Level != zapcore.WarnLevel || !strings.Contains(logs[0].ContextMap()["error"].(string), c.wantLog) {
				t.Fatalf("logs %+v", logs)
			}
		})
	}
}

// TestConcurrentSendsRefreshTheSessionOnce: one session for every send; when the access token
// expires under eight concurrent sends, one refreshSession serves them all and no new session
// is created (createSession is limited to 30 per 5 minutes).
func TestConcurrentSendsRefreshTheSessionOnce(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.ch.Send(testCtx(t), msgOf("first", channels.Post{Text: "أول خبر"})); err != nil {
		t.Fatal(err)
	}
	h.fake.ExpireAccessTokens()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := h.ch.Send(testCtx(t), msgOf(fmt.Sprintf("k%d", i), channels.Post{Text: fmt.Sprintf("خبر رقم %d", i)}))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	created, refreshed := h.fake.Sessions()
	if created != 1 || refreshed != 1 || len(h.fake.Posts()) != 9 {
		t.Fatalf("created %d sessions, refreshed %d times, %d posts: want 1, 1, 9", created, refreshed, len(h.fake.Posts()))
	}
}

// TestRevokedRefreshTokenCreatesANewSession: when the refresh fails too, one new session.
func TestRevokedRefreshTokenCreatesANewSession(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.ch.Send(testCtx(t), msgOf("a", channels.Post{Text: "أ"})); err != nil {
		t.Fatal(err)
	}
	h.fake.ExpireAccessTokens()
	h.fake.RevokeRefreshTokens()
	if _, err := h.ch.Send(testCtx(t), msgOf("b", channels.Post{Text: "ب"})); err != nil {
		t.Fatal(err)
	}
	if created, refreshed := h.fake.Sessions(); created != 2 || refreshed != 0 {
		t.Fatalf("created %d, refreshed %d: want 2, 0", created, refreshed)
	}
	if h.fake.Count("com.atproto.server.refreshSession") != 1 {
		t.Fatalf("requests %+v: want one refresh attempt", h.fake.Requests())
	}
}

func TestErrorClasses(t *testing.T) {
	reset := time.Now().Add(90 * time.Second).Truncate(time.Second)
	cases := []struct {
		name   string
		inject func(*blueskyfake.Server)
		post   channels.Post
		check  func(t *testing.T, err error, f *blueskyfake.Server)
	}{
		{"wrong app password pauses", func(f *blueskyfake.Server) { f.SetPassword("another-app-password") }, channels.Post{Text: "عاجل"},
			func(t *testing.T, err error, _ *blueskyfake.Server) {
				var xe *XRPCError
				if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !errors.As(err, &xe) || xe.Name != "AuthenticationRequired" {
					t.Fatalf("%v: want an auth pause (AuthenticationRequired)", err)
				}
			}},
		{"expired session, revoked refresh and a changed password pause", func(f *blueskyfake.Server) {
			f.ExpireAccessTokens()
			f.RevokeRefreshTokens()
			f.SetPassword("another-app-password")
		}, channels.Post{Text: "عاجل"}, func(t *testing.T, err error, _ *blueskyfake.Server) {
			if _, ok := channels.AsPause(err); !ok {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"invalid record is permanent", nil, channels.Post{Text: strings.Repeat("ب", 301)}, func(t *testing.T, err error, _ *blueskyfake.Server) {
			_, pause := channels.AsPause(err)
			if !channels.IsPermanent(err) || pause || !strings.Contains(err.Error(), "InvalidRequest: Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes") {
				t.Fatalf("%v: want permanent with the PDS's message", err)
			}
		}},
		{"429 waits for RateLimit-Reset", func(f *blueskyfake.Server) { f.RateLimitNext(reset) }, channels.Post{Text: "عاجل"},
			func(t *testing.T, err error, _ *blueskyfake.Server) {
				rl, ok := channels.AsRateLimited(err)
				if !ok || !rl.RetryAt.Equal(reset) {
					t.Fatalf("%v: want rate limited until %s", err, reset)
				}
			}},
		{"5xx without a post is an unknown outcome, safe to retry", func(f *blueskyfake.Server) { f.FailNext(502, "UpstreamFailure", "Upstream Failure") }, channels.Post{Text: "عاجل"},
			func(t *testing.T, err error, f *blueskyfake.Server) {
				if !channels.IsUnknownOutcome(err) || channels.IsPermanent(err) || f.Count("com.atproto.repo.getRecord") != 1 {
					t.Fatalf("%v: want unknown outcome after looking for the post", err)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			if tc.name != "wrong app password pauses" {
				// A session exists before the failure, as in a running process.
				if _, err := h.ch.Send(testCtx(t), msgOf("warm", channels.Post{Text: "تمهيد"})); err != nil {
					t.Fatal(err)
				}
			}
			if tc.inject != nil {
				tc.inject(h.fake)
			}
			_, err := h.ch.Send(testCtx(t), msgOf("k", tc.post))
			tc.check(t, err, h.fake)
		})
	}
}

// TestWrongPasswordWithAThumbnailLogsInOnce: the thumbnail's upload meets the refused login
// first; the send stops there instead of logging in again for the post.
func TestWrongPasswordWithAThumbnailLogsInOnce(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	h.fake.SetPassword("another-app-password")
	img, _ := imageHost(t, sampleJPEG)
	_, err := h.ch.Send(testCtx(t), msgOf("k", render(t, img)...))
	if _, ok := channels.AsPause(err); !ok || h.fake.Count("com.atproto.server.createSession") != 1 || h.fake.Count("com.atproto.repo.createRecord") != 0 {
		t.Fatalf("%v; requests %+v: want one refused login and an auth pause", err, h.fake.Requests())
	}
	if logs := h.logs.FilterMessageSnippet("thumbnail could not be uploaded").All(); len(logs) != 0 {
		t.Fatalf("logs %+v", logs)
	}
}

func TestCreateSessionLimitIsARateLimit(t *testing.T) {
	h := newHarness(t, nil)
	for range blueskyfake.SessionLimit {
		body := fmt.Sprintf(`{"identifier":%q,"password":"wrong"}`, blueskyfake.DefaultHandle)
		resp, err := http.Post(h.fake.URL()+"/xrpc/com.atproto.server.createSession", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	_, err := h.ch.Send(testCtx(t), msgOf("k", channels.Post{Text: "عاجل"}))
	rl, ok := channels.AsRateLimited(err)
	if !ok || time.Until(rl.RetryAt) < 4*time.Minute || time.Until(rl.RetryAt) > 5*time.Minute+time.Second {
		t.Fatalf("%v: want rate limited for about 5 minutes", err)
	}
}

func TestConnectionNeverOpenedIsRetryable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ch, err := New(specFrom(t, fmt.Sprintf("service: http://%s\nidentifier: a.example\napp_password: p-p-p-p\n", addr)), channels.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ch.Send(testCtx(t), msgOf("k", channels.Post{Text: "عاجل"}))
	_, pause := channels.AsPause(err)
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause {
		t.Fatalf("%v: want plain retryable", err)
	}
}

// TestRetryAfterALostAnswerFindsThePost: the answer to createRecord is lost after the post was
// made; reading it back under its record key settles it, and a later retry of the same
// delivery (same key) gets the taken key — the PDS's 500 — and records the same post instead
// of making a second.
func TestRetryAfterALostAnswerFindsThePost(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.DropNextPost()
	post := channels.Post{Text: "خبر عاجل عن الانتخابات"}
	first, err := h.ch.Send(testCtx(t), msgOf("a9:bsky:1", post))
	if err != nil {
		t.Fatal(err)
	}
	again, err := h.ch.Send(testCtx(t), msgOf("a9:bsky:1", post))
	if err != nil {
		t.Fatal(err)
	}
	posts := h.fake.Posts()
	if len(posts) != 1 || first.RemoteID != posts[0].URI || again != first {
		t.Fatalf("posts %+v, receipts %+v and %+v: want one post recorded twice", posts, first, again)
	}
	var creates []int
	for _, r := range h.fake.Requests() {
		if r.Method == "com.atproto.repo.createRecord" {
			creates = append(creates, r.Status)
		}
	}
	if len(creates) != 2 || creates[1] != 500 {
		t.Fatalf("createRecord answers %v: want the lost one, then 500 for the taken key", creates)
	}
	// A repost is a new revision: a new key, a new post.
	if _, err := h.ch.Send(testCtx(t), msgOf("a9:bsky:2", post)); err != nil || len(h.fake.Posts()) != 2 {
		t.Fatalf("repost: %v, %d posts", err, len(h.fake.Posts()))
	}
}

// TestLostAnswerAndFailedReadIsUnknownThenSettledByTheRetry: when the read-back fails too, the
// send is an unknown outcome — which the worker retries, the channel being Deduplicating.
func TestLostAnswerAndFailedReadIsUnknownThenSettledByTheRetry(t *testing.T) {
	h := newHarness(t, nil)
	h.fake.DropNextPost()
	h.fake.FailNextRead(502, "UpstreamFailure", "Upstream Failure")
	post := channels.Post{Text: "خبر"}
	_, err := h.ch.Send(testCtx(t), msgOf("k", post))
	if !channels.IsUnknownOutcome(err) || !h.ch.Deduplicates() {
		t.Fatalf("%v: want unknown outcome from a deduplicating channel", err)
	}
	rcpt, err := h.ch.Send(testCtx(t), msgOf("k", post))
	if posts := h.fake.Posts(); err != nil || len(posts) != 1 || rcpt.RemoteID != posts[0].URI {
		t.Fatalf("retry: %v, %+v, posts %+v", err, rcpt, posts)
	}
}

func TestRecordKeyHoldingAnotherPostIsACollision(t *testing.T) {
	h := newHarness(t, nil)
	if _, err := h.ch.Send(testCtx(t), msgOf("k", channels.Post{Text: "النص الأول"})); err != nil {
		t.Fatal(err)
	}
	_, err := h.ch.Send(testCtx(t), msgOf("k", channels.Post{Text: "نص آخر"}))
	if !channels.IsPermanent(err) || !errors.Is(err, errCollision) || len(h.fake.Posts()) != 1 {
		t.Fatalf("%v: want a permanent collision and one post", err)
	}
}

// TestRepublishAfterTheRetentionMakesANewPost: herald forgets a delivery's record after the
// retention, and an article published again then starts at revision 1: the same delivery key,
// whose first record key holds the earlier delivery's post. That post is not this delivery's
// (it is older than the retention): the new delivery makes a new post, under its key's next
// generation, whether its text is the same or not, and a retry of it (here a lost answer, then
// the worker's retry) finds its own post there instead of posting again.
func TestRepublishAfterTheRetentionMakesANewPost(t *testing.T) {
	h := newHarness(t, nil)
	now := h.ch.now
	for _, tc := range []struct{ key, before, after string }{
		{"a9:bsky:1", "خبر عاجل عن الانتخابات", "خبر عاجل عن الانتخابات"},
		{"a7:bsky:1", "النص الأول", "نص محدث بعد ثلاثة أشهر"},
	} {
		h.ch.now = func() time.Time { return now().Add(-100 * 24 * time.Hour) }
		old, err := h.ch.Send(testCtx(t), msgOf(tc.key, channels.Post{Text: tc.before}))
		if err != nil {
			t.Fatal(err)
		}
		h.ch.now = now
		posts := len(h.fake.Posts())
		h.fake.DropNextPost()
		again := msgOf(tc.key, channels.Post{Text: tc.after})
		first, err := h.ch.Send(testCtx(t), again)
		if err != nil || first.RemoteID == old.RemoteID || len(h.fake.Posts()) != posts+1 {
			t.Fatalf("%s after the retention: %v, %+v (the earlier post %s), %d posts: want a new post", tc.key, err, first, old.RemoteID, len(h.fake.Posts()))
		}
		again.Attempt = 2
		retry, err := h.ch.Send(testCtx(t), again)
		if err != nil || retry != first || len(h.fake.Posts()) != posts+1 {
			t.Fatalf("%s retry: %v, %+v, %d posts: want the new post found, not made again", tc.key, err, retry, len(h.fake.Posts()))
		}
	}
	// Within the retention the key's post is this delivery's: a retry records it (above,
	// TestRetryAfterALostAnswerFindsThePost) and another text is a collision.
	if _, err := h.ch.Send(testCtx(t), msgOf("a7:bsky:1", channels.Post{Text: "نص ثالث"})); !errors.Is(err, errCollision) {
		t.Fatalf("%v: want a collision with the recent post", err)
	}
}

func TestDeleteAndCheck(t *testing.T) {
	h := newHarness(t, nil)
	if err := h.ch.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	rcpt, err := h.ch.Send(testCtx(t), msgOf("k", channels.Post{Text: "تصحيح"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil || !h.fake.Posts()[0].Deleted {
		t.Fatalf("delete: %v, %+v", err, h.fake.Posts())
	}
	if err := h.ch.Delete(testCtx(t), rcpt.RemoteID); err != nil {
		t.Fatalf("deleting a deleted post: %v", err)
	}
	if err := h.ch.Delete(testCtx(t), "at://did:plc:someoneelse234567abcdefgh/app.bsky.feed.post/3kabcdefghijk"); !channels.IsPermanent(err) {
		t.Fatalf("deleting another account's post: %v", err)
	}
	if n := h.fake.Count("com.atproto.repo.deleteRecord"); n != 2 {
		t.Fatalf("%d deleteRecord calls, want 2", n)
	}
	if created, _ := h.fake.Sessions(); created != 1 {
		t.Fatalf("%d sessions: check, send and delete share one", created)
	}
	h.fake.ExpireAccessTokens()
	h.fake.RevokeRefreshTokens()
	h.fake.SetPassword("rotated")
	if _, ok := channels.AsPause(h.ch.Check(testCtx(t))); !ok {
		t.Fatal("Check with a revoked app password is not an auth error")
	}
}

// leakyTransport answers session calls through the real transport (so tokens exist), and fails
// every other request with an error that quotes the request, its Authorization header and its
// body — what a careless proxy or a debug wrapper would do. fail: session calls fail too.
type leakyTransport struct{ failSessions bool }

func (l leakyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if !l.failSessions && strings.Contains(r.URL.Path, "com.atproto.server.") && !strings.HasSuffix(r.URL.Path, "getSession") {
		return http.DefaultTransport.RoundTrip(r)
	}
	body := ""
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}
	return nil, fmt.Errorf("proxy refused %s %s auth %q body %s", r.Method, r.URL, r.Header.Get("Authorization"), body)
}

func TestSecretsNeverInErrorsLogsOrPreview(t *testing.T) {
	for _, failSessions := range []bool{true, false} {
		h := newHarness(t, &http.Client{Transport: leakyTransport{failSessions}}, "allow_private_hosts: true")
		img, _ := imageHost(t, sampleJPEG)
		// With a thumbnail: uploadBlob fails first (logged), then createRecord (returned).
		_, err := h.ch.Send(testCtx(t), msgOf("k", render(t, img)...))
		cerr := h.ch.Check(testCtx(t))
		derr := h.ch.Delete(testCtx(t), "at://"+blueskyfake.DefaultDID+"/app.bsky.feed.post/3kabcdefghijk")
		reqs, perr := h.ch.Preview(msgOf("k", render(t, "https://news.example.com/i.jpg")...))
		var all strings.Builder
		fmt.Fprintf(&all, "%v\n%v\n%v\n%v\n", err, cerr, derr, perr)
		b, _ := json.Marshal(reqs)
		all.Write(b)
		for _, e := range h.logs.All() {
			all.WriteString(e.Message + fmt.Sprint(e.ContextMap()) + "\n")
		}
		if err == nil || !strings.Contains(all.String(), "proxy refused") {
			t.Fatalf("the transport's error is not reported: %s", all.String())
		}
		for _, secret := range []string{blueskyfake.DefaultPassword, "fake-access-", "fake-refresh-"} {
			if strings.Contains(all.String(), secret) {
				t.Fatalf("failSessions=%v: %q leaked:\n%s", failSessions, secret, all.String())
			}
		}
		if !failSessions && (!strings.Contains(all.String(), `auth "Bearer <redacted>"`) || !strings.Contains(all.String(), "thumbnail could not be uploaded")) {
			t.Fatalf("the test did not reach the authed calls (uploadBlob logged, createRecord returned):\n%s", all.String())
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for settings, want := range map[string]string{
		"app_password: p":                                     "identifier: required",
		"identifier: a.example":                               "app_password: not set",
		"identifier: a\napp_password: p\nservice: x":          "service:",
		"identifier: a\napp_password: p\napp_password_env: E": "set only one",
		"identifier: a\napp_password: p\nhandle: h":           "line 3: settings.handle: unknown setting",
	} {
		_, err := LoadConfig(specFrom(t, settings))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", settings, err, want)
		}
	}
	cfg, err := LoadConfig(specFrom(t, "identifier: \"@news.example.com\"\napp_password: p"))
	if err != nil || cfg.Service != DefaultService || cfg.Timeout != DefaultTimeout || cfg.Identifier != "news.example.com" {
		t.Fatalf("%+v %v", cfg, err)
	}
}

// TestPreviewIsWhatSendSends: herald format prints Preview; the record it shows is the one the
// PDS receives (but for createdAt), under the same record key, the password hidden.
func TestPreviewIsWhatSendSends(t *testing.T) {
	h := newHarness(t, nil)
	posts := render(t, "")
	reqs, err := h.ch.Preview(msgOf("a1:bsky:1", posts...))
	if err != nil || len(reqs) != 2 || !strings.HasSuffix(reqs[0].URL, "/xrpc/com.atproto.server.createSession") ||
		!strings.Contains(reqs[0].Body, `"password":"<redacted>"`) || !strings.HasSuffix(reqs[1].URL, "/xrpc/com.atproto.repo.createRecord") {
		t.Fatalf("preview %+v %v", reqs, err)
	}
	var shown struct {
		Rkey   string         `json:"rkey"`
		Record map[string]any `json:"record"`
	}
	if err := json.Unmarshal([]byte(reqs[1].Body), &shown); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ch.Send(testCtx(t), msgOf("a1:bsky:1", posts...)); err != nil {
		t.Fatal(err)
	}
	got := h.fake.Posts()[0]
	delete(shown.Record, "createdAt")
	sent := map[string]any{}
	for k, v := range got.Raw {
		if k != "createdAt" {
			sent[k] = v
		}
	}
	a, _ := json.Marshal(shown.Record)
	b, _ := json.Marshal(sent)
	if string(a) != string(b) || shown.Rkey != got.Rkey {
		t.Fatalf("preview shows %s under %s,\nthe PDS received %s under %s", a, shown.Rkey, b, got.Rkey)
	}
	reqs, _ = h.ch.Preview(msgOf("k", render(t, "https://news.example.com/i.jpg")...))
	if len(reqs) != 3 || !strings.HasSuffix(reqs[1].URL, "uploadBlob") || !strings.Contains(reqs[2].Body, `"thumb":"<the uploaded blob>"`) {
		t.Fatalf("thumb preview %+v", reqs)
	}
}

func TestRecordKeysAreTIDsInThePast(t *testing.T) {
	seen := map[string]bool{}
	lo, hi := uint64(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()), uint64(time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC).UnixMicro())
	for i := range 2000 {
		key := fmt.Sprintf("article-%d:bsky:%d/0", i/3, i%3)
		k := RecordKey(key)
		if !ValidTID(k) || seen[k] || RecordKey(key) != k {
			t.Fatalf("%s → %q: want a new, valid, stable TID", key, k)
		}
		if m := tidMicros(k); m < lo || m >= hi {
			t.Fatalf("%s → %q: timestamp %s outside 2020 – mid-2024", key, k, time.UnixMicro(int64(m)).UTC())
		}
		seen[k] = true
	}
	if encodeTID(0) != "2222222222222" || encodeTID(1<<63-1) != "bzzzzzzzzzzzz" {
		t.Fatalf("encodeTID: %q %q", encodeTID(0), encodeTID(1<<63-1))
	}
}

func TestPostURL(t *testing.T) {
	if got := PostURL("at://did:plc:abc/app.bsky.feed.post/3kabc"); got != "https://bsky.app/profile/did:plc:abc/post/3kabc" {
		t.Fatal(got)
	}
	if got := PostURL("at://did:plc:abc/app.bsky.feed.like/3kabc"); got != "" {
		t.Fatal(got)
	}
}

func TestRetryAtReadsRateLimitResetThenRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	c := &Channel{now: func() time.Time { return now }}
	for _, tc := range []struct {
		header http.Header
		want   time.Time
	}{
		{http.Header{"Ratelimit-Reset": {fmt.Sprint(now.Add(42 * time.Second).Unix())}, "Retry-After": {"5"}}, now.Add(42 * time.Second)},
		{http.Header{"Retry-After": {"5"}}, now.Add(5 * time.Second)},
		{http.Header{"Ratelimit-Reset": {fmt.Sprint(now.Add(-time.Hour).Unix())}}, now},
		{http.Header{}, now.Add(DefaultRateLimitWait)},
	} {
		if got := c.retryAt(&httpsend.Response{Status: 429, Header: tc.header}); !got.Equal(tc.want) {
			t.Errorf("%v: %s, want %s", tc.header, got, tc.want)
		}
	}
}
