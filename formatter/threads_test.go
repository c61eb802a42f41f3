package formatter

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"herald/article"
	"herald/channels"
)

// harakatArticle is a vocalised Arabic article whose body is far longer than a Threads post.
func harakatArticle() *article.Article {
	// One long sentence without a stop or a comma: the cut must fall at a word.
	para := "قَالَ الرَّئِيسُ فِي مُؤْتَمَرٍ صَحَفِيٍّ إِنَّ المُفَاوَضَاتِ سَتُسْتَأْنَفُ غَدًا فِي العَاصِمَةِ وَإِنَّ الوَفْدَ سَيَضُمُّ وُزَرَاءَ الخَارِجِيَّةِ وَالدِّفَاعِ وَالاقْتِصَادِ"
	body := "<p>" + para
	for i := 0; i < 12; i++ {
		body += " وَأَضَافَ أَنَّ الجَوْلَةَ " + string(rune('١'+i%9)) + " سَتَكُونُ حَاسِمَةً وَ" + para
	}
	body += ".</p>"
	return &article.Article{
		ID:       "th1",
		URL:      "https://news.example.com/ar/2026/11/مفاوضات-غدا",
		Title:    "الرَّئِيسُ: المُفَاوَضَاتُ تُسْتَأْنَفُ غَدًا فِي العَاصِمَةِ",
		Body:     body,
		Tags:     []string{"مُفَاوَضَات", "سِيَاسَة", "Politics"},
		Category: "أخبار",
		Language: "ar",
	}
}

func TestThreadsArabicWithHarakatIsCutToFit(t *testing.T) {
	a := harakatArticle()
	r, err := New(channels.KindThreads, Options{SummaryMax: 4000}) // the summary alone is far over 500
	if err != nil {
		t.Fatal(err)
	}
	p := mustRender(t, r, a)
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	checkPost(t, channels.KindThreads, p, link)
	if p.Limit != 500 || p.Unit != UnitThreads || p.Length != CountThreads(p.Text) {
		t.Fatalf("length %d/%d %s, recount %d", p.Length, p.Limit, p.Unit, CountThreads(p.Text))
	}
	if p.Length < 450 {
		t.Errorf("only %d of 500 used: the summary was cut shorter than it had to be:\n%s", p.Length, p.Text)
	}
	// The link's line starts with an RLM so it stays right-to-left like the rest.
	if !strings.HasPrefix(p.Text, a.Title+"\n\n") || !strings.HasSuffix(p.Text, "\n\n"+rlm+link) {
		t.Fatalf("title and link not whole:\n%s", p.Text)
	}
	// The hashtag went first (no room), then the summary was cut: at a word, with "…", and
	// never between a letter and its harakat.
	summary := strings.TrimSuffix(strings.TrimPrefix(p.Text, a.Title+"\n\n"), "\n\n"+rlm+link)
	if strings.Contains(summary, "#") || !strings.HasSuffix(summary, "…") {
		t.Fatalf("summary %q: want cut with … and no hashtag", summary)
	}
	kept := strings.TrimSuffix(summary, "…")
	full := "قَالَ الرَّئِيسُ فِي مُؤْتَمَرٍ"
	if !strings.HasPrefix(kept, full) {
		t.Fatalf("summary does not start with the body: %q", kept)
	}
	// What follows the cut in the body is a space or punctuation, not a mark of the last letter.
	plainBody := strings.NewReplacer("<p>", "", "</p>", "").Replace(a.Body)
	i := strings.Index(plainBody, kept)
	if i < 0 {
		t.Fatalf("the kept summary is not a prefix of the body text: %q", kept)
	}
	next, _ := utf8.DecodeRuneInString(plainBody[i+len(kept):])
	if unicode.Is(unicode.Mn, next) || unicode.IsLetter(next) {
		t.Fatalf("cut inside a word: next is %q after %q", next, kept[len(kept)-20:])
	}
}

func TestThreadsOneHashtagAndLinkAttachment(t *testing.T) {
	a := harakatArticle()
	r, err := New(channels.KindThreads, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustRender(t, r, a)
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	checkPost(t, channels.KindThreads, p, link)
	if strings.Count(p.Text, "#") != 1 || !strings.Contains(p.Text, "\n#مفاوضات\n") { // the tag without its harakat (TestHashtagArabic)
		t.Fatalf("want exactly the first tag as the post's one topic:\n%s", p.Text)
	}
	if p.Extra["link_attachment"] != link || len(p.Media) != 0 {
		t.Fatalf("text post: extra %v media %v", p.Extra, p.Media)
	}

	a.ImageURL = "https://news.example.com/i/photo.jpg"
	p = mustRender(t, r, a)
	if len(p.Media) != 1 || p.Media[0].URL != a.ImageURL || p.Extra["link_attachment"] != nil || !strings.Contains(p.Text, link) {
		t.Fatalf("image post: media %v extra %v (link_attachment is for TEXT posts only)", p.Media, p.Extra)
	}
	off := false
	r, _ = New(channels.KindThreads, Options{Image: &off})
	if p = mustRender(t, r, a); len(p.Media) != 0 || p.Extra["link_attachment"] != link {
		t.Fatalf("image: false: media %v extra %v", p.Media, p.Extra)
	}

	if _, err := New(channels.KindThreads, Options{MaxHashtags: 2}); err == nil || !strings.Contains(err.Error(), "one tag per post") {
		t.Fatalf("max_hashtags 2: %v", err)
	}
	if r, err := New(channels.KindThreads, Options{MaxHashtags: -1}); err != nil || strings.Contains(mustRender(t, r, a).Text, "#") {
		t.Fatalf("max_hashtags -1: %v", err)
	}
}

// TestThreadsEmojiCountAsBytes: Threads counts an emoji as its UTF-8 bytes, so a title of
// emoji fills the post four times as fast as its characters suggest.
func TestThreadsEmojiCountAsBytes(t *testing.T) {
	for in, want := range map[string]int{
		"عاجل":            4,
		"قَالَ":           5, // harakat count: the safe side
		"😷":               4,
		"👍🏽":              8,
		"🇸🇦":              8,
		"#️⃣":             7,
		"👨\u200d👩\u200d👧": 18,
		"© 2026":          7, // © may render as emoji: its 2 bytes
		"a\u0301":         2,
		"⌘ ١":             5, // a symbol that may show as emoji: its 3 bytes
	} {
		if got, slow := CountThreads(in), countThreadsSlow(in); got != want || slow != want {
			t.Errorf("CountThreads(%q) = %d (slow %d), want %d", in, got, slow, want)
		}
	}
	a := &article.Article{URL: "https://news.example.com/e", Title: strings.Repeat("🔴 عاجل ", 80), Language: "ar"}
	r, _ := New(channels.KindThreads, Options{})
	p := mustRender(t, r, a)
	checkPost(t, channels.KindThreads, p, "https://news.example.com/e?utm_source=threads&utm_medium=social")
	if p.Length > 500 || utf8.RuneCountInString(p.Text) > 400 {
		t.Fatalf("%d runes, length %d: emoji not counted as bytes", utf8.RuneCountInString(p.Text), p.Length)
	}
}

// TestThreadsLinkTooLongForTheText: Threads counts a URL in full, and a percent-encoded Arabic
// slug can pass 500 by itself. The post then carries the link as its link_attachment card, as a
// text post (the image dropped: link_attachment is for TEXT posts only).
func TestThreadsLinkTooLongForTheText(t *testing.T) {
	a := harakatArticle()
	a.URL = "https://news.example.com/ar/" + strings.Repeat("مفاوضات-", 12)
	a.ImageURL = "https://news.example.com/i/photo.jpg"
	r, _ := New(channels.KindThreads, Options{})
	p := mustRender(t, r, a)
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	if CountThreads(link) <= 500 {
		t.Fatalf("the test link is only %d long", CountThreads(link))
	}
	checkPost(t, channels.KindThreads, p, link)
	if strings.Contains(p.Text, "https://") || p.Extra["link_attachment"] != link || len(p.Media) != 0 || !strings.HasPrefix(p.Text, a.Title) {
		t.Fatalf("text %q media %v extra %v", p.Text, p.Media, p.Extra)
	}
}
