package formatter

import (
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"herald/article"
)

// Templates are Go text/template with the post's Data and four helpers bound to the kind:
//
//	escape S        S made safe for the kind's markup (Telegram HTML, WhatsApp, Discord)
//	truncate N S    S cut to N characters at a word boundary, with "…"; never inside a URL
//	                or (Telegram) an HTML entity, so escaped text may be truncated too
//	hashtags L      the hashtags in L joined by spaces
//	link URL [TEXT] the link in the kind's markup (Telegram: <a href>), showing TEXT if given
//
// Example (Telegram):
//
//	<b>{{escape .Title}}</b>
//	{{escape .Summary}}
//	{{hashtags .Hashtags}}
//	{{link .URL "اقرأ المزيد"}}
//
// The template is tried at load time on sample articles, Arabic and hostile ones, and the
// output must be valid for the kind (Telegram HTML is checked); the fitted result of every
// render is measured like the kind's own layout.
func (r *renderer) parseTemplate(src string) error {
	funcs := template.FuncMap{
		"escape": r.p.escape,
		"truncate": func(n int, s string) string {
			return truncateMarkup(s, n, r.p.markup())
		},
		"hashtags": func(tags []string) string { return strings.Join(tags, " ") },
		"link": func(url string, text ...string) (string, error) {
			if len(text) > 1 {
				return "", fmt.Errorf("link takes a URL and at most one text, got %d texts", len(text))
			}
			t := ""
			if len(text) == 1 {
				t = text[0]
			}
			return r.p.link(url, t), nil
		},
	}
	t, err := template.New(string(r.kind)).Option("missingkey=error").Funcs(funcs).Parse(src)
	if err != nil {
		return err
	}
	r.tmpl = t
	for _, a := range sampleArticles() {
		posts, err := r.Render(a)
		if err != nil {
			return fmt.Errorf("trying it on a sample article: %w", err)
		}
		if strings.TrimSpace(posts[0].Text) == "" && r.kind.Valid() && !r.opt.embed {
			return fmt.Errorf("it renders an empty text")
		}
	}
	return nil
}

// sampleArticles exercise a template before it meets a real article: Arabic with a long body,
// and one whose every field carries markup characters.
func sampleArticles() []*article.Article {
	return []*article.Article{
		{
			URL:      "https://example.com/أخبار/2024/10/13/خبر?id=1",
			Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
			Body:     "<p>" + strings.Repeat("قال الرئيس الأوكراني إن هناك تحالفًا متزايدًا. ", 40) + "</p>",
			Tags:     []string{"أوكرانيا", "كوريا الشمالية"},
			Category: "الدفاع و الامن",
			Language: "ar",
			ImageURL: "https://example.com/image.jpg",
		},
		{
			URL:      "https://example.com/a?b=1&c=<2>",
			Title:    `<b>Tom & "Jerry"</b> *bold* _it_ ~s~ <script>`,
			Summary:  `a < b && c > d; 'quoted' "double" &amp; &nbsp; [link](x) # heading`,
			Tags:     []string{"C++", "#dup", "dup"},
			Language: "en",
		},
	}
}

// entityAt matches an HTML character reference: what Telegram HTML text escaped holds.
var entityAt = regexp.MustCompile(`^&[#A-Za-z0-9]{1,10};`)

// truncateMarkup is the templates' truncate: cutText, and in Telegram HTML never through an
// entity. A template may truncate text it has already escaped ({{.Title | escape | truncate 60}}):
// a cut after "&#34;" would drop its ";" with the clause punctuation a cut trims, one inside
// "&amp;" would leave "&am", and Telegram refuses either. The cut then goes before the entity.
func truncateMarkup(s string, n int, m markup) string {
	out := cutText(s, n, false)
	if m != markupHTML || out == s {
		return out
	}
	body := strings.TrimSuffix(out, ellipsis)
	amp := strings.LastIndexByte(body, '&')
	if amp < 0 || strings.IndexByte(body[amp:], ';') >= 0 {
		return out
	}
	if strings.HasPrefix(s, body) && !entityAt.MatchString(s[amp:]) {
		return out // a bare '&' of plain text, escaped later
	}
	if body = trimCutEnd(body[:amp]); body == "" {
		return ""
	}
	return body + ellipsis
}
