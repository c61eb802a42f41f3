package formatter

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// footer is every piece of the seed page's boilerplate: none may reach any post.
var footer = []string{"ادارة الموقع", "JOIN US", "FOLO", "Whatsapp channel", "Nabd", "GOOGLE NEWS", "tiktok",
	"مصدر الخبر", "نشر الخبر", "زر الذهاب", "اكتشاف المزيد", "Beiruttime", "اشترك الآن", "Continue reading",
	"ads", "line-height", "pixel.example", "صورة أرشيفية", "الدفاع و الامن\n"}

// TestGolden renders the sample Arabic article (an HTML page modelled on
// testdata/seed-article-ar.txt, footer included) for every kind, with and without its image,
// and compares with testdata/golden. Run with -update after an intended change.
func TestGolden(t *testing.T) {
	data, err := os.ReadFile("testdata/sample-article-ar.json")
	if err != nil {
		t.Fatal(err)
	}
	a, err := article.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	a.Normalize()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, kind := range channels.Kinds {
		for _, image := range []bool{true, false} {
			name := string(kind)
			b := a
			if !image {
				b.ImageURL = ""
				name += "-noimage"
			}
			t.Run(name, func(t *testing.T) {
				r, err := New(kind, Options{})
				if err != nil {
					t.Fatal(err)
				}
				posts, err := r.Render(&b)
				if err != nil {
					t.Fatal(err)
				}
				link, _ := linkURL(b.URL, r.(*renderer).opt.utm)
				checkPost(t, kind, posts[0], link)
				got, err := json.MarshalIndent(posts, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				text := strings.ReplaceAll(posts[0].Text, link, "") // utm_source=threads holds "ads"
				for _, f := range footer {
					if strings.Contains(text, f) {
						t.Errorf("boilerplate %q reached the post:\n%s", f, posts[0].Text)
					}
				}
				path := filepath.Join("testdata", "golden", name+".json")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./formatter -run TestGolden -update)", err)
				}
				if !bytes.Equal(bytes.TrimSpace(want), bytes.TrimSpace(got)) {
					t.Errorf("%s differs from the golden file; got:\n%s", path, got)
				}
			})
		}
	}
}

// TestSeedPlainText: the scraped page as plain text (its lines as paragraphs) also loses its
// footer, its category line and its repeated title.
func TestSeedPlainText(t *testing.T) {
	seed, err := os.ReadFile("testdata/seed-article-ar.txt")
	if err != nil {
		t.Fatal(err)
	}
	a := &article.Article{URL: "https://www.defense-arabic.com/x", Title: "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Body: string(seed), Language: "ar"}
	r, _ := New(channels.KindWebhook, Options{SummaryMax: 4000})
	p := mustRender(t, r, a)
	for _, f := range footer {
		if strings.Contains(p.Text, f) {
			t.Errorf("boilerplate %q reached the post", f)
		}
	}
	if strings.Count(p.Text, a.Title) != 1 || !strings.Contains(p.Text, "باختصار، العلاقات بين كوريا الشمالية وروسيا") {
		t.Errorf("plain seed summary:\n%s", p.Text)
	}
}
