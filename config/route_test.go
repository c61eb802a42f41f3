package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"herald/article"
)

const routingDoc = `
channels:
  - {name: tg-main, kind: telegram}
  - {name: tg-gaza, kind: telegram}
  - {name: tg-breaking, kind: telegram}
  - {name: tg-site, kind: telegram}
  - {name: tg-sport, kind: telegram}
  - name: tg-en
    kind: telegram
    route:
      languages: [en]
      exclude: {keywords: [sponsored]}
routes:
  - name: gaza
    channels: [tg-gaza]
    keywords: [غزة, "الأقصى"]
  - channels: [tg-main]
    languages: [ar]
    exclude:
      categories: [إعلانات]
      keywords: [محتوى مدفوع]
  - channels: [tg-breaking]
    min_priority: 8
  - channels: [tg-site]
    sources: [site]
  - channels: [tg-sport]
    categories: [رياضة]
feeds: [{name: site, url: "https://news.example.com/feed/"}]
`

func route(t *testing.T, c *Config, a article.Article, source string) ([]string, *Decision, error) {
	t.Helper()
	d, err := c.Route(&a, source)
	var names []string
	if d != nil {
		for _, ch := range d.Channels {
			names = append(names, ch.Channel)
		}
	}
	return names, d, err
}

// TestRoutingTable: keywords with Arabic spelling variants, languages, priority, source,
// exclude rules, per-channel routes, and the article's own channels overriding them all.
func TestRoutingTable(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, routingDoc)
	tests := []struct {
		name   string
		a      article.Article
		source string
		want   []string
	}{
		{"keyword plain", article.Article{Title: "قصف على غزة اليوم"}, "api", []string{"tg-gaza"}},
		{"keyword with teh marbuta written heh", article.Article{Title: "قصف على غزه اليوم"}, "api", []string{"tg-gaza"}},
		{"keyword with harakat and tatweel", article.Article{Title: "قَصْفٌ عَلَى غَـــزَّةَ"}, "api", []string{"tg-gaza"}},
		{"keyword with a prefix attached", article.Article{Title: "مساعدات لغزة"}, "api", []string{"tg-gaza"}},
		{"keyword alef with hamza below or madda", article.Article{Title: "صلاة في المسجد الاقصى"}, "api", []string{"tg-gaza"}},
		{"keyword in presentation forms (NFKC)", article.Article{Title: "\uFE8D\uFEDF\uFE8E\uFED7\uFEBC\uFEF0"}, "api", []string{"tg-gaza"}},
		{"keyword in the body HTML", article.Article{Title: "خبر", Body: "<p>أخبار <b>غزّة</b></p>"}, "api", []string{"tg-gaza"}},
		{"keyword not in a script tag", article.Article{Title: "خبر", Body: "<script>var x='غزة'</script><p>نص</p>"}, "api", nil},
		{"language", article.Article{Title: "x", Language: "AR"}, "api", []string{"tg-main"}},
		{"exclude by category with alef variant", article.Article{Title: "x", Language: "ar", Category: "اعلانات"}, "api", nil},
		{"exclude by keyword", article.Article{Title: "هذا محتوى مدفوع", Language: "ar"}, "api", nil},
		{"exclude vetoes only its own route", article.Article{Title: "محتوى مدفوع عن غزة", Language: "ar"}, "api", []string{"tg-gaza"}},
		{"priority", article.Article{Title: "x", Priority: 9}, "api", []string{"tg-breaking"}},
		// WordPress lists a post's categories by name: أخبار comes before رياضة, and the route
		// by category must see the second too.
		{"category among several", article.Article{Title: "x", Category: "أخبار", Categories: []string{"أخبار", "رياضة"}}, "api", []string{"tg-sport"}},
		{"exclude by a further category", article.Article{Title: "x", Language: "ar", Category: "أخبار", Categories: []string{"أخبار", "إعلانات"}}, "api", nil},
		{"source", article.Article{Title: "x"}, "site", []string{"tg-site"}},
		{"per-channel route", article.Article{Title: "war news", Language: "en"}, "api", []string{"tg-en"}},
		{"per-channel exclude", article.Article{Title: "Sponsored: a war", Language: "en"}, "api", nil},
		{"own channels override", article.Article{Title: "غزة", Language: "ar", Channels: []string{"tg-site"}}, "api", []string{"tg-site"}},
		{"union in rule order", article.Article{Title: "غزة", Language: "ar", Priority: 8}, "site", []string{"tg-gaza", "tg-main", "tg-breaking", "tg-site"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := route(t, c, tc.a, tc.source)
			if tc.want == nil {
				var ve *article.ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("routed to %v (err %v), want no channel", got, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("channels %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRouteSaysWhichRuleDecided(t *testing.T) {
	cleanEnv(t)
	c := mustParse(t, routingDoc)
	_, d, err := route(t, c, article.Article{Title: "غَزَّة", Language: "ar", Priority: 9}, "api")
	if err != nil {
		t.Fatal(err)
	}
	want := []Choice{
		{"tg-gaza", "routes[0] (gaza)", "keyword غزة"},
		{"tg-main", "routes[1]", "language ar"},
		{"tg-breaking", "routes[2]", "priority 9 ≥ 8"},
	}
	if !reflect.DeepEqual(d.Channels, want) {
		t.Fatalf("decision %+v\nwant %+v", d.Channels, want)
	}
	_, d, err = route(t, c, article.Article{Title: "x", Language: "ar", Category: "إعلانات"}, "api")
	if err == nil || !strings.Contains(err.Error(), "routes[1] excluded it: exclude category إعلانات") {
		t.Fatalf("err %v", err)
	}
	if len(d.Excluded) != 1 || d.Excluded[0].Channel != "tg-main" {
		t.Fatalf("excluded %+v", d.Excluded)
	}
}

func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{
		"أإآٱا":              "ااااا",
		"مستشفى":             "مستشفي",
		"مدرسة":              "مدرسه",
		"الـــعَرَبِيَّةُ":   "العربيه",
		"Gaza, GAZA!":        "gaza gaza",
		"  «القدس» — اليوم ": "القدس اليوم",
	} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
	if containsKeyword(" software update ", "war") {
		t.Error(`"war" matched inside "software"`)
	}
	if !containsKeyword(" the war ends ", "war") {
		t.Error(`"war" not found as a word`)
	}
}

func TestSourcesValidation(t *testing.T) {
	cleanEnv(t)
	t.Setenv("WP_SECRET", "whsec_"+"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	c := mustParse(t, `
channels: [{name: tg, kind: telegram}]
webhooks:
  - {name: wordpress, secret_env: WP_SECRET, site: news.example.com}
feeds:
  - {name: site, url: "https://news.example.com/feed/"}
  - {name: other, url: "https://e.com/atom", interval: 2m, first_run: "newest:3", channels: [tg]}
`)
	if c.Feeds[0].Interval != Duration(DefaultFeedInterval) || c.Feeds[0].Newest != 0 || c.Feeds[1].Newest != 3 {
		t.Fatalf("feeds %+v", c.Feeds)
	}
	if len(c.Webhooks[0].SigningKey) != 24 {
		t.Fatalf("signing key %d bytes, want the 24 decoded from base64", len(c.Webhooks[0].SigningKey))
	}
	if s := fmt.Sprintf("%v %+v %#v", c.Webhooks, c.Webhooks[0], c.Webhooks[0]); strings.Contains(s, "MfKQ") || strings.Contains(s, string(c.Webhooks[0].SigningKey)) {
		t.Fatalf("a printed config shows the secret: %s", s)
	}
	wantErr(t, `
channels: [{name: tg, kind: telegram}]
webhooks:
  - {name: site, secret: "whsec_!!!"}
  - {name: nosecret}
feeds:
  - {name: site, url: "ftp://x"}
  - {name: f2, url: "https://e.com/f", interval: 10ms, first_run: newest:0, channels: [nope]}
routes:
  - {channels: [tg], sources: [site, typo], exclude: {sources: [api, other-typo]}}
`, `routes[0].sources: "typo" is not a configured webhook or feed name (or api)`,
		`routes[0].sources: "other-typo" is not`, `webhooks[0] (site).secret: whsec_ must be followed by standard base64`,
		`webhooks[1] (nosecret).secret: give exactly one of secret, secret_file, secret_env`,
		`feeds[0] (site).name: "site" is already webhooks[0] (site)`,
		`feeds[0] (site).url: "ftp://x" is not an absolute http or https URL`,
		`feeds[1] (f2).interval: 10ms is shorter than 1s`,
		`feeds[1] (f2).first_run: "newest:0" is not skip or newest:N`,
		`feeds[1] (f2).channels: "nope" is not a configured channel`)
}

// FuzzNormalizeText: normalised text is valid UTF-8, normalising twice changes nothing, and a
// text always contains itself as a keyword.
func FuzzNormalizeText(f *testing.F) {
	for _, s := range []string{"غَزَّة", "الأقصى", "ﻻ", "Gaza, GAZA!", "مدرسة ـــ", "İstanbul", "\u0670\u06D6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeText(s)
		if !utf8.ValidString(n) {
			t.Fatalf("NormalizeText(%q) = %q: invalid UTF-8", s, n)
		}
		if again := NormalizeText(n); again != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, again)
		}
		if n != "" && !containsKeyword(" "+n+" ", n) {
			t.Fatalf("%q does not contain itself", n)
		}
	})
}
