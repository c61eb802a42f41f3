package formatter

import (
	"regexp"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

// TestBlueskyFacetsWithRTLMarks: with rtl_marks on, a hashtag line that starts with a Latin tag
// begins with an RLM, and the tag facet of "#Apple" was missing (only a space or a line break
// was taken before a tag): Bluesky shows it as plain text, no link. Facets index the text in
// UTF-8 bytes (byteStart inclusive, byteEnd exclusive), so the tag's starts after the RLM's 3.
// Specs: https://docs.bsky.app/docs/advanced-guides/post-richtext
func TestBlueskyFacetsWithRTLMarks(t *testing.T) {
	on := true
	r, err := New(channels.KindBluesky, Options{RTLMarks: &on})
	if err != nil {
		t.Fatal(err)
	}
	a := &article.Article{URL: "https://example.com/a", Language: "ar", Title: "آبل تطلق هاتفها الجديد في السعودية",
		Tags: []string{"Apple", "آبل", "iPhone 16"}}
	p := mustRender(t, r, a)
	if !strings.Contains(p.Text, "\n"+rlm+"#Apple #آبل #iPhone_16\n") {
		t.Fatalf("want the marked hashtag line, got %q", p.Text)
	}
	tags := map[string]bool{}
	for _, f := range p.Facets {
		feat := f["features"].([]any)[0].(map[string]any)
		if feat["$type"] != "app.bsky.richtext.facet#tag" {
			continue
		}
		idx := f["index"].(map[string]any)
		start, end := idx["byteStart"].(int), idx["byteEnd"].(int)
		if got, want := p.Text[start:end], "#"+feat["tag"].(string); got != want {
			t.Errorf("facet %d..%d covers %q, want %q", start, end, got, want)
		}
		tags[feat["tag"].(string)] = true
	}
	for _, want := range []string{"Apple", "آبل", "iPhone_16"} {
		if !tags[want] {
			t.Errorf("no tag facet for #%s in %v", want, p.Facets)
		}
	}
}

// TestBlueskyFacetsInTitle: Bluesky links nothing by itself — a hashtag or URL is a tag or link
// only where the post's facets say so — and Arabic breaking-news titles carry their own tags
// ("#عاجل | …"). Only the tags made from the article's tags had facets, so "#عاجل" in the title
// was plain text on Bluesky while Telegram, X and Mastodon linked it. Facets now cover every
// hashtag in the text as the Bluesky app detects them (after the start or a space; not digits or
// punctuation alone; trailing punctuation off; at most 64 characters) and every http(s) URL,
// with UTF-8 byte offsets.
// Specs: https://docs.bsky.app/docs/advanced-guides/post-richtext
// and https://github.com/bluesky-social/atproto/blob/main/packages/api/src/rich-text/detection.ts
func TestBlueskyFacetsInTitle(t *testing.T) {
	r, _ := New(channels.KindBluesky, Options{})
	a := &article.Article{URL: "https://example.com/a", Language: "ar",
		Title: "#عاجل | زلزال بقوة 6 درجات يضرب #تركيا، والبث المباشر: https://example.com/live #2024",
		Tags:  []string{"زلازل"}}
	p := mustRender(t, r, a)
	type span struct{ kind, value, text string }
	var got []span
	for _, f := range p.Facets {
		feat := f["features"].([]any)[0].(map[string]any)
		idx := f["index"].(map[string]any)
		start, end := idx["byteStart"].(int), idx["byteEnd"].(int)
		switch feat["$type"] {
		case "app.bsky.richtext.facet#tag":
			got = append(got, span{"tag", feat["tag"].(string), p.Text[start:end]})
		case "app.bsky.richtext.facet#link":
			got = append(got, span{"link", feat["uri"].(string), p.Text[start:end]})
		}
	}
	want := map[span]bool{
		{"tag", "عاجل", "#عاجل"}:                                         true,
		{"tag", "تركيا", "#تركيا"}:                                       true, // the Arabic comma after it is not part of it
		{"tag", "زلازل", "#زلازل"}:                                       true,
		{"link", "https://example.com/live", "https://example.com/live"}: true,
	}
	for _, g := range got {
		if g.kind == "link" && g.value != "https://example.com/live" {
			continue // the article link's own facet
		}
		if !want[g] {
			t.Errorf("unexpected facet %+v", g)
		}
		delete(want, g)
	}
	for w := range want {
		t.Errorf("no facet %+v in %q (facets %v)", w, p.Text, p.Facets)
	}
}

// TestBlueskyDisplayIDNHost: the shortened link text showed the path in Arabic but the host of
// an Arabic domain in punycode ("xn--mgbh0fb.xn--kgbechtv/أخبار/…"), which no reader can read;
// the host shows as its Unicode name, as the path does. The facet keeps the URI form.
func TestBlueskyDisplayIDNHost(t *testing.T) {
	r, _ := New(channels.KindBluesky, Options{})
	a := &article.Article{URL: "https://مثال.إختبار/أخبار/2024/10/13/زيلينسكي-يقول-إن-كوريا-الشمالية-أرسلت-قوات", Language: "ar", Title: "عنوان الخبر"}
	p := mustRender(t, r, a)
	if strings.Contains(p.Text, "xn--") || !strings.Contains(p.Text, "مثال.إختبار/أخبار/") {
		t.Errorf("link text %q: want the host in Arabic", p.Text)
	}
	link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
	checkPost(t, channels.KindBluesky, p, link)
}

// TestBlueskyLangsWellFormed: a post's langs must be BCP 47 tags (the lexicon's "language"
// format), or the PDS refuses the whole record (400 InvalidRecord). The article's language is
// free text: a CMS locale "ar_SA" (lower-cased "ar_sa" at publish) or "Arabic" went into langs as
// written and the post failed on every retry. The tag is mended ("ar_sa" → "ar-sa"), else left out.
// Specs: https://atproto.com/specs/lexicon#string-formats (language)
func TestBlueskyLangsWellFormed(t *testing.T) {
	bcp47 := regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$`) // blueskyfake's check
	tests := []struct {
		lang string
		want []string
	}{
		{"ar", []string{"ar"}},
		{"ar-eg", []string{"ar-eg"}},
		{"ar_sa", []string{"ar-sa"}},
		{"ar_SA", []string{"ar-SA"}},
		{"arabic", nil},
		{"العربية", nil},
		{"ar-", []string{"ar"}},
		{"", nil},
	}
	r, _ := New(channels.KindBluesky, Options{})
	for _, tc := range tests {
		a := &article.Article{URL: "https://example.com/a", Language: tc.lang, Title: "عنوان الخبر"}
		p := mustRender(t, r, a)
		got, _ := p.Extra["langs"].([]string)
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("language %q: langs %q, want %q", tc.lang, got, tc.want)
		}
		for _, l := range got {
			if !bcp47.MatchString(l) {
				t.Errorf("language %q: langs %q is no BCP 47 tag: Bluesky refuses the post", tc.lang, l)
			}
		}
	}
}
