package formatter

import (
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

// littleText reads LinkedIn little text back the way LinkedIn shows it: an escaped character is
// that character; an unescaped reserved one other than a hashtag's "#" is markup, which here
// fails the test (LinkedIn would cut the post there or read a mention).
func littleText(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '\\' && i+1 < len(rs):
			i++
			b.WriteRune(rs[i])
		case r == '#' && (i == 0 || rs[i-1] == ' ' || rs[i-1] == '\n') && i+1 < len(rs) && rs[i+1] != ' ':
			b.WriteRune(r) // a HashtagElement
		case strings.ContainsRune(`|{}@[]()<>#\*_~`, r):
			t.Fatalf("unescaped reserved %q at rune %d of %q", r, i, s)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestLinkedInEscapesLittleText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"arabic parentheses", "الرئيس (في مؤتمر صحفي) قال", `الرئيس \(في مؤتمر صحفي\) قال`},
		{"arabic brackets and braces", "بيان [رسمي] {عاجل}", `بيان \[رسمي\] \{عاجل\}`},
		{"asterisks and underscores", "*عاجل* سعر_الصرف ٥٠٪", `\*عاجل\* سعر\_الصرف ٥٠٪`},
		{"mention and hashtag signs", "@الوزارة #عاجل", `\@الوزارة \#عاجل`},
		{"pipe angle tilde backslash", `أ|ب <ج> ~د \ هـ`, `أ\|ب \<ج\> \~د \\ هـ`},
		{"nothing reserved", "قال الرئيس، اليوم: «لا».", "قال الرئيس، اليوم: «لا»."},
		{"an escape already written is text", `\(`, `\\\(`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := linkedinEscape(tc.in)
			if got != tc.want {
				t.Fatalf("linkedinEscape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if back := littleText(t, got); back != tc.in {
				t.Fatalf("read back %q, want %q", back, tc.in)
			}
		})
	}
}

func TestLinkedInPostIsLittleTextWithTheArticleCard(t *testing.T) {
	a := &article.Article{
		ID:       "li1",
		URL:      "https://news.example.com/ar/2026/11/بيان_(رسمي)",
		Title:    "الرئيس (في مؤتمر صحفي): الأسعار [الجديدة] *لن* ترتفع",
		Summary:  "قال الرئيس إن سعر_الصرف ثابت (حتى نهاية العام) وإن الحكومة ~تدرس~ خيارات أخرى.",
		Tags:     []string{"كوريا الشمالية", "اقتصاد"},
		Category: "أخبار",
		Language: "ar",
	}
	r, err := New(channels.KindLinkedIn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustRender(t, r, a)
	if p.Limit != 3000 || p.Unit != UnitUTF16 || p.Length != CountUTF16(p.Text) || p.ParseMode != channels.ParseNone {
		t.Fatalf("post %+v: want UTF-16 length of the escaped text, limit 3000, no parse mode", p)
	}
	shown := littleText(t, p.Text)
	want := a.Title + "\n\n" + a.Summary + "\n\n#كوريا_الشمالية #اقتصاد #أخبار"
	if shown != want {
		t.Fatalf("LinkedIn would show\n%q\nwant\n%q\n(commentary %q)", shown, want, p.Text)
	}
	if !strings.Contains(p.Text, `#كوريا\_الشمالية #اقتصاد #أخبار`) {
		t.Fatalf("hashtags not HashtagElements with their _ escaped: %q", p.Text)
	}
	card, _ := p.Extra["article"].(map[string]any)
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	if card == nil || card["source"] != link || card["title"] != a.Title || card["description"] != a.Summary {
		t.Fatalf("article card %+v: want source %q and the unescaped title and summary", card, link)
	}
	if strings.Contains(p.Text, "http") {
		t.Fatalf("the link is the card's, not the commentary's: %q", p.Text)
	}
}

// TestLinkedInLongSummaryIsCutBeforeTheEscapes: the fit counts the escaped text, so a summary
// full of reserved characters is cut to 3000 with its escapes, never between a backslash and
// the character it escapes.
func TestLinkedInLongSummaryIsCutBeforeTheEscapes(t *testing.T) {
	a := &article.Article{ID: "li2", URL: "https://news.example.com/a/2", Title: "عنوان (مهم)", Language: "ar",
		Summary: strings.Repeat("كلمة (بين) قوسين [و] معقوفين_ ", 200)}
	r, err := New(channels.KindLinkedIn, Options{SummaryMax: 10000})
	if err != nil {
		t.Fatal(err)
	}
	p := mustRender(t, r, a)
	if p.Length > 3000 || p.Length < 2800 {
		t.Fatalf("length %d: want the summary cut to just under 3000", p.Length)
	}
	littleText(t, p.Text) // fails on a cut that left a reserved character bare
}
