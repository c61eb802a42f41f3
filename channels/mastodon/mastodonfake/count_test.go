package mastodonfake

import (
	"strings"
	"testing"
)

func TestCountLikeMastodon(t *testing.T) {
	for text, want := range map[string]int{
		"":             0,
		"hello":        5,
		"كِتَابٌ":      4, // letters with their harakat are one each
		"👩‍👩‍👧 family": 8, // a ZWJ sequence is one
		"see https://example.com/" + strings.Repeat("x", 80):     27,
		"(https://example.com/a).":                               26, // the brackets and full stop are not the link
		"https://a.example https://b.example":                    47,
		"رابط: https://news.example.com/%D8%AE%D8%A8%D8%B1 عاجل": 6 + 23 + 5,
		"cc @herald@news.example.social":                         10, // a remote mention counts as its local part
		"mail: desk@news.example":                                23, // an address is no mention
	} {
		if got := Count(text); got != want {
			t.Errorf("Count(%q) = %d, want %d", text, got, want)
		}
	}
}
