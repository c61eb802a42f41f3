package formatter

import (
	"errors"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

// TestEmptyTitle: a title that passes the article's "required" check but holds nothing a reader
// sees once cleaned — a direction mark, an entity for a space, an empty element, zero-width
// spaces, a script — made a post without a headline: on Telegram a lone "اقرأ المزيد" link, on
// X a bare URL. Render refuses it with ErrEmptyTitle (the delivery fails with that reason; a
// correction can fix the title) on every kind that shows a title; WebSub, which carries only
// the link, still renders.
func TestEmptyTitle(t *testing.T) {
	for _, title := range []string{"\u200f", "&nbsp;", "<p></p>", "\u200b\u200b", "<script>alert(1)</script>", "&amp;nbsp;", " \u061c "} {
		a := &article.Article{URL: "https://example.com/a", Title: title, Body: "", Language: "ar"}
		for _, kind := range channels.Kinds {
			r, err := New(kind, Options{})
			if err != nil {
				t.Fatal(err)
			}
			posts, err := r.Render(a)
			if kind == channels.KindWebSub {
				if err != nil {
					t.Errorf("websub: %v", err)
				}
				continue
			}
			if !errors.Is(err, ErrEmptyTitle) {
				t.Errorf("%s: title %+q rendered %+v, %v; want ErrEmptyTitle", kind, title, posts, err)
			}
		}
	}
	// A title with text renders, whatever surrounds it.
	a := &article.Article{URL: "https://example.com/a", Title: "\u200f&nbsp;<b>عاجل</b>\u200b", Language: "ar"}
	for _, kind := range channels.Kinds {
		r, _ := New(kind, Options{})
		if _, err := r.Render(a); err != nil {
			t.Errorf("%s: %v", kind, err)
		}
	}
}

// TestEmptySummaryFallsBackToBody: feeds and CMSs send an empty excerpt as "<p>&nbsp;</p>",
// "&nbsp;", "<p></p>" or a lone direction mark. That summary field was taken as given, cleaned to
// nothing, and the post went out without a summary although the body holds the story: a summary
// that cleans to nothing counts as none, and the body's first paragraphs are the summary.
func TestEmptySummaryFallsBackToBody(t *testing.T) {
	body := "<p>ضرب زلزال بقوة 6 درجات على مقياس ريختر جنوب تركيا فجر اليوم، وفق هيئة الكوارث.</p>"
	for _, summary := range []string{"<p>&nbsp;</p>", "&nbsp;", "<p></p>", "\u200f", "<div><br></div>", "&amp;nbsp;"} {
		a := &article.Article{URL: "https://example.com/a", Title: "زلزال جنوب تركيا", Summary: summary, Body: body, Language: "ar"}
		for _, kind := range []channels.Kind{channels.KindTelegram, channels.KindWhatsApp, channels.KindMastodon, channels.KindFacebook} {
			r, _ := New(kind, Options{})
			if p := mustRender(t, r, a); !strings.Contains(p.Text, "هيئة الكوارث") {
				t.Errorf("%s: summary %+q: the body's story is missing:\n%s", kind, summary, p.Text)
			}
		}
	}
	// A summary with text is still the summary.
	a := &article.Article{URL: "https://example.com/a", Title: "زلزال جنوب تركيا", Summary: "<p>ملخص الخبر.</p>", Body: body, Language: "ar"}
	r, _ := New(channels.KindTelegram, Options{})
	if p := mustRender(t, r, a); !strings.Contains(p.Text, "ملخص الخبر.") || strings.Contains(p.Text, "هيئة الكوارث") {
		t.Errorf("summary field not used:\n%s", p.Text)
	}
}
