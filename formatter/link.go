package formatter

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"golang.org/x/net/idna"
)

// URIForm returns raw as a plain-ASCII URI that every platform's link detector takes whole: the
// host in punycode (IDNA), the path, query and fragment percent-encoded wherever a character is
// not ASCII or could end a link early (quotes, parentheses, a final '.' or '!'). Readers'
// browsers show the Arabic again; the link is never cut at the first Arabic letter.
func URIForm(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("formatter: parsing link: %w", err)
	}
	if scheme := strings.ToLower(u.Scheme); scheme != "http" && scheme != "https" {
		return "", errors.New("formatter: link must be an absolute http or https URL")
	}
	host, err := asciiHost(u.Host)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(strings.ToLower(u.Scheme))
	b.WriteString("://")
	if u.User != nil {
		b.WriteString(u.User.String())
		b.WriteByte('@')
	}
	b.WriteString(host)
	b.WriteString(encodeComponent(u.EscapedPath(), false))
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		b.WriteString(encodeComponent(u.RawQuery, true))
	}
	if u.Fragment != "" {
		b.WriteByte('#')
		b.WriteString(encodeComponent(u.EscapedFragment(), true))
	}
	return protectLastChar(b.String()), nil
}

// asciiHost lower-cases a host and converts an internationalised name to punycode, keeping
// the port.
func asciiHost(hostport string) (string, error) {
	host, port := hostport, ""
	if i := strings.LastIndexByte(hostport, ':'); i >= 0 && !strings.Contains(hostport[i:], "]") {
		host, port = hostport[:i], hostport[i:]
	}
	if host == "" {
		return "", errors.New("formatter: link has no host")
	}
	if strings.HasPrefix(host, "[") { // IPv6 literal
		return strings.ToLower(hostport), nil
	}
	a, err := idna.Lookup.ToASCII(host)
	if err != nil {
		// Underscores and other STD3 exceptions still have a punycode form.
		if a, err = idna.Punycode.ToASCII(strings.ToLower(host)); err != nil {
			return "", fmt.Errorf("formatter: link host %q: %w", host, err)
		}
	}
	return a + port, nil
}

const hexDigits = "0123456789ABCDEF"

// encodeComponent percent-encodes every byte outside the characters all link detectors accept
// inside a URL (letters, digits, -._~ and !$&*+,;=:@/ plus ? in a query or fragment). Existing
// escapes are kept; a '%' that starts none is encoded.
func encodeComponent(s string, query bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isASCIIAlnum(c) || strings.IndexByte("-._~!$&*+,;=:@/", c) >= 0 || (query && c == '?'):
			b.WriteByte(c)
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

// protectLastChar encodes a final character that detectors leave out of a link as sentence
// punctuation ("…/story." would link without its dot).
func protectLastChar(u string) string {
	if u == "" {
		return u
	}
	c := u[len(u)-1]
	if isASCIIAlnum(c) || strings.IndexByte("/=_#-+&", c) >= 0 {
		return u
	}
	if c == '?' { // an empty query means nothing
		return u[:len(u)-1]
	}
	return u[:len(u)-1] + "%" + string(hexDigits[c>>4]) + string(hexDigits[c&15])
}

// withUTM adds the campaign parameters the link does not have yet, after its own query and
// before its fragment.
func withUTM(link string, utm *UTMOptions) string {
	if utm == nil {
		return link
	}
	base, frag := link, ""
	if i := strings.IndexByte(link, '#'); i >= 0 {
		base, frag = link[:i], link[i:]
	}
	path, query := base, ""
	if i := strings.IndexByte(base, '?'); i >= 0 {
		path, query = base[:i], base[i+1:]
	}
	have := map[string]bool{}
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if k, err := url.QueryUnescape(k); err == nil {
			have[strings.ToLower(k)] = true
		}
	}
	params := []struct{ k, v string }{{"utm_source", utm.Source}, {"utm_medium", utm.Medium}, {"utm_campaign", utm.Campaign}}
	for _, p := range params {
		if p.v == "" || have[p.k] {
			continue
		}
		if query != "" {
			query += "&"
		}
		query += p.k + "=" + url.QueryEscape(p.v)
	}
	if query == "" {
		return link
	}
	return protectLastChar(path + "?" + query + frag)
}

// linkURL is the link a post carries: the URI form with the channel's UTM parameters.
func linkURL(raw string, utm *UTMOptions) (string, error) {
	u, err := URIForm(raw)
	if err != nil {
		return "", err
	}
	return withUTM(u, utm), nil
}

// escapeOutsideURLs applies a markup escape to s except inside its http(s) URLs: an escape
// there (WhatsApp's look-alike "＿", Discord's "\_") breaks the link a title or summary quotes.
func escapeOutsideURLs(s string, esc func(string) string) string {
	urls := extractURLs(s, false)
	if len(urls) == 0 {
		return esc(s)
	}
	var b strings.Builder
	last := 0
	for _, u := range urls {
		b.WriteString(esc(s[last:u.start]))
		b.WriteString(s[u.start:u.end])
		last = u.end
	}
	b.WriteString(esc(s[last:]))
	return b.String()
}
