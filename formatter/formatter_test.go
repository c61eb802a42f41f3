package formatter

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"herald/article"
	"herald/channels"
)

// Hand-written twitter-text cases, carried in the project so coverage exists without the
// shared conformance folder.
func TestCountX(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"ascii", "hello", 5},
		{"arabic weighs 1", "مرحبا بالعالم", 13},
		{"harakat weigh 1 each", "قَالَ", 5},
		{"rlm weighs 2", "\u200fabc", 5},
		{"isolate weighs 2", "\u2067x\u2069", 5},
		{"presentation form weighs 2", "\uFEFB", 2},
		{"url counts 23", "see https://example.com/a/very/long/path/that/goes/on?x=1", 4 + 23},
		{"short url counts 23", "http://t.co", 23},
		{"protocol-less domain with real tld", "example.com", 23},
		{"unknown tld is text", "example.notatld", 15},
		{"percent-encoded arabic path is one url", "https://ex.com/%D8%B9%D8%B1%D8%A8%D9%8A", 23},
		{"raw arabic path ends the url", "https://ex.com/عربي", 23 + 4},
		{"trailing dot is not url", "go to example.com.", 6 + 23 + 1},
		{"emoji weighs 2", "😷", 2},
		{"zwj family weighs 2", "👨\u200d👩\u200d👧\u200d👦", 2},
		{"flag weighs 2", "🇺🇦", 2},
		{"keycap weighs 2", "1\uFE0F\u20E3", 2},
		{"skin tone weighs 2", "👍🏽", 2},
		{"copyright alone weighs 1", "©", 1},
		{"nfc composes", "e\u0301", 1},
		{"ellipsis weighs 2", "…", 2},
		{"hashtag", "#كوريا_الشمالية", 15},
		{"label over 63 is no url", "https://" + strings.Repeat("a", 64) + ".com", 8 + 64 + 4},
		{"preceded by letter is no url", "xhttp://example.com", 19},
		{"after slash no protocol-less url", "a/example.com", 13},
		// twitter-text's TLD needs only no [a-z0-9@+-] after it: an Arabic letter glued to it (a
		// missing space, common in pasted Arabic text) ends the URL, which still counts 23.
		{"domain glued to arabic", "زوروا example.comاليوم", 6 + 23 + 5},
		{"url glued to arabic", "https://a.comوقال", 23 + 4},
		{"url with path glued to arabic", "التفاصيل https://www.spa.gov.sa/2420384وقال", 9 + 23 + 4},
		{"tld then hyphen is no url", "example.com-اليوم", 11 + 1 + 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CountX(tc.in); got != tc.want {
				t.Errorf("CountX(%q) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func TestCounters(t *testing.T) {
	tests := []struct {
		kind channels.Kind
		in   string
		want int
		unit string
	}{
		{channels.KindTelegram, "مرحبا 😷", 8, UnitUTF16},
		{channels.KindBluesky, "قَالَ 👨\u200d👩\u200d👧", 5, UnitGraphemes},
		{channels.KindMastodon, "see https://example.com/" + strings.Repeat("x", 100), 4 + 23, UnitChars},
		{channels.KindMastodon, "example.com is not a link here", 30, UnitChars},
		{channels.KindX, "hi example.com", 3 + 23, UnitWeighted},
		{channels.KindThreads, "قَالَ 😷 https://example.com/" + strings.Repeat("x", 10), 5 + 1 + 4 + 1 + 30, UnitThreads},
	}
	for _, tc := range tests {
		count, unit := Counter(tc.kind)
		if unit != tc.unit {
			t.Errorf("%s: unit %q, want %q", tc.kind, unit, tc.unit)
		}
		if got := count(tc.in); got != tc.want {
			t.Errorf("%s: count(%q) = %d, want %d", tc.kind, tc.in, got, tc.want)
		}
	}
	if c, _ := Counter("myspace"); c != nil {
		t.Error("unknown kind has a counter")
	}
	if got := CountBytes("عربي"); got != 8 {
		t.Errorf("CountBytes = %d", got)
	}
}

// TestCountGraphemesAfterDirectionMark: LRM, RLM and the Arabic letter mark (U+200E, U+200F,
// U+061C) are grapheme Controls (UAX #29 GB4/GB5): a haraka or a joiner after one starts a
// cluster of its own, as after a line break. The fast path counted it into the mark, one
// cluster short per occurrence: a Bluesky post measured at 300 could be over.
func TestCountGraphemesAfterDirectionMark(t *testing.T) {
	for _, s := range []string{
		"\u200f\u064e", "\u200e\u064e", "\u061c\u064e", "\u200f\u200d", "\u200f\u200c",
		"قال \u200fَالرئيس", "a\u061c\u0651b", "\u200f\u064e\u0651",
	} {
		if got, want := CountGraphemes(s), countGraphemesSlow(s); got != want {
			t.Errorf("CountGraphemes(%+q) = %d, segmenter says %d", s, got, want)
		}
	}
}

func TestArabicCCCMatchesUnicode(t *testing.T) {
	for r := rune(0x600); r <= 0x6FF; r++ {
		want := norm.NFC.PropertiesString(string(r)).CCC()
		if got := arabicCCC(r); got != want {
			t.Errorf("arabicCCC(%U) = %d, Unicode says %d", r, got, want)
		}
	}
	// Shadda before fatha is not canonical order: NFC must reorder it.
	if isNFCFast("\u0628\u0651\u064e") {
		t.Error("shadda+fatha reported as NFC")
	}
	if got := cleanLine("\u0628\u0651\u064e"); got != "\u0628\u064e\u0651" {
		t.Errorf("cleanLine did not reorder marks: %q", got)
	}
}

func TestCheckTelegramHTML(t *testing.T) {
	tests := []struct {
		in      string
		wantLen int
		wantErr string
	}{
		{`<b>مرحبا</b> &amp; &lt;x&gt; &#39;`, 13, ""},
		{`<a href="https://x.com/?a=1&amp;b=2">link</a>`, 4, ""},
		{`😷`, 2, ""},
		{`<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>`, 2, ""},
		{`<br>`, 0, "unsupported tag"},
		{`<p>x</p>`, 0, "unsupported tag"},
		{`<b>x</i>`, 0, "unexpected end tag"},
		{`<b>x`, 0, "never closed"},
		{`a < b`, 0, "tag"},
		{`a > b`, 0, "bare '>'"},
		{`AT&T`, 0, "bare '&'"},
		{`&nbsp;`, 0, "unsupported entity"},
		{`<a>x</a>`, 0, "without href"},
		{`<a href="x" onclick="y">x</a>`, 0, "unsupported attribute"},
		{`<span>x</span>`, 0, "tg-spoiler"},
	}
	for _, tc := range tests {
		n, err := CheckTelegramHTML(tc.in)
		if tc.wantErr == "" {
			if err != nil || n != tc.wantLen {
				t.Errorf("CheckTelegramHTML(%q) = %d, %v; want %d", tc.in, n, err, tc.wantLen)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("CheckTelegramHTML(%q) error %v, want %q", tc.in, err, tc.wantErr)
		}
	}
}

func TestHashtag(t *testing.T) {
	tests := []struct{ in, want string }{
		{"كوريا الشمالية", "كوريا_الشمالية"},
		{"#أوكرانيا", "أوكرانيا"},
		{"##double", "double"},
		{"الدفاع، والأمن؟", "الدفاع_والأمن"},
		{"COVID-19", "COVID19"},
		{"  spaced   out  ", "spaced_out"},
		{"2024", ""},
		{"!!!", ""},
		{"قَالَ", "قال"}, // harakat go (TestHashtagArabic)
		{"Rock & Roll", "Rock_Roll"},
		{"emoji 😷 tag", "emoji_tag"},
	}
	for _, tc := range tests {
		if got := Hashtag(tc.in); got != tc.want {
			t.Errorf("Hashtag(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	got := hashtags([]string{"Ukraine", "ukraine", "", "2024", "#كوريا الشمالية", "روسيا"}, "Defense", 3, "")
	want := []string{"#Ukraine", "#كوريا_الشمالية", "#روسيا"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("hashtags = %v, want %v", got, want)
	}
	if got := hashtags([]string{"a"}, "b", -1, ""); got != nil {
		t.Errorf("max -1 gave %v", got)
	}
}

// TestHashtagArabic: hashtags made from Arabic newsroom tags are the tags readers follow and
// the platforms link whole.
//   - Telegram (TDLib's match_hashtags, the parser behind every client) ends a hashtag at the
//     first character that is not a letter, a decimal digit, '_' or ZWNJ: a harakah (Mn) cuts
//     "#الشَّرق" to "#الش". X and Mastodon do link marks, but there "#مِصر" is another tag than
//     the "#مصر" everyone uses, so harakat go on every platform.
//   - Tatweel (U+0640, a stretching stroke) is typographic: "#عـاجـل" is not "#عاجل", and a tag
//     of tatweel and digits alone ("ـ١٢٣") is no word at all (twitter-text: a hashtag needs a
//     letter; the tatweel used to count as one).
//   - Punctuation between words ends a hashtag on every platform: "مصر،السودان" (an Arabic
//     comma without a space, as editors type it) is two words joined by '_', never "مصرالسودان".
//
// Specs: https://github.com/tdlib/td/blob/master/td/telegram/MessageEntity.cpp (match_hashtags)
// and ../shared/PLATFORMS.md (Arabic and right-to-left text: hashtags).
func TestHashtagArabic(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"harakat stripped", "الشَّرق الأوسط", "الشرق_الأوسط"},
		{"tanween and sukun stripped", "مِصْرُ", "مصر"},
		{"dagger alef stripped", "هٰذا", "هذا"},
		{"shadda over lam-alef", "اللّاجئون", "اللاجئون"},
		{"tatweel stripped", "عـاجـل", "عاجل"},
		{"tatweel only", "ـــ", ""},
		{"tatweel and arabic-indic digits only", "ـ١٢٣", ""},
		{"arabic-indic digits only", "١٢٣ ٤٥٦", ""},
		{"arabic-indic digits kept beside letters", "قمة ٢٠٢٤", "قمة_٢٠٢٤"},
		{"arabic comma without space", "مصر،السودان", "مصر_السودان"},
		{"arabic semicolon without space", "غزة؛الضفة", "غزة_الضفة"},
		{"arabic question mark without space", "لماذا؟الآن", "لماذا_الآن"},
		{"slash between words", "غزة/إسرائيل", "غزة_إسرائيل"},
		{"guillemets", "«الربيع العربي»", "الربيع_العربي"},
		{"trailing arabic punctuation", "السودان، ", "السودان"},
		{"mixed arabic and latin", "كأس العالم FIFA 2026", "كأس_العالم_FIFA_2026"},
		{"persian zwnj kept", "می\u200cخواهم", "می\u200cخواهم"},
		// A ZWNJ only separates two letters that would join; at a word's end or start (a Persian
		// keyboard's habit) it is invisible, and "#السعودية\u200c" another tag than "#السعودية".
		{"trailing zwnj dropped", "السعودية\u200c", "السعودية"},
		{"leading zwnj dropped", "\u200cفارسی", "فارسی"},
		{"zwnj before a space dropped", "می\u200c خواهم", "می_خواهم"},
		{"zwnj before punctuation dropped", "ایران\u200c، عراق", "ایران_عراق"},
		{"doubled zwnj once", "می\u200c\u200cخواهم", "می\u200cخواهم"},
		{"hamza forms kept (nfc)", "أسرائيل", "أسرائيل"},
		{"latin hyphen still joins", "COVID-19", "COVID19"},
		// A hyphen beside Arabic separates words: "الروسية-الأوكرانية" is "Russian-Ukrainian", two
		// words, not one; #كوفيد_19 is the tag Arabic readers use.
		{"hyphen between arabic words", "الحرب الروسية-الأوكرانية", "الحرب_الروسية_الأوكرانية"},
		{"hyphen between arabic and digits", "كوفيد-19", "كوفيد_19"},
		{"en dash between arabic and latin", "الناتو–NATO", "الناتو_NATO"},
		// Arabic words hold no punctuation (no apostrophes, no abbreviation dots): beside an
		// Arabic letter any punctuation or symbol separates.
		{"dot between arabic words", "الشرق.الأوسط", "الشرق_الأوسط"},
		{"ampersand between arabic words", "الدفاع&الأمن", "الدفاع_الأمن"},
		{"emoji between arabic words", "مصر🇪🇬السودان", "مصر_السودان"},
		{"latin dots still join", "U.S.", "US"},
		// The conjunction و is written joined to the next word; a tag that spaces it off (the
		// seed page's category "الدفاع و الامن") is one phrase, "#الدفاع_والامن", not "و" as a word.
		{"spaced-off conjunction wa", "الدفاع و الامن", "الدفاع_والامن"},
		{"wa at the start", "و الأمن", "والأمن"},
		{"wa alone", "و", "و"},
		// Text pasted from a PDF press release comes in presentation forms (U+FB50–FDFF,
		// U+FE70–FEFF): the same word to a reader, another tag to every platform.
		{"presentation forms", "\uFE83\uFEED\uFEDB\uFEAE\uFE8D\uFEE7\uFEF4\uFE8E", "أوكرانيا"},
		{"lam-alef ligature", "\uFEFB\uFE9F\uFE8C\uFEEE\uFEE5", "لاجئون"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Hashtag(tc.in); got != tc.want {
				t.Errorf("Hashtag(%+q) = %+q, want %+q", tc.in, got, tc.want)
			}
		})
	}
	// The same tag with and without harakat or tatweel is one hashtag, not two.
	got := hashtags([]string{"عـاجـل", "عاجل", "مِصر", "مصر", "\uFEE3\uFEBC\uFEAE"}, "", 5, "")
	if want := "#عاجل #مصر"; strings.Join(got, " ") != want {
		t.Errorf("hashtags = %q, want %q", got, want)
	}
}

func TestLinkURL(t *testing.T) {
	on := &UTMOptions{Source: "telegram", Medium: "social", Campaign: "morning news"}
	tests := []struct {
		name, in string
		utm      *UTMOptions
		want     string
	}{
		{"arabic path percent-encoded", "https://example.com/أخبار/1", nil, "https://example.com/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/1"},
		{"idn host in punycode", "https://مثال.إختبار/x", nil, "https://xn--mgbh0fb.xn--kgbechtv/x"},
		{"utm appended, fragment kept", "https://ex.com/a?id=1#top", on, "https://ex.com/a?id=1&utm_source=telegram&utm_medium=social&utm_campaign=morning+news#top"},
		{"existing utm not duplicated", "https://ex.com/a?utm_source=rss", on, "https://ex.com/a?utm_source=rss&utm_medium=social&utm_campaign=morning+news"},
		{"no query", "https://ex.com", &UTMOptions{Source: "x", Medium: "social"}, "https://ex.com?utm_source=x&utm_medium=social"},
		{"final dot protected", "https://ex.com/story.", nil, "https://ex.com/story%2E"},
		{"parentheses encoded", "https://ex.com/a_(b)", nil, "https://ex.com/a_%28b%29"},
		{"raw arabic query encoded", "https://ex.com/?q=عربي", nil, "https://ex.com/?q=%D8%B9%D8%B1%D8%A8%D9%8A"},
		{"host lower-cased", "HTTPS://EXAMPLE.com/A", nil, "https://example.com/A"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := linkURL(tc.in, tc.utm)
			if err != nil || got != tc.want {
				t.Errorf("linkURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			if n := CountX(got); n != xURLLength {
				t.Errorf("X does not count %q as one link: %d", got, n)
			}
		})
	}
	if _, err := linkURL("ftp://example.com/x", nil); err == nil {
		t.Error("ftp link accepted")
	}
}

func TestParagraphsAndBoilerplate(t *testing.T) {
	b, _ := newBoilerplate(BoilerplateOptions{Patterns: []string{`^إعلان ممول`}})
	keep := func(p string) bool { return !b.is(p) }
	body := `<div><script>alert("x")</script><style>p{color:red}</style><iframe src="x">frame</iframe>
<noscript>enable js</noscript><p>الفقرة&nbsp;الأولى&#8230; مع   مسافات&#x200B;.</p><p>
سطر<br>ثان</p><ul><li>Telegram</li><li>Whatsapp channel</li></ul><p>إعلان ممول هنا</p>
<p>ادارة الموقع لا تتبنى وجهة نظر الكاتب</p><p>` + "\u200f" + `النهاية` + "\u200e" + `</p></div>`
	got := paragraphs(body, -1, keep)
	want := []string{"الفقرة الأولى… مع مسافات.", "سطر", "ثان", "النهاية"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("paragraphs =\n%q\nwant\n%q", got, want)
	}
	plain := "سطر أول\r\nمصدر الخبر\nنشر الخبر اول مرة على موقع :www.x.com\nزر الذهاب إلى الأعلى\nContinue reading\nاشترك الآن للاستمرار\nسطر أخير"
	got = paragraphs(plain, -1, keep)
	if strings.Join(got, "|") != "سطر أول|سطر أخير" {
		t.Errorf("plain paragraphs = %q", got)
	}
	if s := b.strip("The end of the story. Continue reading →"); s != "The end of the story." {
		t.Errorf("strip = %q", s)
	}
	if s := b.strip("Text [...] The post Title appeared first on Site."); s != "Text" {
		t.Errorf("strip = %q", s)
	}
	off := false
	nb, _ := newBoilerplate(BoilerplateOptions{Enabled: &off})
	if nb.is("Continue reading") {
		t.Error("disabled boilerplate still drops lines")
	}
	if _, err := newBoilerplate(BoilerplateOptions{Patterns: []string{"("}}); err == nil {
		t.Error("bad pattern accepted")
	}
}

// TestParagraphsBounded: the body scan stops once the summary has enough text.
func TestParagraphsBounded(t *testing.T) {
	body := strings.Repeat("<p>جملة قصيرة هنا.</p>", 100000)
	got := paragraphs(body, 100, nil)
	if n := len(got); n < 5 || n > 10 {
		t.Errorf("collected %d paragraphs for 100 code points", n)
	}
	one := strings.Repeat("ا", 1<<20)
	if got := paragraphs(one, 100, nil); len(got) != 1 || len(got[0]) > maxParagraphBytes {
		t.Errorf("one huge paragraph not bounded: %d bytes", len(got[0]))
	}
}

func TestCutText(t *testing.T) {
	s := "قال الرئيس إن الوضع خطير. وأضاف أن الحكومة، التي اجتمعت أمس، ستتخذ إجراءات عاجلة خلال الأيام المقبلة"
	tests := []struct {
		name      string
		n         int
		sentences bool
		want      string
	}{
		{"fits", 1000, true, s},
		{"sentence end", 66, true, "قال الرئيس إن الوضع خطير."},
		{"word boundary", 20, false, "قال الرئيس إن الوضع…"},
	}
	for _, tc := range tests {
		got := cutText(s, tc.n, tc.sentences)
		if got != tc.want {
			t.Errorf("%s: cutText(n=%d) = %q, want %q", tc.name, tc.n, got, tc.want)
		}
		if CountRunes(got) > tc.n {
			t.Errorf("%s: %d code points over %d", tc.name, CountRunes(got), tc.n)
		}
	}
	clause := "وأضاف أن الحكومة، التي اجتمعت أمس، ستتخذ إجراءات عاجلة خلال الأيام المقبلة"
	if got := cutText(clause, 40, true); got != "وأضاف أن الحكومة، التي اجتمعت أمس…" {
		t.Errorf("clause cut = %q", got)
	}
	// A letter keeps its harakat: no cut between "بَ" and its mark.
	word := strings.Repeat("بَ", 50)
	got := cutText(word, 11, false)
	if strings.HasSuffix(strings.TrimSuffix(got, ellipsis), "ب") {
		t.Errorf("cut separated a letter from its mark: %q", got)
	}
	// A URL is never cut: the cut moves before it.
	got = cutText("https://example.com/"+strings.Repeat("x", 100), 30, false)
	if got != "" {
		t.Errorf("URL was cut: %q", got)
	}
	got = cutText("#"+strings.Repeat("وسم", 30), 20, false)
	if got != "" {
		t.Errorf("hashtag was cut: %q", got)
	}
}

func TestAddRLMs(t *testing.T) {
	in := "<b>عنوان</b>\nBBC تقول\n2024 عام\n<a href=\"https://x.com\">https://x.com</a>\n#كوريا\n#Ukraine #أوكرانيا\n«Trump» قال"
	want := "<b>عنوان</b>\n" + rlm + "BBC تقول\n" + rlm + "2024 عام\n" + rlm + "<a href=\"https://x.com\">https://x.com</a>\n#كوريا\n" + rlm + "#Ukraine #أوكرانيا\n" + rlm + "«Trump» قال"
	if got := addRLMs(in, markupHTML); got != want {
		t.Errorf("addRLMs =\n%q\nwant\n%q", got, want)
	}
	if got := addRLMs(rlm+"BBC", markupNone); got != rlm+"BBC" {
		t.Errorf("double mark: %q", got)
	}
	if !isRTL("", "عنوان عربي") || isRTL("", "English title") || !isRTL("ar-EG", "Title") || isRTL("en", "عنوان") {
		t.Error("isRTL")
	}
}

func TestOptions(t *testing.T) {
	src := `
template: "{{escape .Title}} {{link .URL}}"
limit: 1000
summary_max: 200
max_hashtags: -1
rtl_marks: false
image: false
utm: {enabled: true, source: herald, medium: social, campaign: breaking}
boilerplate: {enabled: true, patterns: ["^Sponsored"]}
`
	var o Options
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&o); err != nil {
		t.Fatalf("decoding options: %v", err)
	}
	if _, err := New(channels.KindMastodon, o); err != nil {
		t.Fatalf("New: %v", err)
	}
	bad := []struct {
		kind channels.Kind
		opts Options
		want string
	}{
		{channels.KindX, Options{Limit: 500}, "above"},
		{channels.KindTelegram, Options{Limit: -1}, "negative"},
		{channels.KindTelegram, Options{Template: "{{.Nope}}"}, "template"},
		{channels.KindTelegram, Options{Template: "{{.Title"}, "template"},
		{channels.KindTelegram, Options{Template: "<b>{{.Title}}</b> {{.Summary}} {{link .URL}}"}, "template"}, // unescaped
		{channels.KindTelegram, Options{Template: "<p>{{escape .Title}}</p>"}, "template"},
		{channels.KindX, Options{Embed: true}, "embed"},
		{channels.KindX, Options{Boilerplate: BoilerplateOptions{Patterns: []string{"["}}}, "patterns"},
		{"myspace", Options{}, "no renderer"},
	}
	for _, tc := range bad {
		if _, err := New(tc.kind, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%s, %+v) error %v, want %q", tc.kind, tc.opts, err, tc.want)
		}
	}
	for _, k := range channels.Kinds {
		d, err := Defaults(k)
		if err != nil || d.Limit <= 0 || d.UTM.Source != string(k) {
			t.Errorf("Defaults(%s) = %+v, %v", k, d, err)
		}
		if _, err := New(k, d); err != nil {
			t.Errorf("New(%s, Defaults) = %v", k, err)
		}
	}
}

func arabicArticle() *article.Article {
	return &article.Article{
		ID:       "a1",
		URL:      "https://www.defense-arabic.com/2024/10/13/زيلينسكي-يقول/",
		Title:    "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي",
		Body:     "<p>الدفاع و الامن</p><p>قال الرئيس الأوكراني إن هناك تحالفًا متزايدًا بين روسيا وكوريا الشمالية. وأضاف أن القوات وصلت.</p><p>ادارة الموقع لا تتبنى وجهة نظر الكاتب</p><p>JOIN US AND FOLO</p><p>Telegram</p>",
		Tags:     []string{"أوكرانيا", "كوريا الشمالية", "Zelensky"},
		Category: "الدفاع و الامن",
		Language: "ar",
	}
}

// TestRenderers is the table of per-kind expectations on one Arabic article.
func TestRenderers(t *testing.T) {
	tests := []struct {
		kind       channels.Kind
		opts       Options
		image      bool
		parseMode  channels.ParseMode
		limit      int
		unit       string
		contains   []string
		notContain []string
	}{
		{kind: channels.KindTelegram, parseMode: channels.ParseHTML, limit: 4096, unit: UnitUTF16,
			contains:   []string{"<b>زيلينسكي يقول", "#كوريا_الشمالية", `<a href="https://www.defense-arabic.com/2024/10/13/%D8%B2`, "utm_source=telegram&amp;utm_medium=social", "قال الرئيس الأوكراني"},
			notContain: []string{"ادارة الموقع", "JOIN US", "Telegram\n", "الدفاع و الامن\n"}},
		{kind: channels.KindTelegram, image: true, parseMode: channels.ParseHTML, limit: 1024, unit: UnitUTF16},
		{kind: channels.KindX, limit: 280, unit: UnitWeighted, contains: []string{"#أوكرانيا #كوريا_الشمالية\n", "utm_source=x"},
			notContain: []string{"#Zelensky", "قال الرئيس"}},
		{kind: channels.KindWhatsApp, limit: 4096, unit: UnitUTF16, contains: []string{"*زيلينسكي", "الروسي*", "utm_source=whatsapp"}, notContain: []string{"#"}},
		{kind: channels.KindMastodon, limit: 500, unit: UnitChars, contains: []string{"#Zelensky", "utm_source=mastodon"}},
		{kind: channels.KindMastodon, opts: Options{Limit: 5000}, limit: 5000, unit: UnitChars},
		{kind: channels.KindBluesky, limit: 300, unit: UnitGraphemes, contains: []string{"\nwww.defense-arabic.com/2024/10/13/زيلين…"}},
		{kind: channels.KindDiscord, limit: 2000, unit: UnitUTF16, contains: []string{"**زيلينسكي", "utm_source=discord"}},
		{kind: channels.KindFacebook, limit: 63206, unit: UnitUTF16, contains: []string{"utm_source=facebook"}},
		{kind: channels.KindThreads, limit: 500, unit: UnitThreads, contains: []string{"#أوكرانيا\n", "utm_source=threads", "قال الرئيس الأوكراني"},
			notContain: []string{"#كوريا_الشمالية", "#Zelensky", "ادارة الموقع"}},
		{kind: channels.KindWebhook, opts: Options{UTM: UTMOptions{Enabled: new(bool)}}, limit: 4096, unit: UnitUTF16,
			contains: []string{"https://www.defense-arabic.com/2024/10/13/%D8%B2"}, notContain: []string{"utm_"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.kind), func(t *testing.T) {
			r, err := New(tc.kind, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			a := arabicArticle()
			if tc.image {
				a.ImageURL = "https://example.com/photo.jpg"
			}
			posts, err := r.Render(a)
			if err != nil {
				t.Fatal(err)
			}
			p := posts[0]
			if p.ParseMode != tc.parseMode || p.Limit != tc.limit || p.Unit != tc.unit {
				t.Errorf("parse mode %q limit %d unit %q; want %q %d %q", p.ParseMode, p.Limit, p.Unit, tc.parseMode, tc.limit, tc.unit)
			}
			link, _ := linkURL(a.URL, r.(*renderer).opt.utm)
			checkPost(t, tc.kind, p, link)
			for _, s := range tc.contains {
				if !strings.Contains(p.Text, s) {
					t.Errorf("text lacks %q:\n%s", s, p.Text)
				}
			}
			for _, s := range tc.notContain {
				if strings.Contains(p.Text, s) {
					t.Errorf("text has %q:\n%s", s, p.Text)
				}
			}
		})
	}
}

// TestFitOrder: hashtags go before the summary does, the summary before the title, and the
// link is never cut; the limit holds after the direction marks.
func TestFitOrder(t *testing.T) {
	a := arabicArticle()
	a.Body = "<p>" + strings.Repeat("جملة من الخبر تشرح ما جرى. ", 20) + "</p>"
	r, _ := New(channels.KindMastodon, Options{Limit: 200})
	p := mustRender(t, r, a)
	if strings.Contains(p.Text, "#") {
		t.Errorf("hashtags kept while the summary was cut:\n%s", p.Text)
	}
	if !strings.Contains(p.Text, "جملة من الخبر") {
		t.Errorf("summary dropped although it fits once hashtags go:\n%s", p.Text)
	}
	r, _ = New(channels.KindMastodon, Options{Limit: 60})
	p = mustRender(t, r, a)
	if strings.Contains(p.Text, "جملة") || !strings.HasSuffix(p.Text, "utm_medium=social") || p.Length > 60 {
		t.Errorf("at 60: %d %q", p.Length, p.Text)
	}
	r, _ = New(channels.KindMastodon, Options{Limit: 30})
	p = mustRender(t, r, a)
	if !strings.HasPrefix(p.Text, "زي") || !strings.Contains(p.Text, "…\n\nhttps://") || p.Length > 30 {
		t.Errorf("at 30 the title should be cut with …: %d %q", p.Length, p.Text)
	}
	r, _ = New(channels.KindTelegram, Options{Limit: 10})
	if _, err := r.Render(a); !errors.Is(err, ErrTooLong) {
		t.Errorf("link longer than the limit: %v", err)
	}
}

func TestXMarksOnlyWhereTheyFit(t *testing.T) {
	a := arabicArticle()
	a.Tags = []string{"Zelensky"}
	r, _ := New(channels.KindX, Options{})
	p := mustRender(t, r, a)
	if !strings.Contains(p.Text, "\n"+rlm+"#Zelensky") {
		t.Errorf("X should mark the Latin hashtag line when it fits:\n%q", p.Text)
	}
	a.Title = strings.Repeat("ع", 255)
	p = mustRender(t, r, a)
	if strings.Contains(p.Text, rlm) || p.Length > 280 {
		t.Errorf("X marks added beyond the limit: %d %q", p.Length, p.Text)
	}
}

func TestSummarySources(t *testing.T) {
	r, _ := New(channels.KindTelegram, Options{SummaryMax: 100})
	a := arabicArticle()
	a.Summary = "<p>ملخص المحرر هنا.</p> Continue reading →"
	p := mustRender(t, r, a)
	if !strings.Contains(p.Text, "ملخص المحرر هنا.") || strings.Contains(p.Text, "Continue") || strings.Contains(p.Text, "قال الرئيس") {
		t.Errorf("summary field not preferred or not cleaned:\n%s", p.Text)
	}
	r, _ = New(channels.KindTelegram, Options{SummaryMax: -1})
	p = mustRender(t, r, arabicArticle())
	if strings.Contains(p.Text, "قال الرئيس") {
		t.Errorf("summary_max -1 still summarises:\n%s", p.Text)
	}
}

func TestTemplate(t *testing.T) {
	r, err := New(channels.KindTelegram, Options{Template: "<b>{{escape .Title}}</b>\n{{hashtags .Hashtags}}\n{{link .URL \"اقرأ المزيد\"}}"})
	if err != nil {
		t.Fatal(err)
	}
	a := arabicArticle()
	a.Title = "A < B & C"
	p := mustRender(t, r, a)
	if !strings.Contains(p.Text, "<b>A &lt; B &amp; C</b>") || !strings.Contains(p.Text, `">اقرأ المزيد</a>`) {
		t.Errorf("template output:\n%s", p.Text)
	}
	// The final limit check applies to template output too.
	r, _ = New(channels.KindX, Options{Template: "{{.Title}} {{.Title}} {{.Title}} {{.Title}} {{.Title}} {{link .URL}}"})
	a = arabicArticle()
	a.Title = strings.Repeat("كلمة ", 40)
	p = mustRender(t, r, a)
	if p.Length > 280 || CountX(p.Text) != p.Length {
		t.Errorf("template post over the limit: %d", p.Length)
	}
}

func TestDiscordEmbed(t *testing.T) {
	r, _ := New(channels.KindDiscord, Options{Embed: true})
	a := arabicArticle()
	a.Title = strings.Repeat("عنوان طويل ", 40)
	a.ImageURL = "https://example.com/i.jpg"
	p := mustRender(t, r, a)
	embeds, ok := p.Extra["embeds"].([]any)
	if !ok || len(embeds) != 1 {
		t.Fatalf("no embed: %v", p.Extra)
	}
	e := embeds[0].(map[string]any)
	if CountUTF16(e["title"].(string)) > discordEmbedTitle || !strings.HasPrefix(e["url"].(string), "https://www.defense-arabic.com/") {
		t.Errorf("embed = %v", e)
	}
	if e["image"].(map[string]any)["url"] != a.ImageURL {
		t.Errorf("embed image = %v", e["image"])
	}
}

func TestBlueskyCard(t *testing.T) {
	r, _ := New(channels.KindBluesky, Options{})
	a := arabicArticle()
	a.ImageURL = "https://example.com/i.jpg"
	p := mustRender(t, r, a)
	ext := p.Extra["external"].(map[string]any)
	if ext["thumb_url"] != a.ImageURL || !strings.Contains(ext["description"].(string), "قال الرئيس") || ext["title"] != a.Title {
		t.Errorf("external card = %v", ext)
	}
	var tags []string
	for _, f := range p.Facets {
		feat := f["features"].([]any)[0].(map[string]any)
		if feat["$type"] == "app.bsky.richtext.facet#tag" {
			idx := f["index"].(map[string]any)
			tags = append(tags, p.Text[idx["byteStart"].(int):idx["byteEnd"].(int)])
		}
	}
	if strings.Join(tags, " ") != "#أوكرانيا #كوريا_الشمالية #Zelensky" {
		t.Errorf("tag facets cover %q", tags)
	}
}

func mustRender(t *testing.T, r Renderer, a *article.Article) channels.Post {
	t.Helper()
	posts, err := r.Render(a)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return posts[0]
}

// TestXCasesFile runs the hand-written cases kept in testdata.
func TestXCasesFile(t *testing.T) {
	data, err := os.ReadFile("testdata/x-weighted-cases.yml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Text     string `yaml:"text"`
		Weighted int    `yaml:"weighted"`
	}
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 5 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		if got := CountX(c.Text); got != c.Weighted {
			t.Errorf("CountX(%q) = %d, want %d", c.Text, got, c.Weighted)
		}
	}
}

// TestHashtagsNotRepeatedFromTitle: an Arabic breaking-news title carries its own tags
// ("#عاجل | زلزال يضرب #تركيا"), and the article's tags often name the same ones: the post then
// repeated "#عاجل #تركيا" on its hashtag line, twice the same tag in one post, and on X the
// repeat took the room of a tag the title did not have. A tag already in the title is not
// repeated; the others fill its place up to max_hashtags.
func TestHashtagsNotRepeatedFromTitle(t *testing.T) {
	a := &article.Article{URL: "https://example.com/a", Language: "ar", Title: "#عاجل | زلزال بقوة 6 درجات يضرب #تركيا",
		Tags: []string{"عاجل", "تركيا", "زلازل", "كوارث"}}
	for _, kind := range []channels.Kind{channels.KindX, channels.KindTelegram, channels.KindMastodon, channels.KindBluesky} {
		r, _ := New(kind, Options{})
		p := mustRender(t, r, a)
		for _, tag := range []string{"#عاجل", "#تركيا"} {
			if n := strings.Count(p.Text, tag); n != 1 {
				t.Errorf("%s: %s appears %d times:\n%s", kind, tag, n, p.Text)
			}
		}
		if !strings.Contains(p.Text, "#زلازل") {
			t.Errorf("%s: the first tag the title lacks is missing:\n%s", kind, p.Text)
		}
	}
}

// TestTemplateTruncateKeepsEntities: `truncate` may get text already escaped
// ({{.Title | escape | truncate 60}}, the order a pipeline reads in). An Arabic title quoting
// with ASCII quotes escapes to "&#34;…&#34;", and a cut there dropped the entity's ";" (as the
// clause punctuation a cut trims) or stopped inside "&amp": Telegram refuses the HTML ("can't
// parse entities") and the render failed at send time, though the template passed its check at
// load (the sample titles are shorter than the cut). A cut never leaves a broken entity: it
// goes before it.
func TestTemplateTruncateKeepsEntities(t *testing.T) {
	r, err := New(channels.KindTelegram, Options{Template: "<b>{{.Title | escape | truncate 60}}</b>\n\n{{link .URL .LinkText}}"})
	if err != nil {
		t.Fatal(err)
	}
	titles := []string{
		`وزير الخارجية يصف الاتفاق بأنه "تاريخي" ويؤكد أن المفاوضات "ستستمر" حتى التوصل إلى حل نهائي`,
		`ارتفاع أسهم شركة الاتصالات الأمريكية AT&T بعد إعلان نتائجها الفصلية الأفضل منذ سنوات طويلة`,
		`القمة العربية تبحث "الأمن الغذائي" و"المياه" و"الطاقة" في جلستها الختامية اليوم في الرياض`,
	}
	for _, title := range titles {
		a := arabicArticle()
		a.Title = title
		p := mustRender(t, r, a)
		if _, err := CheckTelegramHTML(p.Text); err != nil {
			t.Errorf("truncate broke an entity: %v\n%s", err, p.Text)
		}
		if !strings.Contains(p.Text, "…</b>") {
			t.Errorf("title not cut:\n%s", p.Text)
		}
	}
	for n := 2; n < 45; n++ {
		s := telegramEscape(`Tom & "Jerry" say "hi" &c`)
		if got := truncateMarkup(s, n, markupHTML); strings.Count(got, "&") != strings.Count(got, ";") {
			t.Errorf("truncate %d of %q = %q: an entity cut", n, s, got)
		}
	}
}

// TestSummaryNotCutAtAbbreviation: Arabic news quotes "د. محمد" (Dr.), "أ.د." (Prof. Dr.),
// "م." (Eng.) all the time, and a one-letter word with its dot is an abbreviation, not a
// sentence end. A summary cut "at the last sentence end" stopped after "باسم الوزارة د.", a
// sentence that ends on "Dr." with no "…" to say it goes on.
func TestSummaryNotCutAtAbbreviation(t *testing.T) {
	p := "أعلنت وزارة الصحة السعودية اليوم عن خطة جديدة لمكافحة الأمراض المزمنة في المملكة، وقال المتحدث الرسمي باسم الوزارة د. محمد العبدالعالي إن الخطة تشمل حملات توعية واسعة وفحوصات مجانية في جميع المناطق خلال الأشهر المقبلة بالتعاون مع القطاع الخاص والجامعات."
	for _, n := range []int{140, 180, 220} {
		if got := cutText(p, n, true); strings.HasSuffix(got, " د.") {
			t.Errorf("cutText(%d) ends at the abbreviation: %q", n, got)
		}
	}
	for _, s := range []string{"قال أ.د. سالم", "وصرح م. خالد", "in the U.S. today", "قال الوزير د. علي"} {
		for i := range s {
			if i > 0 && s[i] == ' ' && sentenceEndsAt(s, i) {
				t.Errorf("%q: a sentence end after %q", s, s[:i])
			}
		}
	}
	for _, s := range []string{"انتهى الاجتماع. ثم", "ارتفع 3.5%. ثم", "Done. Then", "قالت ليلى إن الأمر انتهى. وقال"} {
		i := strings.Index(s, ". ") + 1
		if !sentenceEndsAt(s, i) {
			t.Errorf("%q: no sentence end after %q", s, s[:i])
		}
	}
	r, _ := New(channels.KindTelegram, Options{SummaryMax: 200})
	a := arabicArticle()
	a.Summary, a.Body = "", "<p>"+p+"</p>"
	post := mustRender(t, r, a)
	if strings.Contains(post.Text, "د.\n") || !strings.Contains(post.Text, "…") {
		t.Errorf("summary cut at the abbreviation:\n%s", post.Text)
	}
}

// TestMarkupEscapesLeaveURLsWhole: WhatsApp has no escape, so its markup characters in the text
// become look-alikes (_ → ＿), and Discord's get a backslash (\_). Applied inside a URL that the
// summary or title quotes (a ministry's e-service page, a YouTube id), either breaks the link:
// WhatsApp links "https://www.moe.gov.sa/ar/e" and shows the rest as text, Discord links the
// backslash (discord.js had the same bug: discordjs/discord.js#9950). URLs stay as written; the
// text around them is still escaped.
func TestMarkupEscapesLeaveURLsWhole(t *testing.T) {
	quoted := "https://www.moe.gov.sa/ar/e_services/Pages/default.aspx?id=a_b*c~d"
	a := arabicArticle()
	a.Title = "الوزارة تطلق *خدمة* جديدة للطلاب"
	a.Summary = "للتسجيل في الخدمة_الجديدة: " + quoted + " قبل نهاية الشهر. وقال الوزير في مقابلة: https://youtu.be/l03_BnPRIKc"
	for _, kind := range []channels.Kind{channels.KindWhatsApp, channels.KindDiscord} {
		r, _ := New(kind, Options{})
		p := mustRender(t, r, a)
		for _, u := range []string{quoted, "https://youtu.be/l03_BnPRIKc"} {
			if !strings.Contains(p.Text, u+" ") && !strings.Contains(p.Text, u+"\n") {
				t.Errorf("%s: the quoted URL %q is not whole in\n%s", kind, u, p.Text)
			}
		}
		if strings.Contains(p.Text, "*خدمة*") || strings.Contains(p.Text, "الخدمة_الجديدة") {
			t.Errorf("%s: markup outside the URLs no longer escaped:\n%s", kind, p.Text)
		}
	}
}

// TestShortEditorSummaryKept: a short line without a full stop first in the body is a kicker (a
// breadcrumb, the section's name) and no summary; the editor's own summary field is not. A
// headline-style summary ("انطلاق القمة العربية اليوم") was taken for a kicker and dropped, and
// the post went out with no summary (or the body's instead of the editor's).
func TestShortEditorSummaryKept(t *testing.T) {
	r, _ := New(channels.KindTelegram, Options{})
	for _, body := range []string{"", "<p>سياسة</p><p>بدأت أعمال القمة العربية في الرياض صباح اليوم بحضور القادة.</p>"} {
		a := &article.Article{URL: "https://example.com/a", Language: "ar", Title: "القادة العرب في الرياض",
			Summary: "انطلاق القمة العربية اليوم", Body: body}
		if p := mustRender(t, r, a); !strings.Contains(p.Text, "انطلاق القمة العربية اليوم") {
			t.Errorf("body %q: the editor's summary was dropped:\n%s", body, p.Text)
		}
	}
	// The body's kicker still goes.
	a := &article.Article{URL: "https://example.com/a", Language: "ar", Title: "القادة العرب في الرياض",
		Body: "<p>سياسة</p><p>بدأت أعمال القمة العربية في الرياض صباح اليوم بحضور القادة.</p>"}
	if p := mustRender(t, r, a); strings.Contains(p.Text, "سياسة") || !strings.Contains(p.Text, "بدأت أعمال") {
		t.Errorf("the body's kicker kept or its story lost:\n%s", p.Text)
	}
}

// TestHashtagsSkipWordPressDefaultCategory: a WordPress post filed in no category is in the
// default one, "Uncategorized" ("غير مصنف" on an Arabic site, "دسته‌بندی نشده" on a Persian one),
// and its feed lists that as a category, which becomes a tag and the category: every such post
// went out with "#غير_مصنف" or "#Uncategorized". WordPress's placeholder names no topic.
func TestHashtagsSkipWordPressDefaultCategory(t *testing.T) {
	got := hashtags([]string{"غير مصنف", "أوكرانيا", "Uncategorized", "دسته\u200cبندی نشده"}, "غير مصنف", 5, "عنوان")
	if strings.Join(got, " ") != "#أوكرانيا" {
		t.Errorf("hashtags = %q, want only #أوكرانيا", got)
	}
	a := arabicArticle()
	a.Tags, a.Category = []string{"غير مصنف"}, "Uncategorized"
	for _, kind := range []channels.Kind{channels.KindTelegram, channels.KindX, channels.KindMastodon} {
		r, _ := New(kind, Options{})
		if p := mustRender(t, r, a); strings.Contains(p.Text, "#غير") || strings.Contains(p.Text, "#Uncategorized") {
			t.Errorf("%s: the WordPress default category became a hashtag:\n%s", kind, p.Text)
		}
	}
}

// TestHashtagsOneSpellingPerWord: newsroom tag lists carry a word in its spellings, with and
// without the hamza or with ة written ه ("إيران" and "ايران", "مكة المكرمة" and "مكه المكرمه",
// as readers search both). Both went out: on X, whose posts carry two hashtags, both slots went to
// one word, and a reader saw the same tag twice. Like the boilerplate check, duplicates are
// compared after folding the letter variants; the first spelling stays.
func TestHashtagsOneSpellingPerWord(t *testing.T) {
	got := hashtags([]string{"إيران", "ايران", "مكة المكرمة", "مكه المكرمه", "طهران", "أمريكا", "امريكى"}, "", 5, "عنوان")
	want := "#إيران #مكة_المكرمة #طهران #أمريكا #امريكى"
	if strings.Join(got, " ") != want {
		t.Errorf("hashtags = %q, want %q", strings.Join(got, " "), want)
	}
	a := &article.Article{URL: "https://example.com/a", Language: "ar", Title: "#ايران تعلن نتائج الانتخابات",
		Tags: []string{"إيران", "ايران", "انتخابات"}}
	r, _ := New(channels.KindX, Options{})
	p := mustRender(t, r, a)
	if strings.Contains(p.Text, "#إيران") || !strings.Contains(p.Text, "#انتخابات") {
		t.Errorf("a spelling of the title's hashtag repeated, or the next tag missing:\n%s", p.Text)
	}
}

// TestDiscordLinkTextHasNoBackslashes: Discord ignores escapes inside a masked link's text and
// shows the backslashes ("escaping is disabled in masked links", discord/discord-api-docs#6185):
// a template's {{link .URL .Title}} with an Arabic headline such as "#عاجل | …" showed
// "\#عاجل \| …". The text gets look-alikes instead of escapes, so no character ends the link
// early or turns into markup, and nothing shows a backslash.
func TestDiscordLinkTextHasNoBackslashes(t *testing.T) {
	r, err := New(channels.KindDiscord, Options{Template: "{{link .URL .Title}}"})
	if err != nil {
		t.Fatal(err)
	}
	a := arabicArticle()
	a.Title = `#عاجل | قمة [G20] في الرياض *اليوم* _الثلاثاء_ ~ \ @everyone`
	p := mustRender(t, r, a)
	i := strings.Index(p.Text, "](")
	if !strings.HasPrefix(p.Text, "[") || i < 0 || strings.Count(p.Text, "](") != 1 {
		t.Fatalf("not one masked link: %q", p.Text)
	}
	text := p.Text[1:i]
	if strings.ContainsAny(text, "\\[]*_~|") {
		t.Errorf("masked link text with backslashes or markup: %q", text)
	}
	if !strings.Contains(text, "عاجل") || !strings.Contains(text, "الرياض") {
		t.Errorf("masked link text lost the title: %q", text)
	}
	if strings.Contains(p.Text, "@everyone") {
		t.Errorf("mention not broken: %q", p.Text)
	}
}
