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
