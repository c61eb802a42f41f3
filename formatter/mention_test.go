package formatter

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"herald/article"
	"herald/channels"
)

// The platforms' own mention rules, written here apart from mention.go as regular expressions
// taken from their sources, so a test can ask "would the platform find a mention in this text?"
// without trusting the code under test.

// xMentionRE is twitter-text's validMentionOrList: $1 the preceding text, $2 the at sign, $3 the
// screen name, $4 the list.
// Specs: https://github.com/twitter/twitter-text/blob/master/js/src/regexp/validMentionOrList.js
var xMentionRE = regexp.MustCompile(`(^|[^a-zA-Z0-9_!#$%&*@＠]|(?:^|[^a-zA-Z0-9_+~.-])(?:rt|RT|rT|Rt):?)([@＠])([a-zA-Z0-9_]{1,20})(/[a-zA-Z][a-zA-Z0-9_\-]{0,24})?`)

// xEndMentionRE is twitter-text's endMentionMatch: what may not follow a mention.
var xEndMentionRE = regexp.MustCompile(`^(?:[@＠]|[\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{FF}\x{0100}-\x{024F}\x{0253}\x{0254}\x{0256}\x{0257}\x{0259}\x{025B}\x{0263}\x{0268}\x{026F}\x{0272}\x{0289}\x{028B}\x{02BB}\x{0300}-\x{036F}\x{1E00}-\x{1EFF}]|://)`)

// xMentions is what twitter-text's extractEntitiesWithIndices keeps as mentions of s: the
// matches of xMentionRE not followed by xEndMentionRE, less those inside a URL. Each is the
// screen name with its list, if any.
func xMentions(s string) []string {
	urls := extractURLs(s, true)
	var out []string
	for _, m := range xMentionRE.FindAllStringSubmatchIndex(s, -1) {
		if xEndMentionRE.MatchString(s[m[1]:]) {
			continue
		}
		inURL := false
		for _, u := range urls {
			inURL = inURL || (m[4] >= u.start && m[4] < u.end)
		}
		if !inURL {
			out = append(out, s[m[6]:m[1]])
		}
	}
	return out
}

// mastodonMentionRE is Mastodon's Account::MENTION_RE without its lookbehind (?<![=/[:word:]]),
// which Go's regexp lacks: mastodonMentions checks it by hand.
// Specs: https://github.com/mastodon/mastodon/blob/main/app/models/account.rb
var mastodonMentionRE = regexp.MustCompile(`^@((?i:[a-z0-9_]+(?:[.-]+[a-z0-9_]+)*)(?:@[\pL\pM\p{Nd}\p{Pc}]+(?:[.-]+[\pL\pM\p{Nd}\p{Pc}]+)*)?)`)

// mastodonMentions is what ProcessMentionsService finds in s: it scans the whole text, URLs too.
func mastodonMentions(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '@' {
			continue
		}
		prev, _ := utf8.DecodeLastRuneInString(s[:i])
		if i > 0 && (prev == '=' || prev == '/' || unicode.In(prev, unicode.L, unicode.M, unicode.Nd, unicode.Pc)) {
			continue
		}
		if m := mastodonMentionRE.FindStringSubmatch(s[i:]); m != nil {
			out = append(out, m[1])
			i += len(m[0]) - 1
		}
	}
	return out
}

// threadsMentionRE: Threads publishes no rule; an Instagram username right after an at sign that
// does not end an e-mail's local part is taken as a mention (the safe side).
var threadsMentionRE = regexp.MustCompile(`(?:^|[^A-Za-z0-9_.+-])[@＠]([A-Za-z0-9_.]+)`)

func threadsMentions(s string) []string {
	urls := extractURLs(s, true)
	var out []string
	for _, m := range threadsMentionRE.FindAllStringSubmatchIndex(s, -1) {
		inURL := false
		for _, u := range urls {
			inURL = inURL || (m[2] >= u.start && m[2] < u.end)
		}
		if !inURL {
			out = append(out, s[m[2]:m[3]])
		}
	}
	return out
}

// TestXMentionRuleIsTwitterTexts checks the test's X extractor against twitter-text's own
// validate.yml (usernames and lists: a valid one is a text that is one whole mention) and
// against hand-written cases of twitter-text's extraction behaviour, and the formatter's rule
// (xMentionAt through unmentionX) against the same extractor.
func TestXMentionRuleIsTwitterTexts(t *testing.T) {
	// A subtest: where twitter-text's file is absent only it skips, not the cases below.
	t.Run("validate.yml", func(t *testing.T) {
		doc := readValidateYML(t)
		var ran int
		for _, sec := range []string{"usernames", "lists"} {
			node, ok := doc.Tests[sec]
			if !ok {
				t.Fatalf("section %s missing from validate.yml", sec)
			}
			var cases []struct {
				Description string `yaml:"description"`
				Text        string `yaml:"text"`
				Expected    bool   `yaml:"expected"`
			}
			if err := node.Decode(&cases); err != nil {
				t.Fatalf("section %s: %v", sec, err)
			}
			for _, c := range cases {
				ran++
				got := xMentions(c.Text)
				whole := len(got) == 1 && "@"+got[0] == c.Text && (sec == "usernames" || strings.Contains(got[0], "/"))
				if whole != c.Expected {
					t.Errorf("%s %q: mentions %q, valid %v, want %v", sec, c.Text, got, whole, c.Expected)
				}
			}
		}
		if ran != 9 {
			t.Errorf("%d validate.yml cases, want the 4 usernames and 5 lists", ran)
		}
	})
	cases := []struct {
		text string
		want []string
	}{
		{"@username reply", []string{"username"}},
		{"mention @user_name and @12345", []string{"user_name", "12345"}},
		{"の@usernameに", []string{"username"}},
		{"قال@UN اليوم", []string{"UN"}}, // an Arabic letter does not keep the mention away
		{"Current Status: @_@ (cc: @username)", []string{"username"}},
		{"@aliceìnheiro something", nil},
		{"@username email me @test@example.com", []string{"username"}},
		{"@http://twitter.com", nil},
		{"RT@a RT:@b rt @c", []string{"a", "b", "c"}},
		{"f!@kn f@@kn f#@kn f$@kn f%@kn f&@kn f*@kn", nil},
		{"user@example.com", nil},
		{"Hey @username, see @other/list_name-01!", []string{"username", "other/list_name-01"}},
		{"@username/7list", []string{"username"}},
		{"https://medium.com/@user/post", nil}, // inside a URL: the URL wins
		{"@abcdefghijklmnopqrstuvwxyz", []string{"abcdefghijklmnopqrst"}},
	}
	for _, c := range cases {
		if got := xMentions(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("xMentions(%q) = %q, want %q", c.text, got, c.want)
		}
		// The formatter's rule breaks exactly the mentions the extractor finds.
		if broken := strings.Count(unmentionX(c.text), mentionBreak); broken != len(c.want) {
			t.Errorf("unmentionX(%q) broke %d mentions, want %d", c.text, broken, len(c.want))
		}
		if got := xMentions(unmentionX(c.text)); got != nil {
			t.Errorf("unmentionX(%q) still mentions %q", c.text, got)
		}
	}
}

// TestMastodonMentionRule: the formatter's rule against MENTION_RE, case by case.
func TestMastodonMentionRule(t *testing.T) {
	cases := []struct {
		text string
		want []string
	}{
		{"@UN_News_Centre: بيان", []string{"UN_News_Centre"}},
		{"بيان (@UN) اليوم", []string{"UN"}},
		{"قال@UN اليوم", nil}, // after an Arabic letter ([[:word:]]): no mention on Mastodon
		{"user@example.com", nil},
		{"@user@example.social هنا", []string{"user@example.social"}},
		{"a=@x b/@y", nil},
		{"@_@ (cc: @username)", []string{"_", "username"}},
		{"＠fullwidth", nil},
	}
	for _, c := range cases {
		if got := mastodonMentions(c.text); !reflect.DeepEqual(got, c.want) {
			t.Errorf("mastodonMentions(%q) = %q, want %q", c.text, got, c.want)
		}
		if broken := strings.Count(unmentionMastodon(c.text), mentionBreak); broken != len(c.want) {
			t.Errorf("unmentionMastodon(%q) broke %d mentions, want %d", c.text, broken, len(c.want))
		}
	}
}

// TestArticleTextMentionsNobody renders Arabic articles that quote accounts on X, Mastodon and
// Threads and checks, by each platform's own rule, that the post mentions nobody, while it
// reads the same once the invisible joiner is taken out, keeps its URLs and e-mail address
// whole, and is measured with the joiner in it.
func TestArticleTextMentionsNobody(t *testing.T) {
	kinds := []struct {
		kind     channels.Kind
		mentions func(string) []string
		limit    int
	}{
		{channels.KindX, xMentions, xLimit},
		{channels.KindMastodon, mastodonMentions, mastodonDefaultLimit},
		{channels.KindThreads, threadsMentions, threadsLimit},
	}
	articles := []struct {
		name, title, summary string
		keep                 []string // must appear in the post as written
	}{
		{"quoted account in Arabic", "الأمم المتحدة تحذر من مجاعة في غزة",
			`وقال المتحدث باسم المنظمة في تغريدة على حساب "@UN_News_Centre" إن الوضع كارثي.`, nil},
		{"handle at the start of the title", "@UN_News_Centre: الأمين العام يدعو إلى وقف إطلاق النار", "", nil},
		{"handle right after an Arabic word", "مسؤول أممي@UNICEF يحذر من انتشار الأوبئة", "", nil},
		{"handle in parentheses", "منظمة الصحة العالمية (@WHO) تعلن حالة طوارئ", "", nil},
		{"remote account", "تقرير جديد", "نشر الباحث @ahmad@mastodon.social دراسة عن المناخ.", nil},
		{"URL and e-mail", "مدونة عن الانتخابات (@analyst)",
			"اقرأ التحليل على https://medium.com/@analyst/elections-2026 أو راسلوا user@example.com للتعليق.",
			[]string{"https://medium.com/@analyst/elections-2026", "user@example.com"}},
	}
	for _, k := range kinds {
		r, err := New(k.kind, Options{SummaryMax: 300})
		if err != nil {
			t.Fatal(err)
		}
		count, _ := Counter(k.kind)
		for _, a := range articles {
			t.Run(string(k.kind)+"/"+a.name, func(t *testing.T) {
				art := &article.Article{URL: "https://example.com/news/1", Title: a.title, Summary: a.summary, Language: "ar"}
				p := mustRender(t, r, art)
				if got := k.mentions(p.Text); len(got) > 0 {
					t.Errorf("the post mentions %q:\n%s", got, p.Text)
				}
				// The joiner goes only where the platform would have found a mention.
				if had := len(k.mentions(a.title+"\n\n"+a.summary)) > 0; had != strings.Contains(p.Text, mentionBreak) {
					t.Errorf("mentions in the article %v, joiner in the post %v: %q", had, !had, p.Text)
				}
				plain := strings.ReplaceAll(p.Text, mentionBreak, "")
				for _, want := range append([]string{a.title, a.summary}, a.keep...) {
					if !strings.Contains(plain, want) {
						t.Errorf("the post does not read %q:\n%q", want, p.Text)
					}
				}
				for _, want := range a.keep {
					if !strings.Contains(p.Text, want) {
						t.Errorf("%q was changed: %q", want, p.Text)
					}
				}
				if strings.Contains(a.summary, "https://") && !urlExtracted(p.Text, "https://medium.com/@analyst/elections-2026") {
					t.Errorf("the medium URL is no longer a link in %q", p.Text)
				}
				if n := count(p.Text); p.Length != n || n > k.limit {
					t.Errorf("Length %d, counted %d, limit %d", p.Length, n, k.limit)
				}
			})
		}
	}
}

// urlExtracted reports whether want is one whole URL of s for twitter-text's extractor.
func urlExtracted(s, want string) bool {
	for _, u := range extractURLs(s, true) {
		if s[u.start:u.end] == want {
			return true
		}
	}
	return false
}

// TestMentionJoinerCountsTowardTheLimit: a title full of handles, longer than X's 280, is cut
// with the joiners in it: the post fits, by the weighted length the fake and X count, and no
// cut leaves a mention behind (a cut never parts "@" from its joiner: one grapheme cluster).
func TestMentionJoinerCountsTowardTheLimit(t *testing.T) {
	title := strings.TrimSpace(strings.Repeat("(@UN) تحذير ", 60))
	for _, k := range []channels.Kind{channels.KindX, channels.KindMastodon, channels.KindThreads} {
		r, err := New(k, Options{})
		if err != nil {
			t.Fatal(err)
		}
		count, _ := Counter(k)
		p := mustRender(t, r, &article.Article{URL: "https://example.com/a", Title: title, Language: "ar"})
		if n := count(p.Text); n != p.Length || n > p.Limit {
			t.Errorf("%s: Length %d, counted %d, limit %d", k, p.Length, n, p.Limit)
		}
		if got := append(xMentions(p.Text), append(mastodonMentions(p.Text), threadsMentions(p.Text)...)...); len(got) > 0 {
			t.Errorf("%s: the cut post mentions %q", k, got)
		}
		if strings.Count(p.Text, "@") != strings.Count(p.Text, "@"+mentionBreak) {
			t.Errorf("%s: an @ without its joiner in %q", k, p.Text)
		}
	}
	// X weighs the joiner 1 (twitter-text v3: 8192-8205 weigh 1), as the conformance config says.
	if got := CountX("@" + mentionBreak + "UN"); got != 4 {
		t.Errorf("CountX(@ZWJ UN) = %d, want 4", got)
	}
}

// TestOtherKindsKeepHandles: the change is X's, Mastodon's and Threads' only (Discord has its
// own escape; Telegram and the others do not notify).
func TestOtherKindsKeepHandles(t *testing.T) {
	r, err := New(channels.KindTelegram, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustRender(t, r, &article.Article{URL: "https://example.com/a", Title: "بيان (@UN) اليوم", Language: "ar"})
	if strings.Contains(p.Text, mentionBreak) || !strings.Contains(p.Text, "(@UN)") {
		t.Errorf("Telegram post changed: %q", p.Text)
	}
}
