package formatter

import (
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"herald/article"
	"herald/channels"
)

// Every renderer is fuzzed for the same promises: no panic, valid UTF-8, Length within Limit
// and equal to an independent recount in the platform's unit, and the article link (URI form
// with UTM) intact where the platform links it. `make fuzz` runs each target for a bounded time:
// go test -run=^$ -fuzz=^FuzzRenderTelegram$ -fuzztime=10s ./formatter

func FuzzRenderTelegram(f *testing.F) { fuzzRender(f, channels.KindTelegram) }
func FuzzRenderX(f *testing.F)        { fuzzRender(f, channels.KindX) }
func FuzzRenderWhatsApp(f *testing.F) { fuzzRender(f, channels.KindWhatsApp) }
func FuzzRenderMastodon(f *testing.F) { fuzzRender(f, channels.KindMastodon) }
func FuzzRenderBluesky(f *testing.F)  { fuzzRender(f, channels.KindBluesky) }
func FuzzRenderDiscord(f *testing.F)  { fuzzRender(f, channels.KindDiscord) }
func FuzzRenderFacebook(f *testing.F) { fuzzRender(f, channels.KindFacebook) }
func FuzzRenderWebhook(f *testing.F)  { fuzzRender(f, channels.KindWebhook) }
func FuzzRenderThreads(f *testing.F)  { fuzzRender(f, channels.KindThreads) }
func FuzzRenderLinkedIn(f *testing.F) { fuzzRender(f, channels.KindLinkedIn) }

func addRenderSeeds(f *testing.F) {
	seed, err := os.ReadFile("testdata/seed-article-ar.txt")
	if err != nil {
		f.Fatal(err)
	}
	long := strings.Repeat("كلمة طويلة جدا ", 400)
	f.Add("زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي", "", string(seed),
		"https://www.defense-arabic.com/2024/10/13/زيلينسكي-يقول/", "أوكرانيا,كوريا الشمالية", "الدفاع و الامن", "ar", "")
	f.Add(long, long, long, "https://example.com/a?b=1#frag", strings.Repeat("وسم طويل,", 30), long, "ar", "https://example.com/i.jpg")
	f.Add(`<b>Tom & "Jerry"</b> <script>x</script>`, "a < b && c > d &amp; &nbsp;", "<p>x</p><style>p{}</style>",
		"http://مثال.إختبار/مسار?q=ع#ف", "#C++,#dup,dup", "*bold* _it_", "", "")
	f.Add("👨‍👩‍👧‍👦🇺🇦 1️⃣ e\u0301 \u200f\u202e", "\u2028\u00a0\u200b", "a\r\nb\u2029c",
		"https://example.com/(film).", "🇺🇦", "", "fa", "")
	f.Add("Breaking: 2024 results", "http://inline.example.com/x and #tag", strings.Repeat("<p>Sentence one. Sentence two!</p>", 200),
		"https://example.com/"+strings.Repeat("%D8%B9", 300), "", "", "en", "")
	f.Add("x", "", "", "https://"+strings.Repeat("a", 63)+".com/"+strings.Repeat("b", 5000), "", "", "", "")
}

func fuzzRender(f *testing.F, kind channels.Kind) {
	addRenderSeeds(f)
	r, err := New(kind, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, summary, body, rawURL, tags, category, lang, image string) {
		a := &article.Article{URL: rawURL, Title: title, Summary: summary, Body: body,
			Tags: strings.Split(tags, ","), Category: category, Language: lang, ImageURL: image}
		a.Normalize()
		repair(a, rawURL)
		if err := a.Validate(); err != nil {
			t.Fatalf("the repaired article is still invalid: %v", err)
		}
		posts, err := r.Render(a)
		rr := r.(*renderer)
		link, lerr := linkURL(a.URL, rr.opt.utm)
		if lerr != nil {
			if err == nil {
				t.Fatalf("Render accepted a link URIForm rejects (%v)", lerr)
			}
			return
		}
		if err != nil {
			if errors.Is(err, ErrTooLong) && linkAloneTooLong(rr, a, link) {
				return
			}
			if errors.Is(err, ErrEmptyTitle) && inlineText(a.Title) == "" {
				return // no headline, no post (TestEmptyTitle)
			}
			t.Fatalf("Render: %v", err)
		}
		if len(posts) != 1 {
			t.Fatalf("%d posts, want 1", len(posts))
		}
		checkPost(t, kind, posts[0], link)
	})
}

// repair makes an invalid article valid while keeping the fuzzer's text in play: every input
// is rendered (a skipped input would hide a regression; the long seed was skipped on every run
// for its 6000-character title). Texts are cut to the article limits, which are far above any
// platform's, so the formatter still has to cut them.
func repair(a *article.Article, rawURL string) {
	if a.Validate() == nil {
		return
	}
	valid := func(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
	cut := func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n])
		}
		return s
	}
	a.Title = cut(valid(a.Title), article.MaxTitleChars-2)
	if strings.TrimSpace(a.Title) == "" || inlineText(a.Title) == "" {
		// Nothing readable (an RLM, "&nbsp;", "<p></p>"): publish refuses it. A word first
		// keeps the rest of the fuzzer's title in play.
		a.Title = strings.TrimSpace("t " + a.Title)
	}
	a.Summary = cut(valid(a.Summary), article.MaxSummaryChar)
	a.Body = valid(a.Body)
	if len(a.Body) > article.MaxBodyBytes {
		a.Body = strings.ToValidUTF8(a.Body[:article.MaxBodyBytes], "")
	}
	a.Category, a.Language = valid(a.Category), valid(a.Language)
	if len(a.Tags) > article.MaxTags {
		a.Tags = a.Tags[:article.MaxTags]
	}
	for i := range a.Tags {
		a.Tags[i] = valid(a.Tags[i])
	}
	if a.Validate() != nil {
		a.URL = "https://example.com/" + url.PathEscape(valid(rawURL))
		a.ImageURL = ""
		a.ID = ""
		a.Normalize()
	}
}

// linkAloneTooLong: only a link that cannot fit by itself may make Render give up.
func linkAloneTooLong(r *renderer, a *article.Article, link string) bool {
	text, err := r.compose(&Data{URL: link, RTL: isRTL(a.Language, a.Title)}, r.opt.rtlMarks)
	if err != nil {
		return false
	}
	n, err := r.p.measure(text)
	limit := r.opt.limit
	if r.kind == channels.KindTelegram && a.ImageURL != "" {
		limit = telegramCaptionLimit
	}
	return err != nil || n > limit
}

// checkPost checks one rendered post against its platform's rules, recounting independently.
func checkPost(t *testing.T, kind channels.Kind, p channels.Post, link string) {
	t.Helper()
	if !utf8.ValidString(p.Text) {
		t.Fatalf("text is not valid UTF-8: %q", p.Text)
	}
	if p.Length > p.Limit {
		t.Fatalf("length %d over limit %d: %q", p.Length, p.Limit, p.Text)
	}
	var recount int
	switch kind {
	case channels.KindTelegram:
		n, err := CheckTelegramHTML(p.Text)
		if err != nil {
			t.Fatalf("Telegram would reject the HTML: %v\n%s", err, p.Text)
		}
		recount = n
		if len(p.Media) > 0 && n > telegramCaptionLimit {
			t.Fatalf("caption of %d units over 1024", n)
		}
	case channels.KindBluesky:
		recount = countGraphemesSlow(p.Text)
		if len(p.Text) > blueskyByteLimit {
			t.Fatalf("%d bytes over Bluesky's 3000", len(p.Text))
		}
	case channels.KindX:
		recount = CountX(p.Text)
	case channels.KindMastodon:
		recount = CountMastodon(p.Text)
	case channels.KindThreads:
		recount = countThreadsSlow(p.Text)
	default:
		recount = len(utf16Units(p.Text))
	}
	if recount != p.Length {
		t.Fatalf("Length %d, recount %d (%s): %q", p.Length, recount, kind, p.Text)
	}
	switch kind {
	case channels.KindTelegram:
		if !strings.Contains(p.Text, `<a href="`+telegramEscape(link)+`">`) {
			t.Fatalf("link %q missing from %q", link, p.Text)
		}
	case channels.KindBluesky:
		found := false
		for _, fc := range p.Facets {
			idx := fc["index"].(map[string]any)
			start, end := idx["byteStart"].(int), idx["byteEnd"].(int)
			if start < 0 || end > len(p.Text) || start >= end {
				t.Fatalf("facet range %d..%d outside text of %d bytes", start, end, len(p.Text))
			}
			feat := fc["features"].([]any)[0].(map[string]any)
			if feat["uri"] == link && p.Text[start:end] == blueskyDisplay(link) {
				found = true
			}
		}
		if !found {
			t.Fatalf("no link facet for %q in %v", link, p.Facets)
		}
	case channels.KindX, channels.KindMastodon:
		if !hasWholeURL(p.Text, link, kind == channels.KindX) {
			t.Fatalf("link %q not counted as one URL in %q", link, p.Text)
		}
	case channels.KindDiscord:
		if p.Text == "" { // an embed
			embeds, _ := p.Extra["embeds"].([]any)
			if len(embeds) != 1 || embeds[0].(map[string]any)["url"] != link {
				t.Fatalf("embed without the link %q: %v", link, p.Extra)
			}
		} else if !strings.Contains(p.Text, link) {
			t.Fatalf("link %q missing from %q", link, p.Text)
		}
	case channels.KindThreads:
		// A link too long for 500 leaves the text for the link_attachment of a text post.
		if !strings.Contains(p.Text, link) && (len(p.Media) > 0 || CountThreads(link) <= p.Limit) {
			t.Fatalf("link %q missing from %q", link, p.Text)
		}
		if len(p.Media) == 0 && p.Extra["link_attachment"] != link {
			t.Fatalf("text post's link_attachment %v, want %q", p.Extra["link_attachment"], link)
		}
	case channels.KindLinkedIn:
		// The link is the article card's source, not part of the little text.
		card, _ := p.Extra["article"].(map[string]any)
		if card == nil || card["source"] != link {
			t.Fatalf("article card %v, want source %q", p.Extra["article"], link)
		}
	default:
		if !strings.Contains(p.Text, link) {
			t.Fatalf("link %q missing from %q", link, p.Text)
		}
	}
}

// countThreadsSlow is CountThreads without its fast path: every grapheme through the
// segmenter, an emoji grapheme as its bytes.
func countThreadsSlow(s string) int {
	n := 0
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		c := g.Runes()
		emoji := false
		for _, r := range c {
			if isExtendedPictographic(r) || r >= 0x1F1E6 && r <= 0x1F1FF || r == 0x20E3 || r >= 0x2000 && unicode.Is(unicode.So, r) {
				emoji = true
			}
		}
		if emoji {
			n += len(g.Str())
		} else {
			n += len(c)
		}
	}
	return n
}

// hasWholeURL reports whether the platform's link detector finds exactly link in text.
func hasWholeURL(text, link string, withoutProtocol bool) bool {
	s := nfc(text)
	for _, u := range extractURLs(s, withoutProtocol) {
		if s[u.start:u.end] == link {
			return true
		}
	}
	// A link the detector cannot take whole is still counted in full by the same counter;
	// require at least that the text holds it.
	return strings.Contains(text, link) && len(extractURLs(link, withoutProtocol)) != 1
}

// utf16Units is an independent UTF-16 count through the standard library.
func utf16Units(s string) []uint16 {
	var out []uint16
	for _, r := range s {
		if r >= 0x10000 {
			out = append(out, 0, 0)
		} else {
			out = append(out, 0)
		}
	}
	return out
}

// FuzzCountGraphemes checks the fast grapheme path against the full segmenter.
func FuzzCountGraphemes(f *testing.F) {
	f.Add("قَالَ الرَّئِيسُ")
	f.Add("a\r\nb\u200d\u200cc \u200fx")
	f.Add("\u0600\u0661 e\u0301 👨‍👩‍👧")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := CountGraphemes(s), countGraphemesSlow(s); got != want {
			t.Fatalf("CountGraphemes(%q) = %d, segmenter says %d", s, got, want)
		}
	})
}

// FuzzCountX: CountX never panics, is at least the number of URLs' weights and at most twice
// the code points plus the URL allowance.
func FuzzCountX(f *testing.F) {
	f.Add("Hi http://test.co 😷 عربي")
	f.Add("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069")
	f.Add("www.example.com/(a(b)c)?q=1. example.com")
	f.Fuzz(func(t *testing.T, s string) {
		n := CountX(s)
		if n < 0 || n > 2*utf8.RuneCountInString(s)+xURLLength*strings.Count(s, ".") {
			t.Fatalf("CountX(%q) = %d out of bounds", s, n)
		}
	})
}
