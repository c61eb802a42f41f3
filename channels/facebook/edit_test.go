package facebook

import (
	"errors"
	"strings"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/channels/facebook/facebookfake"
	"herald/formatter"
)

// corrected renders the corrected article as the worker would hand it to Edit: a fixed figure
// in the title, harakat, a hashtag and the link.
func corrected(t *testing.T, imageURL string, withImage bool) []channels.Post {
	t.Helper()
	a := article.Article{
		URL:     "https://news.example.com/world/2026/11/story",
		Title:   "زيلينسكي يقولُ إنّ كوريا الشمالية أرسلت ١٢ ألف جنديٍّ لدعم الجيش الروسي",
		Summary: "قال الرئيسُ الأوكرانيّ إنّ قواتٍ كوريةً شمالية وصلت.", Tags: []string{"أوكرانيا"},
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

func TestEditArabicPostLandsExactlyAsRendered(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(render(t, "", false)...))
	if err != nil {
		t.Fatal(err)
	}
	fixed := corrected(t, "", false)
	if !strings.Contains(fixed[0].Text, "#أوكرانيا") || !strings.Contains(fixed[0].Text, "يقولُ") {
		t.Fatalf("the corrected rendering lacks the hashtag or harakat: %q", fixed[0].Text)
	}
	for range 2 { // a repeated identical edit is harmless
		if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(fixed...)); err != nil {
			t.Fatal(err)
		}
	}
	p := h.fake.Posts()
	if len(p) != 1 || p[0].ID != rcpt.RemoteID || p[0].Message != fixed[0].Text || p[0].Link != fixed[0].Extra["link"] {
		t.Fatalf("after the edit the page has %+v, want one post with %q", p, fixed[0].Text)
	}
	if e := h.fake.Edits(); len(e) != 2 || e[0].PostID != rcpt.RemoteID || e[1].Message != fixed[0].Text {
		t.Fatalf("edits %+v", e)
	}
}

// TestEditPhotoPostCaption: Send records the feed story id of a photo post; editing it changes
// the caption.
func TestEditPhotoPostCaption(t *testing.T) {
	h := newHarness(t, nil)
	img := "https://news.example.com/media/story.jpg"
	rcpt, err := h.ch.Send(testCtx(t), msgOf(render(t, img, true)...))
	if err != nil {
		t.Fatal(err)
	}
	fixed := corrected(t, img, true)
	if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(fixed...)); err != nil {
		t.Fatal(err)
	}
	if p := h.fake.Posts(); len(p) != 1 || p[0].Kind != "photo" || p[0].Message != fixed[0].Text || p[0].PhotoURL != img {
		t.Fatalf("photo post after the edit: %+v", p)
	}
}

func TestEditErrorClasses(t *testing.T) {
	cases := []struct {
		name   string
		inject func(*facebookfake.Server, string)
		check  func(t *testing.T, err error)
	}{
		{"190 invalid token pauses", func(f *facebookfake.Server, _ string) { f.SetToken("rotated") }, func(t *testing.T, err error) {
			var ae *APIError
			if p, ok := channels.AsPause(err); !ok || !strings.HasPrefix(p.Reason, "auth: ") || !errors.As(err, &ae) || ae.Code != 190 {
				t.Fatalf("%v: want an auth pause with code 190", err)
			}
		}},
		{"32 rate limit waits for estimated_time_to_regain_access", func(f *facebookfake.Server, _ string) {
			f.FailEditNext(400, 32, 0, "(#32) Page request limit reached",
				map[string][]string{"X-Page-Usage": {`{"call_count":100,"estimated_time_to_regain_access":7}`}})
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < 6*time.Minute || time.Until(rl.RetryAt) > 8*time.Minute {
				t.Fatalf("%v: want rate limited for about 7 minutes", err)
			}
		}},
		{"a post Graph will not edit is permanent with Graph's message", func(f *facebookfake.Server, _ string) {
			f.FailEditNext(400, 100, 0, "(#100) This post could not be edited because it was shared from another post", nil)
		}, func(t *testing.T, err error) {
			if _, pause := channels.AsPause(err); !channels.IsPermanent(err) || pause || !strings.Contains(err.Error(), "could not be edited") {
				t.Fatalf("%v: want permanent with Graph's message", err)
			}
		}},
		{"a deleted post is permanent", func(f *facebookfake.Server, id string) {
			f.Delete(id)
		}, func(t *testing.T, err error) {
			var ae *APIError
			if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Code != 100 || ae.Subcode != 33 {
				t.Fatalf("%v: want permanent 100/33", err)
			}
		}},
		{"2 temporarily unavailable is retryable", func(f *facebookfake.Server, _ string) {
			f.FailEditNext(500, 2, 0, "An unexpected error has occurred. Please retry your request later.", nil)
		}, func(t *testing.T, err error) {
			_, pause := channels.AsPause(err)
			if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause {
				t.Fatalf("%v: want plain retryable", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
			if err != nil {
				t.Fatal(err)
			}
			tc.inject(h.fake, rcpt.RemoteID)
			tc.check(t, h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "عاجلٌ مصحَّح"})))
			if len(h.fake.Edits()) != 0 {
				t.Fatalf("a refused edit changed the post: %+v", h.fake.Edits())
			}
		})
	}
}

// TestEditOtherNumberOfPostsIsRefused: a correction that renders another number of posts than
// the delivery made cannot be matched post by post; nothing is called.
func TestEditOtherNumberOfPostsIsRefused(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	if err != nil {
		t.Fatal(err)
	}
	n := len(h.fake.Requests())
	err = h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "أ"}, channels.Post{Text: "ب"}))
	if !channels.IsPermanent(err) || len(h.fake.Requests()) != n {
		t.Fatalf("%v after %d requests: want permanent, no call", err, len(h.fake.Requests())-n)
	}
}

// TestEditLostAnswerIsRetryable: Graph applied the edit but its answer was lost. Setting the same
// text again is harmless, so the edit is plainly retryable (not unknown, not permanent), and the
// retry lands: one post, with the corrected text. The page token is in the form, never in the
// error.
func TestEditLostAnswerIsRetryable(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "عاجل"}))
	if err != nil {
		t.Fatal(err)
	}
	fixed := "عاجلٌ مصحَّح: ١٢ ألفاً"
	h.fake.DropNextEdit()
	err = h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: fixed}))
	_, pause := channels.AsPause(err)
	if err == nil || channels.IsPermanent(err) || channels.IsUnknownOutcome(err) || pause {
		t.Fatalf("%v: want a plain retryable error", err)
	}
	if strings.Contains(err.Error(), facebookfake.DefaultToken) {
		t.Fatalf("the error shows the page token: %v", err)
	}
	if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: fixed})); err != nil {
		t.Fatal(err)
	}
	if p := h.fake.Posts(); len(p) != 1 || p[0].Message != fixed {
		t.Fatalf("page after the retried edit: %+v", p)
	}
	if e := h.fake.Edits(); len(e) != 2 || e[0].Message != fixed || e[1].Message != fixed {
		t.Fatalf("edits %+v: want the lost one and its retry", e)
	}
}
