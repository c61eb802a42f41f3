package config

import (
	"strings"
	"testing"
)

// TestNoConfigErrorRepeatsAPastedSecret: a secret pasted into a setting that names where to read
// it (an API token in http.api_token_file or a token_env, a webhook secret in secret_file or
// secret_env, the admin bot token inside admin.telegram.api_endpoint, a private feed's key in a
// refused feed URL) is refused by an error that
// names the setting and does not repeat the secret.
func TestNoConfigErrorRepeatsAPastedSecret(t *testing.T) {
	const s = "pastedSecretValue_0123456789abcdef"
	t.Setenv("HERALD_API_TOKEN", "")
	for doc, setting := range map[string]string{
		"http:\n  api_token_file: " + s + "\n": "http.api_token_file",
		"http:\n  api_token: an-admin-token-0123456789\n  tokens:\n    - {role: viewer, token_file: " + s + "}\n":                           "http.tokens[0].token_file",
		"http:\n  api_token: an-admin-token-0123456789\n  tokens:\n    - {role: viewer, token_env: " + s + "}\n":                            "http.tokens[0]",
		"webhooks:\n  - {name: wp, secret_file: " + s + ", site: news.example.com}\n":                                                       "secret_file",
		"webhooks:\n  - {name: wp, secret_env: " + s + ", site: news.example.com}\n":                                                        "secret_env",
		"channels: [{name: tg, kind: telegram}]\nfeeds: [{name: site, url: 'ftp://cms.example.com/feed?key=" + s + "'}]\n":                  "feeds[0] (site).url",
		"admin:\n  telegram:\n    token: '55:abc'\n    allowed_user_ids: [1]\n    api_endpoint: https://api.telegram.org/bot" + s + "/%s\n": "api_endpoint",
	} {
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Errorf("%q: accepted", doc)
			continue
		}
		if !strings.Contains(err.Error(), setting) {
			t.Errorf("%q: the error does not name %s: %v", doc, setting, err)
		}
		for _, part := range []string{s, s[:len(s)/2], s[len(s)/2:]} {
			if strings.Contains(err.Error(), part) {
				t.Errorf("%q: the error repeats the secret: %v", doc, err)
				break
			}
		}
	}
}
