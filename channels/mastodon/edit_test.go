package mastodon

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"herald/article"
	"herald/channels"
	"herald/formatter"
)

// correctedArticle is arabicArticle with a fixed figure in the title (harakat kept).
func correctedArticle() article.Article {
	a := arabicArticle()
	a.Title = "زِيلِينسْكِي يَقُولُ إنَّ كوريا الشمالية أرسلت ١٢ ألف جنديٍّ لدعم الجيش الروسي"
	return a
}

func TestEditArabicStatusLandsExactlyAsRendered(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(render(t, arabicArticle(), formatter.Options{})...))
	if err != nil {
		t.Fatal(err)
	}
	fixed := render(t, correctedArticle(), formatter.Options{})
	if len(fixed) != 1 || !strings.Contains(fixed[0].Text, "جنديٍّ") || !strings.Contains(fixed[0].Text, "#أوكرانيا") || !strings.Contains(fixed[0].Text, "https://news.example.com/") {
		t.Fatalf("the corrected rendering lacks harakat, hashtag or link: %+v", fixed)
	}
	for range 2 { // a repeated identical edit is harmless
		if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(fixed...)); err != nil {
			t.Fatal(err)
		}
	}
	st := h.fake.Statuses()
	if len(st) != 1 || st[0].ID != rcpt.RemoteID || st[0].Text != fixed[0].Text || st[0].Language != "ar" || st[0].Edits != 2 {
		t.Fatalf("server has %+v, want the one status with %q in ar, edited twice", st, fixed[0].Text)
	}
	if e := h.fake.Edits(); len(e) != 2 || e[1].Text != fixed[0].Text || e[1].StatusID != rcpt.RemoteID {
		t.Fatalf("edits %+v", e)
	}
}

// TestEditKeepsTheImage: Mastodon drops the attachments an edit does not name again.
func TestEditKeepsTheImage(t *testing.T) {
	h := newHarness(t, nil, "allow_private_hosts: true")
	img, _ := imageHost(t, "image/png", png)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "صورة", Media: []channels.Media{{URL: img}}}))
	if err != nil {
		t.Fatal(err)
	}
	before := h.fake.Statuses()[0].MediaIDs
	if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "صورةٌ مصحَّحة", Media: []channels.Media{{URL: img}}})); err != nil {
		t.Fatal(err)
	}
	after := h.fake.Statuses()[0]
	if len(before) != 1 || len(after.MediaIDs) != 1 || after.MediaIDs[0] != before[0] || after.Text != "صورةٌ مصحَّحة" {
		t.Fatalf("media before %v, status after %+v: want the same attachment kept", before, after)
	}
}

func TestEditErrorClasses(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, h *harness, id string) string // returns the id to edit
		check func(t *testing.T, err error)
	}{
		{"401 pauses", func(t *testing.T, h *harness, id string) string { h.fake.SetToken("rotated"); return id }, func(t *testing.T, err error) {
			if _, ok := channels.AsPause(err); !ok {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"429 waits for X-RateLimit-Reset", func(t *testing.T, h *harness, id string) string {
			h.fake.FailEditNext(429, `{"error":"Too many requests"}`, http.Header{"X-Ratelimit-Reset": {time.Now().Add(3 * time.Minute).UTC().Format(time.RFC3339)}})
			return id
		}, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < 2*time.Minute || time.Until(rl.RetryAt) > 4*time.Minute {
				t.Fatalf("%v: want rate limited for about 3 minutes", err)
			}
		}},
		{"422 too long is permanent with the server's message", func(t *testing.T, h *harness, id string) string { h.fake.SetMaxCharacters(5); return id }, func(t *testing.T, err error) {
			var ae *APIError
			if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Status != 422 || !strings.Contains(err.Error(), "character limit of 5") {
				t.Fatalf("%v: want permanent 422", err)
			}
		}},
		{"a deleted status is 404, permanent", func(t *testing.T, h *harness, id string) string {
			if err := h.ch.Delete(testCtx(t), id); err != nil {
				t.Fatal(err)
			}
			return id
		}, func(t *testing.T, err error) {
			var ae *APIError
			if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Status != 404 {
				t.Fatalf("%v: want permanent 404", err)
			}
		}},
		{"another account's status is 404, permanent", func(t *testing.T, h *harness, _ string) string { return h.fake.AddForeignStatus("ليس لنا") }, func(t *testing.T, err error) {
			var ae *APIError
			if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Status != 404 || !strings.Contains(err.Error(), "editing status") {
				t.Fatalf("%v: want permanent 404 from the edit", err)
			}
		}},
		{"500 on an edit is plainly retryable", func(t *testing.T, h *harness, id string) string {
			h.fake.FailEditNext(500, `{"error":"We're sorry, but something went wrong on our end."}`, nil)
			return id
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
			id := tc.setup(t, h, rcpt.RemoteID)
			tc.check(t, h.ch.Edit(testCtx(t), id, msgOf(channels.Post{Text: "عاجلٌ مصحَّح"})))
			if len(h.fake.Edits()) != 0 {
				t.Fatalf("a refused edit changed a status: %+v", h.fake.Edits())
			}
		})
	}
}

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
