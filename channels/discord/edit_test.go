package discord

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"herald/channels"
	"herald/channels/discord/discordfake"
)

func TestEditArabicMessageLandsExactlyAsRendered(t *testing.T) {
	for _, embed := range []bool{false, true} {
		t.Run(map[bool]string{false: "content", true: "embed"}[embed], func(t *testing.T) {
			h := newHarness(t, nil)
			rcpt, err := h.ch.Send(testCtx(t), msgOf(render(t, sample, embed)...))
			if err != nil {
				t.Fatal(err)
			}
			fixed := sample
			fixed.Title = "زيلينسكي يقولُ إنّ كوريا الشمالية أرسلت ١٢ ألف جنديٍّ لدعم الجيش الروسي @everyone"
			posts := render(t, fixed, embed)
			for range 2 { // a repeated identical edit is harmless
				if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(posts...)); err != nil {
					t.Fatal(err)
				}
			}
			got := h.fake.Messages()
			if len(got) != 1 || got[0].ID != rcpt.RemoteID || got[0].Edits != 2 || got[0].Content != posts[0].Text {
				t.Fatalf("Discord has %+v, want the one message with %q, edited twice", got, posts[0].Text)
			}
			if !embed && (!strings.Contains(got[0].Content, "جنديٍّ") || !strings.Contains(got[0].Content, sample.URL)) {
				t.Fatalf("content %q lacks harakat or link", got[0].Content)
			}
			if embed && (len(got[0].Embeds) != 1 || got[0].Embeds[0]["title"] != fixed.Title) {
				t.Fatalf("embeds %+v, want the corrected title", got[0].Embeds)
			}
			for _, e := range h.fake.Edits() {
				if e.Pinged || string(e.AllowedMentions) != `{"parse":[]}` {
					t.Fatalf("edit %+v: allowed_mentions must be {\"parse\":[]}", e)
				}
			}
		})
	}
}

func TestEditInThread(t *testing.T) {
	h := newHarness(t, nil, "thread_id: \""+discordfake.DefaultThread+"\"")
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "خبرٌ مصحَّح"})); err != nil {
		t.Fatal(err)
	}
	if got := h.fake.Messages(); got[0].Content != "خبرٌ مصحَّح" {
		t.Fatalf("%+v", got)
	}
	for _, r := range h.fake.Requests() {
		if r.Method == http.MethodPatch && r.Query != "thread_id="+discordfake.DefaultThread {
			t.Fatalf("edit query %q, want thread_id", r.Query)
		}
	}
}

func TestEditErrorClasses(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, h *harness, id string)
		check func(t *testing.T, err error)
	}{
		{"10008 deleted message is permanent", func(t *testing.T, h *harness, id string) {
			if err := h.ch.Delete(testCtx(t), id); err != nil {
				t.Fatal(err)
			}
		}, func(t *testing.T, err error) {
			var ae *APIError
			if !channels.IsPermanent(err) || !errors.As(err, &ae) || ae.Code != CodeUnknownMessage || !strings.Contains(err.Error(), "the message was deleted") {
				t.Fatalf("%v: want permanent, the message was deleted", err)
			}
		}},
		{"deleted webhook pauses", func(t *testing.T, h *harness, _ string) { h.fake.DeleteWebhook() }, func(t *testing.T, err error) {
			if _, ok := channels.AsPause(err); !ok {
				t.Fatalf("%v: want an auth pause", err)
			}
		}},
		{"429 is rate limited for retry_after", func(t *testing.T, h *harness, _ string) { h.fake.RateLimitEditNext(1.5) }, func(t *testing.T, err error) {
			rl, ok := channels.AsRateLimited(err)
			if !ok || time.Until(rl.RetryAt) < time.Second || time.Until(rl.RetryAt) > 2*time.Second {
				t.Fatalf("%v: want rate limited for 1.5 s", err)
			}
		}},
		{"400 invalid form body is permanent naming the field", func(t *testing.T, h *harness, _ string) {}, nil},
		{"500 is plainly retryable", func(t *testing.T, h *harness, _ string) { h.fake.FailEditNext(500, 0, "500: Internal Server Error") }, func(t *testing.T, err error) {
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
			tc.setup(t, h, rcpt.RemoteID)
			post := channels.Post{Text: "عاجلٌ مصحَّح"}
			check := tc.check
			if check == nil {
				post.Text = strings.Repeat("خ", discordfake.MaxContent+1)
				check = func(t *testing.T, err error) {
					if !channels.IsPermanent(err) || !strings.Contains(err.Error(), "content: Must be 2000 or fewer") {
						t.Fatalf("%v: want permanent naming content", err)
					}
				}
			}
			check(t, h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(post)))
			if len(h.fake.Edits()) != 0 {
				t.Fatalf("a refused edit changed the message: %+v", h.fake.Edits())
			}
		})
	}
}

// TestEditAfter429Waits: a 429 on an edit holds the bucket, as on a post.
func TestEditAfter429Waits(t *testing.T) {
	h := newHarness(t, nil)
	rcpt, err := h.ch.Send(testCtx(t), msgOf(channels.Post{Text: "خبر"}))
	if err != nil {
		t.Fatal(err)
	}
	h.fake.RateLimitEditNext(0.8)
	if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "خبر مصحح"})); err == nil {
		t.Fatal("want the injected 429")
	}
	start := time.Now()
	if err := h.ch.Edit(testCtx(t), rcpt.RemoteID, msgOf(channels.Post{Text: "خبر مصحح"})); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 600*time.Millisecond {
		t.Fatalf("edited %s after a 0.8 s 429", took)
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
