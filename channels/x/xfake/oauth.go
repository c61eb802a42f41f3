package xfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
)

// This file checks OAuth 1.0a HMAC-SHA1 signatures the way X does, written from RFC 5849 §3.4
// and X's "Creating a signature" guide, independently of the client's library
// (github.com/dghubble/oauth1), so a mistake in one is caught by the other.
// Specs: https://docs.x.com/resources/fundamentals/authentication/oauth-1-0a/creating-a-signature

// PercentEncode is RFC 3986 percent-encoding as OAuth 1.0a needs it: every byte except
// ALPHA, DIGIT, '-', '.', '_' and '~' becomes %XX with upper-case hex.
func PercentEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// Param is one request parameter (query, form body or oauth_*), not yet encoded.
type Param struct{ Key, Value string }

// SignatureBase is METHOD&enc(base URL)&enc(sorted, encoded parameters), RFC 5849 §3.4.1.
// baseURL is scheme://host/path with the scheme and host lower-case and a default port left out.
func SignatureBase(method, baseURL string, params []Param) string {
	encoded := make([]Param, 0, len(params))
	for _, p := range params {
		encoded = append(encoded, Param{PercentEncode(p.Key), PercentEncode(p.Value)})
	}
	// By encoded key, then by encoded value (§3.4.1.3.2).
	sort.Slice(encoded, func(i, j int) bool {
		if encoded[i].Key != encoded[j].Key {
			return encoded[i].Key < encoded[j].Key
		}
		return encoded[i].Value < encoded[j].Value
	})
	enc := make([]string, len(encoded))
	for i, p := range encoded {
		enc[i] = p.Key + "=" + p.Value
	}
	return strings.ToUpper(method) + "&" + PercentEncode(baseURL) + "&" + PercentEncode(strings.Join(enc, "&"))
}

// Sign is base64(HMAC-SHA1(enc(consumer secret)&enc(token secret), base)).
func Sign(base, consumerSecret, tokenSecret string) string {
	mac := hmac.New(sha1.New, []byte(PercentEncode(consumerSecret)+"&"+PercentEncode(tokenSecret)))
	mac.Write([]byte(base))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Authorization is a parsed `Authorization: OAuth k="v", …` header.
type Authorization map[string]string

// ParseAuthorization reads an OAuth header; values are percent-decoded.
func ParseAuthorization(h string) (Authorization, error) {
	rest, ok := strings.CutPrefix(h, "OAuth ")
	if !ok {
		return nil, errors.New("not an OAuth authorization")
	}
	a := Authorization{}
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("malformed parameter %q", part)
		}
		dk, err1 := url.PathUnescape(k)
		dv, err2 := url.PathUnescape(v[1 : len(v)-1])
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed encoding in %q", part)
		}
		a[dk] = dv
	}
	return a, nil
}

// baseURL is the request's base string URI: scheme and host lower-case, default port dropped.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := strings.ToLower(r.Host)
	if h, port, ok := strings.Cut(host, ":"); ok && (scheme == "http" && port == "80" || scheme == "https" && port == "443") {
		host = h
	}
	return scheme + "://" + host + r.URL.EscapedPath()
}

// RequestParams collects what is signed: the query, a form-encoded body (restored for later
// readers) and the oauth_* header parameters except oauth_signature and realm.
func RequestParams(r *http.Request, auth Authorization) ([]Param, error) {
	var ps []Param
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			ps = append(ps, Param{k, v})
		}
	}
	if r.Body != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		form, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, err
		}
		for k, vs := range form {
			for _, v := range vs {
				ps = append(ps, Param{k, v})
			}
		}
	}
	for k, v := range auth {
		if k != "oauth_signature" && k != "realm" {
			ps = append(ps, Param{k, v})
		}
	}
	return ps, nil
}

// Verify checks r's OAuth 1.0a signature against the secrets; it returns the parsed header.
func Verify(r *http.Request, consumerSecret, tokenSecret string) (Authorization, error) {
	auth, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return nil, err
	}
	if m := auth["oauth_signature_method"]; m != "HMAC-SHA1" {
		return auth, fmt.Errorf("oauth_signature_method %q, want HMAC-SHA1", m)
	}
	if v, ok := auth["oauth_version"]; ok && v != "1.0" {
		return auth, fmt.Errorf("oauth_version %q, want 1.0", v)
	}
	for _, k := range []string{"oauth_consumer_key", "oauth_token", "oauth_nonce", "oauth_timestamp", "oauth_signature"} {
		if auth[k] == "" {
			return auth, fmt.Errorf("%s missing", k)
		}
	}
	ps, err := RequestParams(r, auth)
	if err != nil {
		return auth, err
	}
	want := Sign(SignatureBase(r.Method, baseURL(r), ps), consumerSecret, tokenSecret)
	if !hmac.Equal([]byte(want), []byte(auth["oauth_signature"])) {
		return auth, errors.New("signature mismatch")
	}
	return auth, nil
}
