package formatter

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type weightedCase struct {
	Description string `yaml:"description"`
	Text        string `yaml:"text"`
	Expected    struct {
		WeightedLength int  `yaml:"weightedLength"`
		Valid          bool `yaml:"valid"`
	} `yaml:"expected"`
}

// TestCountXConformance checks CountX against twitter-text's own validate.yml: every case of
// the v3 sections, and the cases of the v2 section whose text has no emoji (v2 did not
// discount emoji; everything else is weighed the same).
func TestCountXConformance(t *testing.T) {
	// twitter-text's own file, carried in the repository (testdata/twitter-text/README.md).
	data, err := os.ReadFile(filepath.Join("testdata", "twitter-text", "validate.yml"))
	if err != nil {
		t.Fatalf("reading validate.yml: %v", err)
	}
	// Other sections have a different shape (expected: true), so decode only the three.
	var doc struct {
		Tests map[string]yaml.Node `yaml:"tests"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing validate.yml: %v", err)
	}
	sections := []struct {
		name      string
		skipEmoji bool
	}{
		{"WeightedTweetsWithDiscountedEmojiCounterTest", false},
		{"UnicodeDirectionalMarkerCounterTest", false},
		{"WeightedTweetsCounterTest", true},
	}
	ran := 0
	for _, sec := range sections {
		var cases []weightedCase
		if node, ok := doc.Tests[sec.name]; ok {
			if err := node.Decode(&cases); err != nil {
				t.Fatalf("section %s: %v", sec.name, err)
			}
		}
		if len(cases) == 0 {
			t.Errorf("section %s missing from validate.yml", sec.name)
		}
		for _, c := range cases {
			if sec.skipEmoji && hasEmoji(c.Text) {
				continue
			}
			ran++
			t.Run(sec.name+"/"+c.Description, func(t *testing.T) {
				got := CountX(c.Text)
				if got != c.Expected.WeightedLength {
					t.Errorf("CountX = %d, want %d (text %.80q)", got, c.Expected.WeightedLength, c.Text)
				}
				if valid := got <= xLimit && got > 0 && !strings.ContainsAny(c.Text, "\uFFFE\uFEFF\uFFFF"); valid != c.Expected.Valid {
					t.Errorf("valid = %v, want %v", valid, c.Expected.Valid)
				}
			})
		}
	}
	if ran < 30 {
		t.Errorf("only %d conformance cases ran", ran)
	}
}

// hasEmoji is deliberately independent of the counter's emoji scanner: any pictograph block,
// keycap or emoji variation selector marks a case written for v2's emoji weighting.
func hasEmoji(s string) bool {
	for _, r := range s {
		if r >= 0x1F000 || (r >= 0x2600 && r <= 0x27BF) || r == 0x20E3 || r == 0xFE0F {
			return true
		}
	}
	return false
}

// TestCountXNewEmoji: an emoji newer than twitter-text 3.1.0's list is weighed as twitter-text
// weighs its code points (Found 1 of issue 11: 🫶🏿 counted 2 where X counts 4), while emoji it
// knows stay 2.
func TestCountXNewEmoji(t *testing.T) {
	tests := []struct {
		text string
		want int
	}{
		{"🫶🏿", 4},       // U+1FAF6 (Emoji 14) unknown, the skin tone alone is an emoji: 2+2
		{"🫶", 2},        // unknown, one code point outside the light ranges
		{"🥲", 2},        // Emoji 13, one code point
		{"❤️‍🔥", 5},     // Emoji 13.1 ZWJ sequence of known emoji: ❤️ 2, ZWJ 1, 🔥 2
		{"🐈‍⬛", 5},      // Emoji 13.0: 🐈 2, ZWJ 1, ⬛ 2
		{"🧑‍🤝‍🧑", 2},    // Emoji 12.0: in the list
		{"👩🏽‍🤝‍👨🏿", 2},  // Emoji 12.0, with skin tones
		{"🧑‍🎄", 5},      // Emoji 13.0: 🧑 2, ZWJ 1, 🎄 2
		{"👩‍🍼", 5},      // Emoji 13.0 profession
		{"👩‍⚕️", 2},     // Emoji 4.0 profession
		{"🏳️‍🌈", 2},     // fixed sequence
		{"🏳️‍⚧️", 7},    // Emoji 13.0: 🏳️ 2, ZWJ 1, ⚧ and its U+FE0F 2 each
		{"🧔‍♀️", 5},     // Emoji 13.1 gendered beard
		{"🏃‍♀️", 2},     // Emoji 4.0 gendered
		{"🫱🏻‍🫲🏼", 9},    // Emoji 14.0: two new bases with skin tones (4 each) and a ZWJ
		{"👩‍❤️‍👨", 2},   // couple without skin tones
		{"👩🏻‍❤️‍👨🏾", 8}, // Emoji 13.1 couple with skin tones: 👩🏻 2, ❤️ 2, 👨🏾 2, two ZWJ 1 each
		{"👨‍👩‍👧‍👦", 2},  // in the list
		{"🇵🇸", 2},       // flag
		{"👍🏽", 2},       // skin tone on a known base
		{"x🫶🏿y", 6},     // with text around it
		{"🫶🏿🫶🏿🫶🏿", 12},  // each one
	}
	for _, tc := range tests {
		if got := CountX(tc.text); got != tc.want {
			t.Errorf("CountX(%q) = %d, want %d", tc.text, got, tc.want)
		}
	}
	// A post herald once measured at 279 with one new emoji is 281 to X: it must not pass.
	text := strings.Repeat("a", 277) + "🫶🏿"
	if n := CountX(text); n != 281 {
		t.Errorf("CountX(277 letters + 🫶🏿) = %d, want 281", n)
	}
}
