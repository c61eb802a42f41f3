package formatter

import (
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
