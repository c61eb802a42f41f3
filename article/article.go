// Package article holds herald's Article contract: the JSON every ingest path (HTTP API, CLI,
// feeds, webhooks) accepts, its validation and its stable id.
package article

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits enforced by Validate. They bound memory per article and keep one bad CMS export from
// blocking the queue.
const (
	MaxBodyBytes   = 1 << 20 // 1 MiB
	MaxTitleChars  = 2000
	MaxSummaryChar = 10000
	MaxTags        = 50
	MaxIDLen       = 128
)

// Article is the contract shared by the API, the CLI and every later issue. Fields are named as
// in the JSON; extend it, do not rename.
type Article struct {
	ID       string   `json:"id"`
	URL      string   `json:"url"`
	Title    string   `json:"title"`
	Summary  string   `json:"summary,omitempty"`
	Body     string   `json:"body,omitempty"`
	ImageURL string   `json:"image_url,omitempty"`
	Tags     []string `json:"tags"`
	Category string   `json:"category,omitempty"`
	// Categories are all the categories the source filed the story under, category among them
	// (a WordPress post's, a feed item's); routes by category match any of them.
	Categories  []string   `json:"categories,omitempty"`
	Language    string     `json:"language,omitempty"`
	PublishedAt *time.Time `json:"published_at,omitempty"`
	Priority    int        `json:"priority,omitempty"`
	Channels    []string   `json:"channels,omitempty"`
}

// FieldError is one problem with one field.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every field error at once, so an editor fixes a payload in one round.
type ValidationError struct {
	Errors []FieldError `json:"errors"`
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		parts[i] = fe.Field + ": " + fe.Message
	}
	return "invalid article: " + strings.Join(parts, "; ")
}

func (e *ValidationError) add(field, format string, args ...any) {
	e.Errors = append(e.Errors, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// ErrTooLarge is returned by Decode when the input exceeds the size an article may have.
var ErrTooLarge = errors.New("article: payload too large")

// MaxPayloadBytes bounds a whole JSON document: the body limit plus room for the other fields
// and JSON escaping of the body (worst case \uXXXX is 6 bytes per byte, but CMS payloads escape
// little; 4 MiB keeps memory bounded while accepting a 1 MiB body with heavy escaping).
const MaxPayloadBytes = 4 << 20

// Decode reads one JSON article, rejecting unknown fields and trailing data so a typo in a
// field name is an error rather than a silently dropped value.
func Decode(r io.Reader) (Article, error) {
	lr := &io.LimitedReader{R: r, N: MaxPayloadBytes + 1}
	data, err := io.ReadAll(lr)
	if err != nil {
		return Article{}, fmt.Errorf("article: reading: %w", err)
	}
	if len(data) > MaxPayloadBytes {
		return Article{}, ErrTooLarge
	}
	return DecodeBytes(data)
}

// DecodeBytes is Decode over a byte slice.
func DecodeBytes(data []byte) (Article, error) {
	if !utf8.Valid(data) {
		return Article{}, &ValidationError{Errors: []FieldError{{Field: "(document)", Message: "not valid UTF-8"}}}
	}
	// A UTF-8 byte order mark (Windows editors, .NET and PowerShell CMS exports write one) says
	// nothing: RFC 8259 §8.1 lets a parser ignore it, and encoding/json would not.
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	var a Article
	if err := dec.Decode(&a); err != nil {
		return Article{}, decodeError(data, err)
	}
	// More() misses a stray '}' or ']'; asking for the next token sees everything.
	if _, err := dec.Token(); err != io.EOF {
		return Article{}, errors.New("article: decoding JSON: trailing data after the article object")
	}
	return a, nil
}

// decodeError says where a document fails to decode and what the article wants there, in the
// contract's terms (field names, line and column) rather than Go's types.
func decodeError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return errors.New(`article: decoding JSON: the document is empty; want one object such as {"url":"https://…","title":"…"}`)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("article: decoding JSON: the document ends inside the object (a missing } ] or \"?): %w", err)
	case errors.As(err, &syntax):
		return fmt.Errorf("article: decoding JSON: %s: %w", position(data, syntax.Offset), err)
	case errors.As(err, &typ) && typ.Field != "":
		return fmt.Errorf("article: decoding JSON: %s: %q must be %s, not a JSON %s", position(data, typ.Offset), typ.Field, jsonKind(typ.Type), typ.Value)
	case strings.Contains(err.Error(), "Time.UnmarshalJSON") || errors.As(err, new(*time.ParseError)):
		// The only time of the contract.
		return fmt.Errorf(`article: decoding JSON: "published_at" must be an RFC 3339 time string such as "2026-11-25T09:15:00Z": %w`, err)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("article: decoding JSON: %w; the fields are %s", err, strings.Join(fieldNames(), ", "))
	}
	return fmt.Errorf("article: decoding JSON: %w", err)
}

// position is "line L, column C" of byte offset off in data (the byte just read).
func position(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := 1 + bytes.Count(before, []byte("\n"))
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:])
	return fmt.Sprintf("line %d, column %d", line, max(col, 1))
}

// jsonKind names what a Go type is in JSON.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(jsonKind(t.Elem()), "a ") + "s"
	case reflect.Struct:
		if t == reflect.TypeFor[time.Time]() {
			return "an RFC 3339 time string"
		}
	}
	return "a " + t.Kind().String()
}

// fieldNames are the article's JSON fields, in the contract's order.
func fieldNames() []string {
	t := reflect.TypeFor[Article]()
	names := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// Normalize trims fields and fills the defaults: the id from the canonical URL.
func (a *Article) Normalize() {
	a.URL = strings.TrimSpace(a.URL)
	a.Title = strings.TrimSpace(a.Title)
	a.ID = strings.TrimSpace(a.ID)
	a.Language = strings.ToLower(strings.TrimSpace(a.Language))
	a.Category = strings.TrimSpace(a.Category)
	for i, c := range a.Categories {
		a.Categories[i] = strings.TrimSpace(c)
	}
	if a.Tags == nil {
		a.Tags = []string{}
	}
	for i, c := range a.Channels {
		a.Channels[i] = strings.TrimSpace(c)
	}
	if a.ID == "" && a.URL != "" {
		if c, err := CanonicalURL(a.URL); err == nil {
			a.ID = IDFromURL(c)
		}
	}
}

// Validate returns a *ValidationError listing every problem, or nil.
func (a *Article) Validate() error {
	var ve ValidationError
	checkUTF8 := func(field, v string) bool {
		if !utf8.ValidString(v) {
			ve.add(field, "not valid UTF-8")
			return false
		}
		return true
	}
	if a.URL == "" {
		ve.add("url", "required")
	} else if checkUTF8("url", a.URL) {
		if err := checkHTTPURL(a.URL); err != nil {
			ve.add("url", "%v", err)
		}
	}
	if a.Title == "" {
		ve.add("title", "required")
	} else if checkUTF8("title", a.Title) {
		if n := utf8.RuneCountInString(a.Title); n > MaxTitleChars {
			ve.add("title", "%d characters, at most %d allowed", n, MaxTitleChars)
		} else if !readable(a.Title) {
			// Such a title ("&nbsp;", "<p></p>", an RLM) would post a bare link: refuse it here,
			// before any delivery is queued, rather than fail every delivery later.
			ve.add("title", "nothing readable once HTML tags, entities and invisible characters are removed")
		}
	}
	if checkUTF8("summary", a.Summary) {
		if n := utf8.RuneCountInString(a.Summary); n > MaxSummaryChar {
			ve.add("summary", "%d characters, at most %d allowed", n, MaxSummaryChar)
		}
	}
	if checkUTF8("body", a.Body) && len(a.Body) > MaxBodyBytes {
		ve.add("body", "%d bytes, at most %d allowed (1 MiB)", len(a.Body), MaxBodyBytes)
	}
	if a.ImageURL != "" && checkUTF8("image_url", a.ImageURL) {
		if err := checkHTTPURL(a.ImageURL); err != nil {
			ve.add("image_url", "%v", err)
		}
	}
	if checkUTF8("id", a.ID) {
		if len(a.ID) > MaxIDLen {
			ve.add("id", "%d bytes, at most %d allowed", len(a.ID), MaxIDLen)
		} else if strings.ContainsFunc(a.ID, badIDRune) {
			// ':' separates TaskID parts and braces are Redis hash tags.
			ve.add("id", "must not contain ':', '{', '}', '/', spaces, control or format characters")
		} else if a.ID == "." || a.ID == ".." {
			// The id is a path segment of the API (GET /v1/articles/{id}): HTTP clients and
			// ServeMux resolve "." and ".." away, so such an article could never be named.
			ve.add("id", "must not be . or ..")
		}
	}
	checkUTF8("category", a.Category)
	checkUTF8("language", a.Language)
	if len(a.Tags) > MaxTags {
		ve.add("tags", "%d tags, at most %d allowed", len(a.Tags), MaxTags)
	}
	for i, t := range a.Tags {
		checkUTF8(fmt.Sprintf("tags[%d]", i), t)
	}
	if len(a.Categories) > MaxTags {
		ve.add("categories", "%d categories, at most %d allowed", len(a.Categories), MaxTags)
	}
	for i, c := range a.Categories {
		checkUTF8(fmt.Sprintf("categories[%d]", i), c)
	}
	for i, c := range a.Channels {
		if c == "" {
			ve.add(fmt.Sprintf("channels[%d]", i), "empty channel name")
		} else if strings.ContainsAny(c, ":{} \t\r\n") {
			ve.add(fmt.Sprintf("channels[%d]", i), "must not contain ':', '{', '}' or spaces")
		}
	}
	if a.Priority < 0 || a.Priority > 10 {
		ve.add("priority", "%d out of range 0..10", a.Priority)
	}
	if len(ve.Errors) == 0 {
		return nil
	}
	return &ve
}

// readable reports whether s holds a letter, digit, mark, symbol or punctuation once HTML is
// reduced to text: spaces and format characters (RLM, ZWSP, ZWJ, BOM, bidi controls) alone are
// not readable.
func readable(s string) bool {
	t := PlainText(s)
	if strings.Contains(t, "&") {
		t = PlainText(t) // escaped twice, as some feeds do: "&amp;nbsp;" is a space to the formatters too
	}
	// Combining marks alone (a title of bare harakat) show as stray dots: not readable either.
	return strings.ContainsFunc(t, func(r rune) bool {
		return !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) && !unicode.Is(unicode.Mn, r) && !unicode.Is(unicode.Me, r) &&
			!unicode.IsControl(r) && r != utf8.RuneError
	})
}

func badIDRune(r rune) bool {
	return strings.ContainsRune(":{}/", r) || unicode.IsSpace(r) || unicode.IsControl(r) ||
		unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an absolute http or https URL")
	}
	if u.Host == "" {
		return errors.New("must have a host")
	}
	return nil
}

// trackingParams are dropped by CanonicalURL so the same story shared with different campaign
// tags keeps one id.
var trackingParams = map[string]bool{
	"fbclid": true, "gclid": true, "igshid": true, "mc_cid": true, "mc_eid": true, "ref": true,
}

// CanonicalURL lowercases scheme and host, drops the fragment, default ports, tracking
// parameters (utm_*, fbclid, …) and a trailing slash, and sorts the query.
func CanonicalURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", fmt.Errorf("article: parsing url: %w", err)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	if (u.Scheme == "http" && strings.HasSuffix(u.Host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(u.Host, ":443")) {
		u.Host = u.Host[:strings.LastIndexByte(u.Host, ':')]
	}
	u.Fragment = ""
	u.RawFragment = ""
	u.ForceQuery = false // "https://a.com/x?" is "https://a.com/x"
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(strings.ToLower(k), "utm_") || trackingParams[strings.ToLower(k)] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode() // Encode sorts by key

	// "https://a.com", "https://a.com/" and "https://a.com/x/" name the same pages as their
	// slash-less forms.
	if trimmed := strings.TrimRight(u.Path, "/"); trimmed != u.Path {
		u.Path = trimmed
		u.RawPath = ""
	}
	// One spelling of the path: an Arabic slug arrives as letters, as lower-case escapes
	// (WordPress) or as upper-case ones, and each spelling was another id, so one story could
	// be posted twice. Escapes are upper case and an escaped unreserved character is the
	// character (RFC 3986, 6.2.2); an escaped "/" stays escaped, so the path stays the same.
	u.RawPath = normalizeEscapes(u.EscapedPath())
	return u.String(), nil
}

// normalizeEscapes writes a URL path's percent-escapes in upper case and decodes those of
// unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~").
func normalizeEscapes(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] != '%' || i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
			b.WriteByte(p[i])
			continue
		}
		c := unhex(p[i+1])<<4 | unhex(p[i+2])
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(p[i+1 : i+3]))
		}
		i += 2
	}
	return b.String()
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// IDFromURL is the default article id: a short, stable hash of the canonical URL.
func IDFromURL(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return "u" + hex.EncodeToString(sum[:12])
}

// AllCategories is the category and every further one of Categories.
func (a *Article) AllCategories() []string {
	if a.Category == "" {
		return a.Categories
	}
	return append([]string{a.Category}, a.Categories...)
}
