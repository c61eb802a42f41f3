package formatter

import (
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"herald/article"
	"herald/channels"
)

// TestImageURLInURIForm: WordPress keeps Arabic file names and spaces in uploads
// (".../uploads/2024/10/زيلينسكي في كييف.jpg"), and the article's image_url went out as written:
// a space is not allowed in a URI (RFC 3986 §2), so Telegram's fetch of the photo by URL and
// Discord's embed image ("Not a well formed URL") refuse it, and the Arabic letters depend on
// each fetcher's guess. Every image URL a post carries — the photo, Telegram's link preview,
// Discord's embed image, Bluesky's card thumbnail, a template's .ImageURL — is in URI form, like
// the article link: host in punycode, path percent-encoded, existing escapes kept.
// Specs: https://www.rfc-editor.org/rfc/rfc3986#section-2 and https://core.telegram.org/bots/api#sendphoto
func TestImageURLInURIForm(t *testing.T) {
	const (
		raw  = "https://www.defense-arabic.com/wp-content/uploads/2024/10/زيلينسكي في كييف.jpg"
		want = "https://www.defense-arabic.com/wp-content/uploads/2024/10/%D8%B2%D9%8A%D9%84%D9%8A%D9%86%D8%B3%D9%83%D9%8A%20%D9%81%D9%8A%20%D9%83%D9%8A%D9%8A%D9%81.jpg"
	)
	on := true
	a := &article.Article{URL: "https://www.defense-arabic.com/2024/10/13/x/", Language: "ar", ImageURL: raw,
		Title: "زيلينسكي يقول إن كوريا الشمالية أرسلت قوات لدعم الجيش الروسي", Summary: strings.Repeat("قال الرئيس إن الوضع خطير. ", 60)}
	for _, kind := range channels.Kinds {
		for _, opts := range []Options{{}, {Image: &on, Embed: kind == channels.KindDiscord}} {
			r, err := New(kind, opts)
			if err != nil {
				t.Fatal(err)
			}
			posts, err := r.Render(a)
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			p := posts[0]
			if pl, ok := p.Extra["payload"].(map[string]any); ok {
				pl = maps.Clone(pl)
				delete(pl, "article") // the webhook payload carries the article as received
				p.Extra = map[string]any{"payload": pl}
			}
			out, _ := json.Marshal(p)
			if strings.Contains(string(out), "كييف") {
				t.Errorf("%s: the raw image URL went out: %s", kind, out)
			}
			for _, m := range p.Media {
				if m.URL != want {
					t.Errorf("%s: media %q, want %q", kind, m.URL, want)
				}
			}
			if lp := p.LinkPreview; lp != nil && lp.URL != a.URL && !strings.HasPrefix(lp.URL, "https://www.defense-arabic.com/2024/") && lp.URL != want {
				t.Errorf("%s: link preview %q, want %q", kind, lp.URL, want)
			}
		}
	}
	// Telegram's caption too long for the photo: a text message whose link preview is the image.
	r, _ := New(channels.KindTelegram, Options{SummaryMax: 2000})
	long := *a
	long.Title = strings.Repeat("عنوان طويل جدا ", 80)
	if p := mustRender(t, r, &long); p.LinkPreview == nil || p.LinkPreview.URL != want {
		t.Errorf("telegram link preview %+v, want %q", p.LinkPreview, want)
	}
	// A template sees the URI form as well.
	tr, err := New(channels.KindWebhook, Options{Template: "{{.Title}} {{.ImageURL}} {{.URL}}"})
	if err != nil {
		t.Fatal(err)
	}
	if p := mustRender(t, tr, a); !strings.Contains(p.Text, " "+want+" ") {
		t.Errorf("template .ImageURL: %q", p.Text)
	}
	// An image URL already in URI form is unchanged.
	b := *a
	b.ImageURL = want
	tg, _ := New(channels.KindTelegram, Options{})
	if p := mustRender(t, tg, &b); len(p.Media) != 1 || p.Media[0].URL != want {
		t.Errorf("encoded twice: %+v", p.Media)
	}
}
