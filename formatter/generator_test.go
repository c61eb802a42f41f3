package formatter

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"

	"github.com/rivo/uniseg"
	"golang.org/x/text/unicode/norm"

	"herald/article"
	"herald/channels"
	"herald/channels/telegram/telegramfake"
)

// Hostile pieces real feeds send, the generator's vocabulary.
var (
	genWords = []string{
		// Arabic, with harakat, tatweel and Arabic punctuation
		"قَالَ", "الرَّئِيسُ", "الأوكراني", "كوريا", "الشمالية،", "تحالفًا", "متزايدًا؛", "هل؟", "ـــ", "١٢٣٤",
		// Persian with ZWNJ, Urdu, Hebrew
		"می\u200cخواهم", "گزارش", "خبرنگار", "پاکستان", "שלום", "ירושלים", "חדשות",
		// CJK, Thai, Devanagari, Latin with combining marks
		"東京", "新闻报道", "한국어", "ข่าว", "समाचार", "cafe\u0301", "Zürich", "naïve",
		// emoji old and new, sequences, flags, keycaps, text-default symbols
		"😀", "👨‍👩‍👧‍👦", "🇵🇸", "🇸🇦", "🫶🏿", "🫶", "❤️‍🔥", "🥲", "🧑🏽‍🚀", "1️⃣", "©️", "☺︎", "🏳️‍🌈", "🐈‍⬛", "👍🏽",
		// entities single and double escaped, bare < and &, real tags
		"&amp;", "&amp;amp;", "&quot;اقتباس&quot;", "&amp;quot;مزدوج&amp;quot;", "&#1575;", "&#x1F600;", "&nbsp;",
		"&apos;", "&hellip;", "AT&T", "R&D", "x<y", "a < b", "<3", "i<j>k", "<b>عريض</b>", "<i>مائل</i>",
		// markup characters of other platforms, mentions, URLs inside text
		"*نجمة*", "_خط_", "~شطب~", "`كود`", "@everyone", "#وسم", "[رابط](x)", "example.com", "https://t.co/x",
		// direction marks and invisible characters
		"\u200f", "\u200e", "\u202b", "\u2066", "\u200b", "\ufeff",
		// plain words
		"the", "news", "report", "2024", "%", "(", ")", "\"", "'", ".", "!",
	}
	genURLs = []func(r *rand.Rand) string{
		func(r *rand.Rand) string { return "https://example.com/news/" + fmt.Sprint(r.IntN(1e6)) },
		func(r *rand.Rand) string { // long percent-encoded Arabic path
			return "https://www.example-news.com/2024/10/13/" + strings.Repeat("زيلينسكي-يقول-", 1+r.IntN(25)) + "/"
		},
		func(r *rand.Rand) string {
			return "https://مثال.السعودية/أخبار/" + strings.Repeat("خبر-", 1+r.IntN(10))
		},
		func(r *rand.Rand) string {
			return "https://bücher.example.de/artikel?id=" + fmt.Sprint(r.IntN(1000)) + "#teil"
		},
		func(r *rand.Rand) string { return "http://example.org/a_(b)/c.html?x=1&y=<2>&utm_source=feed" },
		func(r *rand.Rand) string {
			return "https://news.example.co.uk/" + strings.Repeat("very-long-segment/", 20+r.IntN(60)) + "end."
		},
		func(r *rand.Rand) string {
			return "https://example.com/%D8%B9%D8%B1%D8%A8%D9%8A?q=%E2%9C%93&utm_medium=x"
		},
	}
	genImages = []string{"", "", "https://example.com/i.jpg", "https://مثال.السعودية/صورة.png", "http://img.example.com/a%20b.webp"}
	genLangs  = []string{"ar", "ar", "fa", "he", "ur", "en", "zh", "", "ar-EG"}
)

func genText(r *rand.Rand, words int) string {
	var b strings.Builder
	for i := 0; i < words; i++ {
		if i > 0 {
			b.WriteString([]string{" ", " ", " ", "  ", "\n", " - ", "، "}[r.IntN(7)])
		}
		b.WriteString(genWords[r.IntN(len(genWords))])
	}
	return b.String()
}

// genArticle builds one hostile article; sizes range from a word to over every limit.
func genArticle(r *rand.Rand) *article.Article {
	a := &article.Article{
		URL:      genURLs[r.IntN(len(genURLs))](r),
		Title:    genText(r, 1+r.IntN([]int{8, 30, 400}[r.IntN(3)])),
		ImageURL: genImages[r.IntN(len(genImages))],
		Language: genLangs[r.IntN(len(genLangs))],
		Category: genText(r, r.IntN(3)),
	}
	if r.IntN(2) == 0 {
		a.Summary = genText(r, r.IntN(300))
	}
	switch r.IntN(3) {
	case 0:
		a.Body = genText(r, r.IntN(600))
	case 1:
		a.Body = "<p>" + genText(r, r.IntN(200)) + "</p><script>var x = '<p>no</p>';</script><p>" + genText(r, r.IntN(200)) + "</p>"
	}
	for n := r.IntN(16); n > 0; n-- {
		a.Tags = append(a.Tags, genText(r, 1+r.IntN(3)))
	}
	if len([]rune(a.Title)) > article.MaxTitleChars {
		a.Title = string([]rune(a.Title)[:article.MaxTitleChars])
	}
	a.Normalize()
	return a
}

// TestGeneratedArticles runs a few hundred generated hostile articles through every renderer
// (and every Telegram style): no error, no post over its limit in the platform's unit, the
// article URL intact, no grapheme cut in half, and Telegram's HTML accepted by the fake Telegram,
// which parses it exactly as Telegram does.
func TestGeneratedArticles(t *testing.T) {
	const n = 300
	rng := rand.New(rand.NewPCG(11, 2026))
	type target struct {
		name string
		kind channels.Kind
		r    Renderer
	}
	var targets []target
	for _, kind := range channels.Kinds {
		r, err := New(kind, Options{})
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, target{string(kind), kind, r})
	}
	for _, style := range Styles[1:] {
		r, err := New(channels.KindTelegram, Options{Style: style})
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, target{"telegram/" + style, channels.KindTelegram, r})
	}
	posts := 0
	for i := 0; i < n; i++ {
		a := genArticle(rng)
		// A title of a lone mark or zero-width character: publish refuses it (article.Validate),
		// and the renderers, should one reach them, refuse it too (TestEmptyTitle).
		emptyTitle := inlineText(a.Title) == ""
		if err := a.Validate(); err != nil && !emptyTitle {
			t.Fatalf("article %d is invalid: %v", i, err)
		} else if err == nil && emptyTitle {
			t.Fatalf("article %d: title %+q cleans to nothing, yet Validate accepts it", i, a.Title)
		}
		source := sourceGraphemes(a)
		for _, tg := range targets {
			out, err := tg.r.Render(a)
			if emptyTitle && tg.kind != channels.KindWebSub {
				// No headline, no post (TestEmptyTitle).
				if !errors.Is(err, ErrEmptyTitle) {
					t.Fatalf("article %d, %s: title %+q: %v, want ErrEmptyTitle", i, tg.name, a.Title, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("article %d, %s: %v\n%+v", i, tg.name, err, a)
			}
			p := out[0]
			posts++
			link, err := linkURL(a.URL, tg.r.(*renderer).opt.utm)
			if err != nil {
				t.Fatal(err)
			}
			checkPost(t, tg.kind, p, link) // length ≤ limit, recounted independently, link whole
			visible := p.Text
			if tg.kind == channels.KindTelegram {
				plain, _, err := telegramfake.ParseHTML(p.Text)
				if err != nil {
					t.Fatalf("article %d, %s: the fake Telegram refuses the post: %v\n%s", i, tg.name, err, p.Text)
				}
				limit := telegramfake.MaxTextLen
				if len(p.Media) > 0 {
					limit = telegramfake.MaxCaptionLen
				}
				if n := telegramfake.UTF16Len(plain); n != p.Length || n > limit || strings.TrimSpace(plain) == "" {
					t.Fatalf("article %d, %s: %d visible units (post says %d), limit %d", i, tg.name, n, p.Length, limit)
				}
				visible = plain
			}
			if u := unmatchedBidi(visible); len(u) > 0 {
				t.Fatalf("article %d, %s: direction controls %+q without their partner:\n%+q", i, tg.name, u, visible)
			}
			if g := cutGrapheme(visible, source); g != "" {
				t.Fatalf("article %d, %s: grapheme %+q is not whole in the post:\n%s", i, tg.name, g, visible)
			}
		}
	}
	t.Logf("%d articles, %d posts", n, posts)
}

// sourceGraphemes is every multi-code-point grapheme cluster of the article's text (NFC), and
// of the layouts' own pieces.
func sourceGraphemes(a *article.Article) map[string]bool {
	set := map[string]bool{"🔗": true, "@" + mentionBreak: true} // mention.go's joiner
	add := func(s string) {
		s = norm.NFC.String(unescapeText(s))
		g := uniseg.NewGraphemes(s)
		for g.Next() {
			if c := g.Str(); len([]rune(c)) > 1 {
				set[c] = true
			}
		}
	}
	for _, s := range append([]string{a.Title, a.Summary, a.Body, a.Category}, a.Tags...) {
		add(s)
	}
	return set
}

// cutGrapheme returns a grapheme cluster of text that is part of a cluster of the source (an
// emoji without its skin tone or its joined part, a letter without its marks), or "".
func cutGrapheme(text string, source map[string]bool) string {
	g := uniseg.NewGraphemes(text)
	for g.Next() {
		c := g.Str()
		rs := []rune(c)
		if len(rs) == 1 {
			r := rs[0]
			// A mark, a joiner, a skin tone or a variation selector alone was cut from its base.
			if unicode.Is(unicode.Mn, r) || r == 0x200D || isSkinTone(r) || r == 0xFE0F || r == 0x20E3 {
				return c
			}
			continue
		}
		if c == "\r\n" || source[c] {
			continue
		}
		// Clusters the post builds itself: a letter with marks of a hashtag (same marks, so in the
		// source) or text joined by '_'. Anything else is a piece of a source cluster.
		if !graphemeOfSource(c, source) {
			return c
		}
	}
	return ""
}

// graphemeOfSource accepts a cluster equal to a source cluster once direction marks and
// joiners added by the layout ('_' in hashtags) are ignored.
func graphemeOfSource(c string, source map[string]bool) bool {
	trimmed := strings.Trim(c, "\u200f_")
	return trimmed == "" || len([]rune(trimmed)) == 1 || source[trimmed]
}

// TestCutGraphemeDetects: the generator's check sees a cluster cut in half.
func TestCutGraphemeDetects(t *testing.T) {
	source := sourceGraphemes(&article.Article{Title: "قَالَ 👍🏽 👨‍👩‍👧"})
	for _, bad := range []string{"ق َ", "🏽", "👍 🏽", "👨‍👩", "x\u200d"} {
		if cutGrapheme(bad, source) == "" {
			t.Errorf("cutGrapheme(%+q) saw no cut", bad)
		}
	}
	for _, good := range []string{"قَالَ", "👍🏽 ok", "👨‍👩‍👧", "\u200f#قَالَ_x", "text …"} {
		if g := cutGrapheme(good, source); g != "" {
			t.Errorf("cutGrapheme(%+q) = %+q", good, g)
		}
	}
}

// TestHashtagMarkWithoutLetter: a tag whose symbol carries a variation selector or keycap
// (©️, 1️⃣) made a hashtag starting with a bare mark ("#\ufe0f_…"), a cut grapheme; found by
// TestGeneratedArticles.
func TestHashtagMarkWithoutLetter(t *testing.T) {
	for in, want := range map[string]string{"©️ example": "example", "1️⃣ خبر": "1_خبر", "قَالَ": "قال", "☺︎ وسم": "وسم", "a\u0301b": "áb"} {
		if got := Hashtag(in); got != want {
			t.Errorf("Hashtag(%+q) = %+q, want %+q", in, got, want)
		}
	}
}

// TestDiscordLongLinkEmbed: a link longer than Discord's 2000-character content goes out in an
// embed's url instead of failing; found by TestGeneratedArticles.
func TestDiscordLongLinkEmbed(t *testing.T) {
	r, _ := New(channels.KindDiscord, Options{})
	a := &article.Article{URL: "https://example.com/" + strings.Repeat("ع", 400), Title: "عنوان", Language: "ar"}
	p := mustRender(t, r, a)
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	checkPost(t, channels.KindDiscord, p, link)
	if p.Text != "" {
		t.Fatalf("want an embed, got content %q", p.Text)
	}
}
