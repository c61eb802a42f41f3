package formatter

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Cutting text: only at grapheme-cluster boundaries (a letter keeps its harakat, an emoji
// sequence stays whole), a sentence end preferred for summaries, then a clause end (، ؛ , ;),
// then a word boundary, and "…" after any cut that is not a sentence end. A URL, a hashtag or a
// mention is never cut: the cut moves before it. Lengths here are code points, never fewer than
// the graphemes any platform counts; each platform's own unit is checked on the whole post.
// Specs: https://unicode.org/reports/tr29/#Grapheme_Cluster_Boundaries

const ellipsis = "…"

// minSummaryRunes: a summary cut shorter than this says nothing; it is dropped instead.
const minSummaryRunes = 30

// isSentenceEnd: . ! ? and the Arabic question mark ؟ (U+061F), the Urdu full stop ۔, and "…".
func isSentenceEnd(r rune) bool {
	return r == '.' || r == '!' || r == '?' || r == '؟' || r == '…' || r == '۔'
}

// isClauseEnd: , ; : and the Arabic comma ، (U+060C) and semicolon ؛ (U+061B).
func isClauseEnd(r rune) bool {
	return r == '،' || r == '؛' || r == ',' || r == ';' || r == ':'
}

// isCloser may follow a sentence end and belongs to the sentence: .” .» .)
func isCloser(r rune) bool {
	return r == '"' || r == '\'' || r == '”' || r == '’' || r == '»' || r == ')' || r == ']' || r == '›'
}

// runePrefix returns the byte length of s's first n code points.
func runePrefix(s string, n int) int {
	i := 0
	for k := 0; k < n && i < len(s); k++ {
		if s[i] < utf8.RuneSelf {
			i++
		} else {
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
		}
	}
	return i
}

func isBreak(c byte) bool { return c == ' ' || c == '\n' }

// sentenceEndsAt reports whether s[:i] ends a sentence: sentence punctuation, maybe closing
// quotes, then a space, a line break or the end of s (so "3.5" and "example.com" are not).
func sentenceEndsAt(s string, i int) bool {
	if i < len(s) && !isBreak(s[i]) {
		return false
	}
	j := strings.TrimRight(s[:i], " ")
	for len(j) > 0 {
		r, size := utf8.DecodeLastRuneInString(j)
		if isCloser(r) {
			j = j[:len(j)-size]
			continue
		}
		return isSentenceEnd(r) && !(r == '.' && abbreviationBefore(j[:len(j)-size]))
	}
	return false
}

// abbreviationBefore reports whether s ends with a word of one letter, which a dot after it
// abbreviates: "د." (Dr.), "أ.د." (Prof. Dr.), "م." (Eng.), "U.S.". Arabic news quotes titled
// people all the time; a summary cut after "د." ends a sentence on "Dr.".
func abbreviationBefore(s string) bool {
	r, size := utf8.DecodeLastRuneInString(s)
	if !unicode.IsLetter(r) {
		return false
	}
	before, _ := utf8.DecodeLastRuneInString(s[:len(s)-size])
	return len(s) == size || before == ' ' || before == '\n' || before == '.' || before == '(' || isDirectionalMark(before)
}

// lastCut scans the break positions of s from limit down to min and returns the first where
// ok holds, or -1. limit is a rune boundary.
func lastCut(s string, limit, min int, ok func(i int) bool) int {
	for i := limit; i >= min && i > 0; i-- {
		if (i == len(s) || isBreak(s[i])) && ok(i) {
			return i
		}
	}
	return -1
}

// trimCutEnd drops what must not dangle before "…": spaces, clause punctuation, dashes and
// opening quotes.
func trimCutEnd(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		return r == ' ' || r == '\n' || isClauseEnd(r) || r == '-' || r == '–' || r == '—' || r == '«' || r == '(' || r == '“' || isDirectionalMark(r)
	})
}

// cutText shortens s to at most n code points ("…" included). sentences prefers a sentence end
// (kept if it saves at least a third of the room) and then a clause end.
func cutText(s string, n int, sentences bool) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n < 2 {
		return ""
	}
	if sentences {
		limit := runePrefix(s, n)
		if i := lastCut(s, limit, runePrefix(s, n/3), func(i int) bool { return sentenceEndsAt(s, i) || (i < len(s) && s[i] == '\n') }); i > 0 {
			if out := strings.TrimRight(balanceBidi(s[:i]), " \n"); out != "" {
				return out
			}
		}
	}
	limit := runePrefix(s, n-1) // room for the ellipsis
	min := runePrefix(s, n/2)
	if sentences {
		if i := lastCut(s, limit, min, func(i int) bool {
			r, _ := utf8.DecodeLastRuneInString(strings.TrimRight(s[:i], " "))
			return isClauseEnd(r)
		}); i > 0 {
			return trimCutEnd(balanceBidi(s[:i])) + ellipsis
		}
	}
	if i := lastCut(s, limit, min, func(int) bool { return true }); i > 0 {
		if out := trimCutEnd(balanceBidi(s[:i])); out != "" {
			return out + ellipsis
		}
	}
	// One long word: cut at a grapheme boundary, outside any URL or hashtag.
	i := protectToken(s, graphemeFloor(s, limit))
	out := trimCutEnd(balanceBidi(s[:i]))
	if out == "" {
		return ""
	}
	return out + ellipsis
}

// balanceBidi drops the explicit direction controls a cut left without their partner on their
// line: an embedding, override or isolate (LRE RLE LRO RLO, LRI RLI FSI) whose PDF or PDI was cut
// away, which would carry the "…" and anything after it on the line into it, and a closer that
// closes nothing. A PDI also closes the embeddings opened inside its isolate (UAX #9 X6a).
// Specs: https://www.unicode.org/reports/tr9/#Explicit_Directional_Isolates
func balanceBidi(s string) string {
	if !hasExplicitBidi(s) {
		return s
	}
	type opener struct {
		at      int
		isolate bool
	}
	var stack []opener
	var drop []int // byte offsets of controls to drop, each 3 bytes long
	for i, r := range s {
		switch {
		case r == '\n':
			for _, o := range stack {
				drop = append(drop, o.at)
			}
			stack = stack[:0]
		case r == 0x202A || r == 0x202B || r == 0x202D || r == 0x202E:
			stack = append(stack, opener{i, false})
		case r >= 0x2066 && r <= 0x2068:
			stack = append(stack, opener{i, true})
		case r == 0x202C:
			if n := len(stack); n > 0 && !stack[n-1].isolate {
				stack = stack[:n-1]
			} else {
				drop = append(drop, i)
			}
		case r == 0x2069:
			k := -1
			for j := len(stack) - 1; j >= 0; j-- {
				if stack[j].isolate {
					k = j
					break
				}
			}
			if k < 0 {
				drop = append(drop, i)
			} else {
				stack = stack[:k]
			}
		}
	}
	for _, o := range stack {
		drop = append(drop, o.at)
	}
	if len(drop) == 0 {
		return s
	}
	sort.Ints(drop)
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, at := range drop {
		b.WriteString(s[last:at])
		last = at + 3
	}
	b.WriteString(s[last:])
	return b.String()
}

// hasExplicitBidi reports whether s holds an embedding, override, isolate or their closers
// (U+202A–202E, U+2066–2069: E2 80 AA–AE, E2 81 A6–A9 in UTF-8).
func hasExplicitBidi(s string) bool {
	for i := strings.IndexByte(s, 0xE2); i >= 0 && i+2 < len(s); {
		if b1, b2 := s[i+1], s[i+2]; (b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9) {
			return true
		}
		j := strings.IndexByte(s[i+1:], 0xE2)
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return false
}

// graphemeFloor returns the last grapheme-cluster boundary at or before byte i. It segments
// only from the last space before i: the cost does not depend on the text's length.
func graphemeFloor(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	start := strings.LastIndexAny(s[:i], " \n") + 1
	if i-start > 1024 {
		start = i - 1024
		for start < i && !utf8.RuneStart(s[start]) {
			start++
		}
	}
	pos, state := start, -1
	last := -1 // start of the last cluster kept
	rest := s[start:]
	for len(rest) > 0 {
		cluster, r, _, st := uniseg.FirstGraphemeClusterInString(rest, state)
		if pos+len(cluster) > i {
			// Lam then alef is one ligature (ﻻ): a cut between them leaves a lone final lam.
			if last >= 0 && strings.HasPrefix(s[last:], "ل") && strings.ContainsRune("اأإآٱ", firstRune(cluster)) {
				return last
			}
			break
		}
		last = pos
		pos += len(cluster)
		rest, state = r, st
	}
	return pos
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// protectToken moves a cut at byte i back to the start of the word it falls in when that word
// is a URL, a domain, a hashtag or a mention.
func protectToken(s string, i int) int {
	start := strings.LastIndexAny(s[:i], " \n") + 1
	end := strings.IndexAny(s[i:], " \n")
	if end < 0 {
		end = len(s)
	} else {
		end += i
	}
	tok := s[start:end]
	if strings.HasPrefix(tok, "#") || strings.HasPrefix(tok, "@") || strings.Contains(tok, "://") ||
		len(extractURLs(tok, true)) > 0 {
		return start
	}
	return i
}

// buildSummary joins paragraphs up to max code points: whole paragraphs while they fit, then
// the next one up to its last sentence end that fits. A first paragraph longer than max is cut
// at a sentence, clause or word boundary.
func buildSummary(paras []string, runes []int, max int) string {
	if max <= 0 || len(paras) == 0 {
		return ""
	}
	var b strings.Builder
	n := 0
	for k, p := range paras {
		pn := runes[k]
		sep := 0
		if n > 0 {
			sep = 2
		}
		if n+sep+pn <= max {
			if sep > 0 {
				b.WriteString("\n\n")
			}
			b.WriteString(p)
			n += sep + pn
			continue
		}
		if n == 0 {
			return cutText(p, max, true)
		}
		room := max - n - sep
		if room >= minSummaryRunes*2 {
			limit := runePrefix(p, room)
			if i := lastCut(p, limit, runePrefix(p, minSummaryRunes), func(i int) bool { return sentenceEndsAt(p, i) }); i > 0 {
				b.WriteString("\n\n")
				b.WriteString(strings.TrimRight(p[:i], " "))
			}
		}
		break
	}
	return b.String()
}
