package article_test

import (
	"errors"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/formatter"
)

// TestTitleRefusedAtPublishWhenNoPostCouldShowIt: every title the formatters would refuse as
// empty once cleaned (formatter.ErrEmptyTitle) is refused by Validate, so such an article is
// rejected before anything is queued instead of failing each of its deliveries; a title with
// something to read passes both.
func TestTitleRefusedAtPublishWhenNoPostCouldShowIt(t *testing.T) {
	r, err := formatter.New(channels.KindTelegram, formatter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{
		"\u200f", "&nbsp;", "<p></p>", "\u200b\u200b", "<script>alert(1)</script>", "&amp;nbsp;", " \u061c ",
		"<br/>&#8203;", "\ufeff", "<p>\u2067\u2069</p>",
		// Bare harakat (fatha, damma, kasra, shadda, sukun) and an enclosing mark: stray dots.
		"\u064e\u064f\u0650", " \u0651\u0652 ", "\u20dd",
		// With a letter they are a word; a lone tatweel or an emoji with its selector shows.
		"عَاجِل", "\u0640", "❤\ufe0f",
		"عاجل", "\u200f&nbsp;<b>عاجل</b>\u200b", "🔴", "٢٠٢٦", "&amp;", "<p>غزة</p>",
	} {
		a := article.Article{URL: "https://example.com/a", Title: title, Language: "ar"}
		a.Normalize()
		_, rerr := r.Render(&a)
		verr := a.Validate()
		if errors.Is(rerr, formatter.ErrEmptyTitle) != (verr != nil) {
			t.Errorf("title %+q: formatter %v, Validate %v; want both to refuse it or both to accept it", title, rerr, verr)
		}
	}
	// Bare harakat are refused, not posted as stray dots. (Failed before: both accepted them.)
	for _, title := range []string{"\u064e\u064f\u0650", " \u0651\u0652 ", "\u20dd"} {
		a := article.Article{URL: "https://example.com/a", Title: title, Language: "ar"}
		a.Normalize()
		if a.Validate() == nil {
			t.Errorf("title %+q of combining marks alone: accepted", title)
		}
	}
}
