package formatter

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Boilerplate is what publishers' pages append to every story: "follow us" blocks, the
// site's disclaimer, "source of the news" lines, subscription prompts, "back to top" buttons.
// None of it may reach a post. Lines are compared after folding (fold below), so "أول" and
// "اول", "الآن" and "الان", "ادارة" and "إدارة" match alike.

// boilerplatePrefixes drop a paragraph that starts with them.
var boilerplatePrefixes = []string{
	"join us and fol", // the seed page's "JOIN US AND FOLO" block header
	"follow us", "join us on", "join our", "تابعونا", "تابعنا علي", "تابعنا عبر", "انضم الينا",
	"انضموا الينا", "انضم لقناتنا", "اشترك في قناتنا",
	"اداره الموقع لا تتبني", "الموقع لا يتبني", // the publisher's disclaimer
	"نشر الخبر اول مره", "نشر لاول مره",
	"اشترك الان", "subscribe now", "subscribe to continue", "subscribe to get",
	"continue reading", "read more", "اقرا المزيد", "اقرا ايضا", "اقرا كذلك", "شاهد ايضا",
	"زر الذهاب الي الاعلي", "الذهاب الي الاعلي", "back to top",
	"اكتشاف المزيد من", "discover more from",
	"share this", "like this", "شارك هذا", "شارك الخبر", "شارك المقال", "related posts", "مقالات ذات صله",
	"ظهرت المقاله", // WordPress: "ظهرت المقالة … أولاً على …"
	// Arabic news sites' footers: "follow our latest news", "download our app", newsletters,
	// tag and related-story headers, copyright lines.
	"طالع ايضا", "لمتابعه اخر الاخبار", "لمتابعه اهم الاخبار", "لمتابعه احدث الاخبار",
	"تابعوا اخر الاخبار", "تابعوا اهم الاخبار", "تابعوا احدث الاخبار", "يمكنكم متابعه",
	"حمل تطبيق", "حملوا تطبيق", "اشترك في النشره", "للاشتراك في النشره", "sign up for our",
	"click here to", "كلمات دلاليه", "الوسوم", "مواضيع ذات صله", "اخبار ذات صله",
	"موضوعات ذات صله", "الاكثر قراءه",
}

// copyrightPhrases, or a ©, mark a short line as the site's copyright notice wherever they
// stand in it ("© 2024 الجزيرة. جميع الحقوق محفوظة", "Copyright © 2024 Sky News Arabia").
var copyrightPhrases = []string{"جميع الحقوق محفوظه", "حقوق النشر محفوظه", "all rights reserved"}

// callsToAction and socialWords: a short line that asks the reader to follow, join, subscribe,
// download or click, and names a network, an app or "our channel", is a "follow us" prompt
// ("اضغط هنا لمتابعة قناتنا على واتساب"). A story's sentence that only names a network ("حظرت
// الحكومة تطبيق تيك توك") has no call; one that has a verb but no network is news.
var callsToAction = map[string]bool{
	"تابعونا": true, "لمتابعه": true, "للاشتراك": true, "اضغط": true, "انقر": true,
}

// ambiguousCalls are calls only in a line that also addresses the reader (addressWords): Arabic
// writes their past tense like the imperative ("تابعوا المباراة عبر يوتيوب": they followed the
// match on YouTube), and English news uses follow and join as verbs of its own.
var ambiguousCalls = map[string]bool{
	"تابعوا": true, "انضموا": true, "اشترك": true, "اشتركوا": true, "حملوا": true,
	"follow": true, "subscribe": true, "join": true, "download": true,
}

// addressWords speak to the reader or of the outlet's own accounts: "our channel", "now",
// "here", "for free", "the latest news".
var addressWords = map[string]bool{
	"قناتنا": true, "حسابنا": true, "حساباتنا": true, "تطبيقنا": true, "صفحتنا": true, "صفحاتنا": true,
	"موقعنا": true, "نشرتنا": true, "الينا": true, "الان": true, "هنا": true, "مجانا": true, "قناه": true,
	"النشره": true, "الرابط": true, "our": true, "now": true, "here": true,
	"channel": true, "newsletter": true,
}

var socialWords = map[string]bool{
	"telegram": true, "whatsapp": true, "twitter": true, "facebook": true, "instagram": true,
	"youtube": true, "tiktok": true, "تلغرام": true, "تليغرام": true, "تليجرام": true,
	"تيليجرام": true, "تيليغرام": true, "واتساب": true, "تويتر": true, "فيسبوك": true,
	"انستغرام": true, "انستجرام": true, "انستقرام": true, "يوتيوب": true, "قناتنا": true,
	"حسابنا": true, "حساباتنا": true, "تطبيقنا": true, "newsletter": true,
}

// leadingCalls start a "follow us" prompt as the line's first word, the imperative: "تابع أحدث
// الأخبار عبر تطبيق واتساب", "انضم إلى قناة الجزيرة على واتساب". They read as the past tense too
// ("تابع الملايين الحفل عبر يوتيوب"), so, like ambiguousCalls, only beside addressWords.
var leadingCalls = map[string]bool{"تابع": true, "انضم": true, "حمل": true}

// boilerplateLines drop a paragraph that is exactly one of them.
var boilerplateLines = map[string]bool{
	"مصدر الخبر": true, "المصدر": true, "source": true, "ذات صله": true, "related": true,
	"advertisement": true, "اعلان": true, "share": true, "شارك": true, "تعليقات": true,
	"comments": true, "tags": true,
}

// socialNames are the entries of a "follow us" list; a short line made only of them is
// boilerplate ("Telegram", "Whatsapp channel", "GOOGLE NEWS", "فيسبوك | تويتر").
var socialNames = map[string]bool{
	"telegram": true, "whatsapp": true, "whatsapp channel": true, "nabd": true, "twitter": true,
	"x": true, "google news": true, "tiktok": true, "tik tok": true, "facebook": true,
	"instagram": true, "youtube": true, "linkedin": true, "threads": true, "snapchat": true,
	"bluesky": true, "mastodon": true, "rss": true, "telegram channel": true, "news": true,
	"تلغرام": true, "تليغرام": true, "تليجرام": true, "تيليجرام": true, "تيليغرام": true,
	"واتساب": true, "واتس اب": true, "قناه واتساب": true, "قناتنا علي واتساب": true, "نبض": true,
	"تويتر": true, "جوجل نيوز": true, "غوغل نيوز": true, "تيك توك": true, "فيسبوك": true,
	"فيس بوك": true, "انستغرام": true, "انستجرام": true, "انستقرام": true, "يوتيوب": true,
	"لينكد ان": true, "سناب شات": true,
}

// tailMarkers start trailing boilerplate in a paragraph: RSS excerpts end with "… Continue
// reading →" or "Read more". Matched case-insensitively in the paragraph's last tailWindow bytes.
var tailMarkers = []string{"continue reading", "read more", "اقرأ المزيد", "أكمل القراءة", "اقرا المزيد"}

// tailWindow is how much of a paragraph's end is searched, so a long paragraph costs no more
// than a short one; a marker must leave at most tailAfter bytes after it.
const (
	tailWindow = 800
	tailAfter  = 400
)

// boilerplate filters paragraphs for one channel.
type boilerplate struct {
	enabled bool
	extra   []*regexp.Regexp
}

func newBoilerplate(o BoilerplateOptions) (*boilerplate, error) {
	b := &boilerplate{enabled: o.Enabled == nil || *o.Enabled}
	for i, p := range o.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("boilerplate.patterns[%d]: %w", i, err)
		}
		b.extra = append(b.extra, re)
	}
	return b, nil
}

// is reports whether paragraph p is boilerplate.
func (b *boilerplate) is(p string) bool {
	if !b.enabled {
		return false
	}
	for _, re := range b.extra {
		if re.MatchString(p) {
			return true
		}
	}
	return isBuiltinBoilerplate(p)
}

// strip removes trailing boilerplate from a kept paragraph: "… Continue reading →", "Read
// more", WordPress's "The post … appeared first on …".
func (b *boilerplate) strip(p string) string {
	if !b.enabled {
		return p
	}
	start := 0
	if len(p) > tailWindow {
		start = len(p) - tailWindow
		for start < len(p) && !utf8.RuneStart(p[start]) {
			start++
		}
	}
	w := asciiLower(p[start:])
	cut := -1
	for _, m := range tailMarkers {
		i := strings.LastIndex(w, m)
		if i < 0 || len(w)-i-len(m) > tailAfter || (i > 0 && isASCIIAlnum(w[i-1])) {
			continue
		}
		if end := i + len(m); end < len(w) && isASCIIAlnum(w[end]) {
			continue
		}
		if cut < 0 || i < cut {
			cut = i
		}
	}
	if i := strings.LastIndex(w, "the post "); i >= 0 && (i == 0 || w[i-1] == ' ') && strings.Contains(w[i:], " appeared first on ") {
		if cut < 0 || i < cut {
			cut = i
		}
	}
	if cut < 0 {
		return p
	}
	out := strings.TrimRight(p[:start+cut], " ")
	for _, t := range []string{"[…]", "[...]", "…", "..."} {
		out = strings.TrimRight(strings.TrimSuffix(out, t), " ")
	}
	return out
}

// asciiLower lower-cases ASCII letters only, keeping byte offsets.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isBuiltinBoilerplate(p string) bool {
	// The patterns sit at the start of a line; folding its first 160 bytes is enough, and a
	// list entry is short.
	head := p
	if len(head) > 160 {
		head = head[:64] // the longest prefix is about 40 bytes
		for len(head) > 0 && !utf8.RuneStart(head[len(head)-1]) {
			head = head[:len(head)-1]
		}
		if len(head) > 0 {
			head = head[:len(head)-1] // the last rune may be cut
		}
	}
	f := fold(head)
	for _, pre := range boilerplatePrefixes {
		if strings.HasPrefix(f, pre) {
			return true
		}
	}
	if len(p) > 160 || utf8.RuneCountInString(f) > 60 {
		return false
	}
	if boilerplateLines[f] || strings.HasPrefix(f, "مصدر الخبر ") || strings.HasPrefix(f, "المصدر ") && utf8.RuneCountInString(f) < 40 {
		return true
	}
	if strings.ContainsRune(p, '©') {
		return true
	}
	for _, c := range copyrightPhrases {
		if strings.Contains(f, c) {
			return true
		}
	}
	if isFollowPrompt(f) {
		return true
	}
	// A line made only of social network names, perhaps separated by | - , •.
	parts := strings.FieldsFunc(f, func(r rune) bool {
		return r == '|' || r == ',' || r == '•' || r == '،' || r == '/' || r == '-' || r == '·'
	})
	if len(parts) == 0 {
		return false
	}
	for _, part := range parts {
		if !socialNames[strings.TrimSpace(part)] {
			return false
		}
	}
	return true
}

// isFollowPrompt reports whether a folded short line asks the reader to follow a network.
func isFollowPrompt(f string) bool {
	words := strings.FieldsFunc(f, func(r rune) bool { return r == ' ' || r == '|' || r == ',' || r == '،' || r == '/' || r == '-' })
	call, maybe, addressed, social := false, false, false, false
	for i, w := range words {
		call = call || callsToAction[w]
		maybe = maybe || ambiguousCalls[w] || (i == 0 && leadingCalls[w])
		addressed = addressed || addressWords[w] ||
			(w == "الاخبار" && i > 0 && (words[i-1] == "اخر" || words[i-1] == "احدث" || words[i-1] == "اهم"))
		social = social || socialWords[w] || (w == "تيك" && i+1 < len(words) && words[i+1] == "توك")
	}
	return (call || maybe && addressed) && social
}

// fold prepares a line for matching: lower case, Arabic letter variants unified (أإآٱ→ا, ة→ه,
// ى→ي), harakat and tatweel removed, punctuation and symbols dropped except separators, spaces
// collapsed.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case r >= 'ء' && r <= 'ي' && r != 'أ' && r != 'إ' && r != 'آ' && r != 'ة' && r != 'ى' && r != 'ـ':
			// Arabic letters: no case, nothing to fold (the common path).
		case r < 0x80 && isASCIIAlnum(byte(r)):
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
		case r == 'أ' || r == 'إ' || r == 'آ' || r == 'ٱ':
			r = 'ا'
		case r == 'ة':
			r = 'ه'
		case r == 'ى':
			r = 'ي'
		case r == 'ـ' || isArabicMark(r):
			continue
		case r == '|' || r == ',' || r == '•' || r == '،' || r == '/' || r == '-' || r == '·':
		case r == ' ' || unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || isDirectionalMark(r) || unicode.Is(unicode.Cf, r):
			// ":" in "مصدر الخبر:" or an emoji in "📱 Telegram" ends no match.
			space = space || b.Len() > 0 && r != '.' && r != '\''
			continue
		default:
			r = unicode.ToLower(r)
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}
