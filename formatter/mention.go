package formatter

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// An article's title or summary may hold "@handle" (a quoted post, "@UN", an agency's account).
// Posted as it is by the publisher's bot it mentions that account: X's automation rules forbid
// unsolicited automated mentions, and Mastodon and Threads notify the user. X, Mastodon and
// Threads therefore get a ZERO WIDTH JOINER (U+200D) right after each "@" that would start a
// mention in the article's own text: a reader still sees "@handle", no platform finds a
// mention, since a handle must follow the "@" at once. U+200D rather than the WORD JOINER
// U+2060: X weighs it 1 (U+2060 weighs 2), Mastodon counts it in the "@"'s grapheme cluster,
// and every font and client hides it (emoji sequences use it). URLs are left as they are, and
// so is an "@" no platform reads as a mention (an e-mail address, "@" after "=" or "/"). The
// character goes into the text before it is measured and cut, so it counts toward the limit.
const mentionBreak = "\u200d"

// mentionRule reports whether the at sign at s[i:] (size bytes) starts a mention.
type mentionRule func(s string, i, size int) bool

// unmention puts mentionBreak after each at sign that rule says starts a mention, outside the
// URLs found in s.
func unmention(s string, urls []urlSpan, rule mentionRule) string {
	if !strings.ContainsRune(s, '@') && !strings.ContainsRune(s, '＠') {
		return s
	}
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if len(urls) > 0 && i >= urls[0].start {
			i = urls[0].end
			urls = urls[1:]
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == '@' || r == '＠') && rule(s, i, size) {
			b.WriteString(s[last : i+size])
			b.WriteString(mentionBreak)
			last = i + size
		}
		i += size
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// unmentionX breaks the mentions twitter-text's extractor finds (extractMentionsOrListsWithIndices):
// an at sign (@ or ＠) after the start, or a character other than a Latin letter, digit, _ ! # $
// % & * or an at sign, or after "RT" / "RT:" (any case) at the start or after a character other
// than a Latin letter, digit, _ + ~ . -; then 1 to 20 of [A-Za-z0-9_], an optional list
// ("/name"), and no at sign, accented Latin letter or "://" right after. So "user@example.com"
// stays, and "بيان@UN" (after an Arabic letter) is a mention.
// Specs: https://github.com/twitter/twitter-text/blob/master/js/src/regexp/validMentionOrList.js
// and js/src/regexp/endMentionMatch.js, js/src/extractMentionsOrListsWithIndices.js
func unmentionX(s string) string { return unmention(s, extractURLs(s, true), xMentionAt) }

func xMentionAt(s string, i, size int) bool {
	if !xMentionPreceded(s[:i]) {
		return false
	}
	j := i + size
	n := 0
	for j < len(s) && n < 20 && isHandleByte(s[j]) {
		j++
		n++
	}
	if n == 0 {
		return false
	}
	// An optional list: "/" a letter, then up to 24 of [A-Za-z0-9_-].
	if j+1 < len(s) && s[j] == '/' && isASCIILetter(s[j+1]) {
		j += 2
		for k := 0; k < 24 && j < len(s) && (isHandleByte(s[j]) || s[j] == '-'); k++ {
			j++
		}
	}
	rest := s[j:]
	r, _ := utf8.DecodeRuneInString(rest)
	return !(r == '@' || r == '＠' || isLatinAccent(r) || strings.HasPrefix(rest, "://"))
}

// xMentionPreceded is twitter-text's validMentionPrecedingChars for the text before an at sign.
func xMentionPreceded(before string) bool {
	prev, _ := utf8.DecodeLastRuneInString(before)
	if before == "" || !(prev < utf8.RuneSelf && (isHandleByte(byte(prev)) || strings.ContainsRune("!#$%&*@", prev)) || prev == '＠') {
		return true
	}
	// "RT@user", "rt:@user": a retweet's attribution.
	t := strings.TrimSuffix(before, ":")
	if len(t) < 2 || !strings.EqualFold(t[len(t)-2:], "rt") {
		return false
	}
	t = t[:len(t)-2]
	p, _ := utf8.DecodeLastRuneInString(t)
	return t == "" || !(p < utf8.RuneSelf && (isHandleByte(byte(p)) || strings.ContainsRune("+~.-", p)))
}

// unmentionMastodon breaks the mentions Mastodon finds (Account::MENTION_RE, which
// ProcessMentionsService runs over the whole text): "@" not after "=", "/" or a word character
// (a letter of any script, a mark, a digit, "_"), then a username of [A-Za-z0-9_], optionally
// "@domain". So "user@example.com" and "بيان@UN" stay; "(@UN)" and "@user@example.social" get
// the joiner. The fullwidth ＠ is no mention there.
// Specs: https://github.com/mastodon/mastodon/blob/main/app/models/account.rb (MENTION_RE)
// and app/services/process_mentions_service.rb
func unmentionMastodon(s string) string {
	return unmention(s, extractURLs(s, false), mastodonMentionAt)
}

func mastodonMentionAt(s string, i, size int) bool {
	if s[i] != '@' || i+size >= len(s) || !isHandleByte(s[i+size]) {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	return i == 0 || !(prev == '=' || prev == '/' || isRubyWord(prev))
}

// isRubyWord is Ruby's [[:word:]]: a letter, a mark, a decimal digit or connector punctuation.
func isRubyWord(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r)
}

// unmentionThreads breaks what Threads may read as a mention. Threads publishes no rule; its
// usernames are Instagram's (letters, digits, "_" and "."), so every @ or ＠ followed by one of
// those is broken unless it follows what ends an e-mail's local part (a Latin letter, a digit,
// "_", ".", "-", "+"): an Arabic word right before it does not keep it from being a mention.
// Specs: https://developers.facebook.com/docs/threads/posts (mentioned users are notified)
func unmentionThreads(s string) string {
	return unmention(s, extractURLs(s, true), threadsMentionAt)
}

func threadsMentionAt(s string, i, size int) bool {
	if i+size >= len(s) || !(isHandleByte(s[i+size]) || s[i+size] == '.') {
		return false
	}
	prev, _ := utf8.DecodeLastRuneInString(s[:i])
	return i == 0 || !(prev < utf8.RuneSelf && (isHandleByte(byte(prev)) || strings.ContainsRune(".-+", prev)))
}

func isHandleByte(c byte) bool { return isASCIIAlnum(c) || c == '_' }

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

var (
	_ unmentioner = xPlatform{}
	_ unmentioner = mastodon{}
	_ unmentioner = threads{}
)
