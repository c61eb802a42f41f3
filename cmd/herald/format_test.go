package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"herald/article"
	"herald/channels"
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
		t.Fatalf("format --config: %v\n%s", err, stderr)
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
		// The platform is matched case-insensitively, --html's check too (it refused "Telegram").
		{[]string{"--platform", "Telegram", "--html", "<b>a&amp;b</b>"}, "", "3\n"},
		{[]string{"--platform", " TELEGRAM ", "--html", "<b>a</b>"}, "", "1\n"},
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

// TestFormatAll: every kind's post for one article, as text and as JSON.
func TestFormatAll(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	out, stderr, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--all", "-")
	if err != nil {
		t.Fatalf("format --all: %v\n%s", err, stderr)
	}
	for _, k := range channels.Kinds {
		if !strings.Contains(out, "── "+string(k)+" ("+string(k)+") · ") {
			t.Errorf("no %s block in:\n%s", k, out)
		}
	}
	if !strings.Contains(out, ">اقرأ المزيد</a>") || !strings.Contains(out, "🔗 اقرأ المزيد\n") {
		t.Errorf("Telegram or WhatsApp link line missing:\n%s", out)
	}
	out, stderr, err = runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--all", "--json")
	if err != nil {
		t.Fatalf("format --all --json: %v\n%s", err, stderr)
	}
	var previews []formatter.Preview
	if err := json.Unmarshal([]byte(out), &previews); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(previews) != len(channels.Kinds) {
		t.Fatalf("%d previews, want %d", len(previews), len(channels.Kinds))
	}
	for _, p := range previews {
		if p.Error != "" || len(p.Posts) != 1 || p.Posts[0].Length > p.Posts[0].Limit {
			t.Errorf("preview %+v", p)
		}
	}
	if _, _, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--all", "--channel", "x"); err == nil {
		t.Error("--all with --channel accepted")
	}
	if _, _, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle); err == nil {
		t.Error("neither --all nor --channel accepted")
	}
}

// TestFormatAllConfigured: with --config, each configured channel with its own options; one that
// cannot render shows its error, the others still render, and the exit status says so.
func TestFormatAllConfigured(t *testing.T) {
	t.Setenv("HERALD_CONFIG", "")
	cfg := filepath.Join(t.TempDir(), "herald.yaml")
	doc := `channels:
  - name: tg-headlines
    kind: telegram
    format: {style: headline-only}
  - name: hook
    kind: webhook
`
	if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runFormatterCmd(t, newFormatCmd(), formatSampleArticle, "--all", "--config", cfg)
	if err != nil {
		t.Fatalf("format --all --config: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "── tg-headlines (telegram)") || !strings.Contains(out, "── hook (webhook)") || strings.Contains(out, "── x (x)") {
		t.Errorf("configured previews:\n%s", out)
	}
	// headline-only: the Telegram post is the linked title alone.
	block := out[strings.Index(out, "── tg-headlines"):strings.Index(out, "── hook")]
	if strings.Contains(block, "قال المتحدث") || !strings.Contains(block, "<b><a href=") {
		t.Errorf("headline-only block:\n%s", block)
	}

	previews := formatter.PreviewAll(&article.Article{URL: "https://e.com/a", Title: "t"}, []formatter.PreviewTarget{
		{Name: "bad", Kind: channels.KindTelegram, Options: formatter.Options{Template: "{{.Nope}}"}},
		{Name: "ok", Kind: channels.KindX},
	})
	if previews[0].Error == "" || previews[1].Error != "" || len(previews[1].Posts) != 1 {
		t.Errorf("PreviewAll with one bad channel: %+v", previews)
	}
	var b strings.Builder
	if err := formatter.WritePreviews(&b, previews); err != nil || !strings.Contains(b.String(), "── bad (telegram) · error: ") {
		t.Errorf("WritePreviews: %v\n%s", err, b.String())
	}
}
