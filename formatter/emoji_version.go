package formatter

import "unicode/utf8"

// X's counter (twitter-text 3.1.0, the latest published reference) recognises the emoji of
// Unicode Emoji 12.0 and nothing newer: an emoji it does not know is weighed code point by code
// point. herald's own emoji data is newer, so where the two disagree CountX counts the larger.
// The rules below say, from Unicode's emoji versions, which sequences Emoji 12.0 already had.
// They err on the side of "new" (weighed in pieces, never less than 2), so a post herald passes
// is never over X's limit.

// newerThanEmoji12 lists code points that became emoji after Emoji 12.0 (13.0 onwards).
// The Symbols and Pictographs Extended-A block (U+1FA70–1FAFF) was opened by 12.0 with the few
// ranges in emoji12InExtendedA; everything else in it is newer.
var newerThanEmoji12 = [][2]rune{
	{0x26A7, 0x26A7},   // ⚧ transgender symbol (13.0)
	{0x1F6D6, 0x1F6D7}, // hut, elevator (13.0)
	{0x1F6DC, 0x1F6DF}, // wireless (15.0), playground slide, wheel, ring buoy (14.0)
	{0x1F6FB, 0x1F6FC}, // pickup truck, roller skate (13.0)
	{0x1F7F0, 0x1F7F0}, // heavy equals sign (14.0)
	{0x1F90C, 0x1F90C}, // pinched fingers (13.0)
	{0x1F972, 0x1F972}, // smiling face with tear (13.0)
	{0x1F977, 0x1F979}, // ninja, disguised face (13.0), face holding back tears (14.0)
	{0x1F9A3, 0x1F9A4}, // mammoth, dodo (13.0)
	{0x1F9AB, 0x1F9AD}, // beaver, bison, seal (13.0)
	{0x1F9CB, 0x1F9CC}, // bubble tea (13.0), troll (14.0)
}

var emoji12InExtendedA = [][2]rune{
	{0x1FA70, 0x1FA73}, {0x1FA78, 0x1FA7A}, {0x1FA80, 0x1FA82}, {0x1FA90, 0x1FA95},
}

func inRanges(r rune, ranges [][2]rune) bool {
	for _, rg := range ranges {
		if r >= rg[0] && r <= rg[1] {
			return true
		}
	}
	return false
}

// emojiNewerThan12 reports whether r was not yet an emoji in Emoji 12.0.
func emojiNewerThan12(r rune) bool {
	if r >= 0x1FA70 && r <= 0x1FAFF {
		return !inRanges(r, emoji12InExtendedA)
	}
	return inRanges(r, newerThanEmoji12)
}

// zwjPart is one emoji of a ZWJ sequence: its base, and whether a skin tone or a variation
// selector follows it (both weigh 2 of their own after a base X does not know).
type zwjPart struct {
	base rune
	skin bool
	vs   bool
}

// splitZWJ cuts an emoji sequence at U+200D, dropping variation selectors.
func splitZWJ(seq string) []zwjPart {
	var parts []zwjPart
	cur := zwjPart{base: -1}
	for _, r := range seq {
		switch {
		case r == 0x200D:
			parts = append(parts, cur)
			cur = zwjPart{base: -1}
		case r == 0xFE0F || r == 0xFE0E:
			cur.vs = cur.base >= 0
		case isSkinTone(r) && cur.base >= 0:
			cur.skin = true
		case cur.base < 0:
			cur.base = r
		}
	}
	return append(parts, cur)
}

const (
	man, woman, boy, girl = 0x1F468, 0x1F469, 0x1F466, 0x1F467
	adult, handshake      = 0x1F9D1, 0x1F91D
	heavyHeart, kissMark  = 0x2764, 0x1F48B
	female, male          = 0x2640, 0x2642
)

// professions12 are the objects of the man/woman profession sequences Emoji 12.0 had (4.0's
// professions, 11.0's hair styles, 12.0's probing cane and wheelchairs). 🍼 and 🎄 came in 13.0.
var professions12 = map[rune]bool{
	0x2695: true, 0x2696: true, 0x2708: true, 0x1F33E: true, 0x1F373: true, 0x1F393: true,
	0x1F3A4: true, 0x1F3A8: true, 0x1F3EB: true, 0x1F3ED: true, 0x1F4BB: true, 0x1F4BC: true,
	0x1F527: true, 0x1F52C: true, 0x1F680: true, 0x1F692: true, 0x1F9B0: true, 0x1F9B1: true,
	0x1F9B2: true, 0x1F9B3: true, 0x1F9AF: true, 0x1F9BC: true, 0x1F9BD: true,
}

// zwjInEmoji12 reports whether a ZWJ sequence has a shape Emoji 12.0 already had: families of
// men, women, boys and girls; couples and kisses without skin tones; people holding hands; a man
// or woman with a profession; a gendered person (not the bearded, tuxedo or veil ones, which
// 13.0/13.1 added); and four fixed sequences. Anything else (❤️‍🔥, 🐈‍⬛, 🧑‍🎄, 🫱🏻‍🫲🏼) is newer.
func zwjInEmoji12(parts []zwjPart) bool {
	for _, p := range parts {
		if p.base < 0 || emojiNewerThan12(p.base) {
			return false
		}
	}
	anySkin := false
	for _, p := range parts {
		anySkin = anySkin || p.skin
	}
	isParent := func(r rune) bool { return r == man || r == woman }
	isFamily := func(r rune) bool { return r == man || r == woman || r == boy || r == girl }
	n := len(parts)
	switch {
	case n >= 2 && n <= 4 && isParent(parts[0].base) && !anySkin:
		for _, p := range parts[1:] {
			if !isFamily(p.base) {
				goto notFamily
			}
		}
		return true
	}
notFamily:
	switch {
	case (n == 3 || n == 4) && !anySkin && isParent(parts[0].base) && isParent(parts[n-1].base) &&
		parts[1].base == heavyHeart && (n == 3 || parts[2].base == kissMark):
		return true
	case n == 3 && parts[1].base == handshake && !parts[1].skin &&
		(parts[0].base == adult || isParent(parts[0].base)) && (parts[2].base == adult || isParent(parts[2].base)):
		return true
	case n == 2 && isParent(parts[0].base) && professions12[parts[1].base] && !parts[1].skin:
		return true
	case n == 2 && (parts[1].base == female || parts[1].base == male) && !parts[1].skin:
		switch parts[0].base {
		case 0x1F9D4, 0x1F935, 0x1F470: // person with beard, in tuxedo, with veil: 13.0/13.1
			return false
		}
		return true
	}
	fixed := [][2]rune{
		{0x1F3F3, 0x1F308}, // 🏳️‍🌈
		{0x1F3F4, 0x2620},  // 🏴‍☠️
		{0x1F441, 0x1F5E8}, // 👁️‍🗨️
		{0x1F415, 0x1F9BA}, // 🐕‍🦺 (12.0)
	}
	for _, f := range fixed {
		if n == 2 && !anySkin && parts[0].base == f[0] && parts[1].base == f[1] {
			return true
		}
	}
	return false
}

// twitterTextEmojiWeight is what twitter-text 3.1.0 weighs an emoji sequence herald found: 2 when
// Emoji 12.0 had it whole; else each piece it knows weighs 2 (with its skin tone), each ZWJ 1, and
// a piece newer than its data weighs as code points (2 each, so 🫶🏿 is 4, not 2).
func twitterTextEmojiWeight(seq string) int {
	parts := splitZWJ(seq)
	if len(parts) == 1 {
		if parts[0].base >= 0 && !emojiNewerThan12(parts[0].base) {
			return 2
		}
		return codePointWeight(seq)
	}
	if zwjInEmoji12(parts) {
		return 2
	}
	n := len(parts) - 1 // each U+200D weighs 1
	for _, p := range parts {
		switch {
		case p.base < 0:
		case emojiNewerThan12(p.base):
			n += 2
			if p.skin {
				n += 2
			}
			if p.vs {
				n += 2
			}
		default:
			n += 2
		}
	}
	return n
}

// codePointWeight weighs s code point by code point, as twitter-text does text it does not know.
func codePointWeight(s string) int {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		n += xWeight(r)
		s = s[size:]
	}
	return n
}
