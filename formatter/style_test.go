package formatter

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
	"herald/channels/telegram/telegramfake"
)

// sampleArticle is testdata/sample-article-ar.json: the seed page (testdata/seed-article-ar.txt)
// as a feed would send it, footer and all.
func sampleArticle(t *testing.T) article.Article {
	t.Helper()
	data, err := os.ReadFile("testdata/sample-article-ar.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := article.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	a.Normalize()
	return a
}

// TestGoldenStyles renders the seed-style Arabic article in every Telegram style preset, with
// and without its image, and compares the text with testdata/golden/styles (-update rewrites).
// docs/formatting.md shows these files as each preset's example.
func TestGoldenStyles(t *testing.T) {
	a := sampleArticle(t)
	for _, style := range Styles {
		for _, image := range []bool{true, false} {
			name := "telegram-" + style
			b := a
			if !image {
				b.ImageURL = ""
				name += "-noimage"
			}
			t.Run(name, func(t *testing.T) {
				r, err := New(channels.KindTelegram, Options{Style: style})
				if err != nil {
					t.Fatal(err)
				}
				p := mustRender(t, r, &b)
				link, _ := linkURL(b.URL, r.(*renderer).opt.utm)
				checkPost(t, channels.KindTelegram, p, link)
				plain, _, err := telegramfake.ParseHTML(p.Text)
				if err != nil {
					t.Fatalf("the fake Telegram refuses the post: %v", err)
				}
				if strings.Contains(plain, "utm_") || strings.Contains(plain, "http") {
					t.Errorf("the visible text shows the URL:\n%s", plain)
				}
				got := fmt.Sprintf("%s\n---\nvisible:\n%s\n---\nlength %d/%d %s, media %d\n", p.Text, plain, p.Length, p.Limit, p.Unit, len(p.Media))
				path := filepath.Join("testdata", "golden", "styles", name+".txt")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./formatter -run TestGoldenStyles -update)", err)
				}
				if string(want) != got {
					t.Errorf("%s differs; got:\n%s", path, got)
				}
			})
		}
	}
}

// longArabicURL is an article URL whose Arabic path percent-encodes to 6 characters a letter.
func longArabicURL(letters int) string {
	return "https://www.example-news.com/2024/10/13/" + strings.Repeat("ع", letters) + "/"
}

// TestPhotoCaptionWithLongURL is Found 2 of issue 11: an article with an image and a long
// Arabic URL failed with "post cannot fit … even with the link alone", because the visible link
// was the URL itself. Now the visible text is short, only the href carries the URL, and the post
// stays a photo with its caption.
func TestPhotoCaptionWithLongURL(t *testing.T) {
	a := &article.Article{URL: longArabicURL(400), Title: "عنوان الخبر العاجل عن الاقتصاد", Language: "ar",
		Summary: "ملخص الخبر في جملة واحدة.", ImageURL: "https://www.example-news.com/i.jpg"}
	r, err := New(channels.KindTelegram, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustRender(t, r, a)
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	if len(link) < 2400 {
		t.Fatalf("the test URL is only %d characters", len(link))
	}
	checkPost(t, channels.KindTelegram, p, link)
	if len(p.Media) != 1 || p.LinkPreview != nil || p.Limit != telegramCaptionLimit {
		t.Fatalf("want a photo post with its caption; got media %v, preview %v, limit %d", p.Media, p.LinkPreview, p.Limit)
	}
	if !strings.Contains(p.Text, a.Title) || !strings.Contains(p.Text, a.Summary) {
		t.Errorf("caption lost the title or summary:\n%s", p.Text)
	}
}

// TestPhotoCaptionFallback: a post a caption cannot hold (its title alone is over 1024 units)
// becomes a text message whose link preview shows the image, never an error or a cut title.
func TestPhotoCaptionFallback(t *testing.T) {
	title := strings.TrimSpace(strings.Repeat("عنوان طويل جدا ", 90)) // ~1350 units
	for _, style := range Styles {
		t.Run(style, func(t *testing.T) {
			a := &article.Article{URL: longArabicURL(700), Title: title, Language: "ar",
				Summary: "ملخص.", ImageURL: "https://www.example-news.com/i.jpg"}
			r, err := New(channels.KindTelegram, Options{Style: style})
			if err != nil {
				t.Fatal(err)
			}
			p := mustRender(t, r, a)
			link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
			checkPost(t, channels.KindTelegram, p, link)
			if len(p.Media) != 0 || p.Limit != telegramTextLimit {
				t.Fatalf("want a text message; got media %v, limit %d", p.Media, p.Limit)
			}
			want := channels.LinkPreview{URL: a.ImageURL, PreferLargeMedia: true, ShowAboveText: true}
			if p.LinkPreview == nil || *p.LinkPreview != want {
				t.Fatalf("link preview = %+v, want %+v", p.LinkPreview, want)
			}
			if !strings.Contains(p.Text, title) {
				t.Errorf("the title was cut:\n%s", p.Text)
			}
		})
	}
}

// TestTitleBareLessThan is Found 3 of issue 11: a '<' that opens no known tag is text, and so
// is a bare '&'; real tags and entities (escaped once or twice) are decoded.
func TestTitleBareLessThan(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x<y ارتفاع المؤشر", "x<y ارتفاع المؤشر"},
		{"سعر < 5 دولارات & أكثر", "سعر < 5 دولارات & أكثر"},
		{"AT&T <3 news", "AT&T <3 news"},
		{"a<b>c</b> d", "ac d"},
		{"<p>عنوان</p>", "عنوان"},
		{"Tom &amp; Jerry", "Tom & Jerry"},
		{"&amp;quot;مزدوج&amp;quot; &amp;amp; x", `"مزدوج" & x`},
		{"<b>bold</b> x<y", "bold x<y"},
		{"i<j and j>k", "i<j and j>k"},
	}
	for _, tc := range tests {
		if got := inlineText(tc.in); got != tc.want {
			t.Errorf("inlineText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	a := &article.Article{URL: "https://example.com/a", Title: "x<y ارتفاع المؤشر", Body: "نص x<y الخبر هنا. وبقية النص.", Language: "ar"}
	r, _ := New(channels.KindTelegram, Options{})
	p := mustRender(t, r, a)
	plain, _, err := telegramfake.ParseHTML(p.Text)
	if err != nil {
		t.Fatalf("the fake Telegram refuses the post: %v\n%s", err, p.Text)
	}
	if !strings.Contains(plain, "x<y ارتفاع المؤشر") || !strings.Contains(plain, "نص x<y الخبر هنا.") {
		t.Errorf("text was eaten:\n%s", plain)
	}
}

// TestVisibleLinkShort is Found 4 of issue 11: the link's visible text is short in Telegram
// (the UTM query only in the href) and the WhatsApp URL appears once, last, after a label line.
func TestVisibleLinkShort(t *testing.T) {
	a := sampleArticle(t)
	a.ImageURL = ""
	tg, _ := New(channels.KindTelegram, Options{})
	p := mustRender(t, tg, &a)
	plain, ents, err := telegramfake.ParseHTML(p.Text)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain, "utm_source") || !strings.HasSuffix(plain, "اقرأ المزيد") {
		t.Errorf("Telegram visible text:\n%s", plain)
	}
	found := false
	for _, e := range ents {
		found = found || (e.Type == "text_link" && strings.Contains(e.URL, "utm_source=telegram"))
	}
	if !found {
		t.Errorf("no link to the tracked URL in %+v", ents)
	}

	wa, _ := New(channels.KindWhatsApp, Options{})
	w := mustRender(t, wa, &a)
	link, _ := linkURL(a.URL, wa.(*renderer).opt.utm)
	if strings.Count(w.Text, link) != 1 || !strings.HasSuffix(w.Text, link) {
		t.Errorf("WhatsApp must carry the URL once, last:\n%s", w.Text)
	}
	lines := strings.Split(w.Text, "\n")
	if len(lines) < 2 || lines[len(lines)-2] != "🔗 اقرأ المزيد" {
		t.Errorf("no label line before the URL:\n%s", w.Text)
	}
	if w.LinkPreview == nil || w.LinkPreview.URL != link {
		t.Errorf("WhatsApp link preview = %+v, want the URL", w.LinkPreview)
	}

	for lang, want := range map[string]string{"en": "Read more", "fa": "بیشتر بخوانید", "": "example.com", "sw": "example.com"} {
		b := &article.Article{URL: "https://www.example.com/a?b=1", Title: "T", Language: lang}
		p := mustRender(t, tg, b)
		if !strings.Contains(p.Text, ">"+want+"</a>") {
			t.Errorf("language %q: link text in %q, want %q", lang, p.Text, want)
		}
	}
	for opt, want := range map[string]string{"host": "example.com", "المصدر": "المصدر"} {
		r, err := New(channels.KindTelegram, Options{LinkText: opt})
		if err != nil {
			t.Fatal(err)
		}
		p := mustRender(t, r, &article.Article{URL: "https://www.example.com/a", Title: "T", Language: "ar"})
		if !strings.Contains(p.Text, ">"+want+"</a>") {
			t.Errorf("link_text %q: %q", opt, p.Text)
		}
	}
}

func TestStyleOption(t *testing.T) {
	if _, err := New(channels.KindTelegram, Options{Style: "fancy"}); err == nil || !strings.Contains(err.Error(), "title-summary-link") {
		t.Errorf("unknown style: err = %v", err)
	}
	if _, err := New(channels.KindX, Options{Style: StyleTitleLink}); err == nil {
		t.Error("style accepted on x")
	}
	r, _ := New(channels.KindTelegram, Options{Style: StyleHeadlineOnly})
	p := mustRender(t, r, &article.Article{URL: "https://e.com/a", Title: "عنوان", Summary: "ملخص طويل.", Tags: []string{"وسم"}, Language: "ar"})
	if p.Text != `<b><a href="https://e.com/a?utm_source=telegram&amp;utm_medium=social">عنوان</a></b>` {
		t.Errorf("headline-only = %q", p.Text)
	}
}

// TestXLayout: the title first, hashtags only where they fit (they go before the title is cut),
// and no RLM on a line that starts with an Arabic letter.
func TestXLayout(t *testing.T) {
	r, _ := New(channels.KindX, Options{})
	a := &article.Article{URL: "https://e.com/a", Title: "عاجل: Apple تعلن نتائجها", Tags: []string{"اقتصاد", "تقنية"}, Language: "ar"}
	p := mustRender(t, r, a)
	if !strings.HasPrefix(p.Text, "عاجل: Apple") {
		t.Errorf("title not first, or marked: %q", p.Text)
	}
	if !strings.Contains(p.Text, "#اقتصاد #تقنية") || strings.Contains(p.Text, rlm+"#") {
		t.Errorf("hashtags: %q", p.Text)
	}
	a.Title = strings.TrimSpace(strings.Repeat("كلمة ", 50)) // 249 weighted: no room for hashtags
	p = mustRender(t, r, a)
	if strings.Contains(p.Text, "#") || !strings.Contains(p.Text, a.Title) || p.Length > xLimit {
		t.Errorf("want the whole title and no hashtags: %q (%d)", p.Text, p.Length)
	}
}
