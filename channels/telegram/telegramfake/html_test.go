package telegramfake

import (
	"strings"
	"testing"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		plain   string
		types   []string // entity types in order
		wantErr string   // substring of the error; "" for success
	}{
		{name: "plain", in: "hello", plain: "hello"},
		{name: "bold and italic", in: "<b>a</b> <i>b</i> <strong>c</strong> <em>d</em>", plain: "a b c d", types: []string{"bold", "italic", "bold", "italic"}},
		{name: "underline strike", in: "<u>a</u><ins>b</ins><s>c</s><strike>d</strike><del>e</del>", plain: "abcde",
			types: []string{"underline", "underline", "strikethrough", "strikethrough", "strikethrough"}},
		{name: "link", in: `<a href="https://example.com/?a=1&amp;b=2">x</a>`, plain: "x", types: []string{"text_link"}},
		{name: "link single quotes", in: `<a href='https://e.com'>x</a>`, plain: "x", types: []string{"text_link"}},
		{name: "pre code language", in: `<pre><code class="language-go">x := 1</code></pre>`, plain: "x := 1", types: []string{"pre"}},
		{name: "spoilers", in: `<tg-spoiler>a</tg-spoiler><span class="tg-spoiler">b</span>`, plain: "ab", types: []string{"spoiler", "spoiler"}},
		{name: "custom emoji", in: `<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, plain: "👍", types: []string{"custom_emoji"}},
		{name: "blockquote", in: "<blockquote>q</blockquote><blockquote expandable>r</blockquote>", plain: "qr", types: []string{"blockquote", "expandable_blockquote"}},
		{name: "nested", in: "<b>a<i>b</i></b>", plain: "ab", types: []string{"bold", "italic"}},
		{name: "upper case tag", in: "<B>a</B>", plain: "a", types: []string{"bold"}},
		{name: "named entities", in: "&lt;&gt;&amp;&quot;", plain: `<>&"`},
		{name: "numeric entities", in: "&#1575;&#x1F600;", plain: "ا😀"},
		{name: "bare greater-than", in: "a > b", plain: "a > b"},
		{name: "arabic", in: "<b>مَرْحَبًا</b> بِكُمْ", plain: "مَرْحَبًا بِكُمْ", types: []string{"bold"}},
		{name: "empty tag has no entity", in: "<b></b>x", plain: "x"},

		{name: "br", in: "a<br>b", wantErr: `Unsupported start tag "br"`},
		{name: "br self-closing", in: "a<br/>b", wantErr: `Unsupported start tag "br/"`},
		{name: "div", in: "<div>a</div>", wantErr: `Unsupported start tag "div"`},
		{name: "p", in: "<p>a</p>", wantErr: `Unsupported start tag "p"`},
		{name: "attribute on b ignored", in: `<b class="x">a</b>`, plain: "a", types: []string{"bold"}},
		{name: "a target ignored", in: `<a href="https://e.com" target="_blank">a</a>`, plain: "a", types: []string{"text_link"}},
		{name: "a without href is text", in: `<a>x</a>`, plain: "x"},
		{name: "unquoted url", in: `<a href=https://e.com>x</a>`, wantErr: `Unexpected end of name token at byte offset 8`},
		{name: "span without class", in: `<span>a</span>`, wantErr: `must have class "tg-spoiler"`},
		{name: "span other class", in: `<span class="x">a</span>`, wantErr: `must have class "tg-spoiler"`},
		{name: "tg-emoji without id", in: `<tg-emoji>👍</tg-emoji>`, wantErr: `Invalid custom emoji identifier specified`},
		{name: "unclosed", in: "<b>a", wantErr: `Can't find end tag corresponding to start tag "b"`},
		{name: "mismatched", in: "<b><i>a</b></i>", wantErr: `Unmatched end tag`},
		{name: "stray end", in: "a</b>", wantErr: `Unexpected end tag`},
		{name: "unterminated tag", in: "a <b", wantErr: `Unclosed start tag`},
		{name: "bare less-than", in: "1 < 2 and 3 > 2", wantErr: `Unsupported start tag`},
		{name: "nbsp stays as written", in: "a&nbsp;b", plain: "a&nbsp;b"},
		{name: "hellip stays as written", in: "a&hellip;", plain: "a&hellip;"},
		{name: "amp without semicolon", in: "a &amp b", plain: "a & b"},
		{name: "bare ampersand is text", in: "AT&T news", plain: "AT&T news"},
		{name: "bare less-than before a letter", in: "x<y ok", wantErr: `Unsupported start tag "y" at byte offset 1`},
		{name: "surrogate reference", in: "&#xD800;", wantErr: `invalid Unicode characters`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plain, ents, err := ParseHTML(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseHTML(%q) error = %v, want containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseHTML(%q): %v", tc.in, err)
			}
			if plain != tc.plain {
				t.Errorf("plain = %q, want %q", plain, tc.plain)
			}
			var types []string
			for _, e := range ents {
				types = append(types, e.Type)
			}
			if strings.Join(types, ",") != strings.Join(tc.types, ",") {
				t.Errorf("entity types = %v, want %v", types, tc.types)
			}
		})
	}
}

func TestParseHTMLEntityOffsetsAreUTF16(t *testing.T) {
	_, ents, err := ParseHTML(`😀 <a href="https://e.com">مَرْحَبًا</a>`)
	if err != nil {
		t.Fatal(err)
	}
	// 😀 is 2 units, then a space: the link starts at 3 and spans 9 code points of Arabic
	// letters and harakat, each one unit.
	if len(ents) != 1 || ents[0].Offset != 3 || ents[0].Length != 9 || ents[0].URL != "https://e.com/" {
		t.Fatalf("entities = %+v, want one text_link at 3 length 9", ents)
	}
}

func TestUTF16Len(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"é", 1},
		{"مَرْحَبًا", 9}, // 5 letters + 4 harakat, all in the BMP
		{"😀", 2},
		{"🇸🇦", 4},    // two regional indicators
		{"👨‍👩‍👧", 8}, // 3 emoji (2 each) + 2 ZWJ
	}
	for _, tc := range tests {
		if got := UTF16Len(tc.in); got != tc.want {
			t.Errorf("UTF16Len(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

// FuzzParseHTML: the parser never panics, and entities stay inside the plain text.
func FuzzParseHTML(f *testing.F) {
	for _, s := range []string{"<b>a</b>", `<a href="x">y</a>`, "&amp;&#x1F600;", "<pre><code class=\"language-go\">x</code></pre>",
		"<b><i>مَرْحَبًا</i></b>", "<", "&", "</b>", `<a href='`, "<span class=tg-spoiler>s</span>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		plain, ents, err := ParseHTML(s)
		if err != nil {
			return
		}
		n := UTF16Len(plain)
		for _, e := range ents {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
				t.Fatalf("ParseHTML(%q): entity %+v outside %d units", s, e, n)
			}
		}
	})
}
