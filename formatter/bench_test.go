package formatter

import (
	"fmt"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

// benchBody builds an HTML body of about size bytes the way CMS exports look: paragraphs of
// Arabic text, an inline script, a figure, and the publisher's footer.
func benchBody(size int) string {
	var b strings.Builder
	b.WriteString(`<div class="entry"><script>window.ads=[1,2,3];</script><figure><img src="x.jpg"><figcaption>صورة أرشيفية</figcaption></figure>`)
	para := `<p>قال الرئيس الأوكراني فولوديمير زيلينسكي إن هناك &#8220;تحالفًا متزايدًا&#8221; بين روسيا وأنظمة مثل كوريا الشمالية، وأن بيونج يانج أرسلت أسلحة وقوات لدعم الجيش الروسي.&nbsp;قام زيلينسكي بجولة في العواصم <a href="/x">الأوروبية</a> في الأسبوع الماضي.</p>` + "\n"
	for b.Len() < size-600 {
		b.WriteString(para)
	}
	b.WriteString(`<div class="footer"><p>ادارة الموقع لا تتبنى وجهة نظر الكاتب او الخبر المنشور بل يقع على عاتق الناشر الاصلي</p><h3>JOIN US AND FOLO</h3><ul><li>Telegram</li><li>Whatsapp channel</li></ul></div></div>`)
	return b.String()
}

func benchArticle(size int) *article.Article {
	return &article.Article{
		ID:       "bench",
		URL:      "https://www.defense-arabic.com/2024/10/13/زيلينسكي-يقول-إن-كوريا-الشمالية/",
		Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Body:     benchBody(size),
		Tags:     []string{"أوكرانيا", "كوريا الشمالية", "روسيا"},
		Category: "الدفاع و الامن",
		Language: "ar",
	}
}

// BenchmarkRender formats a typical article (title, no summary, HTML body) for each kind, with
// a 5 KB and a 400 KB body: the cost must not grow with the body beyond what the summary uses.
func BenchmarkRender(b *testing.B) {
	for _, size := range []int{5 << 10, 400 << 10} {
		a := benchArticle(size)
		for _, kind := range channels.Kinds {
			r, err := New(kind, Options{})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%dKB", kind, size>>10), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := r.Render(a); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkCountX(b *testing.B) {
	s := strings.Repeat("قال الرئيس الأوكراني فولوديمير زيلينسكي https://example.com/a?b=1 #أوكرانيا 🇺🇦 ", 4)
	for b.Loop() {
		CountX(s)
	}
}
