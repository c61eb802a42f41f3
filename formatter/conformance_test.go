package formatter

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// twitterTextDir finds the shared twitter-text conformance data: $HERALD_TWITTER_TEXT_DIR, or
// ../shared/conformance/twitter-text beside the checkout (from the repository root, which may
// be a fresh clone in a temporary directory in CI).
func twitterTextDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("HERALD_TWITTER_TEXT_DIR"); d != "" {
		return d
	}
	var roots []string
	if out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output(); err == nil {
		roots = append(roots, strings.TrimSpace(string(out)))
	}
	if wd, err := os.Getwd(); err == nil {
		// formatter/ is one level below the repository root.
		roots = append(roots, filepath.Dir(wd))
	}
	for _, root := range roots {
		for _, rel := range []string{"../shared/conformance/twitter-text", "../../shared/conformance/twitter-text"} {
			d := filepath.Join(root, rel)
			if _, err := os.Stat(filepath.Join(d, "validate.yml")); err == nil {
				return d
			}
		}
	}
	return ""
}

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
	dir := twitterTextDir(t)
	if dir == "" {
		t.Skip("twitter-text conformance data not found: set HERALD_TWITTER_TEXT_DIR or place it at ../shared/conformance/twitter-text beside the checkout")
	}
	data, err := os.ReadFile(filepath.Join(dir, "validate.yml"))
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
