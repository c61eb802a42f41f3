package formatter

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/bidi"

	"herald/article"
	"herald/channels"
)

// TestURLLineDirection: an RLM before a line that holds only the link makes that line a
// right-to-left paragraph, and there a URL whose last character is neutral (the "/" that ends a
// WordPress permalink, an "=" or "-") shows that character at the far left, before "https":
// "/https://www.defense-arabic.com/2024/10/13/…". UAX #9 N1/N2: a neutral between the URL's last
// Latin letter (L) and the paragraph's end (sos/eos = R in an RTL paragraph) takes the
// paragraph's direction, R. Such a line stays left-to-right (no RLM); a URL ending in a letter
// or digit (the UTM parameters) keeps its RLM, which only aligns it with the Arabic lines.
// Specs: https://www.unicode.org/reports/tr9/#Resolving_Neutral_Types
func TestURLLineDirection(t *testing.T) {
	off := false
	tests := []struct {
		name     string
		url      string
		utm      *bool
		wantMark bool // the URL line starts with an RLM
	}{
		{"permalink ending in / without utm", "https://www.defense-arabic.com/2024/10/13/زيلينسكي-يقول/", &off, false},
		{"latin path ending in / without utm", "https://example.com/news/2024/10/13/", &off, false},
		{"query ending in = without utm", "https://example.com/story?id=", &off, false},
		{"slug ending in - without utm", "https://example.com/story-", &off, false},
		{"slug ending in a digit without utm", "https://example.com/story/2024", &off, true},
		{"permalink with utm (ends in a letter)", "https://www.defense-arabic.com/2024/10/13/زيلينسكي-يقول/", nil, true},
	}
	for _, kind := range []channels.Kind{channels.KindWhatsApp, channels.KindX, channels.KindThreads} {
		for _, tc := range tests {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				r, err := New(kind, Options{UTM: UTMOptions{Enabled: tc.utm}})
				if err != nil {
					t.Fatal(err)
				}
				a := &article.Article{URL: tc.url, Language: "ar", Title: "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي"}
				p := mustRender(t, r, a)
				link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
				checkPost(t, kind, p, link)
				var line string
				for _, l := range strings.Split(p.Text, "\n") {
					if strings.Contains(l, link) {
						line = l
					}
				}
				if strings.TrimPrefix(line, rlm) != link {
					t.Fatalf("want the link alone on its line, got %q in\n%s", line, p.Text)
				}
				marked := strings.HasPrefix(line, rlm)
				if marked {
					last, _ := utf8.DecodeLastRuneInString(link)
					if c := bidiClass(last); c != bidi.L && c != bidi.EN {
						t.Errorf("RLM before a URL ending in %q (bidi class %v): it shows at the line's start\n%q", last, c, line)
					}
				}
				if marked != tc.wantMark {
					t.Errorf("RLM before the link line = %v, want %v: %q", marked, tc.wantMark, line)
				}
			})
		}
	}
}

// TestURLLineDirectionTelegramTemplate: a Telegram template that shows the URL itself
// ({{link .URL}}) is judged by its visible text, not its tags.
func TestURLLineDirectionTelegramTemplate(t *testing.T) {
	off := false
	r, err := New(channels.KindTelegram, Options{Template: "<b>{{escape .Title}}</b>\n{{link .URL}}", UTM: UTMOptions{Enabled: &off}})
	if err != nil {
		t.Fatal(err)
	}
	a := &article.Article{URL: "https://example.com/news/2024/10/13/", Language: "ar", Title: "عنوان الخبر"}
	p := mustRender(t, r, a)
	want := "<b>عنوان الخبر</b>\n<a href=\"https://example.com/news/2024/10/13/\">https://example.com/news/2024/10/13/</a>"
	if p.Text != want {
		t.Errorf("text %q, want %q (no RLM before the URL ending in /)", p.Text, want)
	}
	a.URL = "https://example.com/news/2024/10/13/story"
	if p = mustRender(t, r, a); !strings.Contains(p.Text, "\n"+rlm+"<a href") {
		t.Errorf("a URL ending in a letter keeps its RLM: %q", p.Text)
	}
}

// unmatchedBidi returns the explicit direction controls of s left without their partner on
// their line: an opener (LRE RLE LRO RLO LRI RLI FSI) never closed, a closer (PDF PDI) that
// closes nothing. Written apart from the formatter's own balancing, after UAX #9 BD9/X6a.
func unmatchedBidi(s string) []rune {
	var out []rune
	for _, line := range strings.Split(s, "\n") {
		var stack []rune
		for _, r := range line {
			switch r {
			case 0x202A, 0x202B, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068:
				stack = append(stack, r)
			case 0x202C:
				if len(stack) > 0 && stack[len(stack)-1] < 0x2066 {
					stack = stack[:len(stack)-1]
				} else {
					out = append(out, r)
				}
			case 0x2069:
				k := -1
				for j := range stack {
					if stack[j] >= 0x2066 {
						k = j
					}
				}
				if k < 0 {
					out = append(out, r)
				} else {
					stack = stack[:k]
				}
			}
		}
		out = append(out, stack...)
	}
	return out
}

// TestCutBidiControls: a cut inside an isolate or embedding (a Latin brand isolated in an
// Arabic title, Word's LRE…PDF around a model name) left its opener without its PDI/PDF, and
// put "…" inside it: the ellipsis then showed beside the Arabic, mid-line, instead of at the
// line's end, and anything after the cut on that line (a template's link) joined the isolate.
// UAX #9 X6a/X7: an isolate or embedding runs to its closer or the paragraph's end. The opener
// whose closer was cut away goes; the text keeps its order.
// Specs: https://www.unicode.org/reports/tr9/#Explicit_Directional_Isolates
func TestCutBidiControls(t *testing.T) {
	const (
		lri, rli, fsi, pdi = "\u2066", "\u2067", "\u2068", "\u2069"
		lre, pdf           = "\u202a", "\u202c"
	)
	tests := []struct {
		name      string
		in        string
		n         int
		sentences bool
		want      string
	}{
		{"isolate cut in the middle", "قال " + lri + "Samsung Galaxy S24 Ultra" + pdi + " إن الهاتف الجديد سيصل قريبا", 20, false, "قال Samsung Galaxy…"},
		{"first-strong isolate", "أعلنت " + fsi + "Apple Inc. Cupertino" + pdi + " عن نتائجها الفصلية اليوم", 24, false, "أعلنت Apple Inc.…"},
		{"word embedding cut", "قال " + lre + "Microsoft Windows Server" + pdf + " إن", 23, false, "قال Microsoft Windows…"},
		{"nested isolate and embedding", "قال " + rli + "المدير " + lre + "John Smith Jr" + pdf + " اليوم" + pdi + " إن", 19, false, "قال المدير John…"},
		{"whole isolate kept", "قال " + lri + "Apple" + pdi + " إن الشركة ستطلق هاتفها الجديد قريبا جدا", 22, false, "قال " + lri + "Apple" + pdi + " إن الشركة…"},
		{"sentence cut inside an isolate", "قال " + lri + "Apple. Samsung" + pdi + " إن الشركة ستطلق الهاتف الجديد", 14, true, "قال Apple."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := cutText(tc.in, tc.n, tc.sentences)
			if u := unmatchedBidi(got); len(u) > 0 {
				t.Errorf("cutText left %+q without a partner: %+q", u, got)
			}
			if got != tc.want {
				t.Errorf("cutText = %+q, want %+q", got, tc.want)
			}
		})
	}
	// Through a render: X's title cut by the fit keeps no dangling control either.
	r, _ := New(channels.KindX, Options{})
	a := &article.Article{URL: "https://example.com/a", Language: "ar",
		Title: strings.Repeat("عاجل ", 20) + lri + strings.Repeat("Samsung Galaxy ", 20) + pdi + " في الأسواق"}
	p := mustRender(t, r, a)
	if u := unmatchedBidi(p.Text); len(u) > 0 || !strings.Contains(p.Text, "…") {
		t.Errorf("X post %+q: unmatched %+q", p.Text, u)
	}
}

// TestCleanLineBidiControls: stripping the direction marks at a paragraph's ends (they direct
// nothing there) took the closer of an isolate and left its opener, or left a closer whose opener
// went: "⁦Apple⁩ تطلق هاتفا ⁦iPhone 16⁩" became "Apple⁩ تطلق هاتفا ⁦iPhone 16", with a stray PDI
// (weighing 2 on X) and an LRI open to the line's end, taking in whatever a layout puts after
// the title on its line. Unmatched controls from the source (Word's RLE without its PDF) go too;
// matched pairs inside the text stay.
func TestCleanLineBidiControls(t *testing.T) {
	tests := []struct{ in, want string }{
		{"\u2066Apple\u2069 تطلق هاتفا \u2066iPhone 16\u2069", "Apple تطلق هاتفا iPhone 16"},
		{"قال \u2066Apple\u2069 إن", "قال \u2066Apple\u2069 إن"},
		{"قال \u202bشركة Apple إن الهاتف", "قال شركة Apple إن الهاتف"},
		{"\u202bقال\u202c \u202aApple\u202c", "قال Apple"},
		{"قال\u202c إن", "قال إن"},
		{"قال \u2066 إن \u200f", "قال إن"},                                           // an LRI alone between two words
		{"نص \u2067عربي \u202aLatin\u2069 نص", "نص \u2067عربي \u202aLatin\u2069 نص"}, // the PDI closes both
	}
	for _, tc := range tests {
		got := cleanLine(tc.in)
		if u := unmatchedBidi(got); len(u) > 0 {
			t.Errorf("cleanLine(%+q) = %+q: %+q without a partner", tc.in, got, u)
		}
		if got != tc.want {
			t.Errorf("cleanLine(%+q) = %+q, want %+q", tc.in, got, tc.want)
		}
	}
}

// TestCutKeepsLamAlef: lam followed by alef (لا, لأ, لإ, لآ) is drawn as one ligature, ﻻ; a cut
// between the two, which grapheme clusters allow, leaves a lam in its final form and the alef
// gone: "…الاستقل…" reads as another word. A cut inside a long word (a hashtag-like compound, a
// path shown on Bluesky) backs off before the lam, with its harakat.
func TestCutKeepsLamAlef(t *testing.T) {
	for _, word := range []string{
		strings.Repeat("الاستقلال", 8),
		strings.Repeat("سلَام", 12), // lam with a fatha before the alef
		strings.Repeat("لأولالإسلامآلاف", 4),
	} {
		for n := 3; n < len([]rune(word)); n++ {
			got := strings.TrimSuffix(cutText(word, n, false), ellipsis)
			if got == "" {
				continue
			}
			rest := strings.TrimPrefix(word, got)
			base := strings.TrimRightFunc(got, isArabicMark)
			next, _ := utf8.DecodeRuneInString(rest)
			if strings.HasSuffix(base, "ل") && strings.ContainsRune("اأإآٱ", next) {
				t.Errorf("cutText(n=%d) split lam-alef: %q | %q", n, got, rest[:min(len(rest), 8)])
			}
		}
	}
	// Bluesky's shortened link text is cut the same way.
	show := blueskyDisplay("https://example.com/" + strings.Repeat("%D9%84%D8%A7", 40))
	if strings.HasSuffix(strings.TrimSuffix(show, ellipsis), "ل") {
		t.Errorf("Bluesky link text split lam-alef: %q", show)
	}
}

// TestURLInRTLTextEndsWithLRM: a URL inside an Arabic line ("المصدر: https://www.spa.gov.sa/news/")
// whose last character is neutral (/ = -) shows that character on the wrong side (UAX #9 N1/N2:
// between the URL's Latin and the Arabic or the line's end it takes the line's direction, R): the
// "/" jumps before "https" or between the URL and the next Arabic word. An LRM (U+200E) right after
// such a URL keeps it with the URL. Only on Telegram and X, whose link detectors end a URL there
// (TDLib: no General Punctuation but ZWJ/ZWNJ in a URL; twitter-text: U+200E is no URL character),
// so the link stays whole; X counts the mark 2.
func TestURLInRTLTextEndsWithLRM(t *testing.T) {
	const lrm = "\u200e"
	a := &article.Article{URL: "https://example.com/a", Language: "ar",
		Title:   "السعودية تعلن موازنة 2025، والتفاصيل في https://www.spa.gov.sa/news/ اليوم",
		Summary: "أعلنت وزارة المالية الموازنة، والبيان الكامل على https://www.mof.gov.sa/budget/2025/"}
	for _, kind := range []channels.Kind{channels.KindTelegram, channels.KindX} {
		on := 300
		r, _ := New(kind, Options{SummaryMax: on})
		p := mustRender(t, r, a)
		for _, u := range []string{"https://www.spa.gov.sa/news/", "https://www.mof.gov.sa/budget/2025/"} {
			if kind == channels.KindX && u == "https://www.mof.gov.sa/budget/2025/" {
				continue // X carries no summary
			}
			if !strings.Contains(p.Text, u+lrm) {
				t.Errorf("%s: no LRM after %s:\n%q", kind, u, p.Text)
			}
		}
		if kind == channels.KindX {
			title := strings.SplitN(p.Text, "\n", 2)[0]
			// 23 for the URL whole, 2 for the LRM: the mark is not part of the link.
			if got, want := CountX(title), CountX(strings.Replace(title, "https://www.spa.gov.sa/news/"+lrm, "", 1))+23+2; got != want {
				t.Errorf("X weighs the title %d, want %d (the URL 23, the LRM 2)", got, want)
			}
		}
	}
	// Other kinds, whose link detectors may take a U+200E into the URL, get none.
	for _, kind := range []channels.Kind{channels.KindWhatsApp, channels.KindMastodon, channels.KindThreads, channels.KindFacebook} {
		r, _ := New(kind, Options{})
		if p := mustRender(t, r, a); strings.Contains(p.Text, lrm) {
			t.Errorf("%s: an LRM where the link detector may take it: %q", kind, p.Text)
		}
	}
	// A URL ending in a letter or digit needs none.
	b := *a
	b.Title, b.Summary = "التفاصيل في https://www.spa.gov.sa/news/123 اليوم", ""
	r, _ := New(channels.KindTelegram, Options{})
	if p := mustRender(t, r, &b); strings.Contains(p.Text, lrm) {
		t.Errorf("an LRM after a URL ending in a digit: %q", p.Text)
	}
}

// TestRTLWithoutLanguageTitleStartingLatin: with no language (a WordPress site without a
// language plugin, an API publish that omits it) the article's direction comes from its title.
// An Arabic headline that opens with a brand or an acronym ("NASA تعلن …", "Apple تطلق …") is
// still an Arabic title, and its line, starting with a Latin word, needs the RLM that keeps it
// right-to-left: without it the client lays the line out left-to-right and an Arabic reader
// meets the subject last. Judging by the first strong character alone took such a title for a
// left-to-right one.
func TestRTLWithoutLanguageTitleStartingLatin(t *testing.T) {
	tests := []struct {
		title string
		rtl   bool
	}{
		{"NASA تعلن موعد إطلاق أولى وحدات المحطة القمرية", true},
		{"Apple تطلق iPhone 16 في السعودية الشهر المقبل", true},
		{"BBC: مقتل 12 شخصا في غارة على غزة", true},
		{"عنوان عربي", true},
		{"English title", false},
		{"Saudi Arabia hosts the G20 summit in الرياض", false},
		{"2024", false},
	}
	for _, tc := range tests {
		if got := isRTL("", tc.title); got != tc.rtl {
			t.Errorf("isRTL(%q) = %v, want %v", tc.title, got, tc.rtl)
		}
	}
	a := &article.Article{URL: "https://example.com/a", Title: tests[0].title,
		Summary: "Artemis برنامج أمريكي لإعادة الرواد إلى القمر."}
	for _, kind := range []channels.Kind{channels.KindTelegram, channels.KindWhatsApp, channels.KindThreads, channels.KindX} {
		r, err := New(kind, Options{})
		if err != nil {
			t.Fatal(err)
		}
		p := mustRender(t, r, a)
		first := strings.SplitN(p.Text, "\n", 2)[0]
		if !strings.HasPrefix(first, rlm) {
			t.Errorf("%s: the title line of an Arabic title without a language has no RLM: %q", kind, first)
		}
	}
}
