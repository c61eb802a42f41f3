package article_test

import (
	"bytes"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"herald/article"
)

// fieldsOf returns the sorted field names of a *article.ValidationError, failing the test when err
// is not one.
func fieldsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *article.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *article.ValidationError", err, err)
	}
	out := make([]string, 0, len(ve.Errors))
	for _, fe := range ve.Errors {
		if fe.Message == "" {
			t.Errorf("field %s has an empty message", fe.Field)
		}
		out = append(out, fe.Field)
	}
	sort.Strings(out)
	return out
}

// valid is an article that passes Validate; cases change one thing.
func valid() article.Article {
	return article.Article{
		ID:       "story-1",
		URL:      "https://news.example/ar/2024/05/story",
		Title:    "عنوان الخبر",
		Summary:  "ملخص",
		Body:     "نص الخبر",
		ImageURL: "https://cdn.news.example/img.jpg",
		Tags:     []string{"سياسة"},
		Category: "politics",
		Language: "ar",
		Priority: 5,
		Channels: []string{"tg-main"},
	}
}

func TestDecodeBytes(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    *article.Article // checked when non-nil
		wantErr string           // substring; "" = no error
		wantVE  []string         // ValidationError fields, when the error must be one
	}{
		{
			name: "full article",
			in: `{"id":"a1","url":"https://x.example/a","title":"عنوان","summary":"s","body":"b",
				"image_url":"https://x.example/i.png","tags":["t1","t2"],"category":"c","language":"ar",
				"priority":3,"channels":["tg-main"]}`,
			want: &article.Article{ID: "a1", URL: "https://x.example/a", Title: "عنوان", Summary: "s", Body: "b",
				ImageURL: "https://x.example/i.png", Tags: []string{"t1", "t2"}, Category: "c", Language: "ar",
				Priority: 3, Channels: []string{"tg-main"}},
		},
		{name: "surrounding whitespace ok", in: " \n{\"title\":\"x\"}\n\t ", want: &article.Article{Title: "x"}},
		// Notepad, PowerShell and .NET CMSs save UTF-8 with a byte order mark; RFC 8259 §8.1 lets a
		// parser ignore it. It was a 400 "invalid character 'ï'".
		{name: "UTF-8 byte order mark", in: "\ufeff{\"title\":\"x\"}", want: &article.Article{Title: "x"}},
		{name: "two byte order marks", in: "\ufeff\ufeff{\"title\":\"x\"}", wantErr: "decoding JSON"},
		{name: "unknown field", in: `{"title":"x","titel":"y"}`, wantErr: `unknown field "titel"`},
		{name: "unknown nested-looking field", in: `{"title":"x","meta":{}}`, wantErr: `unknown field "meta"`},
		{name: "trailing object", in: `{"title":"x"} {"title":"y"}`, wantErr: "trailing data"},
		{name: "trailing garbage", in: `{"title":"x"} garbage`, wantErr: "trailing data"},
		{name: "trailing number", in: `{"title":"x"}1`, wantErr: "trailing data"},
		{name: "trailing closing brace", in: `{"title":"x"}}`, wantErr: "trailing data"},
		{name: "trailing closing bracket", in: `{"title":"x"}]`, wantErr: "trailing data"},
		{name: "syntax error", in: `{"title":`, wantErr: "decoding JSON"},
		{name: "empty", in: ``, wantErr: "decoding JSON"},
		{name: "wrong type", in: `{"priority":"high"}`, wantErr: "decoding JSON"},
		{name: "invalid UTF-8 in a string", in: "{\"title\":\"\xff\xfe\"}", wantVE: []string{"(document)"}},
		{name: "invalid UTF-8 outside strings", in: "{\"title\":\"x\"}\xc3", wantVE: []string{"(document)"}},
		{name: "truncated Arabic rune", in: "{\"title\":\"\xd8\"}", wantVE: []string{"(document)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := article.DecodeBytes([]byte(tc.in))
			switch {
			case tc.wantVE != nil:
				if got := fieldsOf(t, err); !reflect.DeepEqual(got, tc.wantVE) {
					t.Fatalf("fields = %v, want %v", got, tc.wantVE)
				}
			case tc.wantErr != "":
				if err == nil {
					t.Fatalf("no error, want one containing %q (decoded %+v)", tc.wantErr, a)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tc.wantErr)
				}
			default:
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if tc.want != nil && !reflect.DeepEqual(a, *tc.want) {
					t.Fatalf("decoded %+v\nwant     %+v", a, *tc.want)
				}
			}
		})
	}
}

func TestDecodeSize(t *testing.T) {
	// A document of exactly MaxPayloadBytes is read; one byte more is ErrTooLarge.
	doc := func(size int) []byte {
		head, tail := `{"title":"x","body":"`, `"}`
		return []byte(head + strings.Repeat("a", size-len(head)-len(tail)) + tail)
	}
	t.Run("at limit", func(t *testing.T) {
		in := doc(article.MaxPayloadBytes)
		a, err := article.Decode(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("Decode(%d bytes): %v", len(in), err)
		}
		if len(a.Body) != article.MaxPayloadBytes-len(`{"title":"x","body":""}`) {
			t.Fatalf("body length %d", len(a.Body))
		}
	})
	t.Run("over limit", func(t *testing.T) {
		_, err := article.Decode(bytes.NewReader(doc(article.MaxPayloadBytes + 1)))
		if !errors.Is(err, article.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("far over limit", func(t *testing.T) {
		_, err := article.Decode(bytes.NewReader(doc(3 * article.MaxPayloadBytes)))
		if !errors.Is(err, article.ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("Decode rejects what DecodeBytes rejects", func(t *testing.T) {
		if _, err := article.Decode(strings.NewReader(`{"title":"x","nope":1}`)); err == nil || !strings.Contains(err.Error(), "unknown field") {
			t.Fatalf("unknown field: err = %v", err)
		}
		if _, err := article.Decode(strings.NewReader(`{"title":"x"}{}`)); err == nil || !strings.Contains(err.Error(), "trailing data") {
			t.Fatalf("trailing data: err = %v", err)
		}
		if got := fieldsOf(t, func() error { _, err := article.Decode(strings.NewReader("{\"title\":\"\xff\"}")); return err }()); !reflect.DeepEqual(got, []string{"(document)"}) {
			t.Fatalf("invalid UTF-8: fields %v", got)
		}
	})
	t.Run("read error", func(t *testing.T) {
		boom := errors.New("boom")
		if _, err := article.Decode(errReader{boom}); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want it to wrap the reader's error", err)
		}
	})
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestNormalizeID(t *testing.T) {
	const base = "https://news.example/ar/2024/05/story?a=1&b=2"
	want := article.IDFromURL(mustCanonical(t, base))
	if !strings.HasPrefix(want, "u") || len(want) != 25 {
		t.Fatalf("IDFromURL = %q: want 'u' + 24 hex digits", want)
	}
	same := []struct{ name, url string }{
		{"identical", base},
		{"utm parameters", base + "&utm_source=telegram&utm_medium=social&utm_campaign=x"},
		{"upper-case utm", base + "&UTM_Source=fb"},
		{"fbclid", base + "&fbclid=IwAR0abc"},
		{"gclid igshid mc_cid mc_eid ref", base + "&gclid=1&igshid=2&mc_cid=3&mc_eid=4&ref=home"},
		{"fragment", base + "#comments"},
		{"host case", "https://NEWS.Example/ar/2024/05/story?a=1&b=2"},
		{"scheme case", "HTTPS://news.example/ar/2024/05/story?a=1&b=2"},
		{"trailing slash", "https://news.example/ar/2024/05/story/?a=1&b=2"},
		{"query order", "https://news.example/ar/2024/05/story?b=2&a=1"},
		{"default port", "https://news.example:443/ar/2024/05/story?a=1&b=2"},
		{"surrounding spaces", "  " + base + "\n"},
		{"everything at once", " HTTPS://News.EXAMPLE:443/ar/2024/05/story/?utm_source=x&b=2&fbclid=y&a=1#top "},
	}
	for _, tc := range same {
		t.Run(tc.name, func(t *testing.T) {
			a := article.Article{URL: tc.url, Title: "t"}
			a.Normalize()
			if a.ID != want {
				t.Fatalf("ID for %q = %q, want %q (canonical %q)", tc.url, a.ID, want, mustCanonical(t, tc.url))
			}
			if err := a.Validate(); err != nil {
				t.Fatalf("normalized article does not validate: %v", err)
			}
		})
	}
	different := []struct{ name, url string }{
		{"other path", "https://news.example/ar/2024/05/other?a=1&b=2"},
		{"other query value", "https://news.example/ar/2024/05/story?a=1&b=3"},
		{"meaningful parameter kept", base + "&page=2"},
		{"other host", "https://news2.example/ar/2024/05/story?a=1&b=2"},
		{"path case matters", "https://news.example/AR/2024/05/story?a=1&b=2"},
	}
	for _, tc := range different {
		t.Run("differs/"+tc.name, func(t *testing.T) {
			a := article.Article{URL: tc.url}
			a.Normalize()
			if a.ID == want {
				t.Fatalf("ID for %q equals the base id %q", tc.url, want)
			}
		})
	}
}

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://News.Example/a/b/?utm_source=x&z=1&a=2#frag", "https://news.example/a/b?a=2&z=1"},
		{"http://news.example:80/a", "http://news.example/a"},
		{"https://news.example:8443/a", "https://news.example:8443/a"},
		{"https://news.example/a?utm_campaign=only", "https://news.example/a"},
		{"https://news.example/", "https://news.example"},
		{"https://news.example", "https://news.example"},
		{"https://news.example/a?", "https://news.example/a"},
		{"https://news.example/a//", "https://news.example/a"},
		// Arabic slugs: raw and percent-encoded (either hex case) are one URL.
		{"https://news.example/ar/خبر-عاجل", "https://news.example/ar/%D8%AE%D8%A8%D8%B1-%D8%B9%D8%A7%D8%AC%D9%84"},
		{"https://news.example/ar/%d8%ae%d8%a8%d8%b1-%d8%b9%d8%a7%d8%ac%d9%84/", "https://news.example/ar/%D8%AE%D8%A8%D8%B1-%D8%B9%D8%A7%D8%AC%D9%84"},
		// Without the trailing slash too (WordPress sends lower-case escapes): one URL, one id.
		// (Failed before: the escapes were kept as written.)
		{"https://news.example/ar/%d8%ae%d8%a8%d8%b1-%d8%b9%d8%a7%d8%ac%d9%84", "https://news.example/ar/%D8%AE%D8%A8%D8%B1-%D8%B9%D8%A7%D8%AC%D9%84"},
		{"https://news.example/ar/%D8%AE%d8%a8%D8%B1.html", "https://news.example/ar/%D8%AE%D8%A8%D8%B1.html"},
		// An escaped unreserved character is the character (RFC 3986, 6.2.2.2).
		{"https://news.example/a%2Db%7e%41", "https://news.example/a-b~A"},
		// An escaped slash is not a slash: kept, in upper case.
		{"https://news.example/a%2fb/c", "https://news.example/a%2Fb/c"},
	}
	for _, tc := range tests {
		if got := mustCanonical(t, tc.in); got != tc.want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tc.in, got, tc.want)
		} else if again := mustCanonical(t, got); again != got {
			t.Errorf("CanonicalURL(%q) = %q: not canonical", got, again)
		}
	}
	// The spellings of one Arabic slug are one article id.
	ids := map[string]bool{}
	for _, u := range []string{"https://news.example/ar/زلزال.html", "https://news.example/ar/%d8%b2%d9%84%d8%b2%d8%a7%d9%84.html",
		"https://news.example/ar/%D8%B2%D9%84%D8%B2%D8%A7%D9%84.html", "https://news.example/ar/%D8%B2%d9%84%D8%B2%d8%a7%D9%84.html"} {
		ids[article.IDFromURL(mustCanonical(t, u))] = true
	}
	if len(ids) != 1 {
		t.Errorf("one Arabic slug spelt four ways gives %d article ids", len(ids))
	}
	if _, err := article.CanonicalURL("http://[::1"); err == nil {
		t.Errorf("CanonicalURL of an unparsable URL: no error")
	}
}

func mustCanonical(t *testing.T, raw string) string {
	t.Helper()
	c, err := article.CanonicalURL(raw)
	if err != nil {
		t.Fatalf("CanonicalURL(%q): %v", raw, err)
	}
	return c
}

func TestNormalize(t *testing.T) {
	t.Run("explicit id kept", func(t *testing.T) {
		a := article.Article{ID: "  cms-4711 ", URL: "https://news.example/a"}
		a.Normalize()
		if a.ID != "cms-4711" {
			t.Fatalf("ID = %q, want the publisher's id, trimmed", a.ID)
		}
	})
	t.Run("no url no id", func(t *testing.T) {
		a := article.Article{Title: "x"}
		a.Normalize()
		if a.ID != "" {
			t.Fatalf("ID = %q, want empty", a.ID)
		}
	})
	t.Run("nil tags become empty", func(t *testing.T) {
		a := article.Article{URL: "https://news.example/a", Title: "x"}
		a.Normalize()
		if a.Tags == nil || len(a.Tags) != 0 {
			t.Fatalf("Tags = %#v, want []string{}", a.Tags)
		}
	})
	t.Run("existing tags kept", func(t *testing.T) {
		a := article.Article{Tags: []string{"a", "b"}}
		a.Normalize()
		if !reflect.DeepEqual(a.Tags, []string{"a", "b"}) {
			t.Fatalf("Tags = %#v", a.Tags)
		}
	})
	t.Run("trims and lowercases", func(t *testing.T) {
		a := article.Article{
			URL: " https://news.example/a \n", Title: "\u00a0 عنوان \t", Language: " AR ", Category: " سياسة ",
			Channels: []string{" tg-main", "x-main "},
		}
		a.Normalize()
		want := article.Article{
			ID: article.IDFromURL("https://news.example/a"), URL: "https://news.example/a", Title: "عنوان",
			Language: "ar", Category: "سياسة", Tags: []string{}, Channels: []string{"tg-main", "x-main"},
		}
		if !reflect.DeepEqual(a, want) {
			t.Fatalf("Normalize =\n%+v\nwant\n%+v", a, want)
		}
	})
	t.Run("idempotent", func(t *testing.T) {
		a := article.Article{URL: "https://News.example/a/?utm_source=x", Title: " t "}
		a.Normalize()
		b := a
		b.Normalize()
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("second Normalize changed %+v to %+v", a, b)
		}
	})
	t.Run("decoded null tags", func(t *testing.T) {
		a, err := article.DecodeBytes([]byte(`{"url":"https://news.example/a","title":"x","tags":null}`))
		if err != nil {
			t.Fatal(err)
		}
		a.Normalize()
		if a.Tags == nil {
			t.Fatal("Tags nil after Normalize")
		}
	})
}

func TestValidate(t *testing.T) {
	ar := func(n int) string { return strings.Repeat("ع", n) } // 2 bytes per rune
	tests := []struct {
		name   string
		mutate func(a *article.Article)
		want   []string // fields with an error; nil = valid
	}{
		{"valid", func(a *article.Article) {}, nil},
		{"minimal", func(a *article.Article) { *a = article.Article{URL: "http://x.example", Title: "t"} }, nil},

		{"url missing", func(a *article.Article) { a.URL = "" }, []string{"url"}},
		{"url relative", func(a *article.Article) { a.URL = "/ar/story" }, []string{"url"}},
		{"url scheme-relative", func(a *article.Article) { a.URL = "//news.example/a" }, []string{"url"}},
		{"url ftp", func(a *article.Article) { a.URL = "ftp://news.example/a" }, []string{"url"}},
		{"url javascript", func(a *article.Article) { a.URL = "javascript:alert(1)" }, []string{"url"}},
		{"url mailto", func(a *article.Article) { a.URL = "mailto:desk@news.example" }, []string{"url"}},
		{"url no host", func(a *article.Article) { a.URL = "https:///path" }, []string{"url"}},
		{"url unparsable", func(a *article.Article) { a.URL = "http://[::1" }, []string{"url"}},
		{"url bare word", func(a *article.Article) { a.URL = "news.example/a" }, []string{"url"}},
		{"url invalid UTF-8", func(a *article.Article) { a.URL = "https://news.example/\xff" }, []string{"url"}},
		{"url upper-case scheme ok", func(a *article.Article) { a.URL = "HTTPS://news.example/a" }, nil},

		{"title missing", func(a *article.Article) { a.Title = "" }, []string{"title"}},
		{"title 2000 Arabic chars", func(a *article.Article) { a.Title = ar(article.MaxTitleChars) }, nil},
		{"title 2001 Arabic chars", func(a *article.Article) { a.Title = ar(article.MaxTitleChars + 1) }, []string{"title"}},
		{"title 2000 ASCII chars", func(a *article.Article) { a.Title = strings.Repeat("a", 2000) }, nil},
		{"title 2001 ASCII chars", func(a *article.Article) { a.Title = strings.Repeat("a", 2001) }, []string{"title"}},
		{"title 1999 4-byte emoji", func(a *article.Article) { a.Title = strings.Repeat("😀", 1999) }, nil},
		{"title invalid UTF-8", func(a *article.Article) { a.Title = "عنوان\xd8" }, []string{"title"}},
		{"title nbsp only", func(a *article.Article) { a.Title = "&nbsp;" }, []string{"title"}},
		{"title empty paragraph", func(a *article.Article) { a.Title = "<p> </p>" }, []string{"title"}},
		{"title script only", func(a *article.Article) { a.Title = "<script>x()</script>" }, []string{"title"}},
		{"title nbsp escaped twice", func(a *article.Article) { a.Title = "&amp;nbsp;" }, []string{"title"}},
		{"title RLM and zero-width space", func(a *article.Article) { a.Title = "\u200f\u200b\u2067\u2069" }, []string{"title"}},
		{"title in tags beside nbsp and RLM is readable", func(a *article.Article) { a.Title = "<b>عاجل</b>&nbsp;\u200f" }, nil},
		{"title a digit is readable", func(a *article.Article) { a.Title = "\u200f٢٠٢٦" }, nil},
		{"title an emoji is readable", func(a *article.Article) { a.Title = "🔴" }, nil},

		{"summary 10000 chars", func(a *article.Article) { a.Summary = ar(article.MaxSummaryChar) }, nil},
		{"summary 10001 chars", func(a *article.Article) { a.Summary = ar(article.MaxSummaryChar + 1) }, []string{"summary"}},
		{"summary invalid UTF-8", func(a *article.Article) { a.Summary = "\xc0\x80" }, []string{"summary"}},

		{"body exactly 1 MiB", func(a *article.Article) { a.Body = strings.Repeat("a", article.MaxBodyBytes) }, nil},
		{"body 1 MiB + 1 byte", func(a *article.Article) { a.Body = strings.Repeat("a", article.MaxBodyBytes+1) }, []string{"body"}},
		// The body limit is bytes, not characters: 2^19+1 two-byte runes are over it.
		{"body counted in bytes", func(a *article.Article) { a.Body = ar(article.MaxBodyBytes/2 + 1) }, []string{"body"}},
		{"body invalid UTF-8", func(a *article.Article) { a.Body = "ok\xffok" }, []string{"body"}},

		{"image_url empty ok", func(a *article.Article) { a.ImageURL = "" }, nil},
		{"image_url relative", func(a *article.Article) { a.ImageURL = "/img.jpg" }, []string{"image_url"}},
		{"image_url data", func(a *article.Article) { a.ImageURL = "data:image/png;base64,AAAA" }, []string{"image_url"}},
		{"image_url invalid UTF-8", func(a *article.Article) { a.ImageURL = "https://cdn.example/\xff.jpg" }, []string{"image_url"}},

		{"id empty ok", func(a *article.Article) { a.ID = "" }, nil},
		{"id publisher style ok", func(a *article.Article) { a.ID = "wp-4711_rev.2" }, nil},
		{"id Arabic ok", func(a *article.Article) { a.ID = "خبر-١٢" }, nil},
		{"id 128 bytes", func(a *article.Article) { a.ID = strings.Repeat("a", article.MaxIDLen) }, nil},
		{"id 129 bytes", func(a *article.Article) { a.ID = strings.Repeat("a", article.MaxIDLen+1) }, []string{"id"}},
		{"id 65 Arabic runes = 130 bytes", func(a *article.Article) { a.ID = ar(65) }, []string{"id"}},
		{"id colon", func(a *article.Article) { a.ID = "a:b" }, []string{"id"}},
		{"id control character", func(a *article.Article) { a.ID = "a\x01b" }, []string{"id"}},
		{"id DEL", func(a *article.Article) { a.ID = "a\x7f" }, []string{"id"}},
		{"id line separator", func(a *article.Article) { a.ID = "a\u2028b" }, []string{"id"}},
		{"id right-to-left mark", func(a *article.Article) { a.ID = "\u200fخبر" }, []string{"id"}},
		{"id open brace", func(a *article.Article) { a.ID = "a{b" }, []string{"id"}},
		{"id close brace", func(a *article.Article) { a.ID = "a}b" }, []string{"id"}},
		{"id slash", func(a *article.Article) { a.ID = "2024/05/a" }, []string{"id"}},
		{"id dot", func(a *article.Article) { a.ID = "." }, []string{"id"}},
		{"id dot dot", func(a *article.Article) { a.ID = ".." }, []string{"id"}},
		{"id with dots ok", func(a *article.Article) { a.ID = "...a.." }, nil},
		{"id space", func(a *article.Article) { a.ID = "a b" }, []string{"id"}},
		{"id tab", func(a *article.Article) { a.ID = "a\tb" }, []string{"id"}},
		{"id newline", func(a *article.Article) { a.ID = "a\nb" }, []string{"id"}},
		{"id carriage return", func(a *article.Article) { a.ID = "a\rb" }, []string{"id"}},
		{"id NUL", func(a *article.Article) { a.ID = "a\x00b" }, []string{"id"}},
		{"id invalid UTF-8", func(a *article.Article) { a.ID = "a\xffb" }, []string{"id"}},

		{"category invalid UTF-8", func(a *article.Article) { a.Category = "\xff" }, []string{"category"}},
		{"language invalid UTF-8", func(a *article.Article) { a.Language = "\xff" }, []string{"language"}},

		{"50 tags", func(a *article.Article) { a.Tags = make([]string, article.MaxTags) }, nil},
		{"51 tags", func(a *article.Article) { a.Tags = make([]string, article.MaxTags+1) }, []string{"tags"}},
		{"tag invalid UTF-8", func(a *article.Article) { a.Tags = []string{"ok", "\xff"} }, []string{"tags[1]"}},

		{"no channels ok", func(a *article.Article) { a.Channels = nil }, nil},
		{"channels ok", func(a *article.Article) { a.Channels = []string{"tg-main", "x_breaking", "mastodon.ar"} }, nil},
		{"channel empty", func(a *article.Article) { a.Channels = []string{"tg-main", ""} }, []string{"channels[1]"}},
		{"channel colon", func(a *article.Article) { a.Channels = []string{"tg:main"} }, []string{"channels[0]"}},
		{"channel brace", func(a *article.Article) { a.Channels = []string{"ok", "ok", "{tg}"} }, []string{"channels[2]"}},
		{"channel space", func(a *article.Article) { a.Channels = []string{"tg main"} }, []string{"channels[0]"}},
		{"channel newline", func(a *article.Article) { a.Channels = []string{"tg\n"} }, []string{"channels[0]"}},
		{"two bad channels", func(a *article.Article) { a.Channels = []string{"", "a:b"} }, []string{"channels[0]", "channels[1]"}},

		{"priority 0", func(a *article.Article) { a.Priority = 0 }, nil},
		{"priority 10", func(a *article.Article) { a.Priority = 10 }, nil},
		{"priority 11", func(a *article.Article) { a.Priority = 11 }, []string{"priority"}},
		{"priority -1", func(a *article.Article) { a.Priority = -1 }, []string{"priority"}},

		{"three problems, all reported", func(a *article.Article) {
			a.URL = ""
			a.Title = ar(article.MaxTitleChars + 1)
			a.Priority = 42
		}, []string{"priority", "title", "url"}},
		{"everything wrong", func(a *article.Article) {
			*a = article.Article{
				ID: "a:b", URL: "ftp://x", Title: "", Summary: "\xff", Body: strings.Repeat("a", article.MaxBodyBytes+1),
				ImageURL: "img.jpg", Category: "\xff", Language: "\xff", Tags: []string{"\xff"},
				Channels: []string{""}, Priority: -5,
			}
		}, []string{"body", "category", "channels[0]", "id", "image_url", "language", "priority", "summary", "tags[0]", "title", "url"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.mutate(&a)
			err := a.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want errors on %v", tc.want)
			}
			if got := fieldsOf(t, err); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("fields = %v, want %v (%v)", got, tc.want, err)
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	a := article.Article{Title: strings.Repeat("ع", 2001), Priority: 11}
	err := a.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, want := range []string{"invalid article: ", "url: required", "title: 2001 characters, at most 2000 allowed", "priority: 11 out of range 0..10"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// The order follows the article's fields, so messages are stable for clients.
	if i, j := strings.Index(msg, "url:"), strings.Index(msg, "priority:"); i > j {
		t.Errorf("url error after priority error in %q", msg)
	}
}

// TestDecodeNormalizeValidate is the ingest path end to end: what a CMS sends becomes an article
// with a stable id.
func TestDecodeNormalizeValidate(t *testing.T) {
	in := `{"url":" https://News.example/ar/story/?utm_source=wp#x ","title":"  خبر عاجل ","language":"AR","priority":9}`
	a, err := article.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	a.Normalize()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if want := article.IDFromURL("https://news.example/ar/story"); a.ID != want {
		t.Fatalf("ID = %q, want %q", a.ID, want)
	}
	if a.Title != "خبر عاجل" || a.Language != "ar" || a.Tags == nil {
		t.Fatalf("normalized = %+v", a)
	}
}

// A document that does not decode says where, and what the contract wants there, in its own
// terms: field names, line and column, not Go's types.
func TestDecodeErrorsSayWhereAndWhat(t *testing.T) {
	for in, want := range map[string]string{
		``:                                `article: decoding JSON: the document is empty; want one object such as {"url":"https://…","title":"…"}`,
		`{"url":`:                         `article: decoding JSON: the document ends inside the object (a missing } ] or "?): unexpected EOF`,
		`{"url": "x",}`:                   `article: decoding JSON: line 1, column 13: invalid character '}' looking for beginning of object key string`,
		"{\n  \"tags\": [\"أ\" \"b\"]\n}": `article: decoding JSON: line 2, column 16: invalid character '"' after array element`,
		`{"priority":"high"}`:             `article: decoding JSON: line 1, column 18: "priority" must be a whole number, not a JSON string`,
		`{"tags":"a"}`:                    `article: decoding JSON: line 1, column 11: "tags" must be a list of strings, not a JSON string`,
		`{"published_at":"27 Nov"}`: `article: decoding JSON: "published_at" must be an RFC 3339 time string such as "2026-11-25T09:15:00Z": ` +
			`parsing time "27 Nov" as "2006-01-02T15:04:05Z07:00": cannot parse "27 Nov" as "2006"`,
		`{"titel":"x"}`: `article: decoding JSON: json: unknown field "titel"; the fields are id, url, title, summary, body, image_url, tags, category, categories, language, published_at, priority, channels`,
	} {
		_, err := article.DecodeBytes([]byte(in))
		if err == nil || err.Error() != want {
			t.Errorf("%q:\n have %v\n want %s", in, err, want)
		}
	}
}
