package bluesky

import (
	"fmt"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/formatter"
)

// TestEveryRenderedPostPassesThePDS: what the bluesky formatter makes for awkward articles —
// a title far over 300 graphemes, harakat, emoji sequences, mixed Arabic and Latin, tags with
// punctuation and spaces, a long URL with an Arabic path — is a record the fake PDS accepts,
// facets on their bytes included.
func TestEveryRenderedPostPassesThePDS(t *testing.T) {
	h := newHarness(t, nil)
	long := strings.Repeat("قَالَ الرَّئِيسُ إِنَّ المُفَاوَضَاتِ مُسْتَمِرَّةٌ، ", 30)
	cases := []article.Article{
		{URL: "https://news.example.com/a/1", Title: long, Tags: []string{"مفاوضات", "سياسة"}, Language: "ar"},
		{URL: "https://news.example.com/أخبار/2026/11/قمة-الدوحة-وقف-إطلاق-النار-تبادل-الأسرى", Title: "قمّة الدوحة 🇶🇦👨‍👩‍👧: جولة جديدة", Tags: []string{"قمة الدوحة", "وقف إطلاق النار!", "C++", "#عاجل"}, Language: "ar"},
		{URL: "https://news.example.com/b?id=7&utm_source=x", Title: "NASA تُعلن «Gateway» في 2027 — Artemis", Summary: strings.Repeat("ملخص ", 200), Tags: []string{"ناسا", "Space", "أرتميس"}, Language: "ar"},
		{URL: "https://news.example.com/c", Title: "Breaking: talks resume", Tags: []string{"news"}, Language: "en"},
		{URL: "https://news.example.com/d", Title: strings.Repeat("🇵🇸", 400), Language: "ar"},
		{URL: "https://news.example.com/e", Title: "كوريا الشمالية و#كوريا", Tags: []string{"كوريا الشمالية", "كوريا", "كوريا"}, Language: "ar"},
	}
	for i, a := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			a.Normalize()
			r, err := formatter.New(channels.KindBluesky, formatter.Options{})
			if err != nil {
				t.Fatal(err)
			}
			posts, err := r.Render(&a)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.ch.Send(testCtx(t), msgOf(fmt.Sprintf("render-%d", i), posts...)); err != nil {
				t.Fatalf("%v\ntext %q\nfacets %v", err, posts[0].Text, posts[0].Facets)
			}
		})
	}
	if n := len(h.fake.Posts()); n != len(cases) {
		t.Fatalf("%d posts, want %d", n, len(cases))
	}
}
