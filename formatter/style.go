package formatter

import (
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// readMore is the short visible text of the article link in the article's language, as news
// channels write it: the full tracked URL stays in the href (Telegram) or on its own line
// (WhatsApp), where it belongs.
var readMore = map[string]string{
	"ar": "اقرأ المزيد",
	"fa": "بیشتر بخوانید",
	"ur": "مزید پڑھیں",
	"he": "לקריאה נוספת",
	"ku": "زیاتر بخوێنەوە",
	"en": "Read more",
	"fr": "Lire la suite",
	"es": "Leer más",
	"de": "Weiterlesen",
	"tr": "Devamını oku",
	"id": "Baca selengkapnya",
	"ru": "Читать далее",
}

// linkText is the link's visible text: the option as written, "host" for the link's host, or
// (empty option) "read more" in the article's language, else the host.
func linkText(option, language, link string) string {
	switch option {
	case "":
		base, _, _ := strings.Cut(strings.ToLower(language), "-")
		base, _, _ = strings.Cut(base, "_")
		if t, ok := readMore[base]; ok {
			return t
		}
	case "host":
	default:
		return inlineText(option)
	}
	return linkHost(link)
}

// linkHost is the host a reader recognises: without "www.", in Unicode when it was an IDN.
func linkHost(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Hostname() == "" {
		return link
	}
	h := strings.TrimPrefix(u.Hostname(), "www.")
	if uh, err := idna.Display.ToUnicode(h); err == nil {
		h = uh
	}
	return h
}
