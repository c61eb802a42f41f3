package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// http.tokens: each from token, token_file or token_env; errors name the entry, never the token.
func TestAPITokens(t *testing.T) {
	file := filepath.Join(t.TempDir(), "viewer")
	if err := os.WriteFile(file, []byte("viewer-secret-from-file-0123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PUBLISHER_TOKEN", "publisher-secret-from-env-0123")
	c, err := Parse([]byte(`http:
  api_token: legacy-admin-token
  tokens:
    - {role: admin, token: admin-secret-inline-0123456789}
    - {role: viewer, token_file: ` + file + `}
    - {role: publisher, token_env: PUBLISHER_TOKEN}
    - {role: publisher, token: second-publisher-secret-0123}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"admin-secret-inline-0123456789", "viewer-secret-from-file-0123", "publisher-secret-from-env-0123", "second-publisher-secret-0123"}
	for i, tok := range c.HTTP.Tokens {
		if tok.Token != want[i] {
			t.Fatalf("tokens[%d] = %+v", i, tok)
		}
	}
	if c.HTTP.APIToken != "legacy-admin-token" {
		t.Fatalf("api_token: %q", c.HTTP.APIToken)
	}
	_, err = Parse([]byte(`http:
  tokens:
    - {role: root, token: short-secret}
    - {role: viewer, token: a-long-enough-secret-0123, token_env: X}
    - {role: viewer, token_env: HERALD_TEST_UNSET_VARIABLE}
`))
	if err == nil {
		t.Fatal("bad tokens accepted")
	}
	for _, w := range []string{`http.tokens[0].role: "root" is not one of admin, viewer, publisher`, "http.tokens[0]: the token is shorter than 16",
		"http.tokens[1]: set exactly one of", "http.tokens[2]: the token is empty"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "short-secret") || strings.Contains(err.Error(), "a-long-enough-secret") {
		t.Fatalf("a token in the error: %v", err)
	}
}

// TestWeakAPITokens: an API token too short to resist guessing, or still the CHANGE_ME
// placeholder of the deploy examples (which anyone can read), is refused by name, never
// quoted: http.tokens when the config loads, http.api_token by CheckAPIToken (herald serve,
// herald doctor).
func TestWeakAPITokens(t *testing.T) {
	_, err := Parse([]byte("http:\n  tokens:\n    - {role: viewer, token: CHANGE_ME_VIEWER_TOKEN}\n"))
	if err == nil || !strings.Contains(err.Error(), "http.tokens[0]: the token is still the CHANGE_ME placeholder") ||
		strings.Contains(err.Error(), "CHANGE_ME_VIEWER") {
		t.Fatalf("placeholder viewer token: %v", err)
	}
	for tok, want := range map[string]string{
		"CHANGE_ME_API_TOKEN":    "CHANGE_ME placeholder", // deploy/systemd/herald.env.example
		"CHANGE_ME":              "shorter than 16",       // deploy/kubernetes/secret.example.yaml
		"change_me-0123456789ab": "CHANGE_ME placeholder",
		"admin2026":              "shorter than 16",
		"0123456789abcdef":       "",
	} {
		c := &Config{}
		c.HTTP.APIToken = tok
		err := c.CheckAPIToken()
		switch {
		case want == "" && err != nil:
			t.Errorf("%q refused: %v", tok, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), "http.api_token") || !strings.Contains(err.Error(), want)):
			t.Errorf("%q: %v, want an error naming http.api_token saying %q", tok, err, want)
		case err != nil && strings.Contains(err.Error(), tok):
			t.Errorf("%q quoted in %v", tok, err)
		}
	}
}
